import Foundation
import Testing

@testable import ClickPipeline

#if canImport(Glibc)
  import Glibc
#endif

// Support for FaultTests: real processes with their pid, termination signal and peak memory;
// a fast deterministic log generator; whole-database dumps; progress probes in /proc.

/// The fault-injection tests: each fault is injected into the real `ingest`, `aggregate` and
/// `report` processes, and the database is checked afterwards against an uninterrupted run.
/// The nested suites live in FaultTests+*.swift. Tests that need root (mount, chattr, setpriv)
/// or /usr/bin/time are skipped with the reason where those are not available. None is slow
/// enough to need CLICKPIPELINE_SLOW_TESTS: the 2 GiB inputs take about 5 s (a sparse file,
/// read twice: verified, then parsed) and 1 s (a pipe, read once).
@Suite struct FaultTests {}

enum FaultEnvironment {
  static let isRoot = getuid() == 0

  /// Whether this process may mount a tmpfs (root in a container that allows it).
  static let canMountTmpfs: Bool = {
    guard isRoot, FileManager.default.isExecutableFile(atPath: "/usr/bin/mount") else { return false }
    guard let dir = try? TemporaryDirectory() else { return false }
    let point = dir.file("probe")
    try? FileManager.default.createDirectory(atPath: point, withIntermediateDirectories: true)
    guard let mounted = try? ChildProcess.run("/usr/bin/mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", point]),
      mounted.exitStatus == 0
    else { return false }
    _ = try? ChildProcess.run("/usr/bin/umount", [point])
    return true
  }()

  /// Whether `setpriv` can run a program as `nobody` here.
  static let canDropPrivileges: Bool = {
    guard isRoot, FileManager.default.isExecutableFile(atPath: setpriv) else { return false }
    guard let r = try? ChildProcess.run(setpriv, asNobody + ["/usr/bin/id", "-u"]) else { return false }
    return r.exitStatus == 0 && r.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "65534"
  }()

  static let setpriv = "/usr/bin/setpriv"
  static let asNobody = ["--reuid=65534", "--regid=65534", "--clear-groups"]

  /// Whether `chattr +i` works on files in the temporary folder (ext4, xfs, btrfs… as root).
  static let canMakeImmutable: Bool = {
    guard isRoot, FileManager.default.isExecutableFile(atPath: "/usr/bin/chattr"),
      let dir = try? TemporaryDirectory(), let file = try? dir.write("probe", "x")
    else { return false }
    guard let r = try? ChildProcess.run("/usr/bin/chattr", ["+i", file]), r.exitStatus == 0 else { return false }
    _ = try? ChildProcess.run("/usr/bin/chattr", ["-i", file])
    return true
  }()
}

// MARK: - Processes

