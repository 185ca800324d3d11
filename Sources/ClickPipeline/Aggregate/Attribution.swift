/// Finds the click an ordered conversion is attributed to (CONTRACT §4).
///
/// 1. `click_id` naming a staged click: that click (unattributed if it is a bot click).
/// 2. Else, with a `viewer_id`: the latest non-bot click of the same viewer, platform, store and
///    product with `click.ts <= conversion.ts <= click.ts + window`, ties to the greatest event id.
/// 3. Else unattributed.
///
/// Reads only staged rows, so the result does not depend on which run or file brought them.
final class Attribution {
  struct Order {
    var eventID: String
    var ts: Int64
    var viewerID: String
    var productID: String
    var platform: String
    var store: String
    var clickID: String
  }

  /// `creator_id` and `placement` (`""` when unattributed), the click's event id and the rule
  /// that decided.
  struct Result: Equatable {
    var creatorID: String
    var placement: String
    var clickEventID = ""
    var rule = AttributionRule.none
    static let none = Result(creatorID: "", placement: "")
  }

  private let ordersOfSpan: Statement
  private let refundOrdersOfSpan: Statement
  private let canonicalOrder: Statement
  private let search: ClickSearch
  var bots: BotMatcher { search.bots }
  /// The kept copy of an order and its attribution.
  struct Attributed {
    var canonicalEventID: String
    var result: Result
  }

  /// Each order of the day being computed, by (platform, order id); see ``prepare(from:to:)``.
  private var cache: [ByteKey: Attributed?] = [:]

  init(db: SQLiteDatabase, configuration: PipelineConfiguration, segments: SegmentReader) throws(DatabaseError) {
    ordersOfSpan = try db.prepare(
      """
      SELECT o.event_id, o.ts, o.viewer_id, o.product_id, o.platform, o.store, o.click_id, o.order_id
      FROM (SELECT DISTINCT order_key, platform, order_id FROM conversions WHERE ts >= ? AND ts < ?) d
      JOIN conversions o ON o.order_key = d.order_key AND o.platform = d.platform AND o.order_id = d.order_id
      WHERE o.refunded = 0
      """)
    refundOrdersOfSpan = try db.prepare(
      "SELECT DISTINCT platform, order_id FROM conversions WHERE ts >= ? AND ts < ? AND refunded = 1")
    canonicalOrder = try db.prepare(
      """
      SELECT event_id, ts, viewer_id, product_id, platform, store, click_id FROM conversions
      WHERE order_key = ? AND platform = ? AND order_id = ? AND refunded = 0
      ORDER BY ts, event_id LIMIT 1
      """)
    search = ClickSearch(
      reader: segments, bots: BotMatcher(patterns: configuration.botPatterns),
      clickDaysOfKey: try db.prepare("SELECT day FROM click_index WHERE key = ? ORDER BY day"),
      configuration: configuration)
  }

  /// Attributes, in one batch, every order that a conversion or refund with `start <= ts < end`
  /// belongs to, for ``attributionOfOrder(platform:orderID:)``.
  func prepare(from start: Int64, to end: Int64) throws(DatabaseError) {
    cache.removeAll(keepingCapacity: true)
    // Every ordered copy of the orders with a conversion or refund in the span, in one query
    // (one index search per order, without a statement per order); the kept copy of each is
    // the earliest, ties to the smallest event id (CONTRACT §3 "Duplicate orders").
    let s = ordersOfSpan
    s.reset()
    s.bind(1, start)
    s.bind(2, end)
    var kept: [ByteKey: Order] = [:]
    var seen: [ByteKey] = []
    while try s.step() {
      let key = Self.key(s.bytes(4), s.bytes(7))
      let order = Order(
        eventID: s.text(0), ts: s.int(1), viewerID: s.text(2), productID: s.text(3), platform: s.text(4),
        store: s.text(5), clickID: s.text(6))
      if let current = kept[key] {
        if order.ts < current.ts || (order.ts == current.ts && order.eventID.utf8.lexicographicallyPrecedes(current.eventID.utf8)) {
          kept[key] = order
        }
      } else {
        kept[key] = order
        seen.append(key)
      }
    }
    s.reset()
    // Orders with only refunds have no kept copy.
    let r = refundOrdersOfSpan
    r.reset()
    r.bind(1, start)
    r.bind(2, end)
    while try r.step() {
      let key = Self.key(r.bytes(0), r.bytes(1))
      if kept[key] == nil { cache[key] = .some(nil) }
    }
    r.reset()
    let orders = seen.map { kept[$0]! }
    for (index, result) in try search.attribute(orders).enumerated() {
      cache[seen[index]] = Attributed(canonicalEventID: orders[index].eventID, result: result)
    }
  }

  private static func key(_ platform: UnsafeRawBufferPointer, _ orderID: UnsafeRawBufferPointer) -> ByteKey {
    var key = ByteKeyBuilder()
    key.append(platform)
    key.append(orderID)
    return ByteKey(key.bytes)
  }

  private static func key(_ platform: String, _ orderID: String) -> ByteKey {
    var key = ByteKeyBuilder()
    key.append(platform)
    key.append(orderID)
    return ByteKey(key.bytes)
  }

  /// The ordered conversion kept for (platform, order_id): the earliest, ties to the smallest
  /// event id, so the choice does not depend on arrival order (CONTRACT §3 "Duplicate orders").
  private func canonicalOrder(platform: String, orderID: String) throws(DatabaseError) -> Order? {
    let s = canonicalOrder
    s.reset()
    defer { s.reset() }
    s.bind(1, ConversionKeys.order(platform: platform, orderID: orderID))
    s.bind(2, platform)
    s.bind(3, orderID)
    guard try s.step() else { return nil }
    return Order(
      eventID: s.text(0), ts: s.int(1), viewerID: s.text(2), productID: s.text(3), platform: s.text(4),
      store: s.text(5), clickID: s.text(6))
  }

  /// The kept copy of the order (platform, order_id) and its attribution, or `nil` if the order
  /// has no ordered conversion: from ``prepare(from:to:)``'s batch, or worked out alone if the
  /// order was not in it. Asked once per conversion, so each answer is kept for the day.
  func order(platform: String, orderID: String) throws(DatabaseError) -> Attributed? {
    let key = Self.key(platform, orderID)
    if let cached = cache[key] { return cached }
    var attributed: Attributed?
    if let order = try canonicalOrder(platform: platform, orderID: orderID) {
      attributed = Attributed(canonicalEventID: order.eventID, result: try search.attribute([order])[0])
    }
    cache[key] = attributed
    return attributed
  }
}
