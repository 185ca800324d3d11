import Foundation
import Testing

@testable import ClickPipeline

#if canImport(Glibc)
  import Glibc
#endif

/// Backups, restores and a stale hot journal (issue 11, point 9), through the real executables.
@Suite struct BackupTests {
  static func views(_ prefix: String, day: String) -> [String] {
    (1...40).map {
      #"{"type":"view","event_id":"\#(prefix)-\#($0)","ts":"\#(day)T10:00:00Z","creator_id":"c\#($0 % 3)","viewer_id":"u\#($0)"}"#
    }
  }

  static func quickCheck(_ path: String) throws -> String {
    try TestDatabase(path).rows("PRAGMA quick_check").map(\.[0]).joined(separator: "\n")
  }

  /// A backup is a checked copy: restored over the database after later runs, it gives back
  /// the `daily_metrics` it was taken with. No temporary file is left next to it.
  @Test func aRestoredBackupGivesTheSameMetrics() throws {
    let dir = try TemporaryDirectory()
    let db = dir.file("db.sqlite")
    try runPipeline(db: db, inputs: [try dir.writeGzip("logs/a.ndjson.gz", lines: Self.views("a", day: "2026-11-01"))])
    let metrics = try TestDatabase(db).dailyMetrics()
    #expect(metrics.count == 3)

    let backup = dir.file("backups/db-2026-11-01.sqlite")
    try FileManager.default.createDirectory(atPath: dir.file("backups"), withIntermediateDirectories: true)
    let r = try Stage.run("backup", ["--db", db, "--out", backup])
    #expect(r.termination == .exited(0), "\(r.stderr)")
    #expect(r.stderr.isEmpty, "\(r.stderr)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.file("backups")) == ["db-2026-11-01.sqlite"])
    #expect(try Self.quickCheck(backup) == "ok")
    #expect(try TestDatabase(backup).dailyMetrics() == metrics)

    // A later night, then the restore: the database is back as it was when the backup was taken.
    try runPipeline(db: db, inputs: [try dir.writeGzip("logs/b.ndjson.gz", lines: Self.views("b", day: "2026-11-02"))])
    #expect(try TestDatabase(db).dailyMetrics() != metrics)
    unlink(db)
    try FileManager.default.copyItem(atPath: backup, toPath: db)
    let aggregate = try Stage.run("aggregate", ["--db", db])
    #expect(aggregate.termination == .exited(0), "\(aggregate.stderr)")
    #expect(try Self.quickCheck(db) == "ok")
    #expect(try TestDatabase(db).dailyMetrics() == metrics)

    // A second backup to the same file replaces it.
    try runPipeline(db: db, inputs: [try dir.writeGzip("logs/b.ndjson.gz", lines: Self.views("b", day: "2026-11-02"))])
    #expect(try Stage.run("backup", ["--db", db, "--out", backup]).termination == .exited(0))
    #expect(try TestDatabase(backup).dailyMetrics() == TestDatabase(db).dailyMetrics())
  }

  struct RefusalCase: CustomTestStringConvertible, Sendable {
    var name: String
    var out: String
    var message: String
    var testDescription: String { name }
  }

