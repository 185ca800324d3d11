/// Finds the click an ordered conversion is attributed to (CONTRACT §4).
///
/// 1. `click_id` naming a staged click: that click (unattributed if it is a bot click).
/// 2. Else, with a `viewer_id`: the latest non-bot click of the same viewer, platform, store and
///    product with `click.ts <= conversion.ts <= click.ts + window`, ties to the greatest event id.
/// 3. Else unattributed.
///
/// Reads only staged rows, so the result does not depend on which run or file brought them.
final class Attribution {
  /// `creator_id` and `placement` (`""` when unattributed), the click's event id and the rule
  /// that decided.
  struct Result: Equatable {
    var creatorID: String
    var placement: String
    /// The click's post (empty for a bio link).
    var postID = ""
    var clickEventID = ""
    var rule = AttributionRule.none
    static let none = Result(creatorID: "", placement: "")
  }

  private let canonicalOrder: Statement
  private let rowsOfOrderKey: Statement
  private let search: ClickSearch
  var bots: BotMatcher { search.bots }
  /// The kept copy of an order and its attribution.
  struct Attributed {
    var canonicalEventID: String
    var result: Result
  }

  /// Orders already worked out. Bounded: past `cacheLimit`, it keeps only the orders of the
  /// batch being resolved; emptied at the start of each day.
  private var cache = OrderCache()
  private let cacheLimit: Int

  /// `digests`: the run's click digests, shared by its workers.
  init(
    db: SQLiteDatabase, configuration: PipelineConfiguration, segments: SegmentReader, digests: ClickDigests, cacheLimit: Int
  ) throws(DatabaseError) {
    self.cacheLimit = cacheLimit
    rowsOfOrderKey = try db.prepare("SELECT count(*) FROM conversions WHERE order_key = ?")
    canonicalOrder = try db.prepare(
      """
      SELECT \(ConversionRow.columns.joined(separator: ", ")) FROM conversions
      WHERE order_key = ? AND platform = ? AND order_id = ? AND refunded = 0
      ORDER BY ts, event_id LIMIT 1
      """)
    search = ClickSearch(
      reader: segments, bots: BotMatcher(configuration),
      clickDaysOfKey: try db.prepare("SELECT day FROM click_index WHERE key = ? ORDER BY day"),
      configuration: configuration, digests: digests)
  }

  /// Forgets the orders worked out so far (at the start of a day: most orders are the day's).
  func forgetOrders() {
    cache.removeAll()
  }

  /// Works out, in one batch, every order that the conversions `batch` belong to: per row, its
  /// order's kept copy and the attribution of all of them (`nil`: the order has no ordered
  /// conversion). Orders not known yet are worked out together (one search of the click
  /// segments). The kept copy is the order's ordered row in `batch` when the index holds no
  /// other row with its key (one index-only count); otherwise one search of the order's rows.
  func resolve(_ batch: [ConversionRow]) throws(DatabaseError) -> [Attributed?] {
    var wanted = Set<ByteKey>(minimumCapacity: batch.count)
    var missing: [(key: ByteKey, orderKey: Int64, platform: Platform, orderID: String)] = []
    let orderKeys = batch.map { Self.key($0.platform, $0.orderID) }
    for (index, row) in batch.enumerated() {
      let key = orderKeys[index]
      guard wanted.insert(key).inserted, cache[key] == nil else { continue }
      missing.append((key, ConversionKeys.order(platform: row.platform.rawValue, orderID: row.orderID), row.platform, row.orderID))
    }
    // The batch's ordered row of each order (the last one), by its index in `batch`.
    var ordered: [ByteKey: Int] = Dictionary(minimumCapacity: batch.count)
    for index in batch.indices where !batch[index].refunded { ordered[orderKeys[index]] = index }
    if cache.count + missing.count > cacheLimit { cache.keepOnly(wanted) }
    // Searched in order-key order: neighbouring keys share the index's pages.
    missing.sort { $0.orderKey < $1.orderKey }
    var keys: [ByteKey] = []
    var kept: [ConversionRow] = []
    for (key, orderKey, platform, orderID) in missing {
      if let only = ordered[key], try rowCount(orderKey: orderKey) == 1 {
        keys.append(key)
        kept.append(batch[only])
      } else if let order = try canonicalOrder(orderKey: orderKey, platform: platform, orderID: orderID) {
        keys.append(key)
        kept.append(order)
      } else {
        cache.add(key, nil)
      }
    }
    for (index, result) in try search.attribute(kept).enumerated() {
      cache.add(keys[index], Attributed(canonicalEventID: kept[index].eventID, result: result))
    }
    return orderKeys.map { cache[$0] ?? nil }
  }

  private static func key(_ platform: Platform, _ orderID: String) -> ByteKey {
    var key = ByteKeyBuilder()
    key.append(platform.rawValue)
    key.append(orderID)
    return ByteKey(key.bytes)
  }

  /// How many conversions, ordered or refunded, have the order key `orderKey` (from the index
  /// alone).
  private func rowCount(orderKey: Int64) throws(DatabaseError) -> Int64 {
    let s = rowsOfOrderKey
    s.reset()
    defer { s.reset() }
    s.bind(1, orderKey)
    guard try s.step() else { return 0 }
    return s.int(0)
  }

  /// The ordered conversion kept for (platform, order_id): the earliest, ties to the smallest
  /// event id, so the choice does not depend on arrival order (CONTRACT §3 "Duplicate orders").
  private func canonicalOrder(orderKey: Int64, platform: Platform, orderID: String) throws(DatabaseError) -> ConversionRow? {
    let s = canonicalOrder
    s.reset()
    defer { s.reset() }
    s.bind(1, orderKey)
    s.bind(2, platform.rawValue)
    s.bind(3, orderID)
    guard try s.step() else { return nil }
    return try ConversionRow(s)
  }
}