/// A child process started with `posix_spawn`, so that the test knows its pid, can kill it,
/// and learns how it ended (exit status or signal) and its peak resident memory (`wait4`).
final class ChildProcess: @unchecked Sendable {
  enum Termination: Equatable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)
    var description: String {
      switch self {
      case .exited(let status): "exit status \(status)"
      case .signaled(let signal): "killed by signal \(signal)"
      }
    }
  }

  struct Outcome {
    var termination: Termination
    /// Peak resident set size of the child in KiB, measured by `/usr/bin/time -f %M` for
    /// ``Stage/run(_:_:asNobody:measuringMemory:)``; otherwise `ru_maxrss` from `wait4`, which
    /// on Linux also counts this test process's memory (posix_spawn shares it until exec).
    var maxRSSKiB: Int
    var seconds: Double
    /// User + system CPU time of the child (all its threads), from `wait4`.
    var cpuSeconds: Double
    var stdout: String
    var stderr: String
    /// The exit status, or 128 + signal (as a shell shows it).
    var exitStatus: Int32 {
      switch termination {
      case .exited(let s): s
      case .signaled(let s): 128 + s
      }
    }
    var wasKilled: Bool { termination == .signaled(SIGKILL) }
  }

  let pid: pid_t
  let started: Double
  private let outPath: String
  private let errPath: String
  private let ownsOutput: Bool
  private var finished: (Termination, Int, Double, Double)?

  /// Starts `program` with `arguments`; its standard output and error go to files (no pipe can
  /// fill up), its standard input is /dev/null.
  init(_ program: String, _ arguments: [String], environment: [String: String]? = nil) throws {
    let base = FileManager.default.temporaryDirectory.path + "/clickpipeline-child-" + UUID().uuidString
    outPath = base + ".out"
    errPath = base + ".err"
    ownsOutput = true
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    let argv: [UnsafeMutablePointer<CChar>?] = ([program] + arguments).map { strdup($0) } + [nil]
    defer { for p in argv { free(p) } }
    var env = environment ?? ProcessInfo.processInfo.environment
    env["SWIFT_BACKTRACE"] = env["SWIFT_BACKTRACE"] ?? "enable=no"  // a crash shows as a signal, fast
    let envp: [UnsafeMutablePointer<CChar>?] = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { for p in envp { free(p) } }
    var child: pid_t = 0
    // The tests write into named pipes whose reader may be gone: EPIPE, not death by SIGPIPE.
    // The child gets the default disposition back.
    _ = Self.ignoreBrokenPipes
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var defaults = sigset_t()
    sigemptyset(&defaults)
    sigaddset(&defaults, SIGPIPE)
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF))
    let rc = posix_spawn(&child, program, &actions, &attributes, argv, envp)
    guard rc == 0 else { throw TestFailure("posix_spawn \(program): \(String(cString: strerror(rc)))") }
    pid = child
    started = Self.now()
  }

  deinit {
    if finished == nil {
      kill(pid, SIGKILL)
      _ = wait()
    }
    if ownsOutput {
      unlink(outPath)
      unlink(errPath)
    }
  }

  private static let ignoreBrokenPipes: Void = { _ = Glibc.signal(SIGPIPE, SIG_IGN) }()

  static func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
  }

  /// Whether the child is still running (reaps it when it has ended).
  var isRunning: Bool {
    if finished != nil { return false }
    return reap(blocking: false) == nil
  }

  func signal(_ sig: Int32) { kill(pid, sig) }

  /// What the child has written to standard error so far.
  var stderrSoFar: String {
    String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: errPath))) ?? Data(), as: UTF8.self)
  }

  /// Set when ``wait(timeout:)`` had to kill the child.
  private(set) var timedOut = false

  /// Waits for the child to end; after `timeout` seconds it is killed (SIGKILL) and
  /// ``timedOut`` is set, so that no test can hang.
  @discardableResult
  func wait(timeout: Double = 300) -> Outcome {
    let deadline = started + timeout
    while finished == nil && reap(blocking: false) == nil {
      if Self.now() > deadline {
        timedOut = true
        kill(pid, SIGKILL)
        break
      }
      usleep(1_000)
    }
    let (termination, rss, seconds, cpu) = finished ?? reap(blocking: true)!
    return Outcome(
      termination: termination, maxRSSKiB: rss, seconds: seconds, cpuSeconds: cpu,
      stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
      stderr: String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: errPath))) ?? Data(), as: UTF8.self))
  }

  private func reap(blocking: Bool) -> (Termination, Int, Double, Double)? {
    var status: Int32 = 0
    var usage = rusage()
    while true {
      let r = wait4(pid, &status, blocking ? 0 : WNOHANG, &usage)
      if r == 0 { return nil }
      if r < 0 && errno == EINTR { continue }
      guard r == pid else { return nil }
      break
    }
    let termination: Termination =
      (status & 0x7F) == 0 ? .exited((status >> 8) & 0xFF) : .signaled(status & 0x7F)
    let cpu =
      Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec)
      + Double(usage.ru_stime.tv_usec) / 1e6
    let result = (termination, Int(usage.ru_maxrss), Self.now() - started, cpu)
    finished = result
    return result
  }

  /// Runs a program to its end.
  static func run(_ program: String, _ arguments: [String], environment: [String: String]? = nil) throws -> Outcome {
    try ChildProcess(program, arguments, environment: environment).wait()
  }
}

