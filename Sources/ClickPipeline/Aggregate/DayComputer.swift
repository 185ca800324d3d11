/// Recomputes the `daily_metrics` rows of one local day from the staged events.
final class DayComputer {
  private struct Accumulator {
    var row = MetricsRow()
    var viewers = Set<String>()
    var clickers = Set<String>()
  }

  private let db: SQLiteDatabase
  private let calendar: DayCalendar
  private let money: MoneyRules
  private let attribution: Attribution
  private let botAgents: Set<Int64>
  private let viewsOfDay: Statement
  private let clicksOfDay: Statement
  private let conversionsOfDay: Statement
  private let deleteDay: Statement
  private let insertRow: Statement

  init(db: SQLiteDatabase, calendar: DayCalendar, money: MoneyRules, attribution: Attribution) throws(DatabaseError) {
    self.db = db
    self.calendar = calendar
    self.money = money
    self.attribution = attribution
    self.botAgents = attribution.botAgentIDs
    let dims = "creator_id, placement, platform, store, product_id, viewer_id, ua_id"
    viewsOfDay = try db.prepare("SELECT \(dims) FROM views WHERE ts >= ? AND ts < ?")
    clicksOfDay = try db.prepare("SELECT \(dims) FROM clicks WHERE ts >= ? AND ts < ?")
    conversionsOfDay = try db.prepare(
      """
      SELECT event_id, ts, viewer_id, product_id, platform, store, order_id, click_id, quantity,
        amount, currency, refunded
      FROM conversions WHERE ts >= ? AND ts < ?
      """)
    deleteDay = try db.prepare("DELETE FROM daily_metrics WHERE day = ?")
    insertRow = try db.prepare(
      """
      INSERT INTO daily_metrics(day, creator_id, placement, platform, store, product_id,
        \(MetricsRow.columnNames.joined(separator: ", ")))
      VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
      """)
  }

  /// Replaces the rows of `day`; returns how many rows it wrote.
  func recompute(day: Int) throws(DatabaseError) -> Int {
    let start = calendar.start(ofDay: day)
    let end = calendar.start(ofDay: day + 1)
    var rows: [MetricsKey: Accumulator] = [:]
    try countTraffic(viewsOfDay, start, end, into: &rows, isView: true)
    try countTraffic(clicksOfDay, start, end, into: &rows, isView: false)
    try countConversions(start, end, into: &rows)

    let dayText = calendar.text(ofDay: day)
    try deleteDay.run([.text(dayText)])
    var written = 0
    for (key, var accumulator) in rows.sorted(by: { $0.key < $1.key }) {
      accumulator.row.uniqueViewers = Int64(accumulator.viewers.count)
      accumulator.row.uniqueClickers = Int64(accumulator.clickers.count)
      guard !accumulator.row.isZero else { continue }
      let s = insertRow
      s.reset()
      s.bind(1, dayText)
      s.bind(2, key.creatorID)
      s.bind(3, key.placement)
      s.bind(4, key.platform)
      s.bind(5, key.store)
      s.bind(6, key.productID)
      for (offset, value) in accumulator.row.values.enumerated() { s.bind(Int32(7 + offset), value) }
      try s.step()
      written += 1
    }
    insertRow.reset()
    return written
  }

  private func countTraffic(
    _ s: Statement, _ start: Int64, _ end: Int64, into rows: inout [MetricsKey: Accumulator], isView: Bool
  ) throws(DatabaseError) {
    s.reset()
    defer { s.reset() }
    s.bind(1, start)
    s.bind(2, end)
    while try s.step() {
      let key = MetricsKey(
        creatorID: s.text(0), placement: s.text(1), platform: s.text(2), store: s.text(3), productID: s.text(4))
      let isBot = botAgents.contains(s.int(6))
      let viewer = s.text(5)
      if isView {
        if isBot {
          rows[key, default: Accumulator()].row.botViews += 1
        } else {
          rows[key, default: Accumulator()].row.views += 1
          if !viewer.isEmpty { rows[key, default: Accumulator()].viewers.insert(viewer) }
        }
      } else {
        if isBot {
          rows[key, default: Accumulator()].row.botClicks += 1
        } else {
          rows[key, default: Accumulator()].row.clicks += 1
          if !viewer.isEmpty { rows[key, default: Accumulator()].clickers.insert(viewer) }
        }
      }
    }
  }

  private func countConversions(
    _ start: Int64, _ end: Int64, into rows: inout [MetricsKey: Accumulator]
  ) throws(DatabaseError) {
    let s = conversionsOfDay
    s.reset()
    defer { s.reset() }
    s.bind(1, start)
    s.bind(2, end)
    while try s.step() {
      let eventID = s.text(0)
      let platform = s.text(4)
      let store = s.text(5)
      let productID = s.text(3)
      let orderID = s.text(6)
      let refunded = s.int(11) != 0
      guard let amount = ExactDecimal(s.text(9)),
        let cents = money.revenueCents(amount: amount, currency: s.text(10))
      else {
        // A currency dropped from the FX table since ingest: the row cannot be priced.
        continue
      }
      let commission = money.commissionCents(
        revenueCents: cents, platform: platform, store: store, productID: productID)
      if refunded {
        let who = try attribution.attributionOfOrder(platform: platform, orderID: orderID) ?? .none
        let key = MetricsKey(
          creatorID: who.creatorID, placement: who.placement, platform: platform, store: store, productID: productID)
        rows[key, default: Accumulator()].row.refunds += 1
        rows[key, default: Accumulator()].row.refundedCents += cents
        rows[key, default: Accumulator()].row.reversedCommissionCents += commission
      } else {
        // Only the canonical copy of a retried order counts.
        guard let canonical = try attribution.canonicalOrder(platform: platform, orderID: orderID),
          canonical.eventID == eventID,
          let who = try attribution.attributionOfOrder(platform: platform, orderID: orderID)
        else { continue }
        let key = MetricsKey(
          creatorID: who.creatorID, placement: who.placement, platform: platform, store: store, productID: productID)
        rows[key, default: Accumulator()].row.orders += 1
        rows[key, default: Accumulator()].row.units += s.int(8)
        rows[key, default: Accumulator()].row.revenueCents += cents
        rows[key, default: Accumulator()].row.commissionCents += commission
      }
    }
  }
}
