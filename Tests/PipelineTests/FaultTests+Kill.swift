import Foundation
import Testing

@testable import ClickPipeline

#if canImport(Glibc)
  import Glibc
#endif

/// Temporary folders that live as long as the test process (shared fixtures): the fixtures
/// are never released, so the folders are removed by path when the process exits.
enum SharedFixtures {
  nonisolated(unsafe) private static var paths: [String] = []
  private static let lock = NSLock()

  static func keep(_ dir: TemporaryDirectory) {
    lock.lock()
    defer { lock.unlock() }
    if paths.isEmpty {
      atexit {
        SharedFixtures.lock.lock()
        for path in SharedFixtures.paths { try? FileManager.default.removeItem(atPath: path) }
        SharedFixtures.lock.unlock()
      }
    }
    paths.append(dir.path)
  }
}

extension FaultTests {
  /// SIGKILL at several moments of `ingest`, `aggregate` and `report` (CONTRACT §8: "a run that
  /// fails or is killed leaves the database as it was before that run").
  @Suite struct Kill {
    /// Base logs ingested and aggregated (the state before every killed run), two new gzip
    /// files (one of several parse chunks, one small), and the uninterrupted reference runs.
    final class Fixture: @unchecked Sendable {
      let dir: TemporaryDirectory
      let prepared: PreparedDatabase
      /// The files each killed `ingest` reads.
      let inputs: [String]
      /// The prepared database (base ingested and aggregated).
      let before: DatabaseDump
      /// After an uninterrupted `ingest` of the inputs (the state before `aggregate`).
      let ingested: String
      let ingestedDump: DatabaseDump
      /// After an uninterrupted `ingest` + `aggregate`, volatile run columns dropped.
      let reference: DatabaseDump
      let referenceMetrics: [String]
      /// Days the reference `aggregate` recomputed.
      let daysRecomputed: Int

      init() throws {
        dir = try TemporaryDirectory()
        SharedFixtures.keep(dir)
        let base = Workload.ndjson(.init(lines: 4_000, seed: 11, prefix: "base"))
        let basePath = try dir.writeGzipFast("logs/base.ndjson.gz", base.bytes)
        let big = try dir.writeGzipFast("logs/big.ndjson.gz", Workload.ndjson(.init(lines: 60_000, seed: 12, prefix: "big")).bytes)
        let small = try dir.writeGzipFast("logs/small.ndjson.gz", Workload.ndjson(.init(lines: 2_000, seed: 13, prefix: "small")).bytes)
        inputs = [big, small]
        prepared = try PreparedDatabase(base: [basePath], shared: true)
        before = try DatabaseDump(prepared.pristine)

        ingested = try prepared.copy(to: dir.file("ingested.sqlite"))
        let ingest = try Stage.run("ingest", ["--db", ingested] + inputs)
        guard ingest.exitStatus == 0 else { throw TestFailure("reference ingest: \(ingest.termination) \(ingest.stderr)") }
        ingestedDump = try DatabaseDump(ingested)

        let complete = try copyDatabaseReturning(ingested, dir.file("reference.sqlite"))
        let aggregate = try Stage.run("aggregate", ["--db", complete])
        guard aggregate.exitStatus == 0 else { throw TestFailure("reference aggregate: \(aggregate.termination) \(aggregate.stderr)") }
        reference = try DatabaseDump(complete, dropping: DatabaseDump.runVolatile)
        referenceMetrics = try TestDatabase(complete).dailyMetrics()
        daysRecomputed = Int(try TestDatabase(complete).int("SELECT count(DISTINCT day) FROM daily_metrics"))
      }
    }

    static let shared: Result<Fixture, any Error> = Result { try Fixture() }
    static func fixture() throws -> Fixture { try shared.get() }

    /// A moment of a run to kill it at: a ``StopPoint/Moment`` and which passage of it.
    struct KillMoment: CustomTestStringConvertible, Sendable {
      var moment: StopPoint.Moment
      var passage: Int = 1
      var testDescription: String { passage == 1 ? moment.rawValue : "\(moment.rawValue)@\(passage)" }
    }

