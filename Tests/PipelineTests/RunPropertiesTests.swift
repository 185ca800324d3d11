import Foundation
import Testing

@testable import ClickPipeline

/// CONTRACT §8 (runs): idempotence, split runs, unreadable files, failed runs, deterministic
/// reports; each against the real processes and a real SQLite file.
@Suite struct RunPropertiesTests {

  // MARK: - Fixture

  /// A small data set over six files (default configuration, UTC), written into `dir/logs`.
  struct SplitFixture {
    static let names = [
      "clicks.ndjson.gz", "early-click.ndjson", "orders.ndjson.gz", "refunds.ndjson.gz", "retries.ndjson.gz", "views.csv",
    ]

    static let clicks = [
      #"{"type":"click","event_id":"s-k1","ts":"2026-11-10T10:00:00Z","creator_id":"c1","post_id":"x1","viewer_id":"w1","product_id":"P1","platform":"amazon"}"#,
      #"{"type":"click","event_id":"s-k2","ts":"2026-11-10T12:00:00Z","creator_id":"c2","viewer_id":"w2","product_id":"L1","platform":"brand_store","store":"lumi-skin"}"#,
    ]
    /// An earlier click of the same viewer and product as s-k1, by another creator: it takes
    /// SO-1 while s-k1 is missing, and must give it up when s-k1 arrives.
    static let earlyClick = [
      #"{"type":"click","event_id":"s-k3","ts":"2026-11-10T09:00:00Z","creator_id":"c3","viewer_id":"w1","product_id":"P1","platform":"amazon"}"#
    ]
    static let orders = [
      // Viewer fallback on the next day, 16 h after s-k1 and 17 h after s-k3.
      #"{"type":"conversion","event_id":"s-o1","ts":"2026-11-11T02:00:00Z","viewer_id":"w1","product_id":"P1","platform":"amazon","order_id":"SO-1","amount":"10.00"}"#,
      // By click_id, 141 h after s-k2.
      #"{"type":"conversion","event_id":"s-o2","ts":"2026-11-16T09:00:00Z","click_id":"s-k2","product_id":"L1","platform":"brand_store","store":"lumi-skin","order_id":"SO-2","amount":"20.00"}"#,
    ]
    /// A partial refund of SO-1 and a full refund of SO-2, on later days.
    static let refunds = [
      #"{"type":"conversion","event_id":"s-r1","ts":"2026-11-12T08:00:00Z","product_id":"P1","platform":"amazon","order_id":"SO-1","amount":"4.00","status":"refunded"}"#,
      #"{"type":"conversion","event_id":"s-r2","ts":"2026-11-18T03:00:00Z","product_id":"L1","platform":"brand_store","store":"lumi-skin","order_id":"SO-2","amount":"20.00","status":"refunded"}"#,
    ]
    /// SO-2 retried with a fresh event id.
    static let retries = [
      #"{"type":"conversion","event_id":"s-o2-retry","ts":"2026-11-16T09:00:00Z","click_id":"s-k2","product_id":"L1","platform":"brand_store","store":"lumi-skin","order_id":"SO-2","amount":"20.00"}"#
    ]
    /// One view and one rejected line (a click without product_id).
    static let views = """
      type,event_id,ts,creator_id,post_id,viewer_id,product_id,platform
      view,s-v1,2026-11-10T08:00:00Z,c1,x1,w1,P1,amazon
      click,s-bad,2026-11-10T08:00:00Z,c1,x1,w1,,amazon

      """

