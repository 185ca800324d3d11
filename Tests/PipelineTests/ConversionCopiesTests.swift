import Foundation
import Testing

@testable import ClickPipeline

/// Conversions are unique by `event_id` across everything, whatever their timestamps; the copy
/// kept is the earliest by `ts` (CONTRACT §3). Over the real executables, one run per file.
@Suite struct ConversionCopiesTests {
  static func order(_ id: String, ts: String, status: String = "ordered", amount: String = "100.00") -> String {
    #"{"type":"conversion","event_id":"\#(id)","ts":"\#(ts)","order_id":"A1","product_id":"B1","platform":"amazon","amount":"\#(amount)","status":"\#(status)"}"#
  }

  struct Case: CustomTestStringConvertible, Sendable {
    var name: String
    var runs: [[String]]
    var orders: Int64
    var refunds: Int64
    var refundedCents: Int64
    /// Rows staged when they are not one per counted event (a retried order keeps its copies).
    var staged: Int64?
    var testDescription: String { name }
  }

  static let cases: [Case] = [
    // The repro of the ledger issue: two UTC days, one local day in Los Angeles. The second
    // aggregate failed on `UNIQUE constraint failed: orders.day, orders.event_id`, and every
    // later one with it.
    Case(
      name: "an order re-sent on another UTC day, the same local day",
      runs: [[order("o2", ts: "2026-11-02T10:00:00Z")], [order("o2", ts: "2026-11-03T06:00:00Z")]],
      orders: 1, refunds: 0, refundedCents: 0),
    Case(
      name: "a refund re-sent a day later counts once",
      runs: [
        [order("o1", ts: "2026-11-02T10:00:00Z"), order("r1", ts: "2026-11-04T10:00:00Z", status: "refunded")],
        [order("r1", ts: "2026-11-05T10:00:00Z", status: "refunded")],
      ],
      orders: 1, refunds: 1, refundedCents: 10_000),
    Case(
      name: "an earlier copy arriving later replaces the later one",
      runs: [[order("o3", ts: "2026-11-06T10:00:00Z")], [order("o3", ts: "2026-11-05T10:00:00Z")]],
      orders: 1, refunds: 0, refundedCents: 0),
    Case(
      name: "copies on three days in one file",
      runs: [[order("o4", ts: "2026-11-07T10:00:00Z"), order("o4", ts: "2026-11-08T10:00:00Z"), order("o4", ts: "2026-11-09T10:00:00Z")]],
      orders: 1, refunds: 0, refundedCents: 0),
    // Another event of the same order, earlier, in a later run: the order moves to its day, and
    // the day of the copy staged before must be recomputed without it.
    Case(
      name: "a retried order's earlier copy in a later run moves the order",
      runs: [[order("o5", ts: "2026-11-06T10:00:00Z")], [order("o6", ts: "2026-11-05T10:00:00Z")]],
      orders: 1, refunds: 0, refundedCents: 0, staged: 2),
  ]

  @Test(arguments: cases)
  func conversionsCountOnceWhateverTheirTimestamps(_ c: Case) throws {
    let dir = try TemporaryDirectory()
    let db = dir.file("db.sqlite")
    let config = try dir.write("la.toml", "timezone = \"America/Los_Angeles\"\n")
    for (index, lines) in c.runs.enumerated() {
      let file = try dir.write("run\(index)/log.ndjson", lines.joined(separator: "\n") + "\n")
      try runPipeline(db: db, config: config, inputs: [file])
    }
    let t = try TestDatabase(db)
    #expect(try t.int("SELECT coalesce(sum(orders), 0) FROM daily_metrics") == c.orders)
    #expect(try t.int("SELECT coalesce(sum(refunds), 0) FROM daily_metrics") == c.refunds)
    #expect(try t.int("SELECT coalesce(sum(refunded_cents), 0) FROM daily_metrics") == c.refundedCents)
    // One staged row per event id.
    #expect(try t.int("SELECT count(*) FROM conversions") == c.staged ?? c.orders + c.refunds)
    #expect(try t.int("SELECT count(DISTINCT event_id) FROM conversions") == c.staged ?? c.orders + c.refunds)
    // A rebuild gives the same, and another run changes nothing.
    let rebuild = try Executables.stage("aggregate", ["--db", db, "--rebuild"])
    #expect(rebuild.status == 0, "\(rebuild.stderr)")
    #expect(try t.int("SELECT coalesce(sum(orders), 0) FROM daily_metrics") == c.orders)
  }

