/// Totals for one group of `daily_metrics` rows.
public struct Totals: Sendable, Equatable {
  public var views: Int64 = 0
  public var botViews: Int64 = 0
  public var clicks: Int64 = 0
  public var botClicks: Int64 = 0
  public var orders: Int64 = 0
  public var units: Int64 = 0
  public var revenueCents: Int64 = 0
  public var commissionCents: Int64 = 0
  public var refunds: Int64 = 0
  public var refundedCents: Int64 = 0
  public var reversedCommissionCents: Int64 = 0

  public init() {}

  /// Commission minus reversed commission.
  public var netCommissionCents: Int64 { commissionCents - reversedCommissionCents }

  mutating func add(_ other: Totals) {
    views += other.views
    botViews += other.botViews
    clicks += other.clicks
    botClicks += other.botClicks
    orders += other.orders
    units += other.units
    revenueCents += other.revenueCents
    commissionCents += other.commissionCents
    refunds += other.refunds
    refundedCents += other.refundedCents
    reversedCommissionCents += other.reversedCommissionCents
  }

  /// The eleven metric columns of the current row of `s`, starting at column `offset`.
  init(_ s: Statement, from offset: Int32) {
    views = s.int(offset)
    botViews = s.int(offset + 1)
    clicks = s.int(offset + 2)
    botClicks = s.int(offset + 3)
    orders = s.int(offset + 4)
    units = s.int(offset + 5)
    revenueCents = s.int(offset + 6)
    commissionCents = s.int(offset + 7)
    refunds = s.int(offset + 8)
    refundedCents = s.int(offset + 9)
    reversedCommissionCents = s.int(offset + 10)
  }
}

/// Reads what the reports need from the database, for a period of days.
struct ReportData {
  let db: SQLiteDatabase
  let from: String
  let to: String

  /// `(first day, last day)` in `daily_metrics`, or nil if it is empty.
  static func span(_ db: SQLiteDatabase) throws(DatabaseError) -> (String, String)? {
    let row = try db.rows("SELECT min(day), max(day) FROM daily_metrics")[0]
    guard case .text(let lo) = row[0], case .text(let hi) = row[1] else { return nil }
    return (lo, hi)
  }

