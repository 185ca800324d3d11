import Testing

@testable import ClickPipeline

/// ``RowTable``: keys numbered in order of first appearance, traffic counted beside the
/// number, and both kept across the table's growth and forgotten by ``RowTable/removeAll()``.
@Suite struct RowTableTests {
  /// (key, counter or nil for a plain insert, expected number, expected inserted).
  static let steps: [(UInt64, RowTable.Counter?, Int, Bool)] = [
    (7, .views, 0, true),
    (7, .views, 0, false),
    (0, nil, 1, true),
    (0, .botClicks, 1, false),
    (UInt64.max, .clicks, 2, true),
    (7, .botViews, 0, false),
    (7, nil, 0, false),
  ]

  @Test func numbersInOrderOfFirstAppearanceAndCountsBesideTheNumber() {
    let table = RowTable(capacity: 4)
    for (key, counter, number, inserted) in Self.steps {
      let got = counter.map { table.count(key, next: table.count, $0) } ?? table.insert(key, next: table.count)
      #expect(got.number == number && got.inserted == inserted, "key \(key)")
    }
    #expect(table.count == 3)
    #expect(table.traffic(of: 7) == RowTable.Traffic(views: 2, botViews: 1, clicks: 0, botClicks: 0))
    #expect(table.traffic(of: 0) == RowTable.Traffic(views: 0, botViews: 0, clicks: 0, botClicks: 1))
    #expect(table.traffic(of: .max) == RowTable.Traffic(views: 0, botViews: 0, clicks: 1, botClicks: 0))
  }

  @Test func growingKeepsNumbersAndCounts() {
    let table = RowTable(capacity: 2)
    for round in 1...3 {
      for key in 0..<5_000 { _ = table.count(UInt64(key) &* 0x1_0000_0001, next: table.count, key % 2 == 0 ? .views : .clicks) }
      #expect(table.count == 5_000, "round \(round)")
    }
    for number in [0, 1, 2_501, 4_999] {
      let expected =
        number % 2 == 0
        ? RowTable.Traffic(views: 3, botViews: 0, clicks: 0, botClicks: 0)
        : RowTable.Traffic(views: 0, botViews: 0, clicks: 3, botClicks: 0)
      #expect(table.traffic(of: UInt64(number) &* 0x1_0000_0001) == expected)
      #expect(table.insert(UInt64(number) &* 0x1_0000_0001, next: -1) == (number, false))
    }
  }

  @Test func removeAllForgetsKeysAndCounts() {
    let table = RowTable()
    _ = table.count(1, next: 0, .views)
    _ = table.count(2, next: 1, .clicks)
    table.removeAll()
    #expect(table.count == 0)
    #expect(table.count(2, next: 0, .botViews) == (0, true))
    #expect(table.traffic(of: 2) == RowTable.Traffic(views: 0, botViews: 1, clicks: 0, botClicks: 0))
  }
}