    /// The whole table for all six files, by hand.
    static let expectedAll = [
      // s-v1 (w1) and s-k1 (w1), post_id x1 → post.
      "2026-11-10|c1|post|amazon||P1|1|1|0|1|1|0|0|0|0|0|0|0|0",
      // s-k2 (w2), no post_id → bio.
      "2026-11-10|c2|bio|brand_store|lumi-skin|L1|0|0|0|1|1|0|0|0|0|0|0|0|0",
      // s-k3 (w1); it loses SO-1 to the later s-k1.
      "2026-11-10|c3|bio|amazon||P1|0|0|0|1|1|0|0|0|0|0|0|0|0",
      // s-o1 → s-k1: 10.00 USD = 1000 c; × 0.04 = 40.
      "2026-11-11|c1|post|amazon||P1|0|0|0|0|0|0|1|1|1000|40|0|0|0",
      // s-r1 takes SO-1's attribution: 4.00 USD = 400 c; × 0.04 = 16.
      "2026-11-12|c1|post|amazon||P1|0|0|0|0|0|0|0|0|0|0|1|400|16",
      // s-o2 → s-k2 (the retry is dropped): 2000 c; brand_store 0.10 → 200.
      "2026-11-16|c2|bio|brand_store|lumi-skin|L1|0|0|0|0|0|0|1|1|2000|200|0|0|0",
      // s-r2 takes SO-2's attribution: 2000 c refunded, 200 reversed.
      "2026-11-18|c2|bio|brand_store|lumi-skin|L1|0|0|0|0|0|0|0|0|0|0|1|2000|200",
    ]

    /// The table without clicks.ndjson.gz, by hand.
    static let expectedWithoutClicks = [
      "2026-11-10|c1|post|amazon||P1|1|1|0|0|0|0|0|0|0|0|0|0|0",
      "2026-11-10|c3|bio|amazon||P1|0|0|0|1|1|0|0|0|0|0|0|0|0",
      // s-o1 → s-k3, the only click of w1 on P1.
      "2026-11-11|c3|bio|amazon||P1|0|0|0|0|0|0|1|1|1000|40|0|0|0",
      "2026-11-12|c3|bio|amazon||P1|0|0|0|0|0|0|0|0|0|0|1|400|16",
      // s-o2: click s-k2 missing, no viewer → unattributed.
      "2026-11-16|||brand_store|lumi-skin|L1|0|0|0|0|0|0|1|1|2000|200|0|0|0",
      // s-r2 follows SO-2: unattributed.
      "2026-11-18|||brand_store|lumi-skin|L1|0|0|0|0|0|0|0|0|0|0|1|2000|200",
    ]

    let dir: TemporaryDirectory

    init() throws {
      dir = try TemporaryDirectory()
      try dir.writeGzip("logs/clicks.ndjson.gz", lines: Self.clicks)
      try dir.write("logs/early-click.ndjson", Self.earlyClick.joined(separator: "\n") + "\n")
      try dir.writeGzip("logs/orders.ndjson.gz", lines: Self.orders)
      try dir.writeGzip("logs/refunds.ndjson.gz", lines: Self.refunds)
      try dir.writeGzip("logs/retries.ndjson.gz", lines: Self.retries)
      try dir.write("logs/views.csv", Self.views)
    }

    func path(_ name: String) -> String { dir.file("logs/" + name) }
    var all: [String] { Self.names.map(path) }
  }

  /// Files ingested together, run after run.
  struct Split: Sendable, CustomTestStringConvertible {
    var name: String
    var runs: [[String]]
    var testDescription: String { name }
  }

  static let c = "clicks.ndjson.gz", e = "early-click.ndjson", o = "orders.ndjson.gz"
  static let r = "refunds.ndjson.gz", d = "retries.ndjson.gz", v = "views.csv"

  static let splits: [Split] = [
    Split(name: "one run", runs: [[c, e, o, r, d, v]]),
    Split(name: "clicks then the rest", runs: [[c, e, v], [o, r, d]]),
    Split(name: "the rest then clicks (conversions before their clicks)", runs: [[o, r, d], [c, e, v]]),
    Split(name: "early click and orders, then the later click", runs: [[e, o, r, d, v], [c]]),
    Split(name: "refund before its order", runs: [[r], [c, e, v], [o], [d]]),
    Split(name: "refund, then order, then clicks", runs: [[r, v], [o, d], [e], [c]]),
    Split(name: "retry before the original order", runs: [[d], [c, e], [o, r, v]]),
    Split(name: "original order, then retry", runs: [[o], [d, r], [c, e, v]]),
    Split(name: "one file per run, forward", runs: [[c], [e], [o], [r], [d], [v]]),
    Split(name: "one file per run, reversed", runs: [[v], [d], [r], [o], [e], [c]]),
  ]

