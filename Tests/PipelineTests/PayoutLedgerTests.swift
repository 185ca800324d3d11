import Testing

@testable import ClickPipeline

/// The payout ledger on its own (``PayoutLedger``): small tables of monthly nets, closed
/// months and the rows they must give, so a failure names the rule, not "the numbers differ".
@Suite struct PayoutLedgerTests {
  typealias Month = PayoutLedger.Month

  static func month(_ m: String, _ opening: Int64, _ net: Int64, _ payable: Int64, _ closing: Int64, closed: String? = nil) -> Month {
    Month(month: m, openingCents: opening, netCents: net, payableCents: payable, closingCents: closing, closedAt: closed)
  }

  struct Case: CustomTestStringConvertible, Sendable {
    var name: String
    var net: [(String, Int64)]
    var first: String
    var last: String
    var expected: [Month]
    var testDescription: String { name }
  }

  static let cases: [Case] = [
    Case(
      name: "below the threshold, carried until it is reached", net: [("2026-09", 400), ("2026-10", 400), ("2026-11", 400)],
      first: "2026-09", last: "2026-11",
      expected: [month("2026-09", 0, 400, 0, 400), month("2026-10", 400, 400, 0, 800), month("2026-11", 800, 400, 1200, 0)]),
    Case(
      name: "exactly the threshold is payable", net: [("2026-11", 1000)], first: "2026-11", last: "2026-11",
      expected: [month("2026-11", 0, 1000, 1000, 0)]),
    Case(
      name: "a clawback carries a negative balance", net: [("2026-09", 1200), ("2026-10", -1200), ("2026-11", 800)],
      first: "2026-09", last: "2026-11",
      expected: [month("2026-09", 0, 1200, 1200, 0), month("2026-10", 0, -1200, 0, -1200), month("2026-11", -1200, 800, 0, -400)]),
    Case(
      name: "a later period opens with what earlier months carried", net: [("2026-09", 400), ("2026-10", 400)],
      first: "2026-11", last: "2026-11", expected: [month("2026-11", 800, 0, 0, 800)]),
    Case(
      name: "months without figures count 0", net: [], first: "2026-11", last: "2026-12",
      expected: [month("2026-11", 0, 0, 0, 0), month("2026-12", 0, 0, 0, 0)]),
  ]

  @Test(arguments: cases) func openMonths(_ c: Case) throws {
    let ledger = PayoutLedger(thresholdCents: 1000)
    #expect(try ledger.months(net: c.net.map { ($0.0, $0.1) }, firstMonth: c.first, lastMonth: c.last) == c.expected)
  }

  /// A closed month is read as stored; what changed since is one adjustment per closed month
  /// in the first open month, and later open months chain on.
  @Test func closedMonthsAndAdjustments() throws {
    var closing = PayoutLedger.Closing()
    closing.closedAt = ["2026-10": "2026-11-02T00:00:00Z", "2026-11": "2026-12-01T00:00:00Z"]
    let ledger = PayoutLedger(thresholdCents: 1000, closing: closing)
    var history = PayoutLedger.ClosedHistory()
    history.rows["2026-10"] = Self.month("2026-10", 0, 1200, 1200, 0, closed: "2026-11-02T00:00:00Z")
    history.rows["2026-11"] = Self.month("2026-11", 0, 400, 0, 400, closed: "2026-12-01T00:00:00Z")
    history.accounted = ["2026-10": 1200, "2026-11": 400]
    // Now: October lost $2 (a refund), November gained $11 (a late order), December earned $2.50.
    let months = try ledger.months(
      net: [("2026-10", 1000), ("2026-11", 1500), ("2026-12", 250), ("2027-01", 300)], firstMonth: "2026-10",
      lastMonth: "2027-01", history: history, orders: { "orders of \($0)" })
    #expect(months.count == 4)
    #expect(months[0] == history.rows["2026-10"] && months[1] == history.rows["2026-11"])
    #expect(
      months[2]
        == Month(
          month: "2026-12", openingCents: 400, netCents: 250,
          adjustments: [
            .init(sourceMonth: "2026-10", cents: -200, orders: "orders of 2026-10"),
            .init(sourceMonth: "2026-11", cents: 1100, orders: "orders of 2026-11"),
          ], payableCents: 1550, closingCents: 0))
    #expect(months[3] == Self.month("2027-01", 0, 300, 0, 300))
  }

  @Test func monthRanges() {
    #expect(PayoutLedger.monthRange("2026-11", "2027-02") == ["2026-11", "2026-12", "2027-01", "2027-02"])
    #expect(PayoutLedger.monthRange("2026-11", "2026-10") == [])
    #expect(PayoutLedger.next("2026-12") == "2027-01")
  }

  /// A month accounted to a creator without a stored row (an order that arrived after the
  /// close, counted as an adjustment later) is still checked: losing that order again is an
  /// adjustment too.
  @Test func anAccountedMonthBeforeTheStoredRowsIsStillChecked() throws {
    var closing = PayoutLedger.Closing()
    closing.closedAt = ["2026-10": "2026-11-02T00:00:00Z", "2026-11": "2026-12-01T00:00:00Z"]
    let ledger = PayoutLedger(thresholdCents: 1000, closing: closing)
    var history = PayoutLedger.ClosedHistory()
    history.rows["2026-11"] = Self.month("2026-11", 0, 0, 0, 0, closed: "2026-12-01T00:00:00Z")
    history.accounted = ["2026-10": 500]
    let months = try ledger.months(net: [], firstMonth: "2026-12", lastMonth: "2026-12", history: history)
    #expect(months.map(\.adjustments) == [[.init(sourceMonth: "2026-10", cents: -500, orders: "")]])
  }
}
