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

  private let keys: EventKeyIndex
  private let clickRow: Statement
  private let latestClicks: Statement
  private let canonicalOrder: Statement
  private let botAgents: Set<Int64>
  var botAgentIDs: Set<Int64> { botAgents }
  private let windows: [String: Int64]
  private var cache: [String: Result?] = [:]

  init(db: SQLiteDatabase, configuration: PipelineConfiguration, botAgents: Set<Int64>) throws(DatabaseError) {
    keys = try EventKeyIndex(db: db, readFilter: false)
    clickRow = try db.prepare(
      "SELECT event_id, creator_id, placement, ua_id FROM clicks WHERE click_row = ?")
    // One UTC day of the window at a time (?7), latest day first: see `clicks_by_day_viewer`.
    latestClicks = try db.prepare(
      """
      SELECT creator_id, placement, ua_id, event_id FROM clicks INDEXED BY clicks_by_day_viewer
      WHERE ts / 86400000 = ?7 AND viewer_id = ?1 AND viewer_id <> '' AND platform = ?2 AND store = ?3
        AND product_id = ?4 AND ts >= ?5 AND ts <= ?6
      ORDER BY ts DESC, event_id DESC
      """)
    canonicalOrder = try db.prepare(
      """
      SELECT event_id, ts, viewer_id, product_id, platform, store, click_id FROM conversions
      WHERE platform = ? AND order_id = ? AND refunded = 0
      ORDER BY ts, event_id LIMIT 1
      """)
    self.botAgents = botAgents
    windows = [
      "amazon": Int64(configuration.amazonWindowHours) * 3_600_000,
      "brand_store": Int64(configuration.brandStoreWindowHours) * 3_600_000,
    ]
  }

  /// The ordered conversion kept for (platform, order_id): the earliest, ties to the smallest
  /// event id, so the choice does not depend on arrival order (CONTRACT §3 "Duplicate orders").
  func canonicalOrder(platform: String, orderID: String) throws(DatabaseError) -> Order? {
    let s = canonicalOrder
    s.reset()
    defer { s.reset() }
    s.bind(1, platform)
    s.bind(2, orderID)
    guard try s.step() else { return nil }
    return Order(
      eventID: s.text(0), ts: s.int(1), viewerID: s.text(2), productID: s.text(3), platform: s.text(4),
      store: s.text(5), clickID: s.text(6))
  }

  /// The attribution of the order (platform, order_id), or `nil` if there is no ordered conversion.
  func attributionOfOrder(platform: String, orderID: String) throws(DatabaseError) -> Result? {
    let cacheKey = platform + "\u{1F}" + orderID
    if let cached = cache[cacheKey] { return cached }
    var result: Result?
    if let order = try canonicalOrder(platform: platform, orderID: orderID) {
      result = try attribute(order)
    }
    // Each worker has its own cache (an order key, a creator and a placement per entry):
    // bounded so that two workers' caches stay a small part of the 512 MiB budget.
    if cache.count >= 200_000 { cache.removeAll() }
    cache[cacheKey] = result
    return result
  }

  func attribute(_ order: Order) throws(DatabaseError) -> Result {
    if !order.clickID.isEmpty, let click = try click(eventID: order.clickID) {
      guard !botAgents.contains(click.userAgent) else {
        return Result(creatorID: "", placement: "", clickEventID: click.result.clickEventID, rule: .botClick)
      }
      return click.result
    }
    guard !order.viewerID.isEmpty, let window = windows[order.platform] else { return .none }
    let s = latestClicks
    s.reset()
    defer { s.reset() }
    s.bind(1, order.viewerID)
    s.bind(2, order.platform)
    s.bind(3, order.store)
    s.bind(4, order.productID)
    s.bind(5, order.ts - window)
    s.bind(6, order.ts)
    // Days are disjoint in time: the first non-bot click of the latest day that has one wins.
    var day = order.ts / 86_400_000
    while day >= (order.ts - window) / 86_400_000 {
      s.reset()
      s.bind(7, day)
      while try s.step() {
        if !botAgents.contains(s.int(2)) {
          return Result(creatorID: s.text(0), placement: s.text(1), clickEventID: s.text(3), rule: .viewerWindow)
        }
      }
      day -= 1
    }
    return .none
  }

  /// The staged click with this event id (nil if none, or if the id belongs to a view or conversion).
  private func click(eventID: String) throws(DatabaseError) -> (result: Result, userAgent: Int64)? {
    guard let found = try keys.find(eventID), found.kind == EventKind.click.rawValue else { return nil }
    clickRow.reset()
    defer { clickRow.reset() }
    clickRow.bind(1, found.ref)
    guard try clickRow.step() else { return nil }
    return (
      Result(creatorID: clickRow.text(1), placement: clickRow.text(2), clickEventID: clickRow.text(0), rule: .clickID),
      clickRow.int(3)
    )
  }
}
