#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Distinct byte strings numbered 0, 1, 2, … in order of first appearance: a hash set that
/// compares keys byte for byte (so it is exact) without making a `String` per lookup.
///
/// Keys are looked up from borrowed bytes (segment columns, SQLite's column buffers): the
/// click search's wanted ids and viewers, and the report's listings and titles. A `String` per
/// lookup and `Hasher` were half of `aggregate`'s time before.
struct ByteKeyTable {
  /// The keys, one after another; key `i` is `arena[ends[i - 1] ..< ends[i]]`.
  private var arena: [UInt8] = []
  private var ends: [Int] = []
  private var hashes: [UInt64] = []
  /// Open addressing: the hash's top 32 bits << 32 | (key index + 1), or 0 for a free slot.
  /// The tag rules out almost every other key without reading `hashes` or the arena.
  private var slots: [UInt64] = []
  private var mask = 0

  var count: Int { ends.count }

  init() {}

  /// The key's number; `inserted` is true if the key is new.
  mutating func insert(_ key: UnsafeRawBufferPointer) -> (index: Int, inserted: Bool) {
    if (ends.count + 1) * 2 > slots.count { grow() }
    let hash = ByteKeyTable.hash(key)
    let (slot, found) = probe(key, hash)
    if let found { return (found, false) }
    let index = ends.count
    slots[slot] = hash & 0xFFFF_FFFF_0000_0000 | UInt64(index + 1)
    arena.append(contentsOf: key)
    ends.append(arena.count)
    hashes.append(hash)
    return (index, true)
  }

  /// The key's number, or `nil` if it is not in the table.
  func find(_ key: UnsafeRawBufferPointer) -> Int? {
    guard !slots.isEmpty else { return nil }
    return probe(key, ByteKeyTable.hash(key)).index
  }

  /// The key's number if it is in the table, else the free slot where it would go.
  @inline(__always)
  private func probe(_ key: UnsafeRawBufferPointer, _ hash: UInt64) -> (slot: Int, index: Int?) {
    let tag = hash & 0xFFFF_FFFF_0000_0000
    var i = Int(truncatingIfNeeded: hash) & mask
    while slots[i] != 0 {
      let slot = slots[i]
      if slot & 0xFFFF_FFFF_0000_0000 == tag {
        let index = Int(slot & 0xFFFF_FFFF) - 1
        if hashes[index] == hash && equals(index, key) { return (i, index) }
      }
      i = (i + 1) & mask
    }
    return (i, nil)
  }

  /// Calls `body` with the bytes of key `index`.
  func withKey<R>(_ index: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    let start = index == 0 ? 0 : ends[index - 1]
    return arena.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[start..<ends[index]])) }
  }

  /// Forgets every key but keeps the memory, for the next day.
  mutating func removeAll() {
    arena.removeAll(keepingCapacity: true)
    ends.removeAll(keepingCapacity: true)
    hashes.removeAll(keepingCapacity: true)
    for i in slots.indices { slots[i] = 0 }
  }

  private func equals(_ index: Int, _ key: UnsafeRawBufferPointer) -> Bool {
    withKey(index) { stored in
      stored.count == key.count && (key.count == 0 || memcmp(stored.baseAddress!, key.baseAddress!, key.count) == 0)
    }
  }

  private mutating func grow() {
    let capacity = max(1024, slots.count * 2)
    slots = [UInt64](repeating: 0, count: capacity)
    mask = capacity - 1
    for (index, hash) in hashes.enumerated() {
      var i = Int(truncatingIfNeeded: hash) & mask
      while slots[i] != 0 { i = (i + 1) & mask }
      slots[i] = hash & 0xFFFF_FFFF_0000_0000 | UInt64(index + 1)
    }
  }

  /// A fast 64-bit hash, eight bytes at a time (spread only; equality is checked on the bytes).
  static func hash(_ key: UnsafeRawBufferPointer) -> UInt64 {
    var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(key.count)
    var offset = 0
    while offset + 8 <= key.count {
      h = (h ^ key.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
      h ^= h >> 29
      offset += 8
    }
    var tail: UInt64 = 0
    var shift: UInt64 = 0
    while offset < key.count {
      tail |= UInt64(key[offset]) << shift
      shift += 8
      offset += 1
    }
    h = (h ^ tail) &* 0x94D0_49BB_1331_11EB
    h ^= h >> 31
    h &*= 0xBF58_476D_1CE4_E5B9
    h ^= h >> 32
    return h
  }
}

/// Builds a ``ByteKeyTable`` key from several byte strings: each is written with its length
/// first, so different splits of the same bytes never collide.
struct ByteKeyBuilder {
  private(set) var bytes: [UInt8] = []

  mutating func reset() { bytes.removeAll(keepingCapacity: true) }

  mutating func append(_ part: UnsafeRawBufferPointer) {
    var n = UInt32(part.count)
    withUnsafeBytes(of: &n) { bytes.append(contentsOf: $0) }
    bytes.append(contentsOf: part)
  }

  /// Appends parts already encoded (another builder's ``bytes``, or a stretch of them).
  mutating func appendParts(_ encoded: UnsafeRawBufferPointer) {
    bytes.append(contentsOf: encoded)
  }

  mutating func append(_ part: String) {
    var part = part
    part.withUTF8 { append(UnsafeRawBufferPointer($0)) }
  }

  mutating func append(_ value: Int32) {
    var v = value
    withUnsafeBytes(of: &v) { bytes.append(contentsOf: $0) }
  }

  func withKey<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
    bytes.withUnsafeBytes(body)
  }

  /// The strings of a key made of ``append(_:)-(UnsafeRawBufferPointer)`` parts.
  static func split(_ key: UnsafeRawBufferPointer) -> [String] {
    var parts: [String] = []
    forEachPart(of: key) { parts.append(String(decoding: $0, as: UTF8.self)) }
    return parts
  }

  /// `a`'s parts come before `b`'s: compared part after part, each by its bytes and then its
  /// length, as SQLite compares the columns of a primary key (BINARY collation). Compares the
  /// first `parts` parts only (a record whose key is its leading parts).
  static func precedes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer, parts: Int = .max) -> Bool {
    var i = 0
    var j = 0
    var compared = 0
    while compared < parts && i + 4 <= a.count && j + 4 <= b.count {
      let m = Int(a.loadUnaligned(fromByteOffset: i, as: UInt32.self))
      let n = Int(b.loadUnaligned(fromByteOffset: j, as: UInt32.self))
      let c = compare(UnsafeRawBufferPointer(rebasing: a[i + 4..<i + 4 + m]), UnsafeRawBufferPointer(rebasing: b[j + 4..<j + 4 + n]))
      if c != 0 { return c < 0 }
      i += 4 + m
      j += 4 + n
      compared += 1
    }
    return compared < parts && i + 4 > a.count && j + 4 <= b.count
  }

  /// The order of two texts under SQLite's BINARY collation: negative, 0 or positive as `a`'s
  /// bytes come before, equal or after `b`'s, a prefix first.
  @inline(__always)
  static func compare(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
    let common = min(a.count, b.count)
    let c = common == 0 ? 0 : Int(memcmp(a.baseAddress!, b.baseAddress!, common))
    return c != 0 ? c : a.count - b.count
  }

  /// Calls `body` with each part of a key made by ``append(_:)-(UnsafeRawBufferPointer)``.
  static func forEachPart(of key: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void) {
    var offset = 0
    while offset + 4 <= key.count {
      let n = Int(key.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
      body(UnsafeRawBufferPointer(rebasing: key[offset + 4..<offset + 4 + n]))
      offset += 4 + n
    }
  }
}