  /// What `backup` refuses, with exit 1 and the message it prints; nothing is written.
  @Test(arguments: [
    RefusalCase(
      name: "missing folder", out: "DIR/nope/b.sqlite",
      message: "cannot write DIR/nope/b.sqlite: its folder DIR/nope does not exist; create it first"),
    RefusalCase(
      name: "the database itself", out: "DIR/db.sqlite", message: "cannot write DIR/db.sqlite: it is the database itself; name another file"
    ),
    RefusalCase(name: "a folder", out: "DIR/logs", message: "cannot write DIR/logs: it exists and is not a regular file"),
  ])
  func refusals(_ c: RefusalCase) throws {
    let dir = try TemporaryDirectory()
    let db = dir.file("db.sqlite")
    try runPipeline(db: db, inputs: [try dir.writeGzip("logs/a.ndjson.gz", lines: Self.views("a", day: "2026-11-01"))])
    let before = try DatabaseDump(db)
    let r = try Stage.run("backup", ["--db", db, "--out", c.out.replacingOccurrences(of: "DIR", with: dir.path)])
    #expect(r.termination == .exited(1))
    #expect(r.stderr == "backup: error: " + c.message.replacingOccurrences(of: "DIR", with: dir.path) + "\n")
    #expect(try DatabaseDump(db) == before)
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["db.sqlite", "db.sqlite.lock", "logs"])
  }

  /// The files a run killed while writing pages back leaves: the database and its hot journal.
  ///
  /// A connection with a two-page cache starts a write transaction as the stages do and
  /// writes enough to spill pages into the file (SQLite syncs the journal, magic number
  /// included, before it writes a page back); the two files are copied at that moment, as a
  /// SIGKILL would leave them, and the transaction is rolled back.
  static func killedWhileWritingBack(_ db: String, into folder: String) throws -> String {
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let copy = folder + "/db.sqlite"
    let writer = try SQLiteDatabase(path: db)
    try writer.execute("PRAGMA cache_size = 2")
    try writer.beginWrite()
    try writer.execute(
      """
      WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
      INSERT INTO rejects(file_id, run_id, path, line, reason, raw) SELECT 0, 0, 'spill', i, 'spill', hex(randomblob(200)) FROM n
      """)
    try FileManager.default.copyItem(atPath: db, toPath: copy)
    try FileManager.default.copyItem(atPath: db + "-journal", toPath: copy + "-journal")
    try writer.execute("ROLLBACK")
    let magic = try FileHandle(forReadingFrom: URL(fileURLWithPath: copy + "-journal")).read(upToCount: 8)
    guard magic.map(Array.init) == StaleJournal.magic else { throw TestFailure("the journal is not hot: \(String(describing: magic))") }
    return copy
  }

  /// A killed run's hot journal is rolled back into its own database (even after pages were
  /// written back); put next to another version of the file (a backup copied over the
  /// database), every stage refuses it, names it and changes nothing. Deleting it, as the
  /// message says, gives the backup back intact.
  @Test func aHotJournalIsAppliedOnlyToItsOwnDatabase() throws {
    let dir = try TemporaryDirectory()
    let db = dir.file("db.sqlite")
    try runPipeline(db: db, inputs: [try dir.writeGzip("logs/a.ndjson.gz", lines: Self.views("a", day: "2026-11-01"))])
    let backup = dir.file("backup.sqlite")
    #expect(try Stage.run("backup", ["--db", db, "--out", backup]).termination == .exited(0))
    let backupMetrics = try TestDatabase(backup).dailyMetrics()
    try runPipeline(db: db, inputs: [try dir.writeGzip("logs/b.ndjson.gz", lines: Self.views("b", day: "2026-11-02"))])
    let before = try DatabaseDump(db)

    // Its own journal: rolled back, the database as before the killed run.
    let own = try Self.killedWhileWritingBack(db, into: dir.file("own"))
    #expect(StaleJournal.verdict(journal: own + "-journal", database: own) == .belongs)
    let rerun = try Stage.run("aggregate", ["--db", own])
    #expect(rerun.termination == .exited(0), "\(rerun.stderr)")
    #expect(!FileManager.default.fileExists(atPath: own + "-journal"))
    #expect(try Self.quickCheck(own) == "ok")
    #expect(try DatabaseDump(own).tables.filter { $0.key != "runs" } == before.tables.filter { $0.key != "runs" })

    // The backup copied over the database, the journal left next to it: refused.
    let restored = try Self.killedWhileWritingBack(db, into: dir.file("restored"))
    unlink(restored)
    try FileManager.default.copyItem(atPath: backup, toPath: restored)
    let bytes = try Data(contentsOf: URL(fileURLWithPath: restored))
    let journal = restored + "-journal"
    let message =
      "database \(restored) cannot be used: \(journal) is the rollback journal of an unfinished run on another version of this file (was the file replaced, say by a backup?); SQLite would apply it and corrupt the database. If you put this file in place yourself, delete \(journal) and run again; if not, put back the file it belongs to — nothing was changed"
    for (stage, arguments) in [
      ("aggregate", []), ("ingest", [dir.file("logs/b.ndjson.gz")]), ("report", ["--out", dir.file("out")]),
      ("backup", ["--out", dir.file("copy.sqlite")]),
    ] {
      let r = try Stage.run(stage, ["--db", restored] + arguments)
      #expect(r.termination == .exited(1), "\(stage): \(r.termination) \(r.stderr)")
      #expect(r.stderr == "\(stage): error: \(message)\n")
      #expect(try Data(contentsOf: URL(fileURLWithPath: restored)) == bytes, "\(stage) changed the file")
      #expect(FileManager.default.fileExists(atPath: journal))
    }
    #expect(!FileManager.default.fileExists(atPath: dir.file("copy.sqlite")))

    unlink(journal)
    let after = try Stage.run("aggregate", ["--db", restored])
    #expect(after.termination == .exited(0), "\(after.stderr)")
    #expect(try Self.quickCheck(restored) == "ok")
    #expect(try TestDatabase(restored).dailyMetrics() == backupMetrics)
  }
}

