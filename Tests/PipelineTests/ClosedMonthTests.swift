import Foundation
import Testing

@testable import ClickPipeline

/// Months that finance closes (`report --close-month`) never change: whatever arrives later
/// for them is an adjustment in the first open month, naming the month and its orders.
/// Over the real executables.
@Suite struct ClosedMonthTests {
  static func click(_ id: String, _ ts: String) -> String {
    #"{"type":"click","event_id":"\#(id)","ts":"\#(ts)","creator_id":"alice","viewer_id":"u1","product_id":"p1","platform":"amazon"}"#
  }

  static func order(_ id: String, _ ts: String, orderID: String, amount: String, click: String? = nil) -> String {
    let status = click == nil ? #","status":"refunded""# : #","click_id":"\#(click!)""#
    return
      #"{"type":"conversion","event_id":"\#(id)","ts":"\#(ts)","product_id":"p1","platform":"amazon","order_id":"\#(orderID)","amount":"\#(amount)"\#(status)}"#
  }

  /// alice: $300 in October (4 %: $12, payable) and $100 in November ($4, carried).
  static func closedDatabase(_ dir: TemporaryDirectory) throws -> String {
    let db = dir.file("db.sqlite")
    let logs = try dir.write(
      "1/a.ndjson",
      [
        click("k1", "2026-10-05T10:00:00Z"), order("o1", "2026-10-05T11:00:00Z", orderID: "O-1", amount: "300.00", click: "k1"),
        click("k2", "2026-11-05T10:00:00Z"), order("o2", "2026-11-05T11:00:00Z", orderID: "O-2", amount: "100.00", click: "k2"),
      ].joined(separator: "\n") + "\n")
    try runPipeline(db: db, inputs: [logs])
    return db
  }

  static func payouts(_ out: String) throws -> [String] {
    try String(contentsOfFile: out + "/payouts.csv", encoding: .utf8).split(separator: "\n").map(String.init)
  }

