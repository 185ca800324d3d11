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

  private let conversionsOfDay: Statement
  private let canonicalOrder: Statement
  private let search: ClickSearch
  var bots: BotMatcher { search.bots }
  /// The kept copy of an order and its attribution.
  struct Attributed {
    var canonicalEventID: String
    var result: Result
  }

  /// Each order of the day being computed, by (platform, order id); see ``prepare(from:to:)``.
  private var cache: [[UInt8]: Attributed?] = [:]

  init(db: SQLiteDatabase, configuration: PipelineConfiguration, segments: SegmentReader) throws(DatabaseError) {
    conversionsOfDay = try db.prepare("SELECT DISTINCT platform, order_id FROM conversions WHERE ts >= ? AND ts < ?")
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
    let s = conversionsOfDay
    s.reset()
    s.bind(1, start)
    s.bind(2, end)
    var keys: [(platform: String, orderID: String)] = []
    while try s.step() { keys.append((s.text(0), s.text(1))) }
    s.reset()
    var orders: [Order] = []
    var ordered: [[UInt8]] = []
    for (platform, orderID) in keys {
      if let order = try canonicalOrder(platform: platform, orderID: orderID) {
        orders.append(order)
        ordered.append(Self.key(platform, orderID))
      } else {
        cache[Self.key(platform, orderID)] = .some(nil)
      }
    }
    for (index, result) in try search.attribute(orders).enumerated() {
      cache[ordered[index]] = Attributed(canonicalEventID: orders[index].eventID, result: result)
    }
  }

  private static func key(_ platform: String, _ orderID: String) -> [UInt8] {
    var key = ByteKeyBuilder()
    key.append(platform)
    key.append(orderID)
    return key.bytes
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
