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
      let ingestCPU: Double
      let aggregateCPU: Double

      init() throws {
        dir = try TemporaryDirectory()
        SharedFixtures.keep(dir)
        let base = Workload.ndjson(.init(lines: 4_000, seed: 11, prefix: "base"))
        let basePath = try dir.writeGzipFast("logs/base.ndjson.gz", base.bytes)
        let bigLines = Workload.ndjson(.init(lines: 120_000, seed: 12, prefix: "big"))
        big = try dir.writeGzipFast("logs/big.ndjson.gz", bigLines.bytes)
        bigSize = Int((try FileManager.default.attributesOfItem(atPath: big)[.size] as? Int) ?? 0)
        prepared = try PreparedDatabase(base: [basePath], shared: true)
        before = try DatabaseDump(prepared.pristine)

        ingested = try prepared.copy(to: dir.file("ingested.sqlite"))
        let ingest = try Stage.run("ingest", ["--db", ingested, big])
        guard ingest.exitStatus == 0 else { throw TestFailure("reference ingest: \(ingest.termination) \(ingest.stderr)") }
        ingestSeconds = ingest.seconds
        ingestCPU = ingest.cpuSeconds
        ingestedDump = try DatabaseDump(ingested)

        let complete = try copyDatabaseReturning(ingested, dir.file("reference.sqlite"))
        let aggregate = try Stage.run("aggregate", ["--db", complete])
        guard aggregate.exitStatus == 0 else { throw TestFailure("reference aggregate: \(aggregate.termination) \(aggregate.stderr)") }
        aggregateSeconds = aggregate.seconds
        aggregateCPU = aggregate.cpuSeconds
        reference = try DatabaseDump(complete, dropping: DatabaseDump.runVolatile)
        referenceMetrics = try TestDatabase(complete).dailyMetrics()
      }
    }

    nonisolated(unsafe) static let shared: Result<Fixture, any Error> = Result { try Fixture() }
    static func fixture() throws -> Fixture { try shared.get() }

    /// Kills `ingest` at 5, 30, 70 and 95 % of its work (the CPU time of an uninterrupted run,
    /// independent of machine load), then checks every table against the state before the run,
    /// and that a rerun gives exactly what an uninterrupted run gives.
    @Test(arguments: [5, 30, 70, 95])
    func ingestKilledAt(percent: Int) throws {
      let f = try Self.fixture()
      #expect(f.referenceMetrics.count > 1_000, "the workload should fill daily_metrics")
      let dir = try TemporaryDirectory()
      let db = dir.file("kill.sqlite")
      let (outcome, moment) = try killDuringRun(
        "ingest", ["--db", db, f.big], referenceCPU: f.ingestCPU, percent: percent,
        prepare: { try copyDatabase(f.prepared.pristine, to: db) })
      #expect(
        outcome.wasKilled,
        "ingest was not killed while running: \(outcome.termination) after \(outcome.cpuSeconds) s CPU (uninterrupted: \(f.ingestCPU) s)")
      #expect(moment >= percent - 10, "killed only at \(moment) %")

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

    /// Kills `aggregate` at 10, 50 and 90 % of its work (CPU time of an uninterrupted run).
    @Test(arguments: [10, 50, 90])
    func aggregateKilledAt(percent: Int) throws {
      let f = try Self.fixture()
      let dir = try TemporaryDirectory()
      let db = dir.file("kill.sqlite")
      let (outcome, moment) = try killDuringRun(
        "aggregate", ["--db", db], referenceCPU: f.aggregateCPU, percent: percent,
        prepare: { try copyDatabase(f.ingested, to: db) })
      #expect(outcome.wasKilled, "aggregate was not killed while running: \(outcome.termination)")
      #expect(moment >= percent - 10, "killed only at \(moment) %")

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
      let reportCPU: Double
      let dump: DatabaseDump

      init() throws {
        dir = try TemporaryDirectory()
        SharedFixtures.keep(dir)
        let first = try dir.writeGzipFast("logs/first.ndjson.gz", Workload.ndjson(.init(lines: 3_000, seed: 21, prefix: "r1", creators: 400)).bytes)
        let second = try dir.writeGzipFast("logs/second.ndjson.gz", Workload.ndjson(.init(lines: 12_000, seed: 22, prefix: "r2", creators: 800)).bytes)
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
        reportSeconds = r2.seconds
        reportCPU = r2.cpuSeconds
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
        "FaultTests.Kill fixture: big input \(f.bigSize) bytes gzip; uninterrupted ingest \(f.ingestSeconds) s (CPU \(f.ingestCPU) s), aggregate \(f.aggregateSeconds) s (CPU \(f.aggregateCPU) s), report \(r.reportSeconds) s (CPU \(r.reportCPU) s, \(r.newReport.count) files); daily_metrics rows \(f.referenceMetrics.count)")
      // Enough work to kill at distinct moments (CPU time is counted in 10 ms ticks).
      #expect(f.ingestCPU > 0.5 && f.aggregateCPU > 0.2 && r.reportCPU > 0.1)
    }

    nonisolated(unsafe) static let sharedReport: Result<ReportFixture, any Error> = Result { try ReportFixture() }

    enum ReportMoment: String, CaseIterable, CustomTestStringConvertible {
      /// At 20 % of the CPU time of an uninterrupted run: computing, nothing written yet.
      case computing
      /// As soon as anything in the output folder changes.
      case firstWrite
      /// When half as many files as the new report has statements are new or changed.
      case halfWritten
      /// When 90 % of that many files are new or changed. (The last moments, between the last
      /// statement and the exit, are too short to hit by watching the folder.)
      case mostWritten
      var testDescription: String { rawValue }
    }

    /// Kills `report` at several moments; the output folder must hold, for every file, either
    /// the old complete version or the new one — no half-written file, no visible leftover, no
    /// file of both reports missing — and a rerun must give exactly the uninterrupted report
    /// (which also removes whatever the killed run left behind). The writing moments are
    /// observed in the output folder (CPU time varies too much there: file system work).
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
      case .computing:
        outcome = try killDuringRun(
          "report", ["--db", db, "--out", out], referenceCPU: f.reportCPU, percent: 20, prepare: prepare).outcome
      case .firstWrite, .halfWritten, .mostWritten:
        try prepare()
        let initial = Set(Self.listing(out))
        let statements = f.newReport.keys.filter { $0.hasPrefix("creators/") }.count
        let needed = moment == .firstWrite ? 1 : moment == .halfWritten ? statements / 2 : statements * 9 / 10
        let child = try Stage.start("report", ["--db", db, "--out", out])
        while child.isRunning {
          let changed = Set(Self.listing(out)).subtracting(initial)
          let count = moment == .firstWrite ? changed.count : changed.filter { !$0.hasPrefix("d ") }.count
          if count >= needed { break }
          usleep(200)
        }
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
        "files that belong to neither the old nor the new report were left in the output folder: \(strangers.prefix(3)) (\(strangers.count) in all)")
      // A file of both reports must not vanish (e.g. a folder swapped out and not yet back).
      let vanished = Set(f.oldReport.keys).intersection(f.newReport.keys).subtracting(found.keys).sorted()
      #expect(vanished.isEmpty, "files of both reports missing after the kill: \(vanished.prefix(3)) (\(vanished.count) in all)")
      let rerun = try Stage.run("report", ["--db", db, "--out", out])
      #expect(rerun.exitStatus == 0, "rerun: \(rerun.stderr)")
      let final = folderContents(out)
      let extra = Set(final.keys).subtracting(f.newReport.keys).sorted()
      let missing = Set(f.newReport.keys).subtracting(final.keys).sorted()
      #expect(extra.isEmpty && missing.isEmpty, "after the rerun: \(extra.count) extra files \(extra.prefix(3)), \(missing.count) missing \(missing.prefix(3))")
      #expect(final.filter { f.newReport[$0.key] != nil } == f.newReport, "the rerun's report differs from an uninterrupted one")
    }

    /// Every entry below `path`: kind (`d` or `f`), name, size, modification time and inode.
    /// Plain readdir/lstat: fast enough to poll while a report writes hundreds of files.
    static func listing(_ path: String) -> [String] {
      var result: [String] = []
      func walk(_ dir: String, _ prefix: String) {
        guard let handle = opendir(dir) else { return }
        defer { closedir(handle) }
        while let entry = readdir(handle) {
          let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
          }
          if name == "." || name == ".." { continue }
          var st = stat()
          guard lstat(dir + "/" + name, &st) == 0 else { continue }
          let isDirectory = (st.st_mode & S_IFMT) == S_IFDIR
          result.append("\(isDirectory ? "d" : "f") \(prefix)\(name) \(st.st_size) \(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec) \(st.st_ino)")
          if isDirectory { walk(dir + "/" + name, prefix + name + "/") }
        }
      }
      walk(path, "")
      return result
    }
  }
}

