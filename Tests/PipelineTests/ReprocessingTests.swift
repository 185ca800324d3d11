import Foundation
import Logging
import Testing

@testable import ClickPipeline

/// Operators' repair tools: forget an ingested file, rebuild after a configuration change.
@Suite struct ReprocessingTests {
  static func view(_ id: String, _ ts: String, creator: String = "c1", viewer: String = "u1") -> String {
    #"{"type":"view","event_id":"\#(id)","ts":"\#(ts)","creator_id":"\#(creator)","viewer_id":"\#(viewer)"}"#
  }

  static func click(_ id: String, _ ts: String, creator: String = "c1", viewer: String = "u1") -> String {
    #"{"type":"click","event_id":"\#(id)","ts":"\#(ts)","creator_id":"\#(creator)","viewer_id":"\#(viewer)","product_id":"p1","platform":"amazon"}"#
  }

  static func order(_ id: String, _ ts: String, amount: String, clickID: String = "") -> String {
    #"{"type":"conversion","event_id":"\#(id)","ts":"\#(ts)","viewer_id":"u1","product_id":"p1","platform":"amazon","order_id":"O-\#(id)","amount":"\#(amount)","click_id":"\#(clickID)"}"#
  }

  /// A conversion may name by click_id a click that comes in a later run, days earlier than
  /// the conversion (click_id ignores the windows): when the click arrives, the conversion's
  /// day is recomputed, as if both had come together (CONTRACT §8).
  @Test func aClickNamedByAnEarlierConversionArrivesInALaterRun() throws {
    let dir = try TemporaryDirectory()
    let orders = try dir.writeGzip(
      "orders.ndjson.gz", lines: [Self.order("o1", "2026-11-04T12:00:00Z", amount: "10.00", clickID: "k-late")])
    let clicks = try dir.writeGzip("clicks.ndjson.gz", lines: [Self.click("k-late", "2026-11-01T10:00:00Z", creator: "c7")])
    let db = dir.file("db.sqlite")
    try runPipeline(db: db, inputs: [orders])
    #expect(try TestDatabase(db).int("SELECT count(*) FROM daily_metrics WHERE creator_id = 'c7'") == 0)
    #expect(try TestDatabase(db).int("SELECT count(*) FROM pending_click_refs") == 1)
    try runPipeline(db: db, inputs: [clicks])
    let rows = try TestDatabase(db).dailyMetrics()
    #expect(rows.contains("2026-11-04|c7|bio|amazon||p1|0|0|0|0|0|0|1|1|1000|40|0|0|0"), "\(rows)")
    #expect(try TestDatabase(db).int("SELECT count(*) FROM pending_click_refs") == 0)
    let together = dir.file("together.sqlite")
    try runPipeline(db: together, inputs: [orders, clicks])
    #expect(rows == (try TestDatabase(together).dailyMetrics()))
  }