  // MARK: - Same content again

  @Test func sameContentAgainChangesNothing() throws {
    let f = try SplitFixture()
    let db = f.dir.file("a.sqlite")
    try runPipeline(db: db, inputs: f.all)
    #expect(try TestDatabase(db).dailyMetrics() == SplitFixture.expectedAll)

    let state = try E2E.dump(db).filter { !$0.hasPrefix("runs|") }
    #expect(try TestDatabase(db).int("SELECT count(*) FROM rejects") == 1)

    // The same path again.
    try runPipeline(db: db, inputs: [f.path("orders.ndjson.gz"), f.path("views.csv")])
    #expect(try E2E.lastIngestRun(db) == E2E.Counts(ingested: 0, skipped: 2, failed: 0))
    #expect(try TestDatabase(db).dailyMetrics() == SplitFixture.expectedAll)

    // The same bytes under another path and name.
    let copy = try f.dir.write("elsewhere/deeper/copy-of-clicks.gz", Data(contentsOf: URL(fileURLWithPath: f.path("clicks.ndjson.gz"))))
    let csvCopy = try f.dir.write("elsewhere/v.txt", SplitFixture.views)
    try runPipeline(db: db, inputs: [copy, csvCopy])
    #expect(try E2E.lastIngestRun(db) == E2E.Counts(ingested: 0, skipped: 2, failed: 0))
    #expect(try TestDatabase(db).dailyMetrics() == SplitFixture.expectedAll)
    // Nothing but the runs log changed: no event, file or rejected line was added.
    #expect(try E2E.dump(db).filter { !$0.hasPrefix("runs|") } == state)

    // The same events as plain text (other bytes, so not skipped as a file): all duplicates.
    let plain = try f.dir.write("elsewhere/clicks.ndjson", SplitFixture.clicks.joined(separator: "\n") + "\n")
    try runPipeline(db: db, inputs: [plain])
    #expect(try TestDatabase(db).dailyMetrics() == SplitFixture.expectedAll)

    // A second copy in the same run, on a fresh database.
    let db2 = f.dir.file("b.sqlite")
    try runPipeline(db: db2, inputs: f.all + [copy])
    #expect(try E2E.lastIngestRun(db2) == E2E.Counts(ingested: 6, skipped: 1, failed: 0))
    #expect(try TestDatabase(db2).dailyMetrics() == SplitFixture.expectedAll)
  }

  // MARK: - Split runs

  /// A then B (then …) gives the table of A ∪ B at once, whether `aggregate` runs after every
  /// `ingest` or only once at the end.
  @Test(arguments: splits, [true, false])
  func splitRunsEqualOneRun(split: Split, aggregateEveryRun: Bool) throws {
    let f = try SplitFixture()
    #expect(Set(split.runs.flatMap { $0 }) == Set(SplitFixture.names), "a split must cover every file once")
    let db = f.dir.file("split.sqlite")
    for (index, run) in split.runs.enumerated() {
      let ingest = try Executables.stage("ingest", ["--db", db] + run.map(f.path))
      #expect(ingest.status == 0, "ingest \(index): \(ingest.stderr)")
      if aggregateEveryRun || index == split.runs.count - 1 {
        let aggregate = try Executables.stage("aggregate", ["--db", db])
        #expect(aggregate.status == 0, "aggregate \(index): \(aggregate.stderr)")
      }
    }
    let actual = try TestDatabase(db).dailyMetrics()
    #expect(actual == SplitFixture.expectedAll, "\(E2E.diff(SplitFixture.expectedAll, actual))")
  }

  /// The intermediate state of the classic split is right too: before the later click arrives,
  /// the early click holds the order and its refund; after it, both move.
  @Test func laterClickReattributesEarlierConversionAndItsRefund() throws {
    let f = try SplitFixture()
    let db = f.dir.file("x.sqlite")
    try runPipeline(
      db: db, inputs: ["early-click.ndjson", "orders.ndjson.gz", "refunds.ndjson.gz", "retries.ndjson.gz", "views.csv"].map(f.path))
    let before = try TestDatabase(db).dailyMetrics()
    #expect(before == SplitFixture.expectedWithoutClicks, "\(E2E.diff(SplitFixture.expectedWithoutClicks, before))")
    try runPipeline(db: db, inputs: [f.path("clicks.ndjson.gz")])
    let after = try TestDatabase(db).dailyMetrics()
    #expect(after == SplitFixture.expectedAll, "\(E2E.diff(SplitFixture.expectedAll, after))")
  }

