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

  mutating func add(_ row: [SQLValue], from offset: Int) {
    views += row[offset].intValue
    botViews += row[offset + 1].intValue
    clicks += row[offset + 2].intValue
    botClicks += row[offset + 3].intValue
    orders += row[offset + 4].intValue
    units += row[offset + 5].intValue
    revenueCents += row[offset + 6].intValue
    commissionCents += row[offset + 7].intValue
    refunds += row[offset + 8].intValue
    refundedCents += row[offset + 9].intValue
    reversedCommissionCents += row[offset + 10].intValue
  }

  /// The SQL sums matching ``add(_:from:)``.
  static let sums = """
    sum(views), sum(bot_views), sum(clicks), sum(bot_clicks), sum(orders), sum(units),
    sum(revenue_cents), sum(commission_cents), sum(refunds), sum(refunded_cents),
    sum(reversed_commission_cents)
    """
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

  /// Totals grouped by the given columns (none: one row), in a deterministic order.
  func grouped(by columns: [String], where condition: String = "1") throws(DatabaseError) -> [([String], Totals)] {
    let select = columns.isEmpty ? "" : columns.joined(separator: ", ") + ", "
    let group = columns.isEmpty ? "" : "GROUP BY " + columns.joined(separator: ", ") + " ORDER BY " + columns.joined(separator: ", ")
    let rows = try db.rows(
      "SELECT \(select)\(Totals.sums) FROM daily_metrics WHERE day >= ? AND day <= ? AND (\(condition)) \(group)",
      [.text(from), .text(to)])
    return rows.compactMap { row in
      if columns.isEmpty, case .null = row[0] { return nil }
      var totals = Totals()
      totals.add(row, from: columns.count)
      return (columns.indices.map { row[$0].textValue }, totals)
    }
  }

  func total(where condition: String = "1") throws(DatabaseError) -> Totals {
    try grouped(by: [], where: condition).first?.1 ?? Totals()
  }

  /// Calls `body` with each creator's figures, in creator-id byte order, reading three ordered
  /// GROUP BY queries side by side: one pass over the period, whatever the number of creators.
  func forEachCreator(only: String?, _ body: (StatementRenderer.CreatorFigures) throws -> Void) throws {
    let filter = only == nil ? "" : " AND creator_id = ?4"
    let base = "FROM daily_metrics WHERE day >= ?1 AND day <= ?2 AND creator_id <> ''\(filter)"
    let totals = try db.prepare("SELECT creator_id, \(Totals.sums) \(base) GROUP BY creator_id ORDER BY creator_id")
    let days = try db.prepare(
      "SELECT creator_id, day, \(Totals.sums) \(base) GROUP BY creator_id, day ORDER BY creator_id, day")
    let products = try db.prepare(
      """
      SELECT creator_id, platform, store, product_id, \(Totals.sums) \(base) AND product_id <> ''
      GROUP BY creator_id, platform, store, product_id ORDER BY creator_id, platform, store, product_id
      """)
    for s in [totals, days, products] {
      s.bind(1, from)
      s.bind(2, to)
      if let only { s.bind(4, only) }
    }
    func totalsOf(_ s: Statement, from offset: Int32) -> Totals {
      var t = Totals()
      t.add((offset..<(offset + 11)).map { .int(s.int($0)) }, from: 0)
      return t
    }
    var dayRow = try days.step()
    var productRow = try products.step()
    while try totals.step() {
      var figures = StatementRenderer.CreatorFigures(creatorID: totals.text(0))
      figures.totals = totalsOf(totals, from: 1)
      while dayRow && days.text(0) == figures.creatorID {
        figures.days.append((days.text(1), totalsOf(days, from: 2)))
        dayRow = try days.step()
      }
      while productRow && products.text(0) == figures.creatorID {
        figures.products.append((products.text(1), products.text(2), products.text(3), totalsOf(products, from: 4)))
        productRow = try products.step()
      }
      try body(figures)
    }
  }

  /// Files, failures, rejects by reason, duplicates: over everything ingested (not per period).
  struct Quality {
    var filesIngested: Int64 = 0
    var filesFailedNow: [(path: String, error: String)] = []
    var linesRead: Int64 = 0
    var rejectsByReason: [(String, Int64)] = []
    var duplicates: Int64 = 0
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
    return q
  }
}
