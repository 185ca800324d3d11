/// The 63-bit hash of an event id: what ``EventKeys`` sorts and searches by, and the key of
/// `click_index`.
///
/// Matches are confirmed by comparing the stored id, so the hash only has to spread well:
/// FNV-1a followed by the MurmurHash3 finalizer.
public enum EventKeyHash {
  public static func key(_ id: String) -> Int64 {
    var copy = id
    return copy.withUTF8 { key(UnsafeRawBufferPointer($0)) }
  }

  public static func key(_ bytes: UnsafeRawBufferPointer) -> Int64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in bytes {
      h ^= UInt64(b)
      h &*= 0x100_0000_01b3
    }
    h ^= h >> 33
    h &*= 0xff51_afd7_ed55_8ccd
    h ^= h >> 33
    h &*= 0xc4ce_b9fe_1a85_ec53
    h ^= h >> 33
    return Int64(bitPattern: h & 0x7FFF_FFFF_FFFF_FFFF)
  }
}