  /// Split runs with the Asia/Jakarta configuration of EndToEndTests: the incremental
  /// aggregate must map the hours it recomputes to local days, windows included.
  @Test(arguments: [false, true])
  func splitRunsWithCustomConfiguration(conversionsFirst: Bool) throws {
    let dir = try TemporaryDirectory()
    let config = try EndToEndTests.writeJakartaConfiguration(dir)
    let isConversion = { (line: String) in line.contains(#""type":"conversion""#) }
    let isLater = { (line: String) in line.contains("refunded") || line.contains("retry") }
    let lines = EndToEndTests.jakartaLines
    let traffic = try dir.writeGzip("logs/traffic.ndjson.gz", lines: lines.filter { !isConversion($0) })
    let orders = try dir.writeGzip("logs/orders.ndjson.gz", lines: lines.filter { isConversion($0) && !isLater($0) })
    let later = try dir.writeGzip("logs/refund-and-retry.ndjson.gz", lines: lines.filter { isConversion($0) && isLater($0) })
    let db = dir.file("jakarta.sqlite")
    for run in conversionsFirst ? [later, orders, traffic] : [traffic, orders, later] {
      try runPipeline(db: db, config: config, inputs: [run])
    }
    let actual = try TestDatabase(db).dailyMetrics()
    #expect(actual == EndToEndTests.jakartaExpected, "\(E2E.diff(EndToEndTests.jakartaExpected, actual))")
  }

  // MARK: - Unreadable files

  enum Damage: String, Sendable, CaseIterable {
    /// The first half of the file.
    case truncated
    /// One bit flipped in the CRC-32 of the gzip trailer.
    case badCRC
  }

  @Test(arguments: Damage.allCases)
  func unreadableGzipIsFailedThenRetried(damage: Damage) throws {
    let f = try SplitFixture()
    let good = f.path("clicks.ndjson.gz")
    let whole = try Data(contentsOf: URL(fileURLWithPath: good))
    var damaged = whole
    switch damage {
    case .truncated: damaged = whole.prefix(whole.count / 2)
    case .badCRC: damaged[damaged.count - 8] ^= 0x01
    }
    try damaged.write(to: URL(fileURLWithPath: good))
    let db = f.dir.file("t.sqlite")

    let ingest = try Executables.stage("ingest", ["--db", db] + f.all)
    #expect(ingest.status == 2, "ingest: \(ingest.stderr)")
    let aggregate = try Executables.stage("aggregate", ["--db", db])
    #expect(aggregate.status == 0, "aggregate: \(aggregate.stderr)")

    let t = try TestDatabase(db)
    let files = try t.rows("SELECT path, status, error <> '' FROM files ORDER BY path")
    #expect(
      files
        == SplitFixture.names.map { [f.path($0), $0 == "clicks.ndjson.gz" ? "failed" : "ingested", $0 == "clicks.ndjson.gz" ? "1" : "0"] })
    #expect(try E2E.lastIngestRun(db) == E2E.Counts(ingested: 5, skipped: 0, failed: 1))
    // Nothing of the damaged file counts, not even the lines that did decompress.
    #expect(try stagedTraffic(db, kind: .click).filter { ["s-k1", "s-k2"].contains($0[1]) }.isEmpty)
    let partial = try t.dailyMetrics()
    #expect(partial == SplitFixture.expectedWithoutClicks, "\(E2E.diff(SplitFixture.expectedWithoutClicks, partial))")

    // The complete file at the same path: ingested by the next run, as if it had been there all along.
    try whole.write(to: URL(fileURLWithPath: good))
    try runPipeline(db: db, inputs: f.all)
    #expect(try E2E.lastIngestRun(db) == E2E.Counts(ingested: 1, skipped: 5, failed: 0))
    #expect(try TestDatabase(db).rows("SELECT status FROM files WHERE path = '\(good)' ORDER BY file_id") == [["failed"], ["ingested"]])
    let retried = try TestDatabase(db).dailyMetrics()
    #expect(retried == SplitFixture.expectedAll, "\(E2E.diff(SplitFixture.expectedAll, retried))")

    // … and equal to a clean run.
    let clean = f.dir.file("clean.sqlite")
    try runPipeline(db: clean, inputs: f.all)
    #expect(try TestDatabase(clean).dailyMetrics() == retried)
  }

  // MARK: - Failed runs

  /// Runs that exit 1 leave every table as it was.
  @Test func failedRunsLeaveTheDatabaseAsItWas() throws {
    let f = try SplitFixture()
    let db = f.dir.file("f.sqlite")
    try runPipeline(db: db, inputs: ["clicks.ndjson.gz", "orders.ndjson.gz"].map(f.path))
    let before = try E2E.dump(db)
    #expect(before.contains { $0.hasPrefix("daily_metrics|2026-11-16|c2|") })
    #expect(before.contains { $0.hasPrefix("files|") } && before.contains { $0.hasPrefix("runs|") })

    let badKey = try f.dir.write("bad-key.toml", "[attribution]\namazon_window_hour = 48\n")
    let badZone = try f.dir.write("bad-zone.toml", "timezone = \"Mars/Olympus_Mons\"\n")
    let missing = f.dir.file("logs/no-such-file.ndjson.gz")
    let newFiles = ["early-click.ndjson", "views.csv"].map(f.path)

    let attempts: [(String, [String])] = [
      ("ingest", ["--db", db, "--config", badKey] + newFiles),
      ("ingest", ["--db", db, "--config", badZone] + newFiles),
      ("aggregate", ["--db", db, "--config", badKey]),
      ("aggregate", ["--db", db, "--config", badZone]),
      ("report", ["--db", db, "--out", f.dir.file("out"), "--config", badKey]),
      ("ingest", ["--db", db, missing]),
      // A good new file with a missing one: nothing is ingested.
      ("ingest", ["--db", db] + newFiles + [missing]),
    ]
    for (stage, arguments) in attempts {
      let result = try Executables.stage(stage, arguments)
      #expect(result.status == 1, "\(stage) \(arguments): \(result.stderr)")
      #expect(!result.stderr.isEmpty, "\(stage) \(arguments) should say what is wrong")
      #expect(try E2E.dump(db) == before, "\(stage) \(arguments) changed the database")
    }
  }

  /// An ingest killed inside its transaction (blocked reading a FIFO after staging another
  /// file) leaves every table as it was, and the next run is not blocked.
  @Test func killedIngestLeavesTheDatabaseAsItWas() throws {
    let f = try SplitFixture()
    let db = f.dir.file("k.sqlite")
    try runPipeline(db: db, inputs: [f.path("clicks.ndjson.gz")])
    let before = try E2E.dump(db)

    try FileManager.default.createDirectory(atPath: f.dir.file("stream"), withIntermediateDirectories: true)
    let fifo = f.dir.file("stream/z.fifo")
    #expect(mkfifo(fifo, 0o644) == 0)
    // O_RDWR does not block, and keeps a writer open so that the reader never sees the end.
    let writer = open(fifo, O_RDWR | O_CLOEXEC)
    #expect(writer >= 0)
    defer { close(writer) }
    let text = SplitFixture.orders.joined(separator: "\n") + "\n"
    _ = text.withCString { write(writer, $0, strlen($0)) }

    let process = Process()
    process.executableURL = URL(fileURLWithPath: Executables.path("ingest"))
    process.arguments = ["--db", db, f.path("early-click.ndjson"), fifo]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    // Wait until it holds the run lock (it writes its pid there), then give it time to stage.
    // Up to 60 s: a loaded machine may start the process late; the wait ends when it holds it.
    let lockPath = db + ".lock"
    var holding = false
    for _ in 0..<1_200 where !holding {
      usleep(50_000)
      let holder = (try? String(contentsOfFile: lockPath, encoding: .utf8)) ?? ""
      holding = holder.contains("pid \(process.processIdentifier)")
    }
    #expect(holding, "ingest never took the lock")
    usleep(300_000)
    #expect(process.isRunning, "ingest should be blocked on the FIFO")
    kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
    #expect(process.terminationReason == .uncaughtSignal)

    #expect(try E2E.dump(db) == before, "the killed run changed the database")
    try runPipeline(db: db, inputs: f.all)
    let actual = try TestDatabase(db).dailyMetrics()
    #expect(actual == SplitFixture.expectedAll, "\(E2E.diff(SplitFixture.expectedAll, actual))")
  }

  // MARK: - Deterministic reports

  @Test func reportsAreByteIdentical() throws {
    let f = try SplitFixture()
    let db = f.dir.file("r.sqlite")
    try runPipeline(db: db, inputs: f.all)
    let out1 = f.dir.file("out1")
    let out2 = f.dir.file("out2")
    for out in [out1, out2] {
      let report = try Executables.stage("report", ["--db", db, "--out", out])
      #expect(report.status == 0, "report: \(report.stderr)")
    }
    let first = try E2E.outputFiles(out1)
    #expect(
      first.keys.sorted() == [
        "creator_earnings.csv", "creators/c1.md", "creators/c2.md", "creators/c3.md", "orders.csv", "payouts.csv", "summary.md",
      ])
    #expect(try E2E.outputFiles(out2) == first)

    // The same inputs into another database give the same bytes.
    let db2 = f.dir.file("r2.sqlite")
    try runPipeline(db: db2, inputs: f.all)
    let out3 = f.dir.file("out3")
    let report = try Executables.stage("report", ["--db", db2, "--out", out3])
    #expect(report.status == 0, "report: \(report.stderr)")
    #expect(try E2E.outputFiles(out3) == first)

    // … and so do the same inputs over several runs, in another order.
    let db3 = f.dir.file("r3.sqlite")
    try runPipeline(db: db3, inputs: [Self.o, Self.r, Self.d].map(f.path))
    try runPipeline(db: db3, inputs: [Self.c, Self.e, Self.v].map(f.path))
    let out4 = f.dir.file("out4")
    let report4 = try Executables.stage("report", ["--db", db3, "--out", out4])
    #expect(report4.status == 0, "report: \(report4.stderr)")
    #expect(try E2E.outputFiles(out4) == first)
  }
}