  /// Generated logs with a random share of conversions re-sent with their `ts` moved one to
  /// three days later, and of all lines sent again as they were, everything shuffled over
  /// three runs (copies may come before their originals, clicks after the conversions that
  /// name them): the same `daily_metrics` and `orders` as the original logs ingested once,
  /// in Los Angeles time, where a UTC day's copies can fall on the same local day.
  @Test(arguments: [UInt64(71), 72, 73])
  func resentCopiesOverSeveralRunsCountAsTheLogsOnce(seed: UInt64) throws {
    let dir = try TemporaryDirectory()
    let config = try dir.write("la.toml", "timezone = \"America/Los_Angeles\"\n")
    let original = Workload.ndjson(.init(lines: 3_000, seed: seed, prefix: "r", hours: 96)).bytes
    let lines = original.split(separator: UInt8(ascii: "\n")).map { String(decoding: $0, as: UTF8.self) }
    var rng = SeededRandom(seed: seed)
    var sent = lines
    var movedConversions = 0
    for line in lines {
      if line.hasPrefix(#"{"type":"conversion""#), rng.chance(30),
        let range = line.range(of: #""ts":"#), let end = line[range.upperBound...].firstIndex(of: ","),
        let ts = Int64(line[range.upperBound..<end])
      {
        sent.append(line.replacingCharacters(in: range.upperBound..<end, with: String(ts + Int64(1 + rng.below(3)) * 86_400_000)))
        movedConversions += 1
      } else if rng.chance(10) {
        sent.append(line)
      }
    }
    for i in stride(from: sent.count - 1, to: 0, by: -1) { sent.swapAt(i, rng.below(i + 1)) }

    let once = dir.file("once.sqlite")
    try runPipeline(db: once, config: config, inputs: [try dir.write("once/log.ndjson", lines.joined(separator: "\n") + "\n")])
    let resent = dir.file("resent.sqlite")
    let third = sent.count / 3
    for (run, part) in [sent[..<third], sent[third..<2 * third], sent[(2 * third)...]].enumerated() {
      let file = try dir.write("run\(run)/log.ndjson", part.joined(separator: "\n") + "\n")
      try runPipeline(db: resent, config: config, inputs: [file])
    }
    #expect(movedConversions > 50)
    let orders = "SELECT * FROM orders ORDER BY day, event_id"
    #expect(try TestDatabase(once).int("SELECT sum(orders) FROM daily_metrics") > 50)
    #expect(try TestDatabase(resent).dailyMetrics() == (try TestDatabase(once).dailyMetrics()))
    #expect(try TestDatabase(resent).rows(orders) == (try TestDatabase(once).rows(orders)))
  }

  /// The kept copy is the earliest: its day is the one that counts.
  @Test func theEarliestCopyDecidesTheDay() throws {
    let dir = try TemporaryDirectory()
    let db = dir.file("db.sqlite")
    try runPipeline(db: db, inputs: [try dir.write("a/log.ndjson", Self.order("o5", ts: "2026-11-06T10:00:00Z") + "\n")])
    try runPipeline(db: db, inputs: [try dir.write("b/log.ndjson", Self.order("o5", ts: "2026-11-05T10:00:00Z") + "\n")])
    #expect(try TestDatabase(db).rows("SELECT day, orders FROM daily_metrics WHERE orders > 0") == [["2026-11-05", "1"]])
    #expect(try TestDatabase(db).rows("SELECT duplicates FROM files ORDER BY file_id") == [["0"], ["1"]])
  }
}