  /// Forget by content hash, or by path (which also forgets a corrected copy that was
  /// ingested too early, when all its events were still duplicates).
  @Test(arguments: [false, true])
  func forgetThenIngestTheCorrectedDumpWithTheSameEventIDs(correctedTooEarly: Bool) throws {
    let dir = try TemporaryDirectory()
    let db = dir.file("db.sqlite")
    let other = try dir.writeGzip("other.ndjson.gz", lines: [ReprocessingTests.view("v9", "2026-11-02T09:00:00Z")])
    // The first dump of the day has a wrong creator and a wrong amount.
    let path = try dir.writeGzip(
      "day.ndjson.gz",
      lines: [
        ReprocessingTests.click("k1", "2026-11-01T10:00:00Z", creator: "WRONG"),
        ReprocessingTests.order("o1", "2026-11-01T11:00:00Z", amount: "99.00", clickID: "k1"),
      ])
    try runPipeline(db: db, inputs: [other, path])
    let hash = try #require(try TestDatabase(db).rows("SELECT content_hash FROM files WHERE path = '\(path)'").first?.first)

    // The corrected dump reuses the event ids.
    try dir.writeGzip(
      "day.ndjson.gz",
      lines: [
        ReprocessingTests.click("k1", "2026-11-01T10:00:00Z", creator: "c1"),
        ReprocessingTests.order("o1", "2026-11-01T11:00:00Z", amount: "19.99", clickID: "k1"),
      ])
    if correctedTooEarly {
      // Without forgetting, it is all duplicates: nothing changes.
      try runPipeline(db: db, inputs: [path])
      #expect(try TestDatabase(db).int("SELECT sum(revenue_cents) FROM daily_metrics WHERE creator_id = 'WRONG'") == 9900)
    }
    let forget = try Executables.stage("ingest", ["--db", db, "--forget", correctedTooEarly ? path : hash])
    #expect(forget.status == 0, "\(forget.stderr)")
    if correctedTooEarly {
      // Forgetting the path forgot the corrected copy too: the next run skips that content,
      // and takes it back only when told to.
      let skipped = try Executables.stage("ingest", ["--db", db, "-v", path])
      #expect(skipped.status == 0)
      #expect(skipped.stderr.contains("skipped: this content was forgotten with ingest --forget; give --take-forgotten to ingest it again"))
      #expect(try TestDatabase(db).int("SELECT count(*) FROM files WHERE status = 'ingested' AND path = '\(path)'") == 0)
      #expect(try Executables.stage("ingest", ["--db", db, "--take-forgotten", path]).status == 0)
      #expect(try Executables.stage("aggregate", ["--db", db]).status == 0)
    } else {
      try runPipeline(db: db, inputs: [path])
    }
    let rows = try TestDatabase(db).dailyMetrics()

    // The same as a fresh database given the corrected dump.
    let fresh = dir.file("fresh.sqlite")
    try runPipeline(db: fresh, inputs: [other, path])
    #expect(rows == (try TestDatabase(fresh).dailyMetrics()))
    #expect(rows.contains("2026-11-01|c1|bio|amazon||p1|0|0|0|1|1|0|1|1|1999|80|0|0|0"))
    let statuses = try TestDatabase(db).rows("SELECT status FROM files WHERE path = '\(path)' ORDER BY file_id").map { $0[0] }
    #expect(statuses == (correctedTooEarly ? ["forgotten", "forgotten", "ingested"] : ["forgotten", "ingested"]))
    #expect(try TestDatabase(db).int("SELECT count(*) FROM runs WHERE command = 'forget'") == 1)
  }

  @Test func forgettingAClickReattributesTheConversionsThatNamedIt() throws {
    let dir = try TemporaryDirectory()
    let db = dir.file("db.sqlite")
    let clicks = try dir.writeGzip(
      "clicks.ndjson.gz",
      lines: [
        ReprocessingTests.click("k0", "2026-11-01T09:00:00Z", creator: "fallback"),
        ReprocessingTests.click("k1", "2026-11-01T09:30:00Z", creator: "named"),
      ])
    let late = try dir.writeGzip("late.ndjson.gz", lines: [ReprocessingTests.click("k2", "2026-11-01T09:45:00Z", creator: "late")])
    let orders = try dir.writeGzip(
      "orders.ndjson.gz", lines: [ReprocessingTests.order("o1", "2026-11-01T10:00:00Z", amount: "10.00", clickID: "k1")])
    try runPipeline(db: db, inputs: [clicks, late, orders])
    let forget = try Executables.stage("ingest", ["--db", db, "--forget", clicks])
    #expect(forget.status == 0, "\(forget.stderr)")
    let aggregate = try Executables.stage("aggregate", ["--db", db])
    #expect(aggregate.status == 0)
    // k1 is gone: the order falls back to the latest remaining click of its viewer, k2.
    let fresh = dir.file("fresh.sqlite")
    try runPipeline(db: fresh, inputs: [late, orders])
    #expect(try TestDatabase(db).dailyMetrics() == (try TestDatabase(fresh).dailyMetrics()))
    #expect(try TestDatabase(db).int("SELECT orders FROM daily_metrics WHERE creator_id = 'late'") == 1)
    // The next run over the same files leaves the forgotten clicks out; taking them back on
    // purpose brings the first attribution back.
    try runPipeline(db: db, inputs: [clicks, late, orders])
    #expect(try TestDatabase(db).int("SELECT orders FROM daily_metrics WHERE creator_id = 'late'") == 1)
    #expect(try Executables.stage("ingest", ["--db", db, "--take-forgotten", clicks]).status == 0)
    #expect(try Executables.stage("aggregate", ["--db", db]).status == 0)
    #expect(try TestDatabase(db).int("SELECT orders FROM daily_metrics WHERE creator_id = 'named'") == 1)
  }

