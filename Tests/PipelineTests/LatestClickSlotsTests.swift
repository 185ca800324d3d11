import Testing

@testable import ClickPipeline

/// Rule 2's streaming choice: for each order, the latest click at or before it (ties to the
/// greatest event id), whatever order the clicks come in, while keeping one click per order.
@Suite struct LatestClickSlotsTests {
  struct Case: CustomTestStringConvertible, Sendable {
    var name: String
    var orders: [Int64]
    var clicks: [(ts: Int64, id: String)]
    /// Per order, the id of its click, or nil.
    var expected: [String?]
    var testDescription: String { name }
  }

  static let cases: [Case] = [
    Case(name: "no click", orders: [10], clicks: [], expected: [nil]),
    Case(name: "a click after every order is never chosen", orders: [10, 20], clicks: [(21, "a")], expected: [nil, nil]),
    Case(name: "a click at the order's own time counts", orders: [10], clicks: [(10, "a"), (9, "b")], expected: ["a"]),
    Case(name: "equal times: the greatest event id", orders: [10], clicks: [(5, "b"), (5, "c"), (5, "a")], expected: ["c"]),
    Case(name: "ids compare as bytes", orders: [10], clicks: [(5, "Z"), (5, "a"), (5, "ab")], expected: ["ab"]),
    Case(
      name: "a later order reaches back past empty slots", orders: [10, 20, 30], clicks: [(3, "a"), (25, "b")],
      expected: ["a", "a", "b"]),
    Case(name: "orders at the same time share their click", orders: [10, 10], clicks: [(7, "a")], expected: ["a", "a"]),
  ]

  @Test(arguments: cases) func choosesTheLatestClickBeforeEachOrder(_ c: Case) {
    var slots = LatestClickSlots<String>(orderTimes: c.orders)
    for click in c.clicks {
      Array(click.id.utf8).withUnsafeBytes { id in slots.offer(ts: click.ts, eventID: id) { click.id } }
    }
    #expect(c.orders.map { slots.latest(atOrBefore: $0)?.click } == c.expected)
  }

  /// Random clicks and orders against the definition, over every click at once.
  @Test func agreesWithTheDefinition() {
    var generator = SystemRandomNumberGenerator()
    for _ in 0..<200 {
      let orders = (0..<Int.random(in: 1...8, using: &generator)).map { _ in Int64.random(in: 0...50, using: &generator) }
      let clicks = (0..<Int.random(in: 0...30, using: &generator)).map { n in
        (ts: Int64.random(in: 0...60, using: &generator), id: "k\(Int.random(in: 0...9, using: &generator))\(n)")
      }
      var slots = LatestClickSlots<String>(orderTimes: orders)
      for click in clicks {
        Array(click.id.utf8).withUnsafeBytes { id in slots.offer(ts: click.ts, eventID: id) { click.id } }
      }
      for order in orders {
        let expected = clicks.filter { $0.ts <= order }.max { a, b in
          a.ts != b.ts ? a.ts < b.ts : Array(a.id.utf8).lexicographicallyPrecedes(Array(b.id.utf8))
        }
        let got = slots.latest(atOrBefore: order)
        #expect(got?.click == expected?.id && got?.ts == expected?.ts, "orders \(orders), clicks \(clicks), order \(order)")
      }
    }
  }
}
