/// The 63-bit hash of an event id: what ``EventKeys`` sorts and searches by, the key of
/// `click_index`, and the key of the pending-click filter (``KeyFilter``).
///
/// Matches are confirmed by comparing the stored id, so the hash only has to spread well. It
/// reads eight bytes at a time (little-endian), so a 36-byte UUID costs five multiplications;
/// the value is stored (`click_index`), so it must never change without a migration that
/// recomputes it (schema version 7 does).
public enum EventKeyHash {
  public static func key(_ id: String) -> Int64 {
    var copy = id
    return copy.withUTF8 { key(UnsafeRawBufferPointer($0)) }
  }

  @inline(__always)
  public static func key(_ bytes: UnsafeRawBufferPointer) -> Int64 {
    Int64(bitPattern: hash(bytes) & 0x7FFF_FFFF_FFFF_FFFF)
  }

  /// The 64-bit hash behind ``key(_:)`` of a string's UTF-8 bytes.
  static func hash(_ id: String) -> UInt64 {
    var copy = id
    return copy.withUTF8 { hash(UnsafeRawBufferPointer($0)) }
  }

  /// The 64-bit hash behind ``key(_:)``.
  @inline(__always)
  static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
    let n = bytes.count
    var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ (UInt64(n) &* 0xFF51_AFD7_ED55_8CCD)
    guard let p = bytes.baseAddress else { return finish(h) }
    var i = 0
    while i + 8 <= n {
      h = (h ^ UInt64(littleEndian: p.loadUnaligned(fromByteOffset: i, as: UInt64.self))) &* 0xBF58_476D_1CE4_E5B9
      h ^= h >> 31
      i += 8
    }
    if i < n {
      var tail: UInt64 = 0
      var shift: UInt64 = 0
      while i < n {
        tail |= UInt64(p.load(fromByteOffset: i, as: UInt8.self)) << shift
        shift += 8
        i += 1
      }
      h = (h ^ tail) &* 0x94D0_49BB_1331_11EB
    }
    return finish(h)
  }

  @inline(__always)
  private static func finish(_ x: UInt64) -> UInt64 {
    var h = x
    h ^= h >> 33
    h &*= 0xFF51_AFD7_ED55_8CCD
    h ^= h >> 33
    h &*= 0xC4CE_B9FE_1A85_EC53
    h ^= h >> 33
    return h
  }
}
