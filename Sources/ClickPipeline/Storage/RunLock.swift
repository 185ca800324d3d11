#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// An exclusive lock on a database for one run, held with `flock` on `<db>.lock`.
///
/// The kernel drops the lock when the process dies, so a crashed or killed run never blocks
/// the next one. The file holds the holder's pid, host and start time for the error message.
///
/// The lock belongs to the database's real file, not to the path it was named by: the path is
/// resolved (symbolic links, `..`) before `.lock` is appended, so `alias.sqlite -> db.sqlite`
/// and `db.sqlite` take the same lock. The lock file is opened without following a symbolic
/// link and must be a regular file with one link, so a planted link cannot make a run
/// truncate another file.
public final class RunLock {
  private let fd: Int32
  public let path: String
  /// The previous holder, if it never released the lock: the lock file still names it.
  public let unfinished: UnfinishedRun?

  /// A run that held the lock and ended without releasing it: interrupted by SIGINT or
  /// SIGTERM (the signal handler notes it, ``noteInterruption(signal:)``), or killed or crashed.
  public struct UnfinishedRun: Sendable, Equatable {
    public var command: String
    public var pid: Int64
    public var host: String
    public var startedAt: String
    /// `SIGINT` or `SIGTERM`; `nil`: killed or crashed.
    public var signal: String?

    /// Reads the lock file's text: `command, pid N, host H, started T[; interrupted by SIG]`.
    init?(lockText text: String) {
      var rest = Substring(text)
      var signal: String?
      if let range = rest.range(of: "; interrupted by ") {
        signal = String(rest[range.upperBound...]).trimmingCharacters(in: .whitespacesAndNewlines)
        rest = rest[..<range.lowerBound]
      }
      let parts = rest.components(separatedBy: ", ")
      guard parts.count == 4, parts[1].hasPrefix("pid "), parts[2].hasPrefix("host "), parts[3].hasPrefix("started "),
        let pid = Int64(parts[1].dropFirst(4))
      else { return nil }
      self.command = parts[0]
      self.pid = pid
      self.host = String(parts[2].dropFirst(5))
      self.startedAt = String(parts[3].dropFirst(8))
      self.signal = signal
    }
  }

  /// Takes the lock, waiting up to `wait` seconds (0: fail at once with exit status 75);
  /// `waiting` hears, once, that the run is waiting and for whom.
  public init(
    databasePath: String, command: String, wait: Double = 0, waiting: ((String) -> Void)? = nil
  ) throws(PipelineError) {
    var st = stat()
    if stat(databasePath, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR {
      throw PipelineError.unusableDatabase(path: databasePath, reason: "it is a directory; --db names the database file")
    }
    path = RunLock.realPath(of: databasePath) + ".lock"
    let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0o644)
    guard fd >= 0 else {
      let code = errno
      let folder = databasePath.contains("/") ? String(databasePath[..<(databasePath.lastIndex(of: "/") ?? databasePath.endIndex)]) : "."
      if code == ENOENT {
        throw PipelineError.unusableDatabase(
          path: databasePath, reason: "its folder \(folder.isEmpty ? "/" : folder) does not exist; create it first")
      }
      if code == ELOOP {
        throw PipelineError.unusableDatabase(
          path: databasePath, reason: "the lock file \(path) is a symbolic link; remove it (runs never create one)")
      }
      throw PipelineError.unusableDatabase(
        path: databasePath, reason: "cannot create lock file \(path): \(String(cString: strerror(code)))")
    }
    var lockStat = stat()
    guard fstat(fd, &lockStat) == 0, (lockStat.st_mode & S_IFMT) == S_IFREG, lockStat.st_nlink == 1 else {
      close(fd)
      throw PipelineError.unusableDatabase(
        path: databasePath,
        reason: "the lock file \(path) is not a plain file of its own (a directory, device or hard link); remove it")
    }
    let deadline = Clock.monotonic() + max(0, wait)
    var announced = false
    while flock(fd, LOCK_EX | LOCK_NB) != 0 {
      guard errno == EWOULDBLOCK || errno == EINTR, Clock.monotonic() < deadline else {
        let holder = RunLock.readHolder(fd)
        close(fd)
        throw PipelineError.locked(
          path: databasePath, holder: (holder.isEmpty ? "holder unknown" : holder) + (wait > 0 ? "; waited \(RunLock.seconds(wait)) s" : "")
        )
      }
      if !announced, let waiting {
        announced = true
        let holder = RunLock.readHolder(fd)
        waiting("waiting up to \(RunLock.seconds(wait)) s for the database, \(holder.isEmpty ? "held by another run" : holder)")
      }
      usleep(50_000)
    }
    self.fd = fd
    // A holder that released the lock emptied the file; text left means it never did.
    let left = RunLock.readHolder(fd)
    unfinished = left.isEmpty ? nil : UnfinishedRun(lockText: String(left.dropFirst("held by ".count)))
    var host = [CChar](repeating: 0, count: 256)
    gethostname(&host, 255)
    let hostName = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    let info = "\(command), pid \(getpid()), host \(hostName), started \(Clock.isoNow())"
    ftruncate(fd, 0)
    _ = info.withCString { pwrite(fd, $0, strlen($0), 0) }
    // The offset first: a signal between the two stores must not write at offset 0.
    interruptionOffset = off_t(info.utf8.count)
    interruptionFD = fd
  }

