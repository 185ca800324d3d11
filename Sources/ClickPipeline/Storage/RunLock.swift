#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// An exclusive lock on a database for one run, held with `flock` on `<db>.lock`.
///
/// The kernel drops the lock when the process dies, so a crashed or killed run never blocks
/// the next one. The file holds the holder's pid, host and start time for the error message.
public final class RunLock {
  private let fd: Int32
  public let path: String

  /// Takes the lock, waiting up to `wait` seconds (0: fail at once with exit status 75).
  public init(databasePath: String, command: String, wait: Double = 0) throws(PipelineError) {
    path = databasePath + ".lock"
    let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
    guard fd >= 0 else {
      let folder = databasePath.contains("/") ? String(databasePath[..<(databasePath.lastIndex(of: "/") ?? databasePath.endIndex)]) : "."
      if errno == ENOENT {
        throw PipelineError.unusableDatabase(
          path: databasePath, reason: "its folder \(folder.isEmpty ? "/" : folder) does not exist; create it first")
      }
      throw PipelineError.unusableDatabase(
        path: databasePath, reason: "cannot create lock file \(path): \(String(cString: strerror(errno)))")
    }
    let deadline = RunLock.now() + max(0, wait)
    while flock(fd, LOCK_EX | LOCK_NB) != 0 {
      guard errno == EWOULDBLOCK || errno == EINTR, RunLock.now() < deadline else {
        let holder = RunLock.readHolder(fd)
        close(fd)
        throw PipelineError.locked(path: databasePath, holder: holder.isEmpty ? "holder unknown" : holder)
      }
      usleep(50_000)
    }
    self.fd = fd
    var host = [CChar](repeating: 0, count: 256)
    gethostname(&host, 255)
    let hostName = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    let info = "\(command), pid \(getpid()), host \(hostName), started \(Clock.isoNow())"
    ftruncate(fd, 0)
    _ = info.withCString { pwrite(fd, $0, strlen($0), 0) }
  }

  deinit {
    ftruncate(fd, 0)
    flock(fd, LOCK_UN)
    close(fd)
  }

  private static func readHolder(_ fd: Int32) -> String {
    var buffer = [UInt8](repeating: 0, count: 512)
    let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 511, 0) }
    guard n > 0 else { return "" }
    return "held by " + String(decoding: buffer[0..<n], as: UTF8.self)
  }

  private static func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
  }
}

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

  /// Monotonic seconds, for durations and rates.
  public static func monotonic() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
  }
}
