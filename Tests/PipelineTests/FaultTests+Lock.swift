import Foundation
import Testing

@testable import ClickPipeline

#if canImport(Glibc)
  import Glibc
#endif

extension FaultTests {
  /// Two runs at once (a slow night overlapping the next cron start), CONTRACT §10 status 75.
  ///
  /// The first run is a real `ingest` whose input is a named pipe: it takes the lock, opens its
  /// transaction and then blocks until the test writes the pipe's content — a long run that
  /// ends exactly when the test says so.
  @Suite struct Lock {
    /// A real `ingest` holding the database's lock until ``finish(with:)``.
    final class Holder {
      let fifo: String
      let child: ChildProcess
      let lockFile: String

      init(db: String, dir: TemporaryDirectory) throws {
        fifo = dir.file("slow-input-\(UUID().uuidString).ndjson")
        guard mkfifo(fifo, 0o644) == 0 else { throw TestFailure("mkfifo: \(String(cString: strerror(errno)))") }
        lockFile = db + ".lock"
        child = try Stage.start("ingest", ["--db", db, fifo])
        // The holder writes "ingest, pid N, host H, started T" into the lock file once it holds it.
        // Up to 60 s (a loaded machine may start the process late); it returns once it holds it.
        let deadline = ChildProcess.now() + 60
        while ChildProcess.now() < deadline {
          if let text = try? String(contentsOfFile: lockFile, encoding: .utf8), text.contains("pid \(child.pid),") { return }
          guard child.isRunning else { throw TestFailure("the holder ended early: \(child.wait().stderr)") }
          usleep(2_000)
        }
        throw TestFailure("the holder did not take the lock within 60 s")
      }

      /// Writes `lines` into the pipe and closes it: the holder then finishes its run.
      func finish(with lines: [String]) -> ChildProcess.Outcome {
        let bytes = Array(lines.map { $0 + "\n" }.joined().utf8)
        serveFifo(fifo, to: child, timeout: 60) { writeAll($0, bytes) }
        let outcome = child.wait(timeout: 60)
        #expect(!child.timedOut, "the holder did not finish")
        return outcome
      }
    }

    static let holderLines = [
      #"{"type":"view","event_id":"holder-1","ts":"2026-11-01T10:00:00Z","creator_id":"c1","viewer_id":"u1"}"#,
      #"{"type":"click","event_id":"holder-2","ts":"2026-11-01T10:01:00Z","creator_id":"c1","viewer_id":"u1","product_id":"B1","platform":"amazon"}"#,
    ]

    static func hostName() -> String {
      var host = [CChar](repeating: 0, count: 256)
      gethostname(&host, 255)
      return String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Parses the `started YYYY-MM-DDTHH:MM:SSZ` of a lock message into epoch seconds.
    static func startTime(in message: String) -> Int? {
      guard let range = message.range(of: #"started \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"#, options: .regularExpression) else {
        return nil
      }
      var text = String(message[range].dropFirst("started ".count))
      return text.withUTF8 { bytes in
        Timestamp.parseRFC3339(UnsafeRawBufferPointer(bytes)).map { Int($0 / 1000) }
      }
    }

    struct Contender: CustomTestStringConvertible, Sendable {
      var stage: String
      var extra: [String]
      var testDescription: String { ([stage] + extra).joined(separator: " ") }
    }

    static let contenders = [
      Contender(stage: "ingest", extra: ["INPUT"]),
      Contender(stage: "ingest", extra: ["--forget", "INPUT"]),
      Contender(stage: "aggregate", extra: []),
      Contender(stage: "report", extra: ["--out", "OUT"]),
      Contender(stage: "backup", extra: ["--out", "OUT"]),
    ]

    /// While the holder runs, each stage exits with 75 (without --wait it does not wait) and
    /// names the holder (pid, host, start time), and changes nothing.
    @Test func secondRunExitsWith75NamingTheHolder() throws {
      let dir = try TemporaryDirectory()
      let input = try dir.writeGzip("logs/a.ndjson.gz", lines: Self.holderLines.map { $0.replacingOccurrences(of: "holder-", with: "a-") })
      let db = dir.file("db.sqlite")
      #expect(try Stage.run("ingest", ["--db", db, input]).exitStatus == 0)
      let before = try DatabaseDump(db)

      let holderStartsAfter = time(nil)
      let holder = try Holder(db: db, dir: dir)
      let holderStartedBefore = time(nil)
      for contender in Self.contenders {
        let arguments = ["--db", db] + contender.extra.map { $0 == "INPUT" ? input : $0 == "OUT" ? dir.file("out") : $0 }
        let second = try Stage.run(contender.stage, arguments)
        #expect(second.termination == .exited(75), "\(contender.testDescription): \(second.termination) \(second.stderr)")
        #expect(
          second.stderr.contains("pid \(holder.child.pid)"), "\(contender.testDescription) does not name the holder's pid: \(second.stderr)"
        )
        #expect(second.stderr.contains("host \(Self.hostName())"), "no host in: \(second.stderr)")
        let started = Self.startTime(in: second.stderr)
        #expect(
          started.map { $0 >= holderStartsAfter && $0 <= holderStartedBefore } == true, "not the holder's start time in: \(second.stderr)")
        #expect(second.stderr.contains("--wait"), "the message should say how to wait: \(second.stderr)")
      }
      #expect(!FileManager.default.fileExists(atPath: dir.file("out")), "neither a report nor a backup")
      #expect(try DatabaseDump(db) == before, "a refused run changed the database")

      let first = holder.finish(with: Self.holderLines)
      #expect(first.termination == .exited(0), "holder: \(first.stderr)")
      #expect(try TestDatabase(db).int("SELECT count(*) FROM files WHERE status = 'ingested'") == 2)
    }

