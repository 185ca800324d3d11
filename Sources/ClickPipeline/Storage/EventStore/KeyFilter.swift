/// A Bloom filter of 63-bit event-id keys (``EventKeyHash``), in memory: ingest keeps the
/// click ids that staged conversions named before their click arrived (`pending_click_refs`),
/// so that most clicks are ruled out without a query.
///
/// The filter is *blocked*: one multiplicative slice of the key picks a 64-bit word and three
/// 6-bit slices pick the bits in it, so an insert or a lookup touches one cache line. It is
/// sized to at least 32 bits per key, up to ``maxBits`` (64 MiB): past that it only gets
/// denser, and a false positive costs one query.
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
