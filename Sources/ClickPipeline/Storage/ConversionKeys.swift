/// The integer keys that `conversions` is indexed by: 63-bit hashes (``EventKeyHash``) of its
/// event id, its order (platform and order id) and the click id it names.
///
/// Text indexes on random ids grew to four B-trees of 40-60 bytes an entry, which a run of 50M
/// events spent most of its writing time reading back and rewriting (1.5M conversions, 16 s);
/// an integer key is 8 bytes. A key only narrows the search: every query also compares the
/// text columns, so two different ids are never taken as one.
enum ConversionKeys {
  static func event(_ id: String) -> Int64 { EventKeyHash.key(id) }

  static func event(_ id: UnsafeRawBufferPointer) -> Int64 { EventKeyHash.key(id) }

  static func order(platform: String, orderID: String) -> Int64 {
    var (platform, orderID) = (platform, orderID)
    return platform.withUTF8 { name in orderID.withUTF8 { order(UnsafeRawBufferPointer(name), UnsafeRawBufferPointer($0)) } }
  }

  static func order(platform: Platform, orderID: UnsafeRawBufferPointer) -> Int64 {
    var name = platform.rawValue
    return name.withUTF8 { order(UnsafeRawBufferPointer($0), orderID) }
  }

  /// The hash of the platform's name, a NUL and the order id.
  private static func order(_ platform: UnsafeRawBufferPointer, _ orderID: UnsafeRawBufferPointer) -> Int64 {
    var joined = [UInt8](repeating: 0, count: platform.count + 1 + orderID.count)
    joined.withUnsafeMutableBytes { joined in
      if platform.count > 0 { joined.baseAddress!.copyMemory(from: platform.baseAddress!, byteCount: platform.count) }
      if orderID.count > 0 {
        (joined.baseAddress! + platform.count + 1).copyMemory(from: orderID.baseAddress!, byteCount: orderID.count)
      }
    }
    return joined.withUnsafeBytes { EventKeyHash.key($0) }
  }

  /// 0 for no click id (the partial index leaves those out); never 0 for an id.
  static func click(_ id: String) -> Int64 {
    var id = id
    return id.withUTF8 { click(UnsafeRawBufferPointer($0)) }
  }

  static func click(_ id: UnsafeRawBufferPointer) -> Int64 {
    id.isEmpty ? 0 : max(1, EventKeyHash.key(id))
  }
}