    /// The test process itself holds `flock` on `<db>.lock` (another tool, or a run of an older
    /// version that wrote nothing into the file): still 75, promptly.
    @Test func lockHeldWithFlockByAnotherProcess() throws {
      let dir = try TemporaryDirectory()
      let db = dir.file("db.sqlite")
      let input = try dir.writeGzip("a.ndjson.gz", lines: Self.holderLines)
      let first = try dir.writeGzip("first.ndjson.gz", lines: [Self.holderLines[0].replacingOccurrences(of: "holder-", with: "first-")])
      #expect(try Stage.run("ingest", ["--db", db, first]).exitStatus == 0)
      let fd = open(db + ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
      #expect(fd >= 0)
      defer { close(fd) }
      #expect(flock(fd, LOCK_EX | LOCK_NB) == 0)
      for (stage, arguments) in [("ingest", [input]), ("aggregate", [])] {
        let r = try Stage.run(stage, ["--db", db] + arguments)
        #expect(r.termination == .exited(75), "\(stage): \(r.termination) \(r.stderr)")
        #expect(r.stderr.contains("in use by another run"), "\(r.stderr)")
      }
      #expect(flock(fd, LOCK_UN) == 0)
      #expect(try Stage.run("ingest", ["--db", db, input]).exitStatus == 0)
    }

    /// `--wait 600`: the second run says it waits for the holder, then does its work once the
    /// holder is done.
    @Test(arguments: ["ingest", "aggregate"])
    func waitOptionWaitsThenSucceeds(stage: String) throws {
      let dir = try TemporaryDirectory()
      let db = dir.file("db.sqlite")
      let input = try dir.writeGzip("logs/b.ndjson.gz", lines: Self.holderLines.map { $0.replacingOccurrences(of: "holder-", with: "b-") })
      let holder = try Holder(db: db, dir: dir)
      let waiting = try Stage.start(stage, ["--db", db, "--wait", "600", "-v"] + (stage == "ingest" ? [input] : []))
      // It says so once it has found the lock taken: only then is the holder let go.
      while waiting.isRunning && !waiting.stderrSoFar.contains("waiting up to 600 s for the database") { usleep(2_000) }
      #expect(waiting.isRunning, "the second \(stage) should be waiting for the lock: \(waiting.stderrSoFar)")
      #expect(waiting.stderrSoFar.contains("held by ingest, pid \(holder.child.pid),"), "\(waiting.stderrSoFar)")
      let first = holder.finish(with: Self.holderLines)
      #expect(first.termination == .exited(0), "holder: \(first.stderr)")
      let second = waiting.wait(timeout: 60)
      #expect(second.termination == .exited(0), "\(stage) --wait 600: \(second.termination) \(second.stderr)")
      let t = try TestDatabase(db)
      #expect(try t.int("SELECT count(*) FROM runs WHERE command = '\(stage)' AND exit_status = 0") == (stage == "ingest" ? 2 : 1))
      if stage == "ingest" {
        #expect(try stagedTraffic(db, kind: .click).count == 2)
      } else {
        #expect(try t.dailyMetrics().isEmpty == false)
      }
    }

    /// `--wait 1` against a holder that does not finish: 75, saying how long it waited.
    @Test func waitGivesUpAfterItsTime() throws {
      let dir = try TemporaryDirectory()
      let db = dir.file("db.sqlite")
      let holder = try Holder(db: db, dir: dir)
      let r = try Stage.run("aggregate", ["--db", db, "--wait", "1"])
      #expect(r.termination == .exited(75), "\(r.stderr)")
      #expect(r.stderr.contains("; waited 1 s"), "\(r.stderr)")
      #expect(r.stderr.contains("pid \(holder.child.pid)"))
      #expect(holder.finish(with: Self.holderLines).termination == .exited(0))
    }

    /// A holder killed with SIGKILL leaves its lock file (with its pid) behind, but not the
    /// lock: the next run starts at once, and the killed run left nothing.
    @Test func lockOfAKilledRunDoesNotBlock() throws {
      let dir = try TemporaryDirectory()
      let db = dir.file("db.sqlite")
      let first = try dir.writeGzip(
        "logs/first.ndjson.gz", lines: Self.holderLines.map { $0.replacingOccurrences(of: "holder-", with: "f-") })
      #expect(try Stage.run("ingest", ["--db", db, first]).exitStatus == 0)
      let before = try DatabaseDump(db)
      let holder = try Holder(db: db, dir: dir)
      holder.child.signal(SIGKILL)
      let killed = holder.child.wait()
      #expect(killed.wasKilled)
      #expect(try DatabaseDump(db) == before)
      let stale = (try? String(contentsOfFile: db + ".lock", encoding: .utf8)) ?? ""
      #expect(stale.contains("pid \(holder.child.pid)"), "the dead holder's note stays in the lock file: '\(stale)'")

      let next = try dir.writeGzip(
        "logs/next.ndjson.gz", lines: Self.holderLines.map { $0.replacingOccurrences(of: "holder-", with: "n-") })
      let r = try Stage.run("ingest", ["--db", db, next])
      #expect(r.termination == .exited(0), "\(r.stderr)")
      let t = try TestDatabase(db)
      #expect(try t.rows("SELECT path FROM files ORDER BY file_id").map(\.[0]) == [first, next])
      #expect(try stagedTraffic(db, kind: .view).filter { $0[1].hasPrefix("holder-") }.isEmpty)
      #expect(try Stage.run("aggregate", ["--db", db]).exitStatus == 0)
    }
  }
}
