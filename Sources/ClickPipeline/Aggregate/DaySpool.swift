import CSupport
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// What ``DayComputer`` spooled for a day: its `daily_metrics` rows (one sorted run per pass)
/// and its `orders` rows (sorted runs of at most about `orderRunBytes`), and how many of each.
struct SpooledDay: Sendable {
  var rows = 0
  var orders = 0
  var rowRuns: [SpoolFile.Run] = []
  var orderRuns: [SpoolFile.Run] = []
  /// The orders with a refund on the day, checked against their amount.
  var refundChecks: [OverRefunds.Check] = []
}

/// Computes days on several threads, each with its own read connection, and keeps their rows
/// in sorted runs in unlinked temporary files next to the database (``SpoolFile``) until the
/// writer reads them back merged (``SortedRunMerge``).
///
/// Computing a day (reading its events, attributing, pricing) is two thirds of `aggregate`
/// and days are independent, so they run in parallel. Writing stays on one connection, in one
/// transaction; it writes each day as soon as it is done into a staging database
/// (``StagedWrite``), and puts the rows in place and commits after every worker has closed its
/// read transaction (a rollback-journal writer cannot commit while readers hold the
/// database).
final class DaySpool: @unchecked Sendable {
  struct Setup: Sendable {
    var databasePath: String
    var calendar: DayCalendar
    var money: MoneyRules
    var configuration: PipelineConfiguration
    /// Views and clicks a worker counts in one pass over a day (``DayComputer/passes(day:trafficPerPass:)``).
    var trafficPerPass: Int
    /// `daily_metrics` rows a pass may hold before the day is computed again in more passes
    /// (``DayComputer/compute(day:passes:rowsPerPass:into:)``).
    var rowsPerPass: Int = .max
    /// Conversions attributed and counted per batch, and `orders` bytes sorted per run.
    var conversionsPerBatch: Int
    var orderRunBytes: Int
    /// Where workers add their CPU time per step (`--stats-json`).
    var stats: StageStats?
    /// The click digests the workers share (``ClickDigests``).
    var digests: ClickDigests
  }

  private let setup: Setup
  // Every access to the state below holds `condition`'s lock.
  private let condition = NSCondition()
  private var entries: [Int: (worker: Int, day: SpooledDay)] = [:]
  private var files: [SpoolFile] = []
  /// The workers' read connections until each worker takes its own.
  private var connections: [SQLiteDatabase?] = []
  private var pool: WorkerPool?
  private var workers = 0
  private var running = 0
  private var nextDay = 0
  private var cancelled = false
  /// Passes over days so far, whole or given up (more than the days when some were computed
  /// in shares).
  private(set) var passes = 0
  /// Of `passes`, those given up (``DayComputer/passesGivenUp``).
  private(set) var passesGivenUp = 0
  /// UTC days of clicks read into a digest so far.
  var clickDaysRead: Int { setup.digests.daysBuilt }
  /// Sorted runs spooled so far (rows and orders).
  private(set) var runs = 0
  /// Conversions the days left out because their sums would overflow (``DayComputer/leftOut``).
  private(set) var leftOut: Set<String> = []
  private var failure: PipelineError?

  init(_ setup: Setup) {
    self.setup = setup
  }

  /// Starts computing `days` on `workers` threads; `progress` gets (days done, days to do).
  ///
  /// The workers' connections are opened here, before the caller begins its write
  /// transaction: opening one checks the rollback journal by reading the files directly
  /// (``StaleJournal``), which must not happen while this process holds a write lock on them.
  func start(_ days: [Int], workers: Int, progress: (@Sendable (Int) -> Void)?) throws(PipelineError) {
    let count = max(1, min(workers, days.count))
    files = try (0..<count).map { worker throws(PipelineError) in
      try SpoolFile(databasePath: setup.databasePath, name: "aggregate-\(getpid())-\(worker)")
    }
    // Days are read in rowid ranges; a small cache is enough and keeps two workers' memory low.
    connections = try (0..<count).map { _ throws(PipelineError) in try Schema.open(path: setup.databasePath, cacheMiB: 8) }
    self.workers = count
    running = count
    pool = WorkerPool(name: "aggregate", count: count) { [self] worker in
      let db = condition.withLock { connections[worker].take()! }
      let error = work(worker, db, days, progress)
      condition.withLock {
        if let error { failure = failure ?? error }
        running -= 1
        condition.broadcast()
      }
    }
  }