extension BackupTests {
  struct JournalCase: CustomTestStringConvertible, Sendable {
    var name: String
    /// The journal's bytes from the database's 100-byte header (nil: no journal).
    var journal: (@Sendable ([UInt8]) -> [UInt8])?
    /// The database header as it is now, from the one the journal recorded.
    var database: @Sendable ([UInt8]) -> [UInt8]
    var verdict: StaleJournal.Verdict
    var testDescription: String { name }
  }

  /// A journal: header (magic, 0 records, nonce, 1 page, 512-byte sectors, 16 KiB pages) padded
  /// to its sector, then one record of page `page` whose first bytes are `header`.
  static func journal(page: UInt32, header: [UInt8], magic: [UInt8] = StaleJournal.magic) -> [UInt8] {
    func be(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
    var bytes = magic + be(0) + be(7) + be(1) + be(512) + be(16384)
    bytes += [UInt8](repeating: 0, count: 512 - bytes.count)
    return bytes + be(page) + header + [UInt8](repeating: 0, count: 16384 - header.count) + be(0)
  }

  /// The header with its change counter (offset 24) and generation (offset 60) moved on.
  static func stepped(_ header: [UInt8], counter: UInt8, generation: UInt8) -> [UInt8] {
    var h = header
    h[27] &+= counter
    h[63] &+= generation
    return h
  }

  static let journalCases = [
    JournalCase(name: "no journal", journal: nil, database: { $0 }, verdict: .noJudgement),
    JournalCase(
      name: "not synced yet (zero magic: SQLite ignores it)",
      journal: { journal(page: 1, header: $0, magic: [UInt8](repeating: 0, count: 8)) },
      database: { stepped($0, counter: 5, generation: 9) }, verdict: .noJudgement),
    JournalCase(
      name: "first record is not page 1", journal: { journal(page: 7, header: $0) },
      database: { stepped($0, counter: 5, generation: 9) }, verdict: .noJudgement),
    JournalCase(name: "page 1 not written back", journal: { journal(page: 1, header: $0) }, database: { $0 }, verdict: .belongs),
    JournalCase(
      name: "page 1 written back by the transaction", journal: { journal(page: 1, header: $0) },
      database: { stepped($0, counter: 1, generation: 1) }, verdict: .belongs),
    JournalCase(
      name: "written back by a program that keeps the generation", journal: { journal(page: 1, header: $0) },
      database: { stepped($0, counter: 1, generation: 0) }, verdict: .belongs),
    JournalCase(
      name: "an older copy of the file", journal: { journal(page: 1, header: $0) },
      database: { stepped($0, counter: 251, generation: 254) }, verdict: .foreign),
    JournalCase(
      name: "counter one on, generation older", journal: { journal(page: 1, header: $0) },
      database: { stepped($0, counter: 1, generation: 250) }, verdict: .foreign),
  ]

  /// ``StaleJournal/verdict(journal:database:)`` on hand-made journals over a real database header.
  @Test(arguments: journalCases)
  func journalVerdicts(_ c: JournalCase) throws {
    let dir = try TemporaryDirectory()
    let db = dir.file("db.sqlite")
    _ = try Schema.open(path: db)
    var header = Array(try Data(contentsOf: URL(fileURLWithPath: db)).prefix(100))
    header[63] = 5  // a generation with a successor
    var file = try Data(contentsOf: URL(fileURLWithPath: db))
    file.replaceSubrange(0..<100, with: c.database(header))
    try file.write(to: URL(fileURLWithPath: db))
    if let journal = c.journal { try Data(journal(header)).write(to: URL(fileURLWithPath: db + "-journal")) }
    #expect(StaleJournal.verdict(journal: db + "-journal", database: db) == c.verdict)
  }
}
