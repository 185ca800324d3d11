extension MetricsRow {
  /// The metric columns that add up across rows, in the order ``init(summing:from:)`` reads
  /// them: every metric but the distinct-viewer counts (a viewer seen on two days is one
  /// viewer on each, not two in the sum), which reports do not total.
  static let summedColumnNames = columnNames.filter { !$0.hasPrefix("unique_") }

  /// Commission minus reversed commission.
  public var netCommissionCents: Int64 { commissionCents - reversedCommissionCents }

  /// Adds the summed metrics of `other` (report totals: `report` adds every row of the period
  /// into its grand total with ``addChecked(_:)`` first, and every metric is non-negative, so
  /// no sum of a group of those rows overflows).
  mutating func add(_ other: MetricsRow) {
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

  /// Adds the summed metrics of `other`; `false`, changing nothing, if a sum would pass
  /// 2^63-1.
  mutating func addChecked(_ other: MetricsRow) -> Bool {
    var sum = self
    var overflow = false
    func add(_ a: inout Int64, _ b: Int64) {
      let (value, over) = a.addingReportingOverflow(b)
      a = value
      overflow = overflow || over
    }
    add(&sum.views, other.views)
    add(&sum.botViews, other.botViews)
    add(&sum.clicks, other.clicks)
    add(&sum.botClicks, other.botClicks)
    add(&sum.orders, other.orders)
    add(&sum.units, other.units)
    add(&sum.revenueCents, other.revenueCents)
    add(&sum.commissionCents, other.commissionCents)
    add(&sum.refunds, other.refunds)
    add(&sum.refundedCents, other.refundedCents)
    add(&sum.reversedCommissionCents, other.reversedCommissionCents)
    guard !overflow else { return false }
    self = sum
    return true
  }

  /// The ``summedColumnNames`` of the current row of `s`, starting at column `offset`.
  init(summing s: Statement, from offset: Int32) {
    self.init()
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
