/// A Bloom filter over the keys stored in `event_keys` and `event_keys_recent`, kept in the
/// database (`event_key_filter`) so that a night's new ids skip the B-tree lookups: on a
/// 30-day database those random lookups were most of ingest's extra time.
///
/// Keys are already uniform 63-bit hashes. The filter is *blocked*: one multiplicative slice of
/// the key picks a 64-bit word and three 6-bit slices pick the bits in it, so an insert or a
/// lookup touches one cache line. It is sized to at least 32 bits per key and rebuilt, twice
/// as large, when it reaches 16 (false positives about 1 % at worst); a false positive only
/// costs the lookup it would have done anyway.
///
/// It never grows past ``maxBits`` (64 MiB, 16M keys at 32 bits each), so that ingest's memory
/// stays bounded however long the history: past 33M stored keys it only gets denser, and more
/// new ids pay for their lookup (measured in docs/BENCHMARKS.md, "Past the key limits").
struct KeyFilter {
  static let maxBits = 1 << 29
  private(set) var words: [UInt64]
  private(set) var keys: Int
  private let shift: UInt64

  /// An empty filter with room for `capacity` keys at 32 bits per key, up to ``maxBits``.
  init(capacity: Int) {
    var bits = 1 << 16
    while bits < capacity * 32 && bits < Self.maxBits { bits <<= 1 }
    words = [UInt64](repeating: 0, count: bits / 64)
    keys = 0
    shift = UInt64(64 - bits.trailingZeroBitCount)
  }

  /// A filter read back from its stored words; `nil` if they are not a power-of-two size.
  init?(words: [UInt64], keys: Int) {
    let bits = words.count * 64
    guard bits >= 1 << 16, bits & (bits - 1) == 0, keys >= 0 else { return nil }
    self.words = words
    self.keys = keys
    shift = UInt64(64 - bits.trailingZeroBitCount)
  }

  /// Whether the filter is at its density limit and should be rebuilt larger (never at
  /// ``maxBits``: a rebuild could not make it larger).
  var isFull: Bool { keys * 16 >= words.count * 64 && words.count * 64 < Self.maxBits }

  mutating func insert(_ key: Int64) {
    let (word, mask) = position(key)
    words[word] |= mask
    keys += 1
  }

  /// `false`: the key is certainly not stored. `true`: it may be.
  func mayContain(_ key: Int64) -> Bool {
    let (word, mask) = position(key)
    return words[word] & mask == mask
  }

  /// The key's word, and its three bits in that word.
  private func position(_ key: Int64) -> (Int, UInt64) {
    let word = Int((UInt64(bitPattern: key) &* 0x9E37_79B9_7F4A_7C15) >> (shift + 6))
    let bits = UInt64(bitPattern: key) &* 0xBF58_476D_1CE4_E5B9
    let mask: UInt64 = 1 << (bits >> 58) | 1 << ((bits >> 52) & 63) | 1 << ((bits >> 46) & 63)
    return (word, mask)
  }
}
