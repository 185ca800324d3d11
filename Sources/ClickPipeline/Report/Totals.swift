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

  /// The `daily_metrics` columns these totals add up, in the order ``init(_:from:)`` reads them:
  /// every metric but the distinct-viewer counts, which do not add up across rows.
  static let columnNames = MetricsRow.columnNames.filter { !$0.hasPrefix("unique_") }

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