/// The pipeline's executables, run through ``ChildProcess``.
enum Stage {
  static func path(_ name: String) -> String { Executables.path(name) }

  static func start(_ name: String, _ arguments: [String], asNobody: Bool = false) throws -> ChildProcess {
    if asNobody {
      return try ChildProcess(FaultEnvironment.setpriv, FaultEnvironment.asNobody + [path(name)] + arguments)
    }
    return try ChildProcess(path(name), arguments)
  }

  @discardableResult
  static func run(_ name: String, _ arguments: [String], asNobody: Bool = false) throws -> ChildProcess.Outcome {
    try start(name, arguments, asNobody: asNobody).wait()
  }

  static let timeProgram = "/usr/bin/time"
  static var canMeasureMemory: Bool { FileManager.default.isExecutableFile(atPath: timeProgram) }

  /// Runs a stage under `/usr/bin/time -f %M`, which forks it from its own small process, so
  /// that the peak RSS is the stage's alone.
  static func runMeasuringMemory(_ name: String, _ arguments: [String]) throws -> ChildProcess.Outcome {
    let report = FileManager.default.temporaryDirectory.path + "/clickpipeline-rss-" + UUID().uuidString
    defer { unlink(report) }
    var outcome = try ChildProcess(timeProgram, ["-f", "%M", "-o", report, path(name)] + arguments).wait()
    let text = (try? String(contentsOfFile: report, encoding: .utf8)) ?? ""
    // GNU time writes "Command exited with non-zero status N" before the figure when N != 0.
    guard let kib = text.split(separator: "\n").last.flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }) else {
      throw TestFailure("/usr/bin/time wrote no figure: '\(text)'; stderr: \(outcome.stderr)")
    }
    outcome.maxRSSKiB = kib
    return outcome
  }
}

/// Writes a named pipe's content for a child that reads it, as often as the child opens it
/// (an implementation may read its input twice: verify, then parse), until the child ends or
/// `timeout` seconds pass. A new round starts only once the child has closed the pipe, so the
/// content is never doubled within one reading. Returns how many times it was served.
@discardableResult
func serveFifo(
  _ fifo: String, to child: ChildProcess, timeout: Double = 120, rounds: Int = .max,
  _ writeContent: (Int32) -> Void
) -> Int {
  var served = 0
  let deadline = ChildProcess.now() + timeout
  while served < rounds && child.isRunning && ChildProcess.now() < deadline {
    let readers = [child.pid] + ProcProbe.descendants(of: child.pid)
    if served > 0 && readers.contains(where: { ProcProbe.position(pid: $0, of: fifo) != nil }) {
      usleep(1_000)  // still reading the previous round
      continue
    }
    let fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
    guard fd >= 0 else {
      usleep(1_000)  // no reader yet (ENXIO)
      continue
    }
    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
    writeContent(fd)
    close(fd)
    served += 1
  }
  return served
}

/// Writes all of `bytes` to `fd` (false if the reader went away).
@discardableResult
func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
  var offset = 0
  while offset < bytes.count {
    let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, bytes.count - offset) }
    if n <= 0 { return false }
    offset += n
  }
  return true
}

/// Reads a child's progress in /proc.
enum ProcProbe {
  /// The children, grandchildren… of `pid` (through wrappers such as /usr/bin/time or setpriv).
  static func descendants(of pid: pid_t) -> [pid_t] {
    var result: [pid_t] = []
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
    for task in tasks {
      let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/children", encoding: .utf8)) ?? ""
      for child in text.split(separator: " ").compactMap({ pid_t($0) }) {
        result.append(child)
        result += descendants(of: child)
      }
    }
    return result
  }

  /// The file offset of the child's open descriptor on `path` (nil when it has none open).
  static func position(pid: pid_t, of path: String) -> Int? {
    let fdDir = "/proc/\(pid)/fd"
    guard let fds = try? FileManager.default.contentsOfDirectory(atPath: fdDir) else { return nil }
    for fd in fds {
      guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: fdDir + "/" + fd),
        target == path,
        let info = try? String(contentsOfFile: "/proc/\(pid)/fdinfo/\(fd)", encoding: .utf8)
      else { continue }
      for line in info.split(separator: "\n") where line.hasPrefix("pos:") {
        return Int(line.dropFirst(4).trimmingCharacters(in: .whitespaces))
      }
    }
    return nil
  }
}