  @Test func forgettingAnUnknownFileIsAnErrorThatChangesNothing() throws {
    let dir = try TemporaryDirectory()
    let db = dir.file("db.sqlite")
    let file = try dir.writeGzip("a.ndjson.gz", lines: [ReprocessingTests.view("v1", "2026-11-01T10:00:00Z")])
    try runPipeline(db: db, inputs: [file])
    let before = try TestDatabase(db).rows("SELECT * FROM files")
    let result = try Executables.stage("ingest", ["--db", db, "--forget", dir.file("nope.gz")])
    #expect(result.status == 1)
    #expect(
      result.stderr
        == "ingest: error: \(dir.file("nope.gz")): no ingested or failed file has this path or content hash; list them with: SELECT path, status, content_hash FROM files WHERE status IN ('ingested', 'failed')\n"
    )
    #expect(try TestDatabase(db).rows("SELECT * FROM files") == before)
  }

  /// A file that can never be read (a bad CRC) is retried by every run until it is dismissed
  /// with --forget: then later runs skip it (exit 0), while a good copy at the same path, new
  /// content, comes in.
  @Test func aFailedFileIsDismissedWithForget() throws {
    let dir = try TemporaryDirectory()
    let db = dir.file("db.sqlite")
    let path = try dir.writeGzip("bad.ndjson.gz", lines: [ReprocessingTests.view("v1", "2026-11-01T10:00:00Z")])
    var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
    bytes[bytes.count - 6] ^= 0xFF  // the CRC
    try bytes.write(to: URL(fileURLWithPath: path))
    #expect(try Executables.stage("ingest", ["--db", db, path]).status == 2)
    #expect(try Executables.stage("ingest", ["--db", db, path]).status == 2)

    let forget = try Executables.stage("ingest", ["--db", db, "--forget", path])
    #expect(forget.status == 0 && forget.stderr.isEmpty, "\(forget.stderr)")
    #expect(
      try TestDatabase(db).rows("SELECT message FROM runs WHERE command = 'forget'") == [
        ["forgot 0 file(s), 0 event(s), 0 reject(s); dismissed 1 failed file(s)"]
      ])
    let status = try Executables.stage("report", ["--db", db, "--status"])
    #expect(status.stdout.contains("\nfiles that failed and are retried when given again: 0\n"), "\(status.stdout)")
    #expect(try Executables.stage("ingest", ["--db", db, path]).status == 0)

    // A good copy at the same path is new content.
    try dir.writeGzip("bad.ndjson.gz", lines: [ReprocessingTests.view("v1", "2026-11-01T10:00:00Z")])
    #expect(try Executables.stage("ingest", ["--db", db, path]).status == 0)
    #expect(
      try TestDatabase(db).rows("SELECT status FROM files WHERE path = '\(path)' ORDER BY file_id").map { $0[0] } == [
        "failed", "forgotten", "ingested",
      ])
  }

  /// A path ingested once, then overwritten by a corrupt copy that fails every night:
  /// `--forget PATH` dismisses the failed attempt and keeps what the path brought before
  /// (that content is forgotten by its hash, if wanted).
  @Test func forgettingAPathWhoseLastAttemptFailedDismissesThatAttempt() throws {
    let dir = try TemporaryDirectory()
    let db = dir.file("db.sqlite")
    let path = try dir.writeGzip("latest.ndjson.gz", lines: [ReprocessingTests.view("v1", "2026-11-01T10:00:00Z")])
    try runPipeline(db: db, inputs: [path])
    var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
    bytes[bytes.count - 6] ^= 0xFF  // the CRC
    try bytes.write(to: URL(fileURLWithPath: path))
    #expect(try Executables.stage("ingest", ["--db", db, path]).status == 2)
    #expect(try Executables.stage("ingest", ["--db", db, "--forget", path]).status == 0)
    #expect(try TestDatabase(db).rows("SELECT status FROM files ORDER BY file_id").map { $0[0] } == ["ingested", "forgotten"])
    #expect(try Executables.stage("ingest", ["--db", db, path]).status == 0)
    #expect(try Executables.stage("aggregate", ["--db", db]).status == 0)
    #expect(try TestDatabase(db).int("SELECT sum(views) FROM daily_metrics") == 1)
  }

  /// After a configuration change, aggregate recomputes everything; the result equals a fresh
  /// database built with the new configuration.
  @Test(arguments: [false, true])
  func configurationChangeRebuildsEveryDay(explicitRebuild: Bool) throws {
    let dir = try TemporaryDirectory()
    let db = dir.file("db.sqlite")
    let logs = try dir.writeGzip(
      "a.ndjson.gz",
      lines: [
        ReprocessingTests.view("v1", "2026-11-01T18:30:00Z"),
        ReprocessingTests.click("k1", "2026-11-01T20:00:00Z"),
        ReprocessingTests.order("o1", "2026-11-01T21:00:00Z", amount: "12.50", clickID: "k1"),
      ])
    try runPipeline(db: db, inputs: [logs])
    #expect(try TestDatabase(db).rows("SELECT DISTINCT day FROM daily_metrics").map { $0[0] } == ["2026-11-01"])

    let config = try dir.write("jakarta.toml", "timezone = \"Asia/Jakarta\"\n[commission]\namazon = 0.1\n")
    let aggregate = try Executables.stage("aggregate", ["--db", db, "--config", config] + (explicitRebuild ? ["--rebuild"] : []))
    #expect(aggregate.status == 0, "\(aggregate.stderr)")
    let fresh = dir.file("fresh.sqlite")
    try runPipeline(db: fresh, config: config, inputs: [logs])
    let rows = try TestDatabase(db).dailyMetrics()
    #expect(rows == (try TestDatabase(fresh).dailyMetrics()))
    // 18:30Z and later are 2026-11-02 in Jakarta (UTC+7); commission is 10 % now.
    #expect(
      rows == [
        "2026-11-02|c1|bio||||1|1|0|0|0|0|0|0|0|0|0|0|0",
        "2026-11-02|c1|bio|amazon||p1|0|0|0|1|1|0|1|1|1250|125|0|0|0",
      ])
    let message = try TestDatabase(db).rows("SELECT message FROM runs WHERE command = 'aggregate' ORDER BY run_id DESC LIMIT 1")
    #expect(message.first?.first?.hasPrefix("full rebuild") == true)
  }
}

