import Foundation
import Logging

/// Settings of one `aggregate` run.
public struct AggregateOptions: Sendable {
  public var databasePath: String
  /// The configuration given with `--config`; `nil`: the database's stored settings.
  public var configuration: PipelineConfiguration?
  /// Recompute every day from the staged events, not only the days new events can change.
  public var rebuild = false
  public var lockWait: Double = 0
  public var commandLine: String = ""
  /// Threads that compute days (each with its own read connection).
  public var workers = min(4, max(1, ProcessInfo.processInfo.activeProcessorCount))
  /// Views and clicks of a day that a worker counts in one pass. A larger day is computed in
  /// several passes, each over a share of its rows, so memory follows this and not the size
  /// of the day: about 130 bytes per event in a pass (measured: one 2M-event day, 294 MB peak
  /// in one pass), so 1.5M keeps two workers inside 512 MiB.
  public var trafficPerPass = 1_500_000
  /// `daily_metrics` rows a worker holds in one pass: a day whose views and clicks make more
  /// distinct rows than this (a million creators with one view each) is computed again in
  /// more passes (``PassRows``: about 70 bytes a row, and the day's distinct-viewer words), so
  /// 250,000 keeps two workers' rows near 40 MiB; a day of the 5,000-creator sets has 80,000,
  /// of the 50,000-creator sets 295,000 (two passes).
  public var rowsPerPass = 250_000
  /// Conversions of a day attributed and counted together: the orders, candidate clicks and
  /// attributions held at once follow this, not the size of the day. A day is cut into the
  /// whole number of batches nearest to this size, so a batch holds up to 1.5 times it. The
  /// orders worked out stay known for the rest of the day up to twelve times this
  /// (``Attribution``).
  public var conversionsPerBatch = 20_000
  /// Bytes of a day's `orders` rows a worker holds before it sorts and spools them as a run.
  public var orderRunBytes = 8 << 20
  /// Bytes of click digests the workers keep (``ClickDigests``): 22 bytes a click, so 192 MiB
  /// holds 9M clicks (a 50M-event week has 8.6M).
  public var clickDigestBytes = 192 << 20
  /// Keeps only some bits of the digests' hashes: tests make every hash collide (0).
  public var clickHashMask: UInt64 = .max
  /// Where to add CPU time per step (`--stats-json`); `nil`: not measured.
  public var stats: StageStats?

  public init(databasePath: String, configuration: PipelineConfiguration?) {
    self.databasePath = databasePath
    self.configuration = configuration
  }
}

public struct AggregateResult: Sendable, Equatable {
  public var runID: Int64 = 0
  public var daysRecomputed = 0
  public var fullRebuild = false
  public var rowsWritten = 0
  /// Passes over days: more than `daysRecomputed` when large days were computed in shares.
  public var passes = 0
  /// Of `passes`, those given up because a day made more rows than a pass may hold.
  public var passesGivenUp = 0
  /// Sorted runs of rows and orders the days were spooled in (``SortedRunMerge``).
  public var spooledRuns = 0
  /// UTC days of clicks read into a digest (``ClickDigests``): once each while they fit.
  public var clickDaysRead = 0
}

/// The steps of `aggregate`, for `--stats-json`: decoding segments, attributing orders,
/// grouping events into rows (and pricing conversions), writing `daily_metrics` and `orders`.
enum AggregateStep: Int, CaseIterable {
  case read, attribute, group, write
}

/// The `aggregate` stage: attribution, money and `daily_metrics` (CONTRACT §4-§7).
///
/// Input: the staged events and `dirty_hours` written by `ingest`. Output, in one transaction:
/// the `daily_metrics` rows of every local day that new events can change — their own days,
/// the attribution windows after new clicks, the days of other conversions and refunds of the
/// same orders — recomputed from scratch, and a `runs` row. When the configuration (time zone,
/// windows, bots, rates, FX, catalog categories) differs from the last run's, every day is
/// recomputed. Cost follows the new data, not the history.
public struct AggregateRunner {
  public var options: AggregateOptions
  public var logger: Logger
  /// Called after each recomputed day with (days done, days to do, seconds so far).
  public var progress: (@Sendable (Int, Int, Double) -> Void)?

