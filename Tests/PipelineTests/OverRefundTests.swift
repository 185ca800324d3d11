import Foundation
import Testing

@testable import ClickPipeline

/// An order whose refunds add up to more than its amount is named in a warning by the
/// `aggregate` that finds it, counted in the summary's data quality and listed by
/// `report --status`; the figures themselves count every refund as sent. Over the real
/// executables, one run per list of lines.
@Suite struct OverRefundTests {
  static func order(_ id: String, _ ts: String, _ amount: String, currency: String = "EUR") -> String {
    #"{"type":"conversion","event_id":"\#(id)","ts":"\#(ts)","order_id":"A1","product_id":"B1","platform":"amazon","amount":"\#(amount)","currency":"\#(currency)"}"#
  }

  static func refund(_ id: String, _ ts: String, _ amount: String, currency: String = "EUR", orderID: String = "A1") -> String {
    #"{"type":"conversion","event_id":"\#(id)","ts":"\#(ts)","order_id":"\#(orderID)","product_id":"B1","platform":"amazon","amount":"\#(amount)","currency":"\#(currency)","status":"refunded"}"#
  }

  struct Case: CustomTestStringConvertible, Sendable {
    var name: String
    var runs: [[String]]
    /// The warning each run's `aggregate` prints (nil: none).
    var warnings: [String?]
    var testDescription: String { name }
  }

  static let flagged = "aggregate: warning: order A1 (amazon) is refunded past its amount: "

  static let cases: [Case] = [
    Case(
      name: "refunds in two runs pass the amount in the second",
      runs: [
        [order("o1", "2026-11-02T10:00:00Z", "100.00"), refund("r1", "2026-11-03T10:00:00Z", "60.00")],
        [refund("r2", "2026-11-05T10:00:00Z", "40.5")],
        [refund("r3", "2026-11-06T10:00:00Z", "1.00")],
      ],
      warnings: [nil, flagged + "refunds 100.50 EUR against 100.00 EUR ordered", nil]),
    Case(
      name: "refunds up to the amount are not flagged",
      runs: [
        [order("o1", "2026-11-02T10:00:00Z", "100"), refund("r1", "2026-11-03T10:00:00Z", "60")],
        [refund("r2", "2026-11-04T10:00:00Z", "40.00")],
      ],
      warnings: [nil, nil]),
    Case(
      name: "a refund re-sent counts once",
      runs: [
        [order("o1", "2026-11-02T10:00:00Z", "100.00"), refund("r1", "2026-11-03T10:00:00Z", "60.00")],
        [refund("r1", "2026-11-04T10:00:00Z", "60.00")],
      ],
      warnings: [nil, nil]),
    Case(
      name: "refunds in another currency are compared in dollars",
      runs: [[order("o1", "2026-11-02T10:00:00Z", "100.00", currency: "USD"), refund("r1", "2026-11-03T10:00:00Z", "95.00")]],
      warnings: [flagged + "refunds $102.60 against $100.00 ordered"]),
    Case(
      name: "a refund of an order never seen",
      runs: [[refund("r1", "2026-11-03T10:00:00Z", "60.00", orderID: "A9")]],
      warnings: [nil]),
  ]

  @Test(arguments: cases) func refundsPastTheAmountAreNamedOnce(_ c: Case) throws {
    let dir = try TemporaryDirectory()
    let db = dir.file("db.sqlite")
    var got: [String?] = []
    for (index, lines) in c.runs.enumerated() {
      let file = try dir.write("run\(index)/log.ndjson", lines.joined(separator: "\n") + "\n")
      let (_, aggregate) = try runPipeline(db: db, inputs: [file])
      let warnings = aggregate.stderr.split(separator: "\n").map(String.init).filter { $0.contains("refunded past") }
      #expect(warnings.count <= 1, "\(warnings)")
      got.append(warnings.first)
    }
    #expect(got == c.warnings)
    let expectedCount = c.warnings.contains { $0 != nil } ? 1 : 0
    let status = try Executables.stage("report", ["--db", db, "--status"])
    #expect(status.status == 0, "\(status.stderr)")
    #expect(status.stdout.contains("\norders refunded past their amount: \(expectedCount)\n"), "\(status.stdout)")
    let out = dir.file("out")
    #expect(try Executables.stage("report", ["--db", db, "--out", out]).status == 0)
    let summary = try String(contentsOfFile: out + "/summary.md", encoding: .utf8)
    #expect(summary.contains("| Orders refunded past their amount | \(expectedCount) |"))
  }

  /// `--quiet` silences progress and summaries, never warnings: cron's mail must carry them.
  @Test func quietRunsStillPrintWarnings() throws {
    let dir = try TemporaryDirectory()
    let db = dir.file("db.sqlite")
    let logs = try dir.write(
      "a/log.ndjson",
      [Self.order("o1", "2026-11-02T10:00:00Z", "100.00"), Self.refund("r1", "2026-11-03T10:00:00Z", "100.01")].joined(separator: "\n")
        + "\n")
    let ingest = try Executables.stage("ingest", ["--quiet", "--db", db, logs])
    #expect(ingest.status == 0 && ingest.stderr.isEmpty, "a clean quiet run prints nothing: \(ingest.stderr)")
    let aggregate = try Executables.stage("aggregate", ["--quiet", "--db", db])
    #expect(aggregate.status == 0)
    #expect(aggregate.stderr == Self.flagged + "refunds 100.01 EUR against 100.00 EUR ordered\n")
  }

  /// Forgetting the refund that passed the amount clears the flag; a rebuild finds it again.
  @Test func forgettingTheRefundClearsTheFlag() throws {
    let dir = try TemporaryDirectory()
    let db = dir.file("db.sqlite")
    try runPipeline(db: db, inputs: [try dir.write("a/log.ndjson", Self.order("o1", "2026-11-02T10:00:00Z", "100.00") + "\n")])
    let late = try dir.write("b/log.ndjson", Self.refund("r1", "2026-11-05T10:00:00Z", "120.00") + "\n")
    try runPipeline(db: db, inputs: [late])
    let rows = "SELECT platform, order_id, ordered, refunded FROM over_refunds"
    #expect(try TestDatabase(db).rows(rows) == [["amazon", "A1", "100.00 EUR", "120.00 EUR"]])
    #expect(try Executables.stage("ingest", ["--db", db, "--forget", late]).status == 0)
    #expect(try Executables.stage("aggregate", ["--db", db]).status == 0)
    #expect(try TestDatabase(db).rows(rows).isEmpty)
    try runPipeline(db: db, inputs: [try dir.write("c/log.ndjson", Self.refund("r2", "2026-11-06T10:00:00Z", "100.01") + "\n")])
    let rebuild = try Executables.stage("aggregate", ["--db", db, "--rebuild"])
    #expect(rebuild.status == 0)
    // Known already: the rebuild names it no more.
    #expect(!rebuild.stderr.contains("refunded past"), "\(rebuild.stderr)")
    #expect(try TestDatabase(db).rows(rows) == [["amazon", "A1", "100.00 EUR", "100.01 EUR"]])
  }
}