@Suite struct RebuildRangeTests {
  /// One event in year 9000 must not make a rebuild walk three million empty days: the run
  /// visits the three days that have data, and says so.
  @Test func farFutureTimestampCostsOneDayNotMillions() throws {
    let dir = try TemporaryDirectory()
    let db = dir.file("db.sqlite")
    let logs = try dir.writeGzip(
      "a.ndjson.gz",
      lines: [
        ReprocessingTests.view("v1", "2026-11-01T10:00:00Z"),
        ReprocessingTests.view("v2", "9000-01-01T00:00:00Z"),
        ReprocessingTests.order("o1", "2026-11-03T10:00:00Z", amount: "1.00"),
      ])
    try runPipeline(db: db, inputs: [logs])
    #expect(
      try TestDatabase(db).rows("SELECT DISTINCT day FROM daily_metrics ORDER BY day").map { $0[0] } == [
        "2026-11-01", "2026-11-03", "9000-01-01",
      ])
    let rebuild = try Stage.run("aggregate", ["--db", db, "--rebuild"])
    #expect(rebuild.exitStatus == 0, "\(rebuild.stderr)")
    let messages = try TestDatabase(db).rows("SELECT message FROM runs WHERE command = 'aggregate' ORDER BY run_id").map { $0[0] }
    #expect(messages.map { $0.prefix(while: { $0 != "," }) } == ["full rebuild: 3 day(s) recomputed", "full rebuild: 3 day(s) recomputed"])
  }
}

