import Foundation
import Testing

@testable import ClickPipeline

#if canImport(Glibc)
  import Glibc
#endif

/// Temporary folders that live as long as the test process (shared fixtures), removed at exit.
enum SharedFixtures {
  nonisolated(unsafe) private static var folders: [TemporaryDirectory] = []
  private static let lock = NSLock()

  static func keep(_ dir: TemporaryDirectory) {
    lock.lock()
    defer { lock.unlock() }
    if folders.isEmpty {
      atexit {
        SharedFixtures.lock.lock()
        SharedFixtures.folders.removeAll()  // their deinit removes them
        SharedFixtures.lock.unlock()
      }
    }
    folders.append(dir)
  }
}

extension FaultTests {
  /// SIGKILL at several moments of `ingest`, `aggregate` and `report` (CONTRACT §8: "a run that
  /// fails or is killed leaves the database as it was before that run").
  @Suite struct Kill {
    /// Base logs ingested and aggregated (the state before every killed run), a big gzip file
    /// (about 2 s of ingest in a debug build), and the uninterrupted reference runs.
    final class Fixture: @unchecked Sendable {
      let dir: TemporaryDirectory
      let prepared: PreparedDatabase
      let big: String
      let bigSize: Int
      /// The prepared database (base ingested and aggregated).
      let before: DatabaseDump
      /// After an uninterrupted `ingest` of the big file (the state before `aggregate`).
      let ingested: String
      let ingestedDump: DatabaseDump
      /// After an uninterrupted `ingest` + `aggregate`, volatile run columns dropped.
      let reference: DatabaseDump
      let referenceMetrics: [String]
      let ingestSeconds: Double
      let aggregateSeconds: Double

      init() throws {
        dir = try TemporaryDirectory()
        SharedFixtures.keep(dir)
        let base = Workload.ndjson(.init(lines: 4_000, seed: 11, prefix: "base"))
        let basePath = try dir.writeGzipFast("logs/base.ndjson.gz", base.bytes)
        let bigLines = Workload.ndjson(.init(lines: 160_000, seed: 12, prefix: "big"))
        big = try dir.writeGzipFast("logs/big.ndjson.gz", bigLines.bytes)
        bigSize = Int((try FileManager.default.attributesOfItem(atPath: big)[.size] as? Int) ?? 0)
        prepared = try PreparedDatabase(base: [basePath])
        before = try DatabaseDump(prepared.pristine)

        ingested = try prepared.copy(to: dir.file("ingested.sqlite"))
        let ingest = try Stage.run("ingest", ["--db", ingested, big])
        guard ingest.exitStatus == 0 else { throw TestFailure("reference ingest: \(ingest.termination) \(ingest.stderr)") }
        ingestSeconds = ingest.seconds
        ingestedDump = try DatabaseDump(ingested)

        let complete = try copyDatabaseReturning(ingested, dir.file("reference.sqlite"))
        let aggregate = try Stage.run("aggregate", ["--db", complete])
        guard aggregate.exitStatus == 0 else { throw TestFailure("reference aggregate: \(aggregate.termination) \(aggregate.stderr)") }
        aggregateSeconds = aggregate.seconds
        reference = try DatabaseDump(complete, dropping: DatabaseDump.runVolatile)
        referenceMetrics = try TestDatabase(complete).dailyMetrics()
      }
    }

    nonisolated(unsafe) static let shared: Result<Fixture, any Error> = Result { try Fixture() }
    static func fixture() throws -> Fixture { try shared.get() }

    /// Kills `ingest` when it has read `percent` % of the big gzip file (the file offset of its
    /// descriptor, read in /proc: independent of machine speed), then checks every table against
    /// the state before the run, and that a rerun gives what an uninterrupted run gives.
    @Test(arguments: [5, 30, 70, 95])
    func ingestKilledAfterReading(percent: Int) throws {
      let f = try Self.fixture()
      #expect(f.referenceMetrics.count > 1_000, "the workload should fill daily_metrics")
      let dir = try TemporaryDirectory()
      let db = try f.prepared.copy(to: dir.file("kill.sqlite"))
      let child = try Stage.start("ingest", ["--db", db, f.big])
      let target = f.bigSize * percent / 100
      var opened = false
      var position = 0
      while child.isRunning {
        if let p = ProcProbe.position(pid: child.pid, of: f.big) {
          opened = true
          position = p
        } else if opened {
          position = f.bigSize  // read to the end and closed
        }
        if position >= target { break }
        usleep(300)
      }
      child.signal(SIGKILL)
      let outcome = child.wait()
      #expect(position >= target, "ingest ended before it had read \(percent) % of its input")
      #expect(
        outcome.wasKilled,
        "ingest was not killed while running: \(outcome.termination) after \(outcome.seconds) s (uninterrupted: \(f.ingestSeconds) s)")

