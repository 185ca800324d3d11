extension MetricsRow {
  /// The metric columns that add up across rows, in the order ``init(summing:from:)`` reads
  /// them: every metric but the distinct-viewer counts (a viewer seen on two days is one
  /// viewer on each, not two in the sum), which reports do not total.
  static let summedColumnNames = columnNames.filter { !$0.hasPrefix("unique_") }

  /// Commission minus reversed commission.
  public var netCommissionCents: Int64 { commissionCents - reversedCommissionCents }

  /// Adds the summed metrics of `other` (report totals; `report` checks first that the
  /// period's sums fit in 64 bits, so no sum of its groups overflows).
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