// MARK: - Files and folders

extension TemporaryDirectory {
  /// Makes the folder usable by `nobody` (for tests that drop privileges).
  func openToEveryone() throws {
    try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: path)
  }

  /// Compresses `data` with `gzip -1 -n` through files (no pipe to deadlock on big inputs).
  @discardableResult
  func writeGzipFast(_ name: String, _ data: [UInt8]) throws -> String {
    let target = file(name)
    try FileManager.default.createDirectory(
      atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    let plain = file(name + ".plain-tmp")
    try Data(data).write(to: URL(fileURLWithPath: plain))
    let r = try ChildProcess.run("/bin/sh", ["-c", "gzip -1 -n -c \"$0\" > \"$1\" && rm -f \"$0\"", plain, target])
    guard r.exitStatus == 0 else { throw TestFailure("gzip failed: \(r.stderr)") }
    return target
  }
}

/// Copies a database with its WAL and shared-memory files, if any.
func copyDatabase(_ source: String, to target: String) throws {
  let fm = FileManager.default
  for suffix in ["", "-wal", "-shm"] {
    if fm.fileExists(atPath: target + suffix) { try fm.removeItem(atPath: target + suffix) }
    if fm.fileExists(atPath: source + suffix) { try fm.copyItem(atPath: source + suffix, toPath: target + suffix) }
  }
}

/// Every regular file below `directory`, relative path → contents.
func folderContents(_ directory: String) -> [String: Data] {
  var result: [String: Data] = [:]
  guard let walker = FileManager.default.enumerator(atPath: directory) else { return result }
  while let relative = walker.nextObject() as? String {
    var isDirectory: ObjCBool = false
    let full = directory + "/" + relative
    guard FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
    result[relative] = (try? Data(contentsOf: URL(fileURLWithPath: full))) ?? Data()
  }
  return result
}

// MARK: - Database state

/// The whole content of a pipeline database, for before/after comparisons.
struct DatabaseDump: Equatable, CustomStringConvertible {
  /// Table name → rows (each row its columns as SQL literals, `quote()`), sorted. The schema
  /// itself is under `sqlite_master`.
  var tables: [String: [String]]

  /// Reads every table of the database at `path` (read-only).
  init(_ path: String, dropping volatile: [String: Set<String>] = [:]) throws {
    let db = try SQLiteDatabase(path: path, readOnly: true)
    var tables: [String: [String]] = [:]
    tables["sqlite_master"] = try db.rows("SELECT type || '|' || name || '|' || ifnull(sql, '') FROM sqlite_master")
      .map(\.[0].textValue).sorted()
    let names = try db.rows("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").map(\.[0].textValue)
    for name in names {
      let columns = try db.rows("SELECT name FROM pragma_table_info(?)", [.text(name)]).map(\.[0].textValue)
        .filter { !(volatile[name]?.contains($0) ?? false) }
      let select = columns.map { "quote(\"\($0)\")" }.joined(separator: " || '|' || ")
      tables[name] = try db.rows("SELECT \(select) FROM \"\(name)\"").map(\.[0].textValue).sorted()
    }
    self.tables = tables
    let check = try db.rows("PRAGMA integrity_check").map(\.[0].textValue)
    integrity = check.joined(separator: "; ")
  }

  /// `ok` when SQLite finds the file sound.
  var integrity: String

  /// Columns that differ between two runs doing the same work (times, process ids, arguments).
  static let runVolatile: [String: Set<String>] = [
    "runs": ["started_at", "ended_at", "pid", "arguments", "host", "message"],
    "files": ["recorded_at"],
  ]

  var rowCount: Int { tables.filter { $0.key != "sqlite_master" }.values.map(\.count).reduce(0, +) }

