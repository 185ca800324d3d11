/// The event fields of CONTRACT §2, in the order their rules are checked.
public enum Field: Int, Sendable, CaseIterable {
  case type, eventID, ts, creatorID, postID, placement, viewerID, productID, platform, store
  case userAgent, orderID, clickID, quantity, amount, currency, status

  static let count = 17

  /// The NDJSON key and CSV column name.
  public var name: String { Field.names[rawValue] }

  static let names = [
    "type", "event_id", "ts", "creator_id", "post_id", "placement", "viewer_id", "product_id",
    "platform", "store", "user_agent", "order_id", "click_id", "quantity", "amount", "currency",
    "status",
  ]

  /// The field named by these UTF-8 bytes, if any.
  static func named(_ bytes: UnsafeRawBufferPointer) -> Field? {
    guard let base = bytes.baseAddress else { return nil }
    return named(base, count: bytes.count)
  }

  /// The field named by the `count` bytes at `p`: the name's length picks the candidates, and
  /// one or two little-endian word compares decide (names are at most 10 bytes; the constants
  /// are the names' bytes read as ``word(_:_:)`` reads them, checked by a test).
  @inline(__always)
  static func named(_ p: UnsafeRawPointer, count: Int) -> Field? {
    guard count >= 2, count <= 10 else { return nil }
    let head = word(p, min(count, 8))
    switch count {
    case 2: return head == 0x7374 ? .ts : nil
    case 4: return head == 0x6570_7974 ? .type : nil
    case 5: return head == 0x65_726F_7473 ? .store : nil
    case 6: return head == 0x746E_756F_6D61 ? .amount : head == 0x7375_7461_7473 ? .status : nil
    case 7: return head == 0x64_695F_7473_6F70 ? .postID : nil
    case 8:
      switch head {
      case 0x6469_5F74_6E65_7665: return .eventID
      case 0x6D72_6F66_7461_6C70: return .platform
      case 0x6469_5F72_6564_726F: return .orderID
      case 0x6469_5F6B_6369_6C63: return .clickID
      case 0x7974_6974_6E61_7571: return .quantity
      case 0x7963_6E65_7272_7563: return .currency
      default: return nil
      }
    case 9:
      let tail = p.load(fromByteOffset: 8, as: UInt8.self)
      if head == 0x6E65_6D65_6361_6C70 && tail == 0x74 { return .placement }
      if head == 0x695F_7265_7765_6976 && tail == 0x64 { return .viewerID }
      return nil
    case 10:
      let tail = UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt16.self))
      if tail == 0x6469 {
        if head == 0x5F72_6F74_6165_7263 { return .creatorID }
        if head == 0x5F74_6375_646F_7270 { return .productID }
      } else if head == 0x6567_615F_7265_7375 && tail == 0x746E {
        return .userAgent
      }
      return nil
    default:
      return nil  // 3: no name has 3 bytes (and reading 2 bytes at offset 8 would leave the key)
    }
  }

  /// The first `n` (1...8) bytes at `p` as a little-endian word, the rest zero.
  @inline(__always)
  private static func word(_ p: UnsafeRawPointer, _ n: Int) -> UInt64 {
    if n == 8 { return UInt64(littleEndian: p.loadUnaligned(as: UInt64.self)) }
    var v: UInt64 = 0
    for i in 0..<n { v |= UInt64(p.load(fromByteOffset: i, as: UInt8.self)) << (8 * UInt64(i)) }
    return v
  }
}