@Suite struct ParallelAggregateTests {
  /// Ingests generated logs once, then aggregates a copy of that database per set of options;
  /// returns each run's result and `daily_metrics`.
  static func aggregateCopies(
    _ workload: Workload.Shape, _ variants: [(inout AggregateOptions) -> Void]
  ) throws -> (dir: TemporaryDirectory, runs: [(result: AggregateResult, rows: [String])]) {
    let dir = try TemporaryDirectory()
    let logs = try dir.writeGzipFast("logs/a.ndjson.gz", Workload.ndjson(workload).bytes)
    let staged = dir.file("staged.sqlite")
    #expect(try Executables.stage("ingest", ["--db", staged, logs]).status == 0)
    var runs: [(result: AggregateResult, rows: [String])] = []
    for (n, configure) in variants.enumerated() {
      let db = dir.file("db-\(n).sqlite")
      try FileManager.default.copyItem(atPath: staged, toPath: db)
      var options = AggregateOptions(databasePath: db, configuration: .default)
      configure(&options)
      let result = try AggregateRunner(options: options, logger: Logger(label: "test")).run()
      runs.append((result, try TestDatabase(db).dailyMetrics()))
    }
    return (dir, runs)
  }

  /// The `orders` rows of the database at `path`, in key order, each as one line.
  static func orders(_ path: String) throws -> [String] {
    try TestDatabase(path).rows("SELECT * FROM orders ORDER BY day, event_id").map { $0.joined(separator: "|") }
  }