  @Test func closedMonthsStayAsTheyWereAndLaterChangesAreAdjustments() throws {
    let dir = try TemporaryDirectory()
    let db = try Self.closedDatabase(dir)
    let close = try Executables.stage("report", ["--db", db, "--close-month", "2026-11"])
    #expect(close.status == 0, "\(close.stderr)")
    #expect(
      close.stdout
        == "closed 2026-10: 1 creator(s), $12.00 payable to 1 creator(s)\nclosed 2026-11: 1 creator(s), $0.00 payable to 0 creator(s)\n")
    let closedAt = try #require(try TestDatabase(db).rows("SELECT closed_at FROM closed_months WHERE month = '2026-11'").first?[0])
    let before = dir.file("before")
    #expect(try Executables.stage("report", ["--db", db, "--out", before]).status == 0)
    #expect(
      try Self.payouts(before) == [
        "creator_id,month,line,status,closed_at,opening_cents,net_cents,payable_cents,closing_cents,currency,note",
        "alice,2026-10,balance,closed,\(closedAt),0,1200,1200,0,USD,",
        "alice,2026-11,balance,closed,\(closedAt),0,400,0,400,USD,",
      ])

    // Later: a late November order, a refund of the October order dated in October, a
    // December order, and a rate change.
    let late = try dir.write(
      "2/b.ndjson",
      [
        Self.click("k3", "2026-11-20T10:00:00Z"),
        Self.order("o3", "2026-11-20T11:00:00Z", orderID: "O-3", amount: "200.00", click: "k3"),
        Self.order("r1", "2026-10-25T11:00:00Z", orderID: "O-1", amount: "100.00"),
        Self.click("k4", "2026-12-02T10:00:00Z"),
        Self.order("o4", "2026-12-02T11:00:00Z", orderID: "O-4", amount: "50.00", click: "k4"),
      ].joined(separator: "\n") + "\n")
    let config = try dir.write("c.toml", "[commission]\namazon = 0.05\n")
    try runPipeline(db: db, config: config, inputs: [late])
    let after = dir.file("after")
    #expect(try Executables.stage("report", ["--db", db, "--out", after]).status == 0)
    let rows = try Self.payouts(after)
    // October and November byte for byte as closed; December carries the differences.
    #expect(Array(rows.prefix(3)) == (try Self.payouts(before)))
    #expect(
      Array(rows.dropFirst(3)) == [
        "alice,2026-12,adjustment,open (not closed),,,-200,,,USD,from 2026-10 (closed): orders O-1",
        "alice,2026-12,adjustment,open (not closed),,,1100,,,USD,\"from 2026-11 (closed): orders O-2, O-3\"",
        "alice,2026-12,balance,open (not closed),,400,250,1550,0,USD,",
      ])
    let statement = try String(contentsOfFile: after + "/creators/alice.md", encoding: .utf8)
    #expect(
      statement.contains(
        """
        | 2026-10 | closed \(closedAt.prefix(10)) | $0.00 | $12.00 | $0.00 | $12.00 | $0.00 |
        | 2026-11 | closed \(closedAt.prefix(10)) | $0.00 | $4.00 | $0.00 | $0.00 | $4.00 |
        | 2026-12 | open (not closed) | $4.00 | $2.50 | $9.00 | $15.50 | $0.00 |

        Adjustments counted in 2026-12:

        - 2026-10 (closed): -$2.00, orders O-1
        - 2026-11 (closed): +$11.00, orders O-2, O-3

        **2026-12 is open (not closed): with today's figures, $15.50 would be payable once it is closed.**
        """), "\(statement)")
    let earnings = try String(contentsOfFile: after + "/creator_earnings.csv", encoding: .utf8)
    #expect(earnings.hasSuffix("alice,4,4,65000,3250,1,10000,500,2750,open (not closed),0\n"), "\(earnings)")
  }

  struct Refusal: CustomTestStringConvertible, Sendable {
    var name: String
    var month: String
    var pending: Bool
    var message: String
    var testDescription: String { name }
  }

  static let refusals: [Refusal] = [
    Refusal(
      name: "a month not over", month: "2099-01", pending: false,
      message: "--close-month 2099-01: it is not over yet in UTC (today is TODAY); close it from 2099-02-01 on; nothing was closed"),
    Refusal(
      name: "a closed month", month: "2026-10", pending: false,
      message:
        "--close-month 2026-10: it was closed on CLOSED, and a closed month never changes (later differences are adjustments in the first open month); nothing was closed"
    ),
    Refusal(
      name: "data waiting for aggregate", month: "2026-11", pending: true,
      message:
        "--close-month 2026-11: 1 hour(s) of new or forgotten data are waiting for aggregate; run aggregate first, then close the month; nothing was closed"
    ),
    Refusal(name: "not a month", month: "2026-13", pending: false, message: "--close-month: '2026-13' is not a month; write it as YYYY-MM"),
    Refusal(
      name: "a month before the last closed one", month: "2026-09", pending: false,
      message: "--close-month 2026-09: a later month, 2026-10, is closed already; nothing was closed"),
  ]

  @Test(arguments: refusals) func closingIsRefusedWithAReason(_ r: Refusal) throws {
    let dir = try TemporaryDirectory()
    let db = try Self.closedDatabase(dir)
    #expect(try Executables.stage("report", ["--db", db, "--close-month", "2026-10"]).status == 0)
    let closedAt = try TestDatabase(db).rows("SELECT closed_at FROM closed_months")[0][0]
    if r.pending {
      let more = try dir.write("2/b.ndjson", Self.click("k9", "2026-11-21T10:00:00Z") + "\n")
      #expect(try Executables.stage("ingest", ["--db", db, more]).status == 0)
    }
    let before = try TestDatabase(db).rows("SELECT * FROM ledger_months")
    let result = try Executables.stage("report", ["--db", db, "--close-month", r.month])
    #expect(result.status == 1)
    let today = String(Clock.isoNow().prefix(10))
    #expect(
      result.stderr == "report: error: "
        + r.message.replacingOccurrences(of: "TODAY", with: today).replacingOccurrences(of: "CLOSED", with: closedAt) + "\n")
    #expect(try TestDatabase(db).rows("SELECT * FROM ledger_months") == before)
    #expect(try TestDatabase(db).int("SELECT count(*) FROM closed_months") == 1)
  }

  /// An order that moves from one creator to another after its month was closed (a click
  /// file forgotten and ingested corrected): the creator who lost it gets a negative
  /// adjustment, even with no rows left, and the one who gained it a positive one, both
  /// naming the order; closing the next month then accounts it to the new creator only.
  @Test func anOrderThatMovesCreatorAfterTheCloseIsTwoAdjustments() throws {
    let dir = try TemporaryDirectory()
    let db = dir.file("db.sqlite")
    func click(_ creator: String) -> String {
      #"{"type":"click","event_id":"k1","ts":"2026-10-05T10:00:00Z","creator_id":"\#(creator)","viewer_id":"u1","product_id":"p1","platform":"amazon"}"#
    }
    let clicks = try dir.write("clicks/a.ndjson", click("bob") + "\n")
    let orders = try dir.write(
      "orders/a.ndjson", Self.order("o1", "2026-10-05T11:00:00Z", orderID: "O-1", amount: "300.00", click: "k1") + "\n")
    try runPipeline(db: db, inputs: [clicks, orders])
    #expect(try Executables.stage("report", ["--db", db, "--close-month", "2026-10"]).status == 0)

    // The click was bob's by mistake: forgotten, and ingested corrected as alice's.
    #expect(try Executables.stage("ingest", ["--db", db, "--forget", clicks]).status == 0)
    let corrected = try dir.write("clicks/b.ndjson", click("alice") + "\n")
    try runPipeline(db: db, inputs: [corrected])
    let out = dir.file("out")
    // The first open month, November, has no data yet: the report is asked to cover it.
    #expect(try Executables.stage("report", ["--db", db, "--out", out, "--to", "2026-11-30"]).status == 0)
    let rows = try Self.payouts(out).filter { $0.contains(",2026-11,") && $0.contains("adjustment") }
    #expect(
      rows == [
        "alice,2026-11,adjustment,open (not closed),,,1200,,,USD,from 2026-10 (closed): orders O-1",
        "bob,2026-11,adjustment,open (not closed),,,-1200,,,USD,from 2026-10 (closed): orders O-1",
      ])
    #expect(FileManager.default.fileExists(atPath: out + "/creators/bob.md"), "bob has no rows left but a closed month and an adjustment")

    // Closing November accounts the order to alice; December has nothing left to adjust.
    let close = try Executables.stage("report", ["--db", db, "--close-month", "2026-11"])
    #expect(close.status == 0, "\(close.stderr)")
    #expect(
      try TestDatabase(db).rows("SELECT creator_id, month, source_month, cents FROM ledger_adjustments ORDER BY creator_id") == [
        ["alice", "2026-11", "2026-10", "1200"], ["bob", "2026-11", "2026-10", "-1200"],
      ])
    #expect(
      try TestDatabase(db).rows("SELECT creator_id, month, event_id FROM ledger_orders ORDER BY creator_id, month") == [
        ["alice", "2026-10", "o1"]
      ])
  }
}