// MARK: - Helpers

extension E2E {
  struct Counts: Equatable {
    var ingested: Int64
    var skipped: Int64
    var failed: Int64
  }

  /// `files_ingested`, `files_skipped`, `files_failed` of the latest ingest run.
  static func lastIngestRun(_ db: String) throws -> Counts {
    let row = try TestDatabase(db).rows(
      "SELECT files_ingested, files_skipped, files_failed FROM runs WHERE command = 'ingest' ORDER BY run_id DESC LIMIT 1")
    guard let row = row.first else { throw TestFailure("no ingest run") }
    return Counts(ingested: Int64(row[0]) ?? -1, skipped: Int64(row[1]) ?? -1, failed: Int64(row[2]) ?? -1)
  }

  /// Every schema object and every row of every table, as sorted text lines.
  static func dump(_ path: String) throws -> [String] {
    let t = try TestDatabase(path)
    var out = try t.rows("SELECT type, name, coalesce(sql, '') FROM sqlite_master ORDER BY type, name").map {
      "schema|" + $0.joined(separator: "|")
    }
    for table in try t.rows("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").map(\.[0]) {
      out += try t.rows("SELECT * FROM \"\(table)\"").map { table + "|" + $0.joined(separator: "|") }.sorted()
    }
    return out
  }

  /// The files below a folder, by relative path.
  static func outputFiles(_ folder: String) throws -> [String: Data] {
    var result: [String: Data] = [:]
    guard let walker = FileManager.default.enumerator(atPath: folder) else { throw TestFailure("no folder \(folder)") }
    for case let name as String in walker {
      var isDirectory: ObjCBool = false
      if FileManager.default.fileExists(atPath: folder + "/" + name, isDirectory: &isDirectory), !isDirectory.boolValue {
        result[name] = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name))
      }
    }
    return result
  }
}