  /// Waits for the workers; rethrows the first error one of them stopped with.
  func finish() throws(PipelineError) {
    pool?.join()
    pool = nil
    if let failure { throw failure }
  }

  /// Stops handing out days and waits for the workers (when the writer failed).
  func cancel() {
    condition.withLock { cancelled = true }
    pool?.join()
    pool = nil
  }

  /// The number of `daily_metrics` rows computed for `day`, and its rows and orders, each
  /// merged into primary-key order, and its refunded orders checked; waits until a worker has
  /// computed the day.
  func output(of day: Int) throws(PipelineError) -> (
    rows: Int, rowMerge: SortedRunMerge, orderMerge: SortedRunMerge, refundChecks: [OverRefunds.Check]
  ) {
    condition.lock()
    while entries[day] == nil && failure == nil && running > 0 { condition.wait() }
    let entry = entries[day]
    let failure = self.failure
    condition.unlock()
    if let failure { throw failure }
    let (worker, spooled) = entry ?? (0, SpooledDay())
    let file = files.isEmpty ? nil : files[worker]
    return (
      spooled.rows,
      SortedRunMerge(file: file, runs: spooled.rowRuns, precedes: DayWriter.rowPrecedes),
      SortedRunMerge(file: file, runs: spooled.orderRuns, precedes: OrderRow.precedes),
      spooled.refundChecks
    )
  }

  /// One worker's loop; returns why it stopped early, if it did.
  private func work(_ worker: Int, _ db: SQLiteDatabase, _ days: [Int], _ progress: (@Sendable (Int) -> Void)?) -> PipelineError? {
    let path = setup.databasePath
    do {
      try db.execute("BEGIN")
      defer { try? db.execute("COMMIT") }
      let segments = try SegmentReader(db: db, cacheSize: 2)
      let attribution = try Attribution(
        db: db, configuration: setup.configuration, segments: segments, digests: setup.digests,
        // A day's orders, up to 240,000 by default: an order worked out again costs a
        // segment read (at 50M events, 210,000 orders a day: 64 s with room for them all,
        // 110-140 s with room for 100,000-125,000).
        cacheLimit: 12 * setup.conversionsPerBatch)
      let computer = try DayComputer(
        db: db, calendar: setup.calendar, money: setup.money, attribution: attribution, segments: segments,
        conversionsPerBatch: setup.conversionsPerBatch, orderRunBytes: setup.orderRunBytes)
      computer.clock = StepClock(steps: AggregateStep.allCases.count, enabled: setup.stats != nil)
      defer {
        setup.stats?.add(computer.clock)
        setup.stats?.addEvents(computer.eventsRead)
      }
      while true {
        let index: Int? = condition.withLock {
          guard failure == nil, !cancelled, nextDay < days.count else { return nil }
          nextDay += 1
          return nextDay - 1
        }
        guard let index else { return nil }
        let dayPasses = try computer.passes(day: days[index], trafficPerPass: setup.trafficPerPass)
        let passesBefore = computer.passesRun
        let givenUpBefore = computer.passesGivenUp
        let spooled = try computer.compute(
          day: days[index], passes: dayPasses, rowsPerPass: setup.rowsPerPass, into: files[worker])
        let done = condition.withLock {
          passes += computer.passesRun - passesBefore
          passesGivenUp += computer.passesGivenUp - givenUpBefore
          runs += spooled.rowRuns.count + spooled.orderRuns.count
          entries[days[index]] = (worker, spooled)
          if !computer.leftOut.isEmpty { leftOut.formUnion(computer.leftOut) }
          condition.broadcast()
          return entries.count
        }
        StopPoint.reached(.aggregateDayComputed)
        // What the day allocated and freed stays in this thread's malloc arena otherwise: the
        // workers and the writer then hold the sum of their high-water marks (docs/DESIGN.md).
        _ = cp_release_free_memory()
        progress?(done)
      }
    } catch {
      return PipelineError(error, databasePath: path)
    }
  }
}
