/// The closed months of the payout ledger in the database (schema 11), read per creator.
///
/// - `closed_months`: each closed month, when, in which time zone, at which threshold.
/// - `ledger_months`: each creator's closed month as it was closed (never updated).
/// - `ledger_adjustments`: the adjustments a closed month counted, by source month.
/// - `ledger_orders`: the orders each closed month's figures are accounted with, per
///   creator: as closed, then as adjusted. An adjustment is the difference between a closed
///   month's net earnings now and the sum of these, and names the orders that differ.
struct LedgerStore {
  let db: SQLiteDatabase
  private let rows: Statement
  private let adjustments: Statement
  private let accounted: Statement
  private let changedOrders: Statement

  init(db: SQLiteDatabase) throws(DatabaseError) {
    self.db = db
    rows = try db.prepare(
      """
      SELECT l.month, l.opening_cents, l.net_cents, l.payable_cents, l.closing_cents, c.closed_at
      FROM ledger_months l JOIN closed_months c ON c.month = l.month WHERE l.creator_id = ?
      """)
    adjustments = try db.prepare(
      "SELECT month, source_month, cents, orders FROM ledger_adjustments WHERE creator_id = ? ORDER BY month, source_month")
    accounted = try db.prepare("SELECT month, sum(net_cents) FROM ledger_orders WHERE creator_id = ? GROUP BY month")
    // Orders of the creator in the month that are new or differ from how they were
    // accounted, and accounted orders that are gone or moved.
    changedOrders = try db.prepare(Self.changedOrdersSQL)
  }

  /// A creator's orders in a closed month that are new or differ from how they were
  /// accounted, and accounted orders that are gone or moved to another creator. Both halves
  /// search `orders_by_creator` (`creator_id <> ''` lets SQLite use the partial index).
  static let changedOrdersSQL = """
    SELECT o.order_id FROM orders o
    WHERE o.creator_id = ?1 AND o.creator_id <> '' AND o.day >= ?2 || '-01' AND o.day <= ?2 || '-31'
      AND NOT EXISTS (
        SELECT 1 FROM ledger_orders l
        WHERE l.month = ?2 AND l.event_id = o.event_id AND l.creator_id = o.creator_id
          AND l.net_cents = o.commission_cents - o.reversed_commission_cents)
    UNION
    SELECT l.order_id FROM ledger_orders l
    WHERE l.creator_id = ?1 AND l.month = ?2
      AND NOT EXISTS (
        SELECT 1 FROM orders o
        WHERE o.day >= ?2 || '-01' AND o.day <= ?2 || '-31' AND o.event_id = l.event_id
          AND o.creator_id = l.creator_id AND o.creator_id <> '' AND o.commission_cents - o.reversed_commission_cents = l.net_cents)
    ORDER BY 1
    """

  /// The closed months and when they were closed.
  static func closing(_ db: SQLiteDatabase) throws(DatabaseError) -> PayoutLedger.Closing {
    var closing = PayoutLedger.Closing()
    for row in try db.rows("SELECT month, closed_at FROM closed_months") { closing.closedAt[row[0].textValue] = row[1].textValue }
    return closing
  }

  /// One creator's closed months.
  func history(of creator: String) throws(DatabaseError) -> PayoutLedger.ClosedHistory {
    var history = PayoutLedger.ClosedHistory()
    rows.reset()
    rows.bind(1, creator)
    while try rows.step() {
      history.rows[rows.text(0)] = PayoutLedger.Month(
        month: rows.text(0), openingCents: rows.int(1), netCents: rows.int(2), payableCents: rows.int(3),
        closingCents: rows.int(4), closedAt: rows.text(5))
    }
    rows.reset()
    adjustments.reset()
    adjustments.bind(1, creator)
    while try adjustments.step() {
      history.rows[adjustments.text(0)]?.adjustments.append(
        PayoutLedger.Adjustment(sourceMonth: adjustments.text(1), cents: adjustments.int(2), orders: adjustments.text(3)))
    }
    adjustments.reset()
    accounted.reset()
    accounted.bind(1, creator)
    while try accounted.step() { history.accounted[accounted.text(0)] = accounted.int(1) }
    accounted.reset()
    return history
  }

  /// The order ids behind a difference in `month`: up to five, then how many more.
  func orders(of creator: String, month: String) throws(DatabaseError) -> String {
    changedOrders.reset()
    changedOrders.bind(1, creator)
    changedOrders.bind(2, month)
    var ids: [String] = []
    while try changedOrders.step() { ids.append(changedOrders.text(0)) }
    changedOrders.reset()
    guard !ids.isEmpty else { return "" }
    return ids.prefix(5).joined(separator: ", ") + (ids.count > 5 ? " and \(ids.count - 5) more" : "")
  }
}