  /// Days computed by 1, 2 or 5 worker threads give the same `daily_metrics`, and no
  /// temporary file is left next to the database.
  @Test func workerCountDoesNotChangeTheResult() throws {
    let (dir, runs) = try Self.aggregateCopies(
      .init(lines: 6_000, seed: 61, prefix: "p", hours: 200), [1, 2, 5].map { n in { $0.workers = n } })
    #expect(runs.allSatisfy { $0.result.daysRecomputed >= 8 })
    #expect(runs[0].rows.count > 100)
    #expect(runs[1].rows == runs[0].rows && runs[2].rows == runs[0].rows)
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains(".aggregate-") }.isEmpty)
  }

  /// A day larger than a pass is computed in several passes over shares of its rows (so that
  /// memory follows the pass, not the day), with the same `daily_metrics` as in one pass.
  @Test func daysComputedInSeveralPassesGiveTheSameRows() throws {
    let (_, runs) = try Self.aggregateCopies(
      .init(lines: 6_000, seed: 62, prefix: "s", hours: 60), [1_500_000, 700, 97].map { n in { $0.trafficPerPass = n } })
    let extra = runs.map { $0.result.passes - $0.result.daysRecomputed }
    #expect(extra[0] == 0 && extra[1] > 0 && extra[2] > extra[1], "extra passes: \(extra)")
    #expect(runs[0].rows.count > 100)
    #expect(runs[1].rows == runs[0].rows && runs[2].rows == runs[0].rows)
  }

  /// A day that makes more `daily_metrics` rows than a pass may hold is given up and computed
  /// again in more passes (memory follows the rows of a pass, whatever the day's shape), with
  /// the same rows as in one pass.
  @Test func daysOfManyRowsAreComputedAgainInMorePasses() throws {
    let (dir, runs) = try Self.aggregateCopies(
      .init(lines: 6_000, seed: 64, prefix: "m", hours: 60),
      [
        { _ in },
        { $0.rowsPerPass = 400 },
        {
          // Small order runs: the runs a given-up attempt spooled must not count.
          $0.rowsPerPass = 60
          $0.orderRunBytes = 300
        },
      ])
    let orders = try (0..<runs.count).map { n in try Self.orders(dir.file("db-\(n).sqlite")) }
    let extra = runs.map { $0.result.passes - $0.result.daysRecomputed }
    #expect(extra[0] == 0 && extra[1] > 0 && extra[2] > extra[1], "extra passes: \(extra)")
    #expect(runs[0].rows.count > 100 && orders[0].count > 100)
    #expect(runs[1].rows == runs[0].rows && runs[2].rows == runs[0].rows)
    #expect(orders[1] == orders[0] && orders[2] == orders[0])
  }

  /// A day is planned from the day before: with one worker over days of one shape, only the
  /// first day that needs more passes than planned is read and given up; the days after it
  /// start with enough passes, and the rows are those of one pass.
  @Test func passesArePlannedFromTheDayBefore() throws {
    let (_, runs) = try Self.aggregateCopies(
      .init(lines: 8_000, seed: 65, prefix: "q", hours: 144),
      [
        { _ in },
        {
          $0.rowsPerPass = 150
          $0.workers = 1
        },
      ])
    let planned = runs[1].result
    #expect(planned.daysRecomputed >= 6)
    #expect(planned.passes - planned.passesGivenUp >= 2 * planned.daysRecomputed - 2, "passes: \(planned)")
    #expect(planned.passesGivenUp == 1, "passes: \(planned)")
    #expect(runs[0].result.passesGivenUp == 0)
    #expect(runs[1].rows == runs[0].rows)
  }

  /// Conversions attributed a few at a time (the attribution cache then keeps only a batch's
  /// orders) and orders spooled in many small sorted runs give the same `daily_metrics` and
  /// `orders` as one batch and one run per day.
  @Test func smallBatchesAndRunsGiveTheSameRowsAndOrders() throws {
    let (dir, runs) = try Self.aggregateCopies(
      .init(lines: 6_000, seed: 63, prefix: "b", hours: 48),
      [
        { _ in },
        {
          $0.conversionsPerBatch = 7
          $0.orderRunBytes = 300
        },
        {
          $0.conversionsPerBatch = 1
          $0.workers = 1
        },
      ])
    let orders = try (0..<runs.count).map { n in try Self.orders(dir.file("db-\(n).sqlite")) }
    #expect(orders[0].count > 300)
    #expect(runs[1].result.spooledRuns > 10 * runs[0].result.spooledRuns, "runs: \(runs.map(\.result.spooledRuns))")
    #expect(runs[1].rows == runs[0].rows && runs[2].rows == runs[0].rows)
    #expect(orders[1] == orders[0] && orders[2] == orders[0])
  }

  /// The writer stages rows while the last days are computed (``StagedWrite``) and puts them
  /// in place once the computing is done: with one worker it writes after the computing, and a
  /// rebuild over existing rows replaces them all. All give the same `daily_metrics` and
  /// `orders`.
  @Test func writingWhileComputingGivesTheSameRowsAndOrders() throws {
    let (dir, runs) = try Self.aggregateCopies(
      .init(lines: 6_000, seed: 65, prefix: "w", hours: 200),
      [
        { $0.workers = 1 },
        { $0.workers = 2 },
        {
          $0.workers = 3
          $0.orderRunBytes = 300
        },
      ])
    var rebuild = AggregateOptions(databasePath: dir.file("db-1.sqlite"), configuration: .default)
    rebuild.rebuild = true
    let rebuilt = try AggregateRunner(options: rebuild, logger: Logger(label: "test")).run()
    let orders = try (0..<runs.count).map { n in try Self.orders(dir.file("db-\(n).sqlite")) }
    #expect(runs.allSatisfy { $0.result.daysRecomputed >= 8 } && rebuilt.fullRebuild)
    #expect(runs[0].rows.count > 100 && orders[0].count > 100)
    for n in 1..<runs.count {
      #expect(runs[n].rows == runs[0].rows)
      #expect(orders[n] == orders[0])
    }
    // db-1 again, rebuilt over its rows.
    #expect(try TestDatabase(dir.file("db-1.sqlite")).dailyMetrics() == runs[0].rows)
    #expect(
      try Self.orders(dir.file("db-1.sqlite")) == orders[0])
  }

  /// Each UTC day's clicks are read into a digest once per run however many batches need
  /// them; with no room to keep digests they are read again per batch, and with hashes that
  /// all collide every candidate is checked against its click's bytes. All give the same
  /// `daily_metrics` and `orders`.
  @Test func clickDaysAreReadOnceAndHashesOnlyProposeCandidates() throws {
    let (dir, runs) = try Self.aggregateCopies(
      .init(lines: 6_000, seed: 64, prefix: "d", hours: 120, products: 6, viewers: 40),
      [
        { $0.conversionsPerBatch = 1_000_000 },
        { $0.conversionsPerBatch = 5 },
        {
          $0.conversionsPerBatch = 5
          $0.clickDigestBytes = 0
        },
        {
          $0.conversionsPerBatch = 5
          $0.clickHashMask = 0
        },
      ])
    // Runs: one batch a day; five orders a batch; the same with no digest kept; with every
    // hash colliding.
    let orders = try (0..<runs.count).map { n in try Self.orders(dir.file("db-\(n).sqlite")) }
    let daysRead = runs.map(\.result.clickDaysRead)
    #expect(daysRead[0] >= 5 && daysRead[1] == daysRead[0] && daysRead[3] == daysRead[0], "days read: \(daysRead)")
    #expect(daysRead[2] > 10 * daysRead[0], "days read: \(daysRead)")
    let rules = ["|viewer window|", "|click_id|"].map { rule in orders[0].count { $0.contains(rule) } }
    #expect(orders[0].count > 300 && rules.allSatisfy { $0 > 20 }, "orders: \(orders[0].count), by rule: \(rules)")
    for n in 1..<runs.count {
      #expect(runs[n].rows == runs[0].rows)
      #expect(orders[n] == orders[0])
    }
  }
}