  /// A short account of the differences, for failure messages.
  func difference(from other: DatabaseDump) -> String {
    var lines: [String] = []
    for name in Set(tables.keys).union(other.tables.keys).sorted() {
      let mine = tables[name] ?? []
      let theirs = other.tables[name] ?? []
      guard mine != theirs else { continue }
      let onlyMine = Set(mine).subtracting(theirs)
      let onlyTheirs = Set(theirs).subtracting(mine)
      lines.append(
        "\(name): \(mine.count) vs \(theirs.count) rows; only here: \(onlyMine.sorted().prefix(3)); only there: \(onlyTheirs.sorted().prefix(3))"
      )
    }
    return lines.isEmpty ? "no difference" : lines.joined(separator: "\n")
  }

  var description: String { tables.map { "\($0.key): \($0.value.count) rows" }.sorted().joined(separator: ", ") }
}

// MARK: - Generated logs

/// A small, fast, deterministic random number generator (SplitMix64).
struct SeededRandom {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
  mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
  mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
}

/// Byte-level writer: fast enough in debug builds for hundreds of thousands of lines.
struct ByteWriter {
  var bytes: [UInt8] = []
  init(capacity: Int) { bytes.reserveCapacity(capacity) }
  mutating func put(_ s: StaticString) {
    s.withUTF8Buffer { bytes.append(contentsOf: $0) }
  }
  mutating func put(_ s: String) { bytes.append(contentsOf: s.utf8) }
  mutating func put(_ v: Int) {
    if v < 0 {
      bytes.append(UInt8(ascii: "-"))
      put(-v)
      return
    }
    var power = 1
    while power <= v / 10 { power *= 10 }
    while power > 0 {
      bytes.append(UInt8(48 + v / power % 10))
      power /= 10
    }
  }
}

/// Realistic NDJSON logs: views, clicks, conversions (click_id and viewer fallback), refunds,
/// bots, duplicates and a few bad lines, deterministic for a seed.
enum Workload {
  /// 2026-11-01T00:00:00Z in epoch milliseconds.
  static let start = 1_793_491_200_000

  struct Shape {
    var lines: Int
    var seed: UInt64
    /// Prefix of event ids: different prefixes never collide.
    var prefix: String
    var hours = 72
    var creators = 300
    var products = 60
    var viewers = 2_000
  }

