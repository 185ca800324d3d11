/// Recomputes the `daily_metrics` rows of one local day from the staged events.
final class DayComputer {
  private struct Accumulator {
    var row = MetricsRow()
    /// This row's position, so unique viewers can live in one shared set per day.
    var index: Int32 = -1
  }

  /// (row index, viewer id) pairs of non-bot views and clicks: one set per day, not one per row.
  private struct Seen: Hashable {
    var row: Int32
    var viewer: String
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
  /// The largest number of rows a day had so far, to size the next day's dictionary.
  private var expectedRows = 1024

  init(db: SQLiteDatabase, calendar: DayCalendar, money: MoneyRules, attribution: Attribution) throws(DatabaseError) {
    self.db = db
    self.calendar = calendar
    self.money = money
    self.attribution = attribution
    self.botAgents = attribution.botAgentIDs
    let dims = "creator_id, placement, platform, store, product_id, viewer_id, ua_id"
    // Rowids are ts << 12 | n: a day is a rowid range.
    viewsOfDay = try db.prepare("SELECT \(dims) FROM views WHERE view_id >= ?1 << 12 AND view_id < ?2 << 12")
    clicksOfDay = try db.prepare("SELECT \(dims) FROM clicks WHERE click_row >= ?1 << 12 AND click_row < ?2 << 12")
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
    rows.reserveCapacity(expectedRows)
    var viewers = Set<Seen>()
    var clickers = Set<Seen>()
    try countTraffic(viewsOfDay, start, end, into: &rows, unique: &viewers, isView: true)
    try countTraffic(clicksOfDay, start, end, into: &rows, unique: &clickers, isView: false)
    try countConversions(start, end, into: &rows)
    var uniqueViewers = [Int64](repeating: 0, count: rows.count)
    var uniqueClickers = [Int64](repeating: 0, count: rows.count)
    for seen in viewers { uniqueViewers[Int(seen.row)] += 1 }
    for seen in clickers { uniqueClickers[Int(seen.row)] += 1 }
    expectedRows = max(expectedRows, rows.count)

    let dayText = calendar.text(ofDay: day)
    try deleteDay.run([.text(dayText)])
    var written = 0
    // Insertion order does not matter: the table is ordered by its primary key.
    for (key, var accumulator) in rows {
      if accumulator.index >= 0 {
        accumulator.row.uniqueViewers = uniqueViewers[Int(accumulator.index)]
        accumulator.row.uniqueClickers = uniqueClickers[Int(accumulator.index)]
      }
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
    _ s: Statement, _ start: Int64, _ end: Int64, into rows: inout [MetricsKey: Accumulator],
    unique: inout Set<Seen>, isView: Bool
  ) throws(DatabaseError) {
    s.reset()
    defer { s.reset() }
    s.bind(1, start)
    s.bind(2, end)
    while try s.step() {
      let key = MetricsKey(
        creatorID: s.text(0), placement: s.text(1), platform: s.text(2), store: s.text(3), productID: s.text(4))
      let isBot = botAgents.contains(s.int(6))
      let nextIndex = Int32(rows.count)
      var index: Int32 = 0
      // One hash lookup per row: update in place through the dictionary's default subscript.
      do {
        let a = { (accumulator: inout Accumulator) in
          if accumulator.index < 0 { accumulator.index = nextIndex }
          index = accumulator.index
          switch (isView, isBot) {
          case (true, true): accumulator.row.botViews += 1
          case (true, false): accumulator.row.views += 1
          case (false, true): accumulator.row.botClicks += 1
          case (false, false): accumulator.row.clicks += 1
          }
        }
        a(&rows[key, default: Accumulator()])
      }
      if !isBot, s.isNull(5) == false {
        let viewer = s.text(5)
        if !viewer.isEmpty { unique.insert(Seen(row: index, viewer: viewer)) }
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