  /// Calls `body` with each creator's figures, in creator-id byte order: every creator with
  /// activity in the period or a payout balance carried into it. Two queries sorted by creator
  /// (the period's rows, and each creator's net earnings per month up to the period's end) are
  /// merged, so only one creator's rows are in memory at a time, whatever their number.
  func forEachCreator(
    only: String?, ledger: PayoutLedger, _ body: (StatementRenderer.CreatorFigures) throws -> Void
  ) throws {
    let filter = only == nil ? "" : " AND creator_id = ?3"
    let s = try db.prepare(
      """
      SELECT creator_id, day, platform, store, product_id, views, bot_views, clicks, bot_clicks, orders, units,
        revenue_cents, commission_cents, refunds, refunded_cents, reversed_commission_cents
      FROM daily_metrics WHERE day >= ?1 AND day <= ?2 AND creator_id <> ''\(filter)
      ORDER BY creator_id
      """)
    s.bind(1, from)
    s.bind(2, to)
    if let only { s.bind(3, only) }
    let months = try db.prepare(
      """
      SELECT creator_id, substr(day, 1, 7), sum(commission_cents) - sum(reversed_commission_cents)
      FROM daily_metrics WHERE day <= ?2 AND creator_id <> ''\(filter)
      GROUP BY creator_id, substr(day, 1, 7) ORDER BY creator_id
      """)
    months.bind(2, to)
    if let only { months.bind(3, only) }
    let firstMonth = String(from.prefix(7))
    let lastMonth = String(to.prefix(7))

    // The monthly stream, one creator at a time.
    var pendingMonth: (creator: String, month: String, cents: Int64)?
    func nextMonthRow() throws -> (creator: String, month: String, cents: Int64)? {
      guard try months.step() else { return nil }
      return (months.text(0), months.text(1), months.int(2))
    }
    pendingMonth = try nextMonthRow()
    /// The next creator of the monthly stream and their months (nil at its end).
    func nextLedgerCreator() throws -> (creator: String, net: [(month: String, cents: Int64)])? {
      guard let first = pendingMonth else { return nil }
      var net = [(first.month, first.cents)]
      while let row = try nextMonthRow() {
        if row.creator != first.creator {
          pendingMonth = row
          return (first.creator, net)
        }
        net.append((row.month, row.cents))
      }
      pendingMonth = nil
      return (first.creator, net)
    }
    var ledgerCreator = try nextLedgerCreator()
    func precedes(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }

    /// Statements of creators with a balance carried into the period but no activity in it,
    /// up to (not including) `creator` (nil: all that are left).
    func emitBalancesOnly(before creator: String?) throws {
      while let entry = ledgerCreator, creator.map({ precedes(entry.creator, $0) }) ?? true {
        let ledgerMonths = ledger.months(net: entry.net, firstMonth: firstMonth, lastMonth: lastMonth)
        if ledgerMonths.contains(where: { $0.openingCents != 0 || $0.netCents != 0 }) {
          var figures = StatementRenderer.CreatorFigures(creatorID: entry.creator)
          figures.months = ledgerMonths
          try body(figures)
        }
        ledgerCreator = try nextLedgerCreator()
      }
    }

    var current: String?
    var totals = Totals()
    var days: [String: Totals] = [:]
    var products: [[String]: Totals] = [:]
    func flush() throws {
      guard let creator = current else { return }
      try emitBalancesOnly(before: creator)
      var figures = StatementRenderer.CreatorFigures(creatorID: creator)
      figures.totals = totals
      figures.days = SummaryGroups.ordered(days, { $0 }).map { ($0.0, $0.1) }
      figures.products = SummaryGroups.ordered(products, { $0.joined(separator: "\u{0}") }).map {
        ($0.0[0], $0.0[1], $0.0[2], $0.1)
      }
      var net: [(month: String, cents: Int64)] = []
      if let entry = ledgerCreator, entry.creator == creator {
        net = entry.net
        ledgerCreator = try nextLedgerCreator()
      }
      figures.months = ledger.months(net: net, firstMonth: firstMonth, lastMonth: lastMonth)
      try body(figures)
    }
    while try s.step() {
      let creator = s.text(0)
      if creator != current {
        try flush()
        current = creator
        totals = Totals()
        days.removeAll(keepingCapacity: true)
        products.removeAll(keepingCapacity: true)
      }
      let t = Totals(s, from: 5)
      totals.add(t)
      days[s.text(1), default: Totals()].add(t)
      let product = s.text(4)
      if !product.isEmpty { products[[s.text(2), s.text(3), product], default: Totals()].add(t) }
    }
    try flush()
    try emitBalancesOnly(before: nil)
  }

  /// Every group the summary shows, from one scan of the period in primary-key order (no sort).
  struct SummaryGroups {
    var total = Totals()
    var unattributed = Totals()
    var byPlatform: [String: Totals] = [:]
    var byStore: [String: Totals] = [:]
    var byPlacement: [String: Totals] = [:]
    var byDay: [String: Totals] = [:]

    /// Groups in byte order of their keys, as SQL's `ORDER BY` would give them.
    static func ordered<K>(_ groups: [K: Totals], _ text: (K) -> String) -> [(K, Totals)] {
      // Each key's text is made once, not once per comparison.
      groups.map { (text($0.key), $0.key, $0.value) }
        .sorted { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }
        .map { ($0.1, $0.2) }
    }
  }

  func summaryGroups() throws(DatabaseError) -> SummaryGroups {
    let s = try db.prepare(
      """
      SELECT day, creator_id, placement, platform, store, views, bot_views, clicks, bot_clicks,
        orders, units, revenue_cents, commission_cents, refunds, refunded_cents, reversed_commission_cents
      FROM daily_metrics WHERE day >= ? AND day <= ?
      """)
    s.bind(1, from)
    s.bind(2, to)
    var g = SummaryGroups()
    while try s.step() {
      let t = Totals(s, from: 5)
      let (day, creator, placement, platform, store) = (s.text(0), s.text(1), s.text(2), s.text(3), s.text(4))
      g.total.add(t)
      g.byDay[day, default: Totals()].add(t)
      g.byPlatform[platform, default: Totals()].add(t)
      g.byPlacement[placement, default: Totals()].add(t)
      if platform == Platform.brandStore.rawValue { g.byStore[store, default: Totals()].add(t) }
      if creator.isEmpty && (t.orders > 0 || t.refunds > 0) { g.unattributed.add(t) }
    }
    return g
  }

