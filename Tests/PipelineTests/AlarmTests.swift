import Foundation
import Testing

@testable import ClickPipeline

/// What an operator must hear about, on standard error (cron's mail), with exact words: a
/// dangling symbolic link in an input folder, events dated more than a day after the run
/// that ingests them. Over the real executables.
@Suite struct AlarmTests {
  static func view(_ id: String, _ ts: String) -> String {
    #"{"type":"view","event_id":"\#(id)","ts":"\#(ts)","creator_id":"c1","placement":"bio","viewer_id":"u1"}"#
  }

  @Test func aDanglingLinkInAnInputFolderIsNamed() throws {
    let dir = try TemporaryDirectory()
    _ = try dir.write("logs/a.ndjson", Self.view("v1", "2026-11-02T10:00:00Z") + "\n")
    try FileManager.default.createSymbolicLink(atPath: dir.file("logs/b.ndjson"), withDestinationPath: dir.file("gone/b.ndjson"))
    let ingest = try Executables.stage("ingest", ["--db", dir.file("db.sqlite"), "--quiet", dir.file("logs")])
    #expect(ingest.status == 0)
    #expect(
      ingest.stderr
        == "ingest: warning: \(dir.file("logs/b.ndjson")): a symbolic link to \(dir.file("gone/b.ndjson")), which does not exist; skipped (fix or remove the link)\n"
    )
  }

  @Test func eventsDatedAfterTheRunAreNamedAndCounted() throws {
    let dir = try TemporaryDirectory()
    let db = dir.file("db.sqlite")
    let file = try dir.write(
      "logs/a.ndjson",
      [
        Self.view("v1", "2026-11-02T10:00:00Z"), Self.view("v2", "2099-01-01T00:00:00Z"),
        Self.view("v3", "2099-03-05T00:00:00Z"),
      ].joined(separator: "\n") + "\n")
    let ingest = try Executables.stage("ingest", ["--db", db, "--quiet", file])
    #expect(ingest.status == 0)
    #expect(
      ingest.stderr
        == "ingest: warning: \(file): 2 event(s) dated more than a day after this run, the first on line 2 (2099-01-01); they count on their own days: check the clock of the system that wrote them\n"
    )
    let status = try Executables.stage("report", ["--db", db, "--status"])
    #expect(
      status.stdout.contains(
        "\nevents dated more than a day after their ingest: 2 in 1 file(s) (SELECT path, future_events FROM files WHERE future_events > 0)\n"
      ),
      "\(status.stdout)")
    // They are events like any other: the reports depend only on their inputs.
    #expect(try Executables.stage("aggregate", ["--db", db]).status == 0)
    #expect(try TestDatabase(db).int("SELECT sum(views) FROM daily_metrics") == 3)
  }

  /// A run stopped by SIGTERM (an operator's kill, a cron timeout) keeps nothing, says so,
  /// and leaves its note in the lock file: `--status` shows it, and the next writing run
  /// records it in `runs`, where `--status` lists it among the interrupted runs.
  @Test func aRunInterruptedBySIGTERMIsRecordedByTheNextRun() throws {
    let dir = try TemporaryDirectory()
    let db = dir.file("db.sqlite")
    let file = try dir.write("logs/a.ndjson", Self.view("v1", "2026-11-02T10:00:00Z") + "\n")
    #expect(try Executables.stage("ingest", ["--db", db, file]).status == 0)
    let more = try dir.write("logs/b.ndjson", Self.view("v2", "2026-11-02T11:00:00Z") + "\n")
    let stopped = try Executables.run(
      Executables.path("ingest"), ["--db", db, more],
      environment: [StopPoint.environmentVariable: "ingest.before-commit", StopPoint.signalVariable: "TERM"])
    #expect(stopped.status == 143)
    #expect(stopped.stderr == "interrupted (SIGTERM); nothing of this run was kept\n")
    #expect(try TestDatabase(db).int("SELECT count(*) FROM files") == 1)

    let status = try Executables.stage("report", ["--db", db, "--status"]).stdout
    let lock = status.split(separator: "\n").first { $0.hasPrefix("  lock: ") } ?? ""
    #expect(lock.hasPrefix("  lock: free; its last holder did not finish (ingest, pid "), "\(status)")
    #expect(lock.hasSuffix("; interrupted by SIGTERM); the next run records it"), "\(status)")

    // The next run records it at once, even if that run then fails and keeps nothing.
    #expect(try Executables.stage("ingest", ["--db", db, "--forget", dir.file("no-such-file")]).status == 1)
    #expect(
      try TestDatabase(db).rows("SELECT command, exit_status, message FROM runs WHERE exit_status <> 0") == [
        ["ingest", "143", "interrupted by SIGTERM; nothing of that run was kept"]
      ])
    #expect(try Executables.stage("aggregate", ["--db", db]).status == 0)
    #expect(try TestDatabase(db).int("SELECT count(*) FROM runs WHERE exit_status <> 0") == 1)
    let after = try Executables.stage("report", ["--db", db, "--status"]).stdout
    #expect(after.contains("\n  lock: free\n"), "\(after)")
    #expect(after.contains("\ninterrupted or unfinished runs (latest 1):\n  #2 ingest, started "), "\(after)")
    #expect(after.contains(", exit 143: interrupted by SIGTERM; nothing of that run was kept\n"), "\(after)")
  }
}