    /// Runs `stage` so that it SIGKILLs itself at `moment` (CLICKPIPELINE_TEST_STOP_AT): the
    /// same point of the work on every machine, however loaded.
    static func runKilled(_ stage: String, _ arguments: [String], at moment: KillMoment) throws -> ChildProcess.Outcome {
      var environment = ProcessInfo.processInfo.environment
      environment[StopPoint.environmentVariable] = moment.testDescription
      return try ChildProcess(Stage.path(stage), arguments, environment: environment).wait()
    }

    static let ingestMoments = [
      KillMoment(moment: .ingestStarted), KillMoment(moment: .ingestChunkStaged, passage: 2),
      KillMoment(moment: .ingestSegmentWritten), KillMoment(moment: .ingestSegmentWritten, passage: 3),
      KillMoment(moment: .ingestFileStaged), KillMoment(moment: .ingestKeysWritten),
      KillMoment(moment: .ingestBeforeCommit),
    ]

    /// Kills `ingest` at each of its moments, then checks every table against the state before
    /// the run, and that a rerun gives exactly what an uninterrupted run gives.
    @Test(arguments: ingestMoments)
    func ingestKilled(at moment: KillMoment) throws {
      let f = try Self.fixture()
      #expect(f.referenceMetrics.count > 1_000, "the workload should fill daily_metrics")
      let dir = try TemporaryDirectory()
      let db = dir.file("kill.sqlite")
      try copyDatabase(f.prepared.pristine, to: db)
      let outcome = try Self.runKilled("ingest", ["--db", db] + f.inputs, at: moment)
      #expect(
        outcome.termination == ChildProcess.Termination.signaled(SIGKILL),
        "ingest did not reach \(moment.testDescription): \(outcome.termination) \(outcome.stderr)")

      let after = try DatabaseDump(db)
      #expect(after.integrity == "ok")
      #expect(after == f.before, "killed ingest changed the database:\n\(after.difference(from: f.before))")

      let rerun = try Stage.run("ingest", ["--db", db] + f.inputs)
      #expect(rerun.exitStatus == 0, "rerun: \(rerun.stderr)")
      try Self.expectKilledRunRecorded("ingest", db)
      let aggregate = try Stage.run("aggregate", ["--db", db])
      #expect(aggregate.exitStatus == 0, "aggregate: \(aggregate.stderr)")
      #expect(try TestDatabase(db).dailyMetrics() == f.referenceMetrics)
      let final = try DatabaseDump(db, dropping: DatabaseDump.runVolatile)
      #expect(final == f.reference, "rerun differs from an uninterrupted run:\n\(final.difference(from: f.reference))")
    }

