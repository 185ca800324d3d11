import Foundation
import Logging
import Testing

@testable import ClickPipeline

/// The day computation (``DayComputer``, run through ``DaySpool``) on its own, on a fresh
/// database: a few staged events per case and the `daily_metrics` rows the day must give,
/// read from the spooled runs before anything is written. A failure names the case and the
/// row, where the end-to-end tests can only say that the table differs.
@Suite struct DayComputerTests {
  static func view(_ id: String, _ ts: String, creator: String = "c1", viewer: String = "u1", agent: String = "Mozilla/5.0")
    -> String
  {
    #"{"type":"view","event_id":"\#(id)","ts":"\#(ts)","creator_id":"\#(creator)","placement":"bio","viewer_id":"\#(viewer)","product_id":"p1","platform":"amazon","user_agent":"\#(agent)"}"#
  }

  static func click(_ id: String, _ ts: String, creator: String = "c1", viewer: String = "u1", post: String? = nil) -> String {
    let placement = post.map { #""placement":"post","post_id":"\#($0)""# } ?? #""placement":"bio""#
    return
      #"{"type":"click","event_id":"\#(id)","ts":"\#(ts)","creator_id":"\#(creator)",\#(placement),"viewer_id":"\#(viewer)","product_id":"p1","platform":"amazon","user_agent":"Mozilla/5.0"}"#
  }

  static func conversion(_ id: String, _ ts: String, order: String = "O1", amount: String = "10.00", refunded: Bool = false)
    -> String
  {
    #"{"type":"conversion","event_id":"\#(id)","ts":"\#(ts)","order_id":"\#(order)","viewer_id":"u1","product_id":"p1","platform":"amazon","amount":"\#(amount)","status":"\#(refunded ? "refunded" : "ordered")"}"#
  }

  struct Case: CustomTestStringConvertible, Sendable {
    var name: String
    var lines: [String]
    var day: String
    /// creator, placement, platform, store, product, then the metrics that are not 0 as
    /// `name=value`, in ``MetricsRow/columnNames`` order.
    var rows: [String]
    var testDescription: String { name }
  }

  static let cases: [Case] = [
    Case(
      name: "views and distinct viewers; a bot's view apart",
      lines: [
        view("v1", "2026-11-02T10:00:00Z"), view("v2", "2026-11-02T11:00:00Z"),
        view("v3", "2026-11-02T12:00:00Z", viewer: "u2"), view("v4", "2026-11-02T13:00:00Z", agent: "Googlebot/2.1"),
      ],
      day: "2026-11-02", rows: ["c1 bio amazon - p1 views=3 unique_viewers=2 bot_views=1"]),
    Case(
      name: "the same view sent twice on its day counts once",
      lines: [view("v1", "2026-11-02T10:00:00Z"), view("v1", "2026-11-02T10:00:00Z")],
      day: "2026-11-02", rows: ["c1 bio amazon - p1 views=1 unique_viewers=1"]),
    Case(
      name: "other days' events are not the day's",
      lines: [view("v1", "2026-11-01T23:59:59.999Z"), view("v2", "2026-11-02T00:00:00Z"), view("v3", "2026-11-03T00:00:00Z")],
      day: "2026-11-02", rows: ["c1 bio amazon - p1 views=1 unique_viewers=1"]),
    Case(
      name: "a row per creator and placement, in key order",
      lines: [
        click("k1", "2026-11-02T10:00:00Z", creator: "c2"), click("k2", "2026-11-02T10:00:00Z", post: "7300"),
        click("k3", "2026-11-02T11:00:00Z"),
      ],
      day: "2026-11-02",
      rows: [
        "c1 bio amazon - p1 clicks=1 unique_clickers=1", "c1 post amazon - p1 clicks=1 unique_clickers=1",
        "c2 bio amazon - p1 clicks=1 unique_clickers=1",
      ]),
    Case(
      name: "orders and the views of other creators: rows in several passes",
      lines: [1, 2, 3, 4, 5].map { view("v\($0)", "2026-11-02T08:00:00Z", creator: "c\($0 + 1)", viewer: "u2") } + [
        click("k1", "2026-11-02T09:00:00Z"), conversion("o1", "2026-11-02T10:00:00Z"),
        conversion("o2", "2026-11-02T11:00:00Z", order: "O2", amount: "20.00"),
      ],
      day: "2026-11-02",
      rows: [
        "c1 bio amazon - p1 clicks=1 unique_clickers=1 orders=2 units=2 revenue_cents=3000 commission_cents=120"
      ] + (2...6).map { "c\($0) bio amazon - p1 views=1 unique_viewers=1" }),
    Case(
      name: "an order before any click makes a row of its own",
      lines: [
        conversion("o0", "2026-11-02T08:00:00Z", order: "O0"), click("k1", "2026-11-02T09:00:00Z"),
        conversion("o1", "2026-11-02T10:00:00Z"),
      ],
      day: "2026-11-02",
      rows: [
        "- - amazon - p1 orders=1 units=1 revenue_cents=1000 commission_cents=40",
        "c1 bio amazon - p1 clicks=1 unique_clickers=1 orders=1 units=1 revenue_cents=1000 commission_cents=40",
      ]),
    Case(
      name: "an attributed order, priced at Amazon's default rate",
      lines: [click("k1", "2026-11-02T09:00:00Z"), conversion("o1", "2026-11-02T10:00:00Z", amount: "25.00")],
      day: "2026-11-02",
      rows: [
        "c1 bio amazon - p1 clicks=1 unique_clickers=1 orders=1 units=1 revenue_cents=2500 commission_cents=100"
      ]),
    Case(
      name: "an order nobody's click explains is unattributed",
      lines: [conversion("o1", "2026-11-02T10:00:00Z")],
      day: "2026-11-02", rows: ["- - amazon - p1 orders=1 units=1 revenue_cents=1000 commission_cents=40"]),
    Case(
      name: "a refund counts on its own day, against the order's creator",
      lines: [
        click("k1", "2026-11-02T09:00:00Z"), conversion("o1", "2026-11-02T10:00:00Z"),
        conversion("r1", "2026-11-04T10:00:00Z", refunded: true),
      ],
      day: "2026-11-04", rows: ["c1 bio amazon - p1 refunds=1 refunded_cents=1000 reversed_commission_cents=40"]),
  ]

  /// The rows of `day` as the case spells them, computed in `passes` shares or at once, and
  /// the event ids of its `orders` rows.
  static func computed(_ c: Case, trafficPerPass: Int, rowsPerPass: Int = .max) throws -> (rows: [String], orders: [String]) {
    let dir = try TemporaryDirectory()
    let (path, ingested) = try ingestLines(c.lines, into: dir)
    #expect(ingested.rejected == 0)
    let calendar = DayCalendar(identifier: "UTC")
    let day = try #require((0..<40_000).first { calendar.text(ofDay: $0) == c.day })
    let spool = DaySpool(
      DaySpool.Setup(
        databasePath: path, calendar: calendar, money: MoneyRules(configuration: .default, catalog: ProductCatalog()),
        configuration: .default, trafficPerPass: trafficPerPass, rowsPerPass: rowsPerPass, conversionsPerBatch: 2,
        orderRunBytes: 1 << 20,
        digests: ClickDigests(budgetBytes: 1 << 20)))
    try spool.start([day], workers: 1, progress: nil)
    try spool.finish()
    var (_, merge, orderMerge, _) = try spool.output(of: day)
    var rows: [String] = []
    try merge.forEach { record in
      let keyLength = Int(record.loadUnaligned(as: UInt32.self))
      var parts: [String] = []
      ByteKeyBuilder.forEachPart(of: UnsafeRawBufferPointer(rebasing: record[4..<4 + keyLength])) { part in
        parts.append(part.isEmpty ? "-" : String(decoding: part, as: UTF8.self))
      }
      for (index, name) in MetricsRow.columnNames.enumerated() {
        let value = record.loadUnaligned(fromByteOffset: 4 + keyLength + 8 * index, as: Int64.self)
        if value != 0 { parts.append("\(name)=\(value)") }
      }
      rows.append(parts.joined(separator: " "))
    }
    var orders: [String] = []
    try orderMerge.forEach { record in
      let idLength = Int(record.loadUnaligned(as: UInt32.self))
      orders.append(String(decoding: UnsafeRawBufferPointer(rebasing: record[4..<4 + idLength]), as: UTF8.self))
    }
    return (rows, orders)
  }

  @Test(arguments: cases) func theDayGivesItsRows(_ c: Case) throws {
    #expect(try Self.computed(c, trafficPerPass: 1_000_000).rows == c.rows)
  }

  /// A day counted in shares (one view or click per pass at most) gives the same rows: a
  /// row's viewers all fall in one pass.
  @Test(arguments: cases) func passesGiveTheSameRows(_ c: Case) throws {
    #expect(try Self.computed(c, trafficPerPass: 1).rows == c.rows)
  }

  /// A pass may hold one row: each pass that makes a second is given up and the day computed
  /// again in more passes, with the same rows and each order once.
  @Test(arguments: cases) func passesGivenUpGiveTheSameRowsAndOrders(_ c: Case) throws {
    let once = try Self.computed(c, trafficPerPass: 1_000_000)
    let again = try Self.computed(c, trafficPerPass: 1_000_000, rowsPerPass: 1)
    #expect(again.rows == c.rows)
    #expect(again.orders == once.orders)
  }

  /// A day's conversions are cut into the whole number of batches nearest to the size asked
  /// for: no small remainder batch that reads the click segments again.
  @Test(arguments: [
    (0, 20_000, 1), (1, 20_000, 1), (21_000, 20_000, 21_000), (29_999, 20_000, 29_999), (30_000, 20_000, 15_000),
    (100_000, 20_000, 20_000), (100_001, 20_000, 20_001), (3, 2, 2), (7, 7, 7), (5, 1, 1),
  ])
  func daysAreCutIntoEvenBatches(conversions: Int, perBatch: Int, size: Int) {
    #expect(DayComputer.batchSize(conversions: conversions, perBatch: perBatch) == size)
  }
}
