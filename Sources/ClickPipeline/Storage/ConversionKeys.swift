/// The integer keys that `conversions` is indexed by: 63-bit hashes (``EventKeyHash``) of its
/// event id, its order (platform and order id) and the click id it names.
///
/// Text indexes on random ids grew to four B-trees of 40-60 bytes an entry, which a run of 50M
/// events spent most of its writing time reading back and rewriting (1.5M conversions, 16 s);
/// an integer key is 8 bytes. A key only narrows the search: every query also compares the
/// text columns, so two different ids are never taken as one.
enum ConversionKeys {
  static func event(_ id: String) -> Int64 { EventKeyHash.key(id) }

  static func order(platform: String, orderID: String) -> Int64 {
    EventKeyHash.key(platform + "\u{0}" + orderID)
  }

  /// 0 for no click id (the partial index leaves those out); never 0 for an id.
  static func click(_ id: String) -> Int64 {
    id.isEmpty ? 0 : max(1, EventKeyHash.key(id))
  }
}