    /// The rerun recorded the killed run (its lock file still named it) as one `runs` row; the
    /// row is then taken out, and the later ids renumbered, so the database can be compared
    /// with an uninterrupted run's.
    static func expectKilledRunRecorded(_ command: String, _ db: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
      let recorded = try TestDatabase(db).rows("SELECT run_id, command, exit_status, ended_at, message FROM runs WHERE exit_status = -1")
      #expect(
        recorded.map { Array($0.dropFirst()) } == [
          [command, "-1", "", "ended without finishing (killed or crashed); nothing of that run was kept"]
        ],
        sourceLocation: sourceLocation)
      guard let id = recorded.first?.first else { return }
      let w = try SQLiteDatabase(path: db)
      try w.execute(
        """
        DELETE FROM runs WHERE run_id = \(id);
        UPDATE runs SET run_id = run_id - 1 WHERE run_id > \(id);
        UPDATE files SET run_id = run_id - 1 WHERE run_id > \(id);
        UPDATE rejects SET run_id = run_id - 1 WHERE run_id > \(id);
        """)
    }

    static let aggregateMoments = [
      KillMoment(moment: .aggregateDayComputed), KillMoment(moment: .aggregateDayComputed, passage: 3),
      KillMoment(moment: .aggregateDayWritten), KillMoment(moment: .aggregateDayWritten, passage: 3),
      KillMoment(moment: .aggregateBeforeCommit),
    ]

    /// Kills `aggregate` at each of its moments.
    @Test(arguments: aggregateMoments)
    func aggregateKilled(at moment: KillMoment) throws {
      let f = try Self.fixture()
      #expect(f.daysRecomputed > moment.passage, "the workload should span more days than the moment's passage")
      let dir = try TemporaryDirectory()
      let db = dir.file("kill.sqlite")
      try copyDatabase(f.ingested, to: db)
      let outcome = try Self.runKilled("aggregate", ["--db", db], at: moment)
      #expect(
        outcome.termination == ChildProcess.Termination.signaled(SIGKILL),
        "aggregate did not reach \(moment.testDescription): \(outcome.termination) \(outcome.stderr)")

      let after = try DatabaseDump(db)
      #expect(after.integrity == "ok")
      #expect(after == f.ingestedDump, "killed aggregate changed the database:\n\(after.difference(from: f.ingestedDump))")

      let rerun = try Stage.run("aggregate", ["--db", db])
      #expect(rerun.exitStatus == 0, "rerun: \(rerun.stderr)")
      try Self.expectKilledRunRecorded("aggregate", db)
      #expect(try TestDatabase(db).dailyMetrics() == f.referenceMetrics)
      let final = try DatabaseDump(db, dropping: DatabaseDump.runVolatile)
      #expect(final == f.reference, "rerun differs from an uninterrupted run:\n\(final.difference(from: f.reference))")
    }

    /// Report fixture: a database with an old report in `out/`, then more data aggregated; the
    /// uninterrupted report of the new state is the reference.
    final class ReportFixture: @unchecked Sendable {
      let dir: TemporaryDirectory
      let db: String
      let oldReport: [String: Data]
      let newReport: [String: Data]
      let dump: DatabaseDump

      init() throws {
        dir = try TemporaryDirectory()
        SharedFixtures.keep(dir)
        let first = try dir.writeGzipFast(
          "logs/first.ndjson.gz", Workload.ndjson(.init(lines: 3_000, seed: 21, prefix: "r1", creators: 400)).bytes)
        let second = try dir.writeGzipFast(
          "logs/second.ndjson.gz", Workload.ndjson(.init(lines: 12_000, seed: 22, prefix: "r2", creators: 800)).bytes)
        let prepared = try PreparedDatabase(base: [first], shared: true)
        db = try prepared.copy(to: dir.file("report.sqlite"))
        let old = dir.file("old-out")
        let r1 = try Stage.run("report", ["--db", db, "--out", old])
        guard r1.exitStatus == 0 else { throw TestFailure("old report: \(r1.stderr)") }
        oldReport = folderContents(old)
        guard try Stage.run("ingest", ["--db", db, second]).exitStatus == 0,
          try Stage.run("aggregate", ["--db", db]).exitStatus == 0
        else { throw TestFailure("second batch failed") }
        let new = dir.file("new-out")
        let r2 = try Stage.run("report", ["--db", db, "--out", new])
        guard r2.exitStatus == 0 else { throw TestFailure("new report: \(r2.stderr)") }
        newReport = folderContents(new)
        dump = try DatabaseDump(db)
        try FileManager.default.copyItem(atPath: old, toPath: dir.file("old-pristine"))
      }
    }

    static let sharedReport: Result<ReportFixture, any Error> = Result { try ReportFixture() }

    /// The report's moments: computing (the first statement staged), half staged, all staged,
    /// and statements published but summary and CSV not yet replaced.
    static func reportMoments(statements: Int) -> [KillMoment] {
      [
        KillMoment(moment: .reportFileStaged), KillMoment(moment: .reportFileStaged, passage: statements / 2),
        KillMoment(moment: .reportBeforePublish), KillMoment(moment: .reportStatementsPublished),
      ]
    }

    /// Kills `report` at each of its moments; the output folder must hold, for every file,
    /// either the old complete version or the new one — no half-written file, no visible
    /// leftover, no file of both reports missing — and a rerun must give exactly the
    /// uninterrupted report (which also removes whatever the killed run left behind).
    @Test(arguments: 0..<4)
    func reportKilled(atMoment index: Int) throws {
      let f = try Self.sharedReport.get()
      #expect(f.oldReport.keys.contains("summary.md") && f.newReport["summary.md"] != f.oldReport["summary.md"])
      #expect(f.newReport.count > 100, "the report should write many files (\(f.newReport.count))")
      let moment = Self.reportMoments(statements: f.newReport.keys.filter { $0.hasPrefix("creators/") }.count)[index]
      let dir = try TemporaryDirectory()
      let out = dir.file("out")
      let db = dir.file("report.sqlite")
      try copyDatabase(f.db, to: db)
      try FileManager.default.copyItem(atPath: f.dir.file("old-pristine"), toPath: out)
      let outcome = try Self.runKilled("report", ["--db", db, "--out", out], at: moment)
      #expect(
        outcome.termination == ChildProcess.Termination.signaled(SIGKILL),
        "report did not reach \(moment.testDescription): \(outcome.termination) \(outcome.stderr)")

      let after = try DatabaseDump(db)
      #expect(after == f.dump, "killed report changed the database:\n\(after.difference(from: f.dump))")
      let found = folderContents(out)
      #expect(found["summary.md"] != nil, "summary.md is missing after the kill")
      var strangers: [String] = []
      var halfWritten: [String] = []
      for (name, data) in found.sorted(by: { $0.key < $1.key }) {
        let old = f.oldReport[name]
        let new = f.newReport[name]
        if old == nil && new == nil {
          // A staging area hidden from readers (a name starting with '.') is allowed, as long
          // as the next run removes it (checked below).
          if !name.split(separator: "/").contains(where: { $0.hasPrefix(".") }) { strangers.append(name) }
        } else if data != old && data != new {
          halfWritten.append("\(name) (\(data.count) bytes; old \(old?.count ?? -1), new \(new?.count ?? -1))")
        }
      }
      #expect(halfWritten.isEmpty, "half-written files: \(halfWritten.prefix(5)) (\(halfWritten.count) in all)")
      #expect(
        strangers.isEmpty,
        "files that belong to neither the old nor the new report were left in the output folder: \(strangers.prefix(3)) (\(strangers.count) in all)"
      )
      // A file of both reports must not vanish (e.g. a folder swapped out and not yet back).
      let vanished = Set(f.oldReport.keys).intersection(f.newReport.keys).subtracting(found.keys).sorted()
      #expect(vanished.isEmpty, "files of both reports missing after the kill: \(vanished.prefix(3)) (\(vanished.count) in all)")
      let rerun = try Stage.run("report", ["--db", db, "--out", out])
      #expect(rerun.exitStatus == 0, "rerun: \(rerun.stderr)")
      // The folder the rerun replaced is kept, hidden, for the next report to write into.
      let final = folderContents(out).filter { !$0.key.hasPrefix(".creators.previous/") }
      let extra = Set(final.keys).subtracting(f.newReport.keys).sorted()
      let missing = Set(f.newReport.keys).subtracting(final.keys).sorted()
      #expect(
        extra.isEmpty && missing.isEmpty,
        "after the rerun: \(extra.count) extra files \(extra.prefix(3)), \(missing.count) missing \(missing.prefix(3))")
      #expect(final.filter { f.newReport[$0.key] != nil } == f.newReport, "the rerun's report differs from an uninterrupted one")
    }
  }
}

/// Copies a database and returns the copy's path.
func copyDatabaseReturning(_ source: String, _ target: String) throws -> String {
  try copyDatabase(source, to: target)
  return target
}
