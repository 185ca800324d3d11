import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Computes days on several threads, each with its own read connection, and keeps their rows
/// in unlinked temporary files next to the database until the writer wants them.
///
/// Computing a day (reading its events, attributing, pricing) is two thirds of `aggregate`
/// and days are independent, so they run in parallel; writing stays on one connection, in one
/// transaction, after every worker has closed its read transaction (a rollback-journal writer
/// cannot commit while readers hold the database).
final class DaySpool: @unchecked Sendable {
  struct Entry {
    var worker: Int
    var offset: Int
    var length: Int
    var rows: Int
    /// Where the day's ``OrderRow``s follow its rows in the worker's file.
    var ordersLength = 0
    var orders = 0
  }

  struct Setup: Sendable {
    var databasePath: String
    var calendar: DayCalendar
    var money: MoneyRules
    var configuration: PipelineConfiguration
    /// Views and clicks a worker counts in one pass over a day (``DayComputer/passes(day:trafficPerPass:)``).
    var trafficPerPass: Int
    /// Where workers add their CPU time per step (`--stats-json`).
    var stats: StageStats?
  }

  private let setup: Setup
  private let lock = NSLock()
  private var entries: [Int: Entry] = [:]
  private var files: [Int32] = []
  private var nextDay = 0
  /// Passes over days so far (more than the days when some were computed in shares).
  private(set) var passes = 0
  /// Conversions the days left out because their sums would overflow (``DayComputer/leftOut``).
  private(set) var leftOut: Set<String> = []
  private var failure: PipelineError?

  init(_ setup: Setup) {
    self.setup = setup
  }

  deinit {
    for fd in files where fd >= 0 { close(fd) }
  }

  /// Computes `days` on `workers` threads; `progress` gets (days done, days to do).
  func compute(_ days: [Int], workers: Int, progress: (@Sendable (Int) -> Void)?) throws(PipelineError) {
    let count = max(1, min(workers, days.count))
    files = try (0..<count).map { worker throws(PipelineError) in try temporaryFile(worker) }
    WorkerPool(name: "aggregate", count: count) { [self] worker in
      if let error = work(worker, days, progress) { lock.withLock { failure = failure ?? error } }
    }.join()
    if let failure { throw failure }
  }

  /// The rows computed for `day` and how many they are.
  func rows(of day: Int) throws(PipelineError) -> (bytes: [UInt8], rows: Int) {
    guard let entry = entries[day] else { return ([], 0) }
    return (try read(worker: entry.worker, at: entry.offset, count: entry.length), entry.rows)
  }

  /// The orders computed for `day` (``OrderRow`` encoding).
  func orders(of day: Int) throws(PipelineError) -> [UInt8] {
    guard let entry = entries[day] else { return [] }
    return try read(worker: entry.worker, at: entry.offset + entry.length, count: entry.ordersLength)
  }

  private func read(worker: Int, at offset: Int, count: Int) throws(PipelineError) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: count)
    var done = 0
    while done < count {
      let n = bytes.withUnsafeMutableBytes { pread(files[worker], $0.baseAddress! + done, count - done, off_t(offset + done)) }
      guard n > 0 else { throw fileError("cannot read back aggregate's temporary file", n < 0 ? errno : EIO) }
      done += n
    }
    return bytes
  }

  /// One worker's loop; returns why it stopped early, if it did.
  private func work(_ worker: Int, _ days: [Int], _ progress: (@Sendable (Int) -> Void)?) -> PipelineError? {
    let path = setup.databasePath
    let db: SQLiteDatabase
    do {
      // Days are read in rowid ranges; a small cache is enough and keeps two workers' memory low.
      db = try Schema.open(path: path, cacheMiB: 8)
    } catch {
      return error
    }
    var buffer: [UInt8] = []
    var offset = 0
    do {
      try db.execute("BEGIN")
      defer { try? db.execute("COMMIT") }
      let segments = try SegmentReader(db: db, cacheSize: 2)
      let attribution = try Attribution(db: db, configuration: setup.configuration, segments: segments)
      let computer = try DayComputer(
        db: db, calendar: setup.calendar, money: setup.money, attribution: attribution, segments: segments)
      computer.clock = StepClock(steps: AggregateStep.allCases.count, enabled: setup.stats != nil)
      defer {
        setup.stats?.add(computer.clock)
        setup.stats?.addEvents(computer.eventsRead)
      }
      while true {
        let index: Int? = lock.withLock {
          guard failure == nil, nextDay < days.count else { return nil }
          nextDay += 1
          return nextDay - 1
        }
        guard let index else { return nil }
        let start = offset
        let dayPasses = try computer.passes(day: days[index], trafficPerPass: setup.trafficPerPass)
        lock.withLock { passes += dayPasses }
        let rows = try computer.compute(day: days[index], passes: dayPasses) { bytes in
          // Written out every 4 MB, so a day's rows are never all in memory twice.
          buffer.append(contentsOf: bytes)
          guard buffer.count >= 4 << 20 else { return nil }
          defer { buffer.removeAll(keepingCapacity: true) }
          do throws(PipelineError) {
            try write(buffer, to: files[worker], at: offset)
            offset += buffer.count
            return nil
          } catch {
            return error
          }
        }
        try write(buffer, to: files[worker], at: offset)
        offset += buffer.count
        buffer.removeAll(keepingCapacity: true)
        try write(computer.orderBytes, to: files[worker], at: offset)
        offset += computer.orderBytes.count
        let entry = Entry(
          worker: worker, offset: start, length: offset - start - computer.orderBytes.count, rows: rows,
          ordersLength: computer.orderBytes.count, orders: computer.orderCount)
        let done = lock.withLock {
          entries[days[index]] = entry
          return entries.count
        }
        StopPoint.reached(.aggregateDayComputed)
        if !computer.leftOut.isEmpty { lock.withLock { leftOut.formUnion(computer.leftOut) } }
        progress?(done)
      }
    } catch {
      return PipelineError(error, databasePath: path)
    }
  }

  private func write(_ bytes: [UInt8], to fd: Int32, at offset: Int) throws(PipelineError) {
    var done = 0
    while done < bytes.count {
      let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress! + done, bytes.count - done, off_t(offset + done)) }
      guard n > 0 else { throw fileError("cannot write aggregate's temporary file", n < 0 ? errno : EIO) }
      done += n
    }
  }

  /// An unlinked file next to the database: nothing is left behind, even by a killed run.
  private func temporaryFile(_ worker: Int) throws(PipelineError) -> Int32 {
    let path = setup.databasePath
    let folder = (path as NSString).deletingLastPathComponent
    let name = "." + (path as NSString).lastPathComponent + ".aggregate-\(getpid())-\(worker)"
    let file = (folder.isEmpty ? "" : folder + "/") + name
    let fd = open(file, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw fileError("cannot create a temporary file in the database's folder", errno) }
    unlink(file)
    return fd
  }

  private func fileError(_ what: String, _ code: Int32) -> PipelineError {
    let reason = String(cString: strerror(code))
    // SQLITE_FULL (13) for a full disk, so the message says so; SQLITE_IOERR (10) otherwise.
    return PipelineError.database(
      path: setup.databasePath, DatabaseError(code: code == ENOSPC ? 13 : 10, message: "\(what): \(reason)"))
  }
}
