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
    RefusalCase(name: "missing folder", out: "DIR/nope/b.sqlite", message: "cannot write DIR/nope/b.sqlite: its folder DIR/nope does not exist; create it first"),
    RefusalCase(name: "the database itself", out: "DIR/db.sqlite", message: "cannot write DIR/db.sqlite: it is the database itself; name another file"),
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
}