/// Copies a database and returns the copy's path.
func copyDatabaseReturning(_ source: String, _ target: String) throws -> String {
  try copyDatabase(source, to: target)
  return target
}

/// Starts a stage and SIGKILLs it once it has used `percent` % of the CPU time an
/// uninterrupted run used (`referenceCPU`, user + system, read in /proc): a measure of work
/// done that does not depend on how loaded the machine is. If the process still ended on its
/// own first (CPU accounting varies by a few percent), the scenario is prepared again and the
/// moment moved 5 points earlier, up to four times; the caller asserts that the last attempt
/// was killed. Returns the outcome and the percentage used.
func killDuringRun(
  _ stage: String, _ arguments: [String], referenceCPU: Double, percent: Int, prepare: () throws -> Void
) throws -> (outcome: ChildProcess.Outcome, percent: Int) {
  var moment = percent
  var last: ChildProcess.Outcome?
  for _ in 0..<4 {
    try prepare()
    let child = try Stage.start(stage, arguments)
    let target = referenceCPU * Double(moment) / 100
    while child.isRunning {
      if let used = ProcProbe.cpuSeconds(pid: child.pid), used >= target { break }
      usleep(500)
    }
    child.signal(SIGKILL)
    let result = child.wait()
    last = result
    if result.wasKilled { return (result, moment) }
    moment = max(1, moment - 5)
  }
  return (last!, moment)
}
