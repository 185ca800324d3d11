import Foundation
import Testing

@testable import ClickPipeline

#if canImport(Glibc)
  import Glibc
#endif

extension FaultTests {
  /// Full disk, read-only database, databases of another schema version (CONTRACT §10 status 1:
  /// "nothing was changed").
  @Suite struct Storage {
    /// A tmpfs mounted for one test, unmounted when released.
    final class Tmpfs {
      let path: String
      init(at path: String, size: String) throws {
        self.path = path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let r = try ChildProcess.run("/usr/bin/mount", ["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", path])
        guard r.exitStatus == 0 else { throw TestFailure("mount tmpfs: \(r.stderr)") }
      }
      deinit { _ = try? ChildProcess.run("/usr/bin/umount", ["-l", path]) }

      var freeBytes: Int {
        var s = statvfs()
        statvfs(path, &s)
        return Int(s.f_bavail) * Int(s.f_frsize)
      }

      /// Fills the file system until only `slack` bytes are left. The descriptor is closed on
      /// exec: a stage another test starts meanwhile would otherwise inherit it and keep the
      /// filler's space allocated after it is removed (the rerun then found the disk full).
      func fill(leaving slack: Int) throws -> String {
        let filler = path + "/filler"
        let fd = open(filler, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw TestFailure("filler: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let chunk = [UInt8](repeating: 0xAB, count: 64 << 10)
        while freeBytes > slack {
          let n = chunk.withUnsafeBytes { write(fd, $0.baseAddress!, min($0.count, freeBytes - slack)) }
          if n <= 0 { break }
        }
        return filler
      }
    }

    static let diskFullWords = "disk is full"

    enum FullDiskStage: String, CaseIterable, CustomTestStringConvertible {
      case ingest, aggregate
      var testDescription: String { rawValue }
    }

    /// The database on a tmpfs that is full but for 256 KiB: the run fails with exit 1 and a
    /// message saying the disk is full, the database is as before; once space is freed, the
    /// rerun gives what a run on a roomy disk gives.
    @Test(
      .enabled(if: FaultEnvironment.canMountTmpfs, "needs permission to mount a tmpfs (root, CAP_SYS_ADMIN)"),
      arguments: FullDiskStage.allCases)
    func diskFull(during stage: FullDiskStage) throws {
      let dir = try TemporaryDirectory()
      let base = try dir.writeGzipFast("logs/base.ndjson.gz", Workload.ndjson(.init(lines: 2_000, seed: 41, prefix: "base")).bytes)
      let more = try dir.writeGzipFast("logs/more.ndjson.gz", Workload.ndjson(.init(lines: 20_000, seed: 42, prefix: "more")).bytes)
      let reference = dir.file("reference.sqlite")
      try runPipeline(db: reference, inputs: [base, more])
      let referenceMetrics = try TestDatabase(reference).dailyMetrics()

      let fs = try Tmpfs(at: dir.file("mnt"), size: "16m")
      let db = fs.path + "/db.sqlite"
      #expect(try Stage.run("ingest", ["--db", db, base]).exitStatus == 0)
      #expect(try Stage.run("aggregate", ["--db", db]).exitStatus == 0)
      if stage == .aggregate { #expect(try Stage.run("ingest", ["--db", db, more]).exitStatus == 0) }
      let before = try DatabaseDump(db)
      let filler = try fs.fill(leaving: 256 << 10)

      let arguments = stage == .ingest ? ["--db", db, more] : ["--db", db]
      let failed = try Stage.run(stage.rawValue, arguments)
      #expect(failed.termination == .exited(1), "\(failed.termination): \(failed.stderr)")
      #expect(failed.stderr.contains(Self.diskFullWords), "the message should say the disk is full: \(failed.stderr)")
      #expect(failed.stderr.contains(db), "the message should name the database: \(failed.stderr)")
      let after = try DatabaseDump(db)
      #expect(after.integrity == "ok")
      #expect(after == before, "the failed run changed the database:\n\(after.difference(from: before))")

      try FileManager.default.removeItem(atPath: filler)
      let rerun = try Stage.run(stage.rawValue, arguments)
      #expect(rerun.termination == .exited(0), "\(rerun.stderr)")
      if stage == .ingest { #expect(try Stage.run("aggregate", ["--db", db]).exitStatus == 0) }
      #expect(try TestDatabase(db).dailyMetrics() == referenceMetrics)
    }

    static func saysItCannotWrite(_ message: String) -> Bool {
      message.range(of: #"cannot (write|create)|read-only"#, options: [.regularExpression, .caseInsensitive]) != nil
    }

    /// `chattr +i` on the database file: every writing stage fails with exit 1 and says it
    /// cannot write; the database is unchanged. (Removed again in a defer.)
    @Test(.enabled(if: FaultEnvironment.canMakeImmutable, "needs root and a file system where chattr +i works"))
    func immutableDatabaseFile() throws {
      let dir = try TemporaryDirectory()
      let base = try dir.writeGzipFast("logs/base.ndjson.gz", Workload.ndjson(.init(lines: 1_000, seed: 43, prefix: "base")).bytes)
      let more = try dir.writeGzipFast("logs/more.ndjson.gz", Workload.ndjson(.init(lines: 1_000, seed: 44, prefix: "more")).bytes)
      let db = dir.file("db.sqlite")
      #expect(try Stage.run("ingest", ["--db", db, base]).exitStatus == 0)
      let before = try DatabaseDump(db)
      #expect(try ChildProcess.run("/usr/bin/chattr", ["+i", db]).exitStatus == 0)
      defer { _ = try? ChildProcess.run("/usr/bin/chattr", ["-i", db]) }
      for arguments in [["ingest", more], ["aggregate"], ["ingest", "--forget", base]] {
        let r = try Stage.run(arguments[0], ["--db", db] + arguments.dropFirst())
        #expect(r.termination == .exited(1), "\(arguments): \(r.termination) \(r.stderr)")
        #expect(Self.saysItCannotWrite(r.stderr), "\(arguments): the message should say it cannot write: \(r.stderr)")
      }
      #expect(try DatabaseDump(db) == before)
    }

    /// The database's folder remounted read-only: exit 1, a message that says it cannot write.
    @Test(.enabled(if: FaultEnvironment.canMountTmpfs, "needs permission to mount (root, CAP_SYS_ADMIN)"))
    func readOnlyFileSystem() throws {
      let dir = try TemporaryDirectory()
      let base = try dir.writeGzipFast("logs/base.ndjson.gz", Workload.ndjson(.init(lines: 1_000, seed: 45, prefix: "base")).bytes)
      let more = try dir.writeGzipFast("logs/more.ndjson.gz", Workload.ndjson(.init(lines: 1_000, seed: 46, prefix: "more")).bytes)
      let fs = try Tmpfs(at: dir.file("mnt"), size: "16m")
      let db = fs.path + "/db.sqlite"
      #expect(try Stage.run("ingest", ["--db", db, base]).exitStatus == 0)
      let before = try DatabaseDump(db)
      let remount = try ChildProcess.run("/usr/bin/mount", ["-o", "remount,ro", fs.path])
      try #require(remount.exitStatus == 0, "remount read-only: \(remount.stderr)")
      for arguments in [["ingest", more], ["aggregate"]] {
        let r = try Stage.run(arguments[0], ["--db", db] + arguments.dropFirst())
        #expect(r.termination == .exited(1), "\(arguments): \(r.termination) \(r.stderr)")
        #expect(Self.saysItCannotWrite(r.stderr), "\(arguments): the message should say it cannot write: \(r.stderr)")
      }
      #expect(try DatabaseDump(db) == before)
      #expect(try ChildProcess.run("/usr/bin/mount", ["-o", "remount,rw", fs.path]).exitStatus == 0)
      #expect(try Stage.run("ingest", ["--db", db, more]).exitStatus == 0)
    }

    struct VersionCase: CustomTestStringConvertible, Sendable {
      var version: String?
      var advice: String
      var testDescription: String { version.map { "schema_version \($0)" } ?? "no meta table" }
    }

    /// A database of another schema version (0: older than any migration; 99: newer than this
    /// build; no meta table: not ours): every stage refuses it with exit 1 and a message saying
    /// what to do, and leaves it unchanged.
    @Test(arguments: [
      VersionCase(version: "0", advice: "rebuild it by ingesting the logs into a new database"),
      VersionCase(version: "99", advice: "upgrade ClickPipeline"),
      VersionCase(version: nil, advice: "point --db at a new file"),
    ])
    func otherSchemaVersion(_ c: VersionCase) throws {
      let dir = try TemporaryDirectory()
      let base = try dir.writeGzipFast("logs/base.ndjson.gz", Workload.ndjson(.init(lines: 500, seed: 47, prefix: "base")).bytes)
      let db = dir.file("db.sqlite")
      try runPipeline(db: db, inputs: [base])
      do {
        let w = try SQLiteDatabase(path: db)
        if let version = c.version {
          try w.run("UPDATE meta SET value = ? WHERE key = 'schema_version'", [.text(version)])
        } else {
          try w.execute("DROP TABLE meta")
        }
      }
      let before = try DatabaseDump(db)
      let out = dir.file("out")
      for arguments in [
        ["ingest", base], ["aggregate"], ["aggregate", "--rebuild"], ["report", "--out", out], ["ingest", "--forget", base],
      ] {
        let r = try Stage.run(arguments[0], ["--db", db] + arguments.dropFirst())
        #expect(r.termination == .exited(1), "\(arguments): \(r.termination) \(r.stderr)")
        #expect(r.stderr.contains(c.advice), "\(arguments): the message should say what to do: \(r.stderr)")
        if let version = c.version { #expect(r.stderr.contains("schema version \(version)"), "\(r.stderr)") }
      }
      #expect(try DatabaseDump(db) == before)
      #expect(!FileManager.default.fileExists(atPath: out + "/summary.md"))
    }

    /// The report folder on a tmpfs that fills up while statements are written (on their own
    /// thread): exit 1 with a message naming the folder, the previous report left whole, no
    /// staging folder left behind; once space is freed, the rerun writes the new report.
    @Test(.enabled(if: FaultEnvironment.canMountTmpfs, "needs permission to mount a tmpfs (root, CAP_SYS_ADMIN)"))
    func reportFolderFillsUp() throws {
      let dir = try TemporaryDirectory()
      let base = try dir.writeGzipFast("logs/base.ndjson.gz", Workload.ndjson(.init(lines: 2_000, seed: 51, prefix: "base")).bytes)
      let more = try dir.writeGzipFast("logs/more.ndjson.gz", Workload.ndjson(.init(lines: 20_000, seed: 52, prefix: "more")).bytes)
      let db = dir.file("db.sqlite")
      try runPipeline(db: db, inputs: [base])
      let fs = try Tmpfs(at: dir.file("mnt"), size: "4m")
      let out = fs.path + "/out"
      #expect(try Stage.run("report", ["--db", db, "--out", out]).exitStatus == 0)
      let old = folderContents(out)
      try runPipeline(db: db, inputs: [more])
      let filler = try fs.fill(leaving: 48 << 10)

      let failed = try Stage.run("report", ["--db", db, "--out", out])
      #expect(failed.termination == .exited(1), "\(failed.termination): \(failed.stderr)")
      #expect(failed.stderr.contains(out), "the message should name the folder: \(failed.stderr)")
      #expect(folderContents(out) == old)
      #expect(try FileManager.default.contentsOfDirectory(atPath: fs.path).sorted() == ["filler", "out"])

      try FileManager.default.removeItem(atPath: filler)
      #expect(try Stage.run("report", ["--db", db, "--out", out]).exitStatus == 0)
      let new = folderContents(out)
      #expect(new != old && new.keys.filter { $0.hasPrefix("creators/") }.count > 40)
    }

    /// A file that is not a database at all: exit 1, the file untouched.
    @Test func notADatabase() throws {
      let dir = try TemporaryDirectory()
      let input = try dir.writeGzip(
        "a.ndjson.gz", lines: [#"{"type":"view","event_id":"v1","ts":"2026-11-01T10:00:00Z","creator_id":"c1"}"#])
      let bytes = Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
      let db = try dir.write("clicks.sqlite", bytes)
      for arguments in [["ingest", input], ["aggregate"], ["report", "--out", dir.file("out")]] {
        let r = try Stage.run(arguments[0], ["--db", db] + arguments.dropFirst())
        #expect(r.termination == .exited(1), "\(arguments): \(r.termination) \(r.stderr)")
        #expect(r.stderr.contains(db), "\(r.stderr)")
      }
      #expect(try Data(contentsOf: URL(fileURLWithPath: db)) == bytes)
    }
  }
}
