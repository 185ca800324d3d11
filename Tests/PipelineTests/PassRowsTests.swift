import Testing

@testable import ClickPipeline

/// ``PassRows``: a row's metrics put together from its three places (table slot, distinct
/// counts, order metrics kept only for rows with orders), and all of them forgotten by
/// ``PassRows/removeAll()``.
@Suite struct PassRowsTests {
  /// Each row's expected metrics after ``fill(_:)``.
  static func expected() -> [MetricsRow] {
    var traffic = MetricsRow()
    (traffic.views, traffic.botViews, traffic.clicks, traffic.uniqueViewers, traffic.uniqueClickers) = (2, 1, 1, 2, 1)
    var sold = MetricsRow()
    (sold.clicks, sold.uniqueClickers) = (1, 1)
    (sold.orders, sold.units, sold.revenueCents, sold.commissionCents) = (1, 3, 2_997, 300)
    (sold.refunds, sold.refundedCents, sold.reversedCommissionCents) = (1, 999, 100)
    var orderOnly = MetricsRow()
    (orderOnly.orders, orderOnly.units, orderOnly.revenueCents, orderOnly.commissionCents) = (1, 1, 500, 25)
    return [traffic, sold, orderOnly, MetricsRow()]
  }

  /// Rows 0 (traffic only), 1 (a click, an order and a refund), 2 (an order and nothing else)
  /// and 3 (made for an order whose sums did not fit: all zero).
  static func fill(_ rows: PassRows) {
    for (key, counter) in [(10, RowTable.Counter.views), (10, .views), (10, .botViews), (10, .clicks), (20, .clicks)] {
      _ = rows.index(of: UInt64(key), counting: counter)
    }
    rows.addDistinct(2, to: 0, \.viewers)
    rows.addDistinct(1, to: 0, \.clickers)
    rows.addDistinct(1, to: 1, \.clickers)
    #expect(rows.updateSales(rows.index(of: 20)) { $0.add(units: 3, revenueCents: 2_997, commissionCents: 300) })
    #expect(rows.updateSales(1) { $0.add(refundedCents: 999, reversedCommissionCents: 100) })
    #expect(rows.updateSales(rows.index(of: 30)) { $0.add(units: 1, revenueCents: 500, commissionCents: 25) })
    let full = rows.index(of: 40)
    #expect(rows.updateSales(full) { $0.add(units: 1, revenueCents: .max, commissionCents: 0) })
    #expect(!rows.updateSales(full) { $0.add(units: 1, revenueCents: 1, commissionCents: 0) })
    rows.updateSales(full) { $0 = MetricsRow() }
  }

  @Test func metricsComeTogetherFromTheirThreePlaces() {
    let rows = PassRows()
    Self.fill(rows)
    #expect(rows.count == 4)
    #expect(rows.keys == [10, 20, 30, 40])
    #expect((0..<4).map { rows.metrics($0) } == Self.expected())
    #expect((0..<4).map { rows.isZero($0) } == [false, false, false, true])
  }

  @Test func removeAllForgetsEveryPlace() {
    let rows = PassRows()
    Self.fill(rows)
    rows.removeAll()
    #expect(rows.count == 0)
    #expect(rows.index(of: 20, counting: .views) == 0)
    var viewed = MetricsRow()
    viewed.views = 1
    #expect(rows.metrics(0) == viewed)
    rows.removeAll()
    Self.fill(rows)
    #expect((0..<4).map { rows.metrics($0) } == Self.expected())
  }
}