      let after = try DatabaseDump(db)
      #expect(after.integrity == "ok")
      #expect(after == f.before, "killed ingest changed the database:\n\(after.difference(from: f.before))")

      let rerun = try Stage.run("ingest", ["--db", db, f.big])
      #expect(rerun.exitStatus == 0, "rerun: \(rerun.stderr)")
      let aggregate = try Stage.run("aggregate", ["--db", db])
      #expect(aggregate.exitStatus == 0, "aggregate: \(aggregate.stderr)")
      #expect(try TestDatabase(db).dailyMetrics() == f.referenceMetrics)
      let final = try DatabaseDump(db, dropping: DatabaseDump.runVolatile)
      #expect(final == f.reference, "rerun differs from an uninterrupted run:\n\(final.difference(from: f.reference))")
    }

    /// Kills `aggregate` at 10 %, 50 % and 90 % of the time an uninterrupted run takes.
    @Test(arguments: [10, 50, 90])
    func aggregateKilledAt(percent: Int) throws {
      let f = try Self.fixture()
      let dir = try TemporaryDirectory()
      let db = dir.file("kill.sqlite")
      let outcome = try killDuringRun(
        "aggregate", ["--db", db], reference: f.aggregateSeconds, percent: percent,
        prepare: { try copyDatabase(f.ingested, to: db) })
      #expect(outcome.wasKilled, "aggregate was not killed while running: \(outcome.termination)")

      let after = try DatabaseDump(db)
      #expect(after.integrity == "ok")
      #expect(after == f.ingestedDump, "killed aggregate changed the database:\n\(after.difference(from: f.ingestedDump))")

      let rerun = try Stage.run("aggregate", ["--db", db])
      #expect(rerun.exitStatus == 0, "rerun: \(rerun.stderr)")
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
      let reportSeconds: Double
      let dump: DatabaseDump

      init() throws {
        dir = try TemporaryDirectory()
        SharedFixtures.keep(dir)
        let first = try dir.writeGzipFast("logs/first.ndjson.gz", Workload.ndjson(.init(lines: 3_000, seed: 21, prefix: "r1", creators: 400)).bytes)
        let second = try dir.writeGzipFast("logs/second.ndjson.gz", Workload.ndjson(.init(lines: 12_000, seed: 22, prefix: "r2", creators: 800)).bytes)
        let prepared = try PreparedDatabase(base: [first])
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
        reportSeconds = r2.seconds
        newReport = folderContents(new)
        dump = try DatabaseDump(db)
        try FileManager.default.copyItem(atPath: old, toPath: dir.file("old-pristine"))
      }
    }

    /// Records the fixture's figures (and fails if the workload is too small to kill mid-run).
    @Test func fixtureFigures() throws {
      let f = try Self.fixture()
      let r = try Self.sharedReport.get()
      print(
        "FaultTests.Kill fixture: big input \(f.bigSize) bytes gzip; uninterrupted ingest \(f.ingestSeconds) s, aggregate \(f.aggregateSeconds) s, report \(r.reportSeconds) s (\(r.newReport.count) files); daily_metrics rows \(f.referenceMetrics.count)")
      #expect(f.ingestSeconds > 0.3 && f.aggregateSeconds > 0.1 && r.reportSeconds > 0.1)
    }

    nonisolated(unsafe) static let sharedReport: Result<ReportFixture, any Error> = Result { try ReportFixture() }

    enum ReportMoment: String, CaseIterable, CustomTestStringConvertible {
      case early, middle, late
      /// As soon as anything in the output folder changes: during the writing itself.
      case whileWriting
      var testDescription: String { rawValue }
    }