  /// The lines (LF-terminated) and how many of them are deliberately bad.
  static func ndjson(_ shape: Shape) -> (bytes: [UInt8], badLines: Int) {
    var rng = SeededRandom(seed: shape.seed)
    var w = ByteWriter(capacity: shape.lines * 190)
    var lastLineStart = 0
    var clickIDs: [Int] = []
    var bad = 0
    let span = shape.hours * 3_600_000
    for i in 0..<shape.lines {
      let lineStart = w.bytes.count
      let ts = start + i * (span / max(1, shape.lines)) + rng.below(60_000)
      let viewer = rng.below(shape.viewers)
      let product = rng.below(shape.products)
      let brand = product % 5 == 0
      let r = rng.below(1000)
      if r >= 990, i > 0 {
        // An exact duplicate of the previous line (a redelivery).
        let previous = Array(w.bytes[lastLineStart..<lineStart])
        w.bytes.append(contentsOf: previous)
        continue
      }
      if r >= 985 {
        bad += 1
        switch rng.below(3) {
        case 0:
          w.put(#"{"type":"view","event_id":""#)
          w.put(shape.prefix)
          w.put("-bad-")
          w.put(i)
          w.put(#"","ts":"#)
          w.put(ts)
          w.put("}\n")  // no creator_id
        case 1:
          w.put(#"{"type":"click","event_id":""#)
          w.put(shape.prefix)
          w.put("-bad-")
          w.put(i)
          w.put(#"","ts":"yesterday","creator_id":"c1"}"#)
          w.put("\n")
        default:
          w.put(#"{"type":"view","event_id":"#)
          w.put("\n")  // malformed
        }
        lastLineStart = lineStart
        continue
      }
      w.put(#"{"type":""#)
      if r < 700 {
        w.put(#"view","event_id":""#)
        w.put(shape.prefix)
        w.put("-v")
        w.put(i)
        w.put(#"","ts":"#)
        w.put(ts)
        w.put(#","creator_id":"c"#)
        w.put(rng.below(shape.creators))
        if rng.chance(60) {
          w.put(#"","post_id":"p"#)
          w.put(rng.below(5000))
        }
        w.put(#"","viewer_id":"u"#)
        w.put(viewer)
        if rng.chance(70) { putProduct(&w, product, brand) } else { w.put(#"""#) }
        if rng.chance(2) {
          w.put(#","user_agent":"Mozilla/5.0 (compatible; Googlebot/2.1)""#)
        } else {
          w.put(#","user_agent":"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X)""#)
        }
      } else if r < 900 {
        w.put(#"click","event_id":""#)
        w.put(shape.prefix)
        w.put("-k")
        w.put(i)
        clickIDs.append(i)
        w.put(#"","ts":"#)
        w.put(ts)
        w.put(#","creator_id":"c"#)
        w.put(rng.below(shape.creators))
        if rng.chance(50) { w.put(#"","placement":"bio"#) }
        w.put(#"","viewer_id":"u"#)
        w.put(viewer)
        putProduct(&w, product, brand)
        if rng.chance(2) { w.put(#","user_agent":"curl/8.5.0""#) }
      } else {
        w.put(#"conversion","event_id":""#)
        w.put(shape.prefix)
        w.put("-o")
        w.put(i)
        w.put(#"","ts":"#)
        w.put(ts)
        if !clickIDs.isEmpty, rng.chance(40) {
          w.put(#","click_id":""#)
          w.put(shape.prefix)
          w.put("-k")
          w.put(clickIDs[rng.below(clickIDs.count)])
          w.put(#"""#)
        }
        w.put(#","viewer_id":"u"#)
        w.put(viewer)
        putProduct(&w, product, brand)
        w.put(#","order_id":"O-"#)
        w.put(rng.below(shape.lines / 8 + 1))
        if rng.chance(80) {
          w.put(#"","quantity":"#)
          w.put(1 + rng.below(3))
          w.put(#","amount":""#)
          w.put(1 + rng.below(200))
          w.put(".")
          w.put(10 + rng.below(90))
          w.put(rng.chance(20) ? #"","currency":"EUR""# : #"""#)
        } else {
          w.put(#"","amount":""#)
          w.put(1 + rng.below(50))
          w.put(#".00","status":"refunded""#)
        }
      }
      w.put("}\n")
      lastLineStart = lineStart
    }
    return (w.bytes, bad)
  }

  private static func putProduct(_ w: inout ByteWriter, _ product: Int, _ brand: Bool) {
    w.put(#"","product_id":"P"#)
    w.put(product)
    if brand {
      w.put(#"","platform":"brand_store","store":"store-"#)
      w.put(product % 7)
      w.put(#"""#)
    } else {
      w.put(#"","platform":"amazon""#)
    }
  }
}

/// A prepared database: a first batch of logs ingested and aggregated (the "before" state of
/// the fault tests), kept as a pristine copy that each scenario copies.
struct PreparedDatabase {
  let dir: TemporaryDirectory
  let pristine: String

  /// Ingests and aggregates `base` into a new database.
  init(base: [String], shared: Bool = false) throws {
    dir = try TemporaryDirectory()
    if shared { SharedFixtures.keep(dir) }
    pristine = dir.file("pristine.sqlite")
    let ingest = try Stage.run("ingest", ["--db", pristine] + base)
    guard ingest.exitStatus == 0 else { throw TestFailure("preparing: ingest \(ingest.termination): \(ingest.stderr)") }
    let aggregate = try Stage.run("aggregate", ["--db", pristine])
    guard aggregate.exitStatus == 0 else { throw TestFailure("preparing: aggregate \(aggregate.termination): \(aggregate.stderr)") }
  }

  /// A fresh copy of the prepared database at `path`.
  func copy(to path: String) throws -> String {
    try copyDatabase(pristine, to: path)
    return path
  }
}