  public init(options: AggregateOptions, logger: Logger, progress: (@Sendable (Int, Int, Double) -> Void)? = nil) {
    self.options = options
    self.logger = logger
    self.progress = progress
  }

  /// The steps `--stats-json` reports.
  public static var stepNames: [String] { AggregateStep.allCases.map { "\($0)" } }

  public func run() throws(PipelineError) -> AggregateResult {
    let startedAt = Clock.isoNow()
    let given = try options.configuration.map { configuration throws(PipelineError) in try EffectiveSettings.given(configuration) }
    try Schema.requireExisting(path: options.databasePath)
    let lock = try RunLock(databasePath: options.databasePath, command: "aggregate", wait: options.lockWait) { [logger] in
      logger.info("\($0)")
    }
    RunRecord.recordUnfinished(of: lock, databasePath: options.databasePath)
    defer { withExtendedLifetime(lock) {} }
    let db = try Schema.open(path: options.databasePath)
    var result = AggregateResult()
    do {
      let (settings, needsStoring) = try EffectiveSettings.resolve(
        given: given, db: db, path: options.databasePath, logger: logger)
      let configuration = settings.configuration
      let catalog = settings.catalog
      let fingerprint = settings.fingerprint
      // 1. What to recompute. The run lock keeps other runs out until this one ends, so what
      //    is read here still holds when the results are written.
      let calendar = DayCalendar(identifier: configuration.timeZoneIdentifier)
      try db.execute("BEGIN")
      let previous = try db.scalarText("SELECT value FROM meta WHERE key = 'aggregate_fingerprint'")
      result.fullRebuild = options.rebuild || previous != fingerprint
      if previous != fingerprint {
        for finding in try RateKeyCheck(configuration: configuration, catalog: catalog).findings(db) {
          let error = ConfigurationError(
            path: configuration.rateKeySources.path, line: finding.line, key: finding.key, message: finding.message)
          guard configuration.unknownRateKeys == .warn else { throw PipelineError.configuration(error) }
          logger.warning("\(error)")
        }
      }
      let days = result.fullRebuild ? try allDays(db, calendar) : try DirtyHours.days(db, calendar, configuration)
      try db.execute("COMMIT")

      // 2. Compute the days in parallel, each worker on its own read connection.
      let spool = DaySpool(
        DaySpool.Setup(
          databasePath: options.databasePath, calendar: calendar,
          money: MoneyRules(configuration: configuration, catalog: catalog), configuration: configuration,
          trafficPerPass: options.trafficPerPass, rowsPerPass: options.rowsPerPass, conversionsPerBatch: options.conversionsPerBatch,
          orderRunBytes: options.orderRunBytes, stats: options.stats,
          digests: ClickDigests(budgetBytes: options.clickDigestBytes, hashMask: options.clickHashMask)))
      let started = Clock.monotonic()
      let progress = self.progress
      try spool.start(days, workers: options.workers) { done in
        progress?(done, days.count, Clock.monotonic() - started)
      }
      defer { spool.cancel() }

      // 3. Write them, day by day as they are done, into the staging database
      //    (``StagedWrite``); then, in one transaction with the run's other changes, over the
      //    recomputed days of the real tables.
      let writeStarted = StepClock.threadCPU()
      let staged = try StagedWrite(db: db)
      try db.beginWrite()
      let writer = try DayWriter(db: db, databasePath: options.databasePath)
      var refundChecks: [OverRefunds.Check] = []
      for day in days {
        var (rows, rowMerge, orderMerge, checks) = try spool.output(of: day)
        refundChecks += checks
        try writer.write(dayText: calendar.text(ofDay: day), rows: &rowMerge, orders: &orderMerge)
        StopPoint.reached(.aggregateDayWritten)
        result.rowsWritten += rows
      }
      try spool.finish()
      try writer.finish()
      try staged.publish(days: days.map { calendar.text(ofDay: $0) }, all: result.fullRebuild)
      logger.debug(
        "days computed and written", metadata: ["aggregate.days": "\(days.count)", "aggregate.seconds": "\(Clock.monotonic() - started)"])
      let overRefunded = try OverRefunds(db: db, money: MoneyRules(configuration: configuration, catalog: catalog))
        .update(checked: refundChecks)
      for entry in overRefunded.prefix(10) { logger.warning("\(entry.description)") }
      if overRefunded.count > 10 { logger.warning("\(overRefunded.count - 10) more order(s) refunded past their amount") }
      result.daysRecomputed = days.count
      result.passes = spool.passes
      result.passesGivenUp = spool.passesGivenUp
      result.spooledRuns = spool.runs
      result.clickDaysRead = spool.clickDaysRead
      try db.execute("DELETE FROM dirty_hours")
      if needsStoring { try settings.store(in: db) }
      // daily_metrics is aggregate's own again (not what spark/load_daily_metrics.py loaded).
      try db.execute("DELETE FROM meta WHERE key = 'daily_metrics_loaded_from'")
      try db.run(
        "INSERT INTO meta(key, value) VALUES ('aggregate_fingerprint', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [.text(fingerprint)])
      result.runID = try RunRecord.nextID(db)
      let leftOut = spool.leftOut.sorted()
      for line in leftOut.prefix(10) { logger.warning("left out of daily_metrics: \(line)") }
      if leftOut.count > 10 { logger.warning("left out of daily_metrics: \(leftOut.count - 10) more conversion(s)") }
      let message =
        (result.fullRebuild ? "full rebuild" : "incremental")
        + ": \(days.count) day(s) recomputed"
        + (result.passes > days.count ? " in \(result.passes) passes" : "")
        + (result.passesGivenUp > 0 ? " (\(result.passesGivenUp) given up: more rows than a pass may hold)" : "")
        + ", \(result.rowsWritten) row(s) written"
        + (leftOut.isEmpty ? "" : "; \(leftOut.count) conversion(s) left out: their sums would pass 2^63-1 cents (first: \(leftOut[0]))")
      var record = RunRecord(command: "aggregate", arguments: options.commandLine, startedAt: startedAt)
      record.message = message
      try record.insert(into: db, id: result.runID)
      StopPoint.reached(.aggregateBeforeCommit)
      try db.execute("COMMIT")
      RunLock.markCommitted()
      options.stats?.add(step: AggregateStep.write.rawValue, seconds: StepClock.threadCPU() - writeStarted)
      logger.info("\(message)")
    } catch {
      try? db.execute("ROLLBACK")
      throw PipelineError(error, databasePath: options.databasePath)
    }
    return result
  }

  /// Every local day that has a staged event: the local days of the UTC days that hold
  /// segments or conversions (a UTC day can touch two local days; a local day without
  /// events is computed to nothing).
  private func allDays(_ db: SQLiteDatabase, _ calendar: DayCalendar) throws(DatabaseError) -> [Int] {
    var utcDays = Set(try db.rows("SELECT DISTINCT day FROM segments").map(\.[0].intValue))
    // Conversions: found by seeking from one UTC day with data to the next, on the ts index.
    let next = try db.prepare("SELECT min(ts) FROM conversions WHERE ts >= ?")
    var from = Int64.min
    while true {
      next.reset()
      next.bind(1, from)
      guard try next.step(), !next.isNull(0) else { break }
      let day = utcDay(ofMilliseconds: next.int(0))
      utcDays.insert(day)
      guard day < Int64.max / 86_400_000 - 1 else { break }
      from = (day + 1) * 86_400_000
    }
    next.reset()
    var days = Set<Int>()
    for day in utcDays {
      days.insert(calendar.day(ofMilliseconds: day * 86_400_000))
      days.insert(calendar.day(ofMilliseconds: day * 86_400_000 + 86_399_999))
    }
    return days.sorted()
  }
}