  /// The sums of the eleven ``Totals`` columns, in the order `Totals(_:from:)` reads them.
  private static let totalsSums = """
    sum(views), sum(bot_views), sum(clicks), sum(bot_clicks), sum(orders), sum(units), sum(revenue_cents),
    sum(commission_cents), sum(refunds), sum(refunded_cents), sum(reversed_commission_cents)
    """

  /// The `limit` creators with the highest net commission in the period (ties: creator id in
  /// byte order). Grouped by SQLite, whose sorter spills to disk: memory does not grow with
  /// the number of creators.
  func topCreators(limit: Int) throws(DatabaseError) -> [(String, Totals)] {
    let s = try db.prepare(
      """
      SELECT creator_id, \(Self.totalsSums) FROM daily_metrics
      WHERE day >= ? AND day <= ? AND creator_id <> ''
      GROUP BY creator_id ORDER BY sum(commission_cents) - sum(reversed_commission_cents) DESC, creator_id LIMIT ?
      """)
    s.bind(1, from)
    s.bind(2, to)
    s.bind(3, Int64(limit))
    var result: [(String, Totals)] = []
    while try s.step() { result.append((s.text(0), Totals(s, from: 1))) }
    return result
  }

  /// The `limit` products (platform, store, product id) with the highest revenue in the period
  /// (ties: the key in byte order).
  func topProducts(limit: Int) throws(DatabaseError) -> [([String], Totals)] {
    let s = try db.prepare(
      """
      SELECT platform, store, product_id, \(Self.totalsSums) FROM daily_metrics
      WHERE day >= ? AND day <= ? AND product_id <> ''
      GROUP BY platform, store, product_id ORDER BY sum(revenue_cents) DESC, platform, store, product_id LIMIT ?
      """)
    s.bind(1, from)
    s.bind(2, to)
    s.bind(3, Int64(limit))
    var result: [([String], Totals)] = []
    while try s.step() { result.append(([s.text(0), s.text(1), s.text(2)], Totals(s, from: 3))) }
    return result
  }

  /// Files, failures, rejects by reason, duplicates: over everything ingested (not per period).
  struct Quality {
    var filesIngested: Int64 = 0
    var filesFailedNow: [(path: String, error: String)] = []
    var linesRead: Int64 = 0
    var rejectsByReason: [(String, Int64)] = []
    var duplicates: Int64 = 0
    /// Orders whose refunds add up to more than their amount (`over_refunds`).
    var ordersRefundedPastTheirAmount: Int64 = 0
  }

  func quality() throws(DatabaseError) -> Quality {
    var q = Quality()
    let files = try db.rows(
      "SELECT count(*), coalesce(sum(lines), 0), coalesce(sum(duplicates), 0) FROM files WHERE status = 'ingested'")[0]
    q.filesIngested = files[0].intValue
    q.linesRead = files[1].intValue
    q.duplicates = files[2].intValue
    // A failed file counts until the same path is ingested later.
    q.filesFailedNow = try db.rows(
      """
      SELECT f.path, f.error FROM files f
      WHERE f.status = 'failed' AND f.file_id = (SELECT max(file_id) FROM files g WHERE g.path = f.path)
      ORDER BY f.path
      """
    ).map { ($0[0].textValue, $0[1].textValue) }
    q.rejectsByReason = try db.rows(
      """
      SELECT r.reason, count(*) FROM rejects r JOIN files f ON f.file_id = r.file_id
      WHERE f.status = 'ingested' GROUP BY r.reason ORDER BY count(*) DESC, r.reason
      """
    ).map { ($0[0].textValue, $0[1].intValue) }
    q.ordersRefundedPastTheirAmount = try db.scalarInt("SELECT count(*) FROM over_refunds") ?? 0
    return q
  }
}