    /// Kills `report` at several moments; the output folder must hold, for every file, either
    /// the old complete version or the new one — no half-written file, no leftover — and a
    /// rerun must give exactly the uninterrupted report.
    @Test(arguments: ReportMoment.allCases)
    func reportKilled(at moment: ReportMoment) throws {
      let f = try Self.sharedReport.get()
      #expect(f.oldReport.keys.contains("summary.md") && f.newReport["summary.md"] != f.oldReport["summary.md"])
      #expect(f.newReport.count > 100, "the report should write many files (\(f.newReport.count))")
      let dir = try TemporaryDirectory()
      let out = dir.file("out")
      let db = dir.file("report.sqlite")
      func prepare() throws {
        try copyDatabase(f.db, to: db)
        if FileManager.default.fileExists(atPath: out) { try FileManager.default.removeItem(atPath: out) }
        try FileManager.default.copyItem(atPath: f.dir.file("old-pristine"), toPath: out)
      }
      let outcome: ChildProcess.Outcome
      switch moment {
      case .early, .middle, .late:
        let percent = moment == .early ? 15 : moment == .middle ? 50 : 85
        outcome = try killDuringRun(
          "report", ["--db", db, "--out", out], reference: f.reportSeconds, percent: percent, prepare: prepare)
      case .whileWriting:
        try prepare()
        let initial = Self.listing(out)
        let child = try Stage.start("report", ["--db", db, "--out", out])
        while child.isRunning && Self.listing(out) == initial { usleep(100) }
        child.signal(SIGKILL)
        outcome = child.wait()
      }
      #expect(outcome.wasKilled, "report was not killed while running: \(outcome.termination)")

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
          strangers.append(name)
        } else if data != old && data != new {
          halfWritten.append("\(name) (\(data.count) bytes; old \(old?.count ?? -1), new \(new?.count ?? -1))")
        }
      }
      #expect(halfWritten.isEmpty, "half-written files: \(halfWritten.prefix(5)) (\(halfWritten.count) in all)")
      #expect(
        strangers.isEmpty,
        "files that belong to neither the old nor the new report were left in the output folder: \(strangers.prefix(3)) (\(strangers.count) in all)")
      let rerun = try Stage.run("report", ["--db", db, "--out", out])
      #expect(rerun.exitStatus == 0, "rerun: \(rerun.stderr)")
      let final = folderContents(out)
      let extra = Set(final.keys).subtracting(f.newReport.keys).sorted()
      let missing = Set(f.newReport.keys).subtracting(final.keys).sorted()
      #expect(extra.isEmpty && missing.isEmpty, "after the rerun: \(extra.count) extra files \(extra.prefix(3)), \(missing.count) missing \(missing.prefix(3))")
      #expect(final.filter { f.newReport[$0.key] != nil } == f.newReport, "the rerun's report differs from an uninterrupted one")
    }

    /// Every entry below `path` with its size and modification time.
    static func listing(_ path: String) -> [String] {
      guard let walker = FileManager.default.enumerator(atPath: path) else { return [] }
      var result: [String] = []
      while let name = walker.nextObject() as? String {
        var st = stat()
        guard lstat(path + "/" + name, &st) == 0 else { continue }
        result.append("\(name) \(st.st_size) \(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec) \(st.st_ino)")
      }
      return result.sorted()
    }
  }
}

/// Copies a database and returns the copy's path.
func copyDatabaseReturning(_ source: String, _ target: String) throws -> String {
  try copyDatabase(source, to: target)
  return target
}

/// Starts a stage and SIGKILLs it after `percent` % of `reference` seconds. When the process
/// ended on its own first (a faster machine, a slower reference), the scenario is prepared
/// again and the delay halved, up to four times; the caller asserts that the last attempt was
/// killed.
func killDuringRun(
  _ stage: String, _ arguments: [String], reference: Double, percent: Int, prepare: () throws -> Void
) throws -> ChildProcess.Outcome {
  var delay = reference * Double(percent) / 100
  var outcome: ChildProcess.Outcome?
  for _ in 0..<4 {
    try prepare()
    let child = try Stage.start(stage, arguments)
    let deadline = child.started + delay
    while child.isRunning && ChildProcess.now() < deadline { usleep(200) }
    child.signal(SIGKILL)
    let result = child.wait()
    outcome = result
    if result.wasKilled { break }
    delay /= 2
  }
  return outcome!
}
