/// The metrics of one `daily_metrics` row, all integers (CONTRACT §7).
public struct MetricsRow: Sendable, Equatable {
  public var views: Int64 = 0
  public var uniqueViewers: Int64 = 0
  public var botViews: Int64 = 0
  public var clicks: Int64 = 0
  public var uniqueClickers: Int64 = 0
  public var botClicks: Int64 = 0
  public var orders: Int64 = 0
  public var units: Int64 = 0
  public var revenueCents: Int64 = 0
  public var commissionCents: Int64 = 0
  public var refunds: Int64 = 0
  public var refundedCents: Int64 = 0
  public var reversedCommissionCents: Int64 = 0

  public init() {}

  public var isZero: Bool { self == MetricsRow() }

  /// Counts one ordered conversion; `false`, changing nothing, if a sum would overflow.
  mutating func add(units: Int64, revenueCents: Int64, commissionCents: Int64) -> Bool {
    let o = orders.addingReportingOverflow(1)
    let u = self.units.addingReportingOverflow(units)
    let r = self.revenueCents.addingReportingOverflow(revenueCents)
    let c = self.commissionCents.addingReportingOverflow(commissionCents)
    guard !(o.overflow || u.overflow || r.overflow || c.overflow) else { return false }
    (orders, self.units, self.revenueCents, self.commissionCents) = (o.partialValue, u.partialValue, r.partialValue, c.partialValue)
    return true
  }

  /// Counts one refund; `false`, changing nothing, if a sum would overflow.
  mutating func add(refundedCents: Int64, reversedCommissionCents: Int64) -> Bool {
    let n = refunds.addingReportingOverflow(1)
    let r = self.refundedCents.addingReportingOverflow(refundedCents)
    let c = self.reversedCommissionCents.addingReportingOverflow(reversedCommissionCents)
    guard !(n.overflow || r.overflow || c.overflow) else { return false }
    (refunds, self.refundedCents, self.reversedCommissionCents) = (n.partialValue, r.partialValue, c.partialValue)
    return true
  }

  /// Appends the values in `daily_metrics` column order, 8 little-endian bytes each (the
  /// spool's row format), in one copy: a homogeneous tuple is laid out as a C array.
  func appendValues(to buffer: inout [UInt8]) {
    var values = (
      views.littleEndian, uniqueViewers.littleEndian, botViews.littleEndian, clicks.littleEndian,
      uniqueClickers.littleEndian, botClicks.littleEndian, orders.littleEndian, units.littleEndian,
      revenueCents.littleEndian, commissionCents.littleEndian, refunds.littleEndian, refundedCents.littleEndian,
      reversedCommissionCents.littleEndian
    )
    withUnsafeBytes(of: &values) { buffer.append(contentsOf: $0) }
  }

  /// The key columns of `daily_metrics`, in primary-key order.
  public static let dimensionNames = ["day", "creator_id", "placement", "platform", "store", "product_id"]

  /// The metric columns of `daily_metrics`, in order: the one declaration of the metrics. The
  /// schema, ``DayWriter``, the spool's row format and the report's sums (``summedColumnNames``) follow it; the
  /// Spark job's and the loader's lists are checked against it (`MetricListTests`).
  public static let columnNames = [
    "views", "unique_viewers", "bot_views", "clicks", "unique_clickers", "bot_clicks", "orders", "units",
    "revenue_cents", "commission_cents", "refunds", "refunded_cents", "reversed_commission_cents",
  ]
}