  /// Called once the run's transaction has committed: a signal from now on interrupts a run
  /// whose work is kept, so the handler leaves no note and says so (``committed``).
  public static func markCommitted() {
    interruptionFD = -1
    runCommitted = 1
  }

  /// Whether the run's transaction has committed (read by the signal handler).
  public static var committed: Bool { runCommitted != 0 }

  /// Touches the globals the signal handler reads, so it never runs their first-time
  /// initialisation (not async-signal-safe).
  public static func prepareForSignals() {
    _ = (interruptionFD, interruptionOffset, runCommitted)
  }

  /// Called by the SIGINT/SIGTERM handler before the process exits: appends
  /// `; interrupted by SIGTERM` to the held lock file, so the next run can record it.
  /// Async-signal-safe: one `pwrite` of static text.
  public static func noteInterruption(signal: Int32) {
    let fd = interruptionFD
    guard fd >= 0 else { return }
    let text: StaticString = signal == SIGINT ? "; interrupted by SIGINT" : "; interrupted by SIGTERM"
    _ = pwrite(fd, text.utf8Start, text.utf8CodeUnitCount, interruptionOffset)
  }

  /// The absolute path of the database's real file: the file resolved if it exists, else its
  /// folder resolved and the name appended (a new database).
  static func realPath(of path: String) -> String {
    if let resolved = realpath(path, nil) {
      defer { free(resolved) }
      return String(cString: resolved)
    }
    let slash = path.lastIndex(of: "/")
    let folder = slash.map { path[..<$0].isEmpty ? "/" : String(path[..<$0]) } ?? "."
    let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
    guard let resolved = realpath(folder, nil) else { return path }
    defer { free(resolved) }
    let base = String(cString: resolved)
    return (base == "/" ? "" : base) + "/" + name
  }

  private static func seconds(_ value: Double) -> String {
    value == value.rounded() ? String(Int(value)) : String(value)
  }

  deinit {
    interruptionFD = -1
    ftruncate(fd, 0)
    flock(fd, LOCK_UN)
    close(fd)
  }

  static func readHolder(_ fd: Int32) -> String {
    var buffer = [UInt8](repeating: 0, count: 512)
    let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 511, 0) }
    guard n > 0 else { return "" }
    return "held by " + String(decoding: buffer[0..<n], as: UTF8.self)
  }
}

/// The lock file the process holds, for the signal handler (``RunLock/noteInterruption(signal:)``).
nonisolated(unsafe) private var interruptionFD: Int32 = -1
nonisolated(unsafe) private var interruptionOffset: off_t = 0
nonisolated(unsafe) private var runCommitted: Int32 = 0

/// Wall-clock helpers for run records.
public enum Clock {
  /// Now, as `YYYY-MM-DDTHH:MM:SSZ` (UTC).
  public static func isoNow() -> String {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    let seconds = Int(ts.tv_sec)
    let day = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
    let rest = seconds - day * 86_400
    func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
    return Timestamp.civilDate(daysSinceEpoch: day)
      + "T\(two(rest / 3600)):\(two(rest / 60 % 60)):\(two(rest % 60))Z"
  }

  /// Now, in milliseconds since 1970 (UTC), as event timestamps count.
  public static func nowMilliseconds() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
  }

  /// Monotonic seconds, for durations and rates.
  public static func monotonic() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
  }
}
