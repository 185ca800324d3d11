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

  private let keys: EventKeys
  private let segments: SegmentReader
  private let canonicalOrder: Statement
  let bots: BotMatcher
  private let windows: [String: Int64]
  private var cache: [String: Result?] = [:]
  /// Rule 2's clicks of the UTC days searched lately, by day (see ``ClickDayIndex``).
  private var clickDays: [Int64: ClickDayIndex] = [:]

  init(db: SQLiteDatabase, configuration: PipelineConfiguration, segments: SegmentReader) throws(DatabaseError) {
    keys = try EventKeys(db: db)
    self.segments = segments
    canonicalOrder = try db.prepare(
      """
      SELECT event_id, ts, viewer_id, product_id, platform, store, click_id FROM conversions
      WHERE platform = ? AND order_id = ? AND refunded = 0
      ORDER BY ts, event_id LIMIT 1
      """)
    bots = BotMatcher(patterns: configuration.botPatterns)
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
      guard !click.isBot else {
        return Result(creatorID: "", placement: "", clickEventID: click.result.clickEventID, rule: .botClick)
      }
      return click.result
    }
    guard !order.viewerID.isEmpty, let window = windows[order.platform] else { return .none }
    // Days are disjoint in time: the latest click of the latest day that has one wins.
    var day = utcDay(ofMilliseconds: order.ts)
    while day >= utcDay(ofMilliseconds: order.ts - window) {
      if let found = try clicks(ofDay: day).latest(
        viewer: order.viewerID, platform: order.platform, store: order.store, product: order.productID,
        from: order.ts - window, to: order.ts)
      {
        return found
      }
      day -= 1
    }
    return .none
  }

  /// Rule 2's index of the clicks of UTC day `day`; the last 10 days searched are kept
  /// (a 168-hour window spans 8).
  private func clicks(ofDay day: Int64) throws(DatabaseError) -> ClickDayIndex {
    if let index = clickDays[day] { return index }
    if clickDays.count >= 10, let oldest = clickDays.keys.min() { clickDays[oldest] = nil }
    let index = try ClickDayIndex(day: day, reader: segments, bots: bots)
    clickDays[day] = index
    return index
  }

  /// The staged click with this event id (nil if none, or if the id belongs to a view or conversion).
  private func click(eventID: String) throws(DatabaseError) -> (result: Result, isBot: Bool)? {
    var found: (segment: EventSegment, row: Int)?
    let hash = UInt64(bitPattern: EventKeyHash.key(eventID))
    _ = try keys.findClick(hash: hash) { ref throws(DatabaseError) in
      let segment = try segments.load(ref.segmentID)
      guard ref.row < segment.count, segment.ids.withValue(ref.row, { EventStore.sameBytes($0, eventID) }) else {
        return false
      }
      found = (segment, ref.row)
      return true
    }
    guard let (s, r) = found else { return nil }
    return (
      Result(creatorID: s.string(.creator, r), placement: s.string(.placement, r), clickEventID: s.eventID(r), rule: .clickID),
      s.withValue(.userAgent, r) { bots.isBot($0) }
    )
  }
}