@Suite struct LateFailureTests {
  /// Every file is staged as it is read: when a pipe turns out truncated at its end, what it
  /// staged is dropped, it is recorded as failed, and everything else is ingested (exit 2).
  @Test func truncatedGzipThroughAPipeIsDroppedAndTheRunGoesOn() throws {
    let dir = try TemporaryDirectory()
    let good = try dir.writeGzip("good.ndjson.gz", lines: [ReprocessingTests.view("v1", "2026-11-01T10:00:00Z")])
    let whole = try Gzip.compress(
      Data((1...2000).map { ReprocessingTests.view("p\($0)", "2026-11-01T11:00:00Z") }.joined(separator: "\n").utf8))
    try dir.write("cut.gz", whole.prefix(whole.count / 2))
    let fifo = dir.file("pipe")
    #expect(mkfifo(fifo, 0o600) == 0)
    let feeder = Process()
    feeder.executableURL = URL(fileURLWithPath: "/bin/sh")
    feeder.arguments = ["-c", "cat '\(dir.file("cut.gz"))' > '\(fifo)'"]
    try feeder.run()
    defer { feeder.terminate() }

    let db = dir.file("db.sqlite")
    let ingest = try Executables.stage("ingest", ["--db", db, good, fifo])
    #expect(ingest.status == 2, "\(ingest.stderr)")
    #expect(ingest.stderr.contains("\(fifo): truncated gzip stream (ended inside member 1 after "), "\(ingest.stderr)")
    let files = try TestDatabase(db).rows("SELECT path, status FROM files ORDER BY file_id")
    #expect(files == [[good, "ingested"], [fifo, "failed"]])
    #expect(try stagedTraffic(db, kind: .view).count == 1)
    #expect(try TestDatabase(db).int("SELECT count(*) FROM runs") == 1)
  }
}
