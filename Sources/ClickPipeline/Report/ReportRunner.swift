import Foundation
import Logging

/// The steps of `report`, for `--stats-json`: the one scan of `daily_metrics` (``ReportScan``,
/// with the payout ledger), rendering the summary, rendering and writing the statements (and
/// the CSV rows, on the statement thread), `orders.csv` (its own thread and connection), and
/// putting it all in place.
enum ReportStep: Int, CaseIterable {
  case read, summary, render, write, orders, publish
}

/// Settings of one `report` run.
public struct ReportOptions: Sendable {
  public var databasePath: String
  public var outputDirectory: String
  /// The configuration given with `--config`; `nil`: the database's stored settings.
  public var configuration: PipelineConfiguration?
  /// First and last day (`YYYY-MM-DD`, inclusive); default: the whole of `daily_metrics`.
  public var from: String?
  public var to: String?
  /// Only this creator's statement: `summary.md` and `creator_earnings.csv`, which cover
  /// everyone, are left as they are.
  public var creator: String?
  public var lockWait: Double = 0
  /// Report even when new data waits for `aggregate` (the summary then says so at the top).
  public var allowPending = false
  /// Where to add CPU time per step (`--stats-json`); `nil`: not measured.
  public var stats: StageStats?
  /// The command line, for the `runs` row.
  public var commandLine = ""

  public init(databasePath: String, outputDirectory: String, configuration: PipelineConfiguration?) {
    self.databasePath = databasePath
    self.outputDirectory = outputDirectory
    self.configuration = configuration
  }
}

public struct ReportResult: Sendable, Equatable {
  public var from = ""
  public var to = ""
  public var statements = 0
  public var files: [String] = []
}

/// The `report` stage: Markdown and CSV for people and payout systems (CONTRACT §10).
///
/// Input: `daily_metrics`, `orders`, the payout ledger's closed months, `files` and `rejects`.
/// Output in the directory: `summary.md`, `creators/<creator_id>.md` for every creator active
/// in the period or with a balance carried into it, `creator_earnings.csv`, `payouts.csv` and
/// `orders.csv`. The SQL views `creator_earnings`, `product_funnel` and `platform_summary`
/// answer the same questions in the database. Output is byte-for-byte deterministic; files are
/// written under temporary names and renamed into place. `report --close-month` is
/// ``MonthCloser``; `report --status` is ``StatusReport``.
public struct ReportRunner {
  /// The steps `--stats-json` reports.
  public static var stepNames: [String] { ReportStep.allCases.map { "\($0)" } }

  public var options: ReportOptions
  public var logger: Logger

  public init(options: ReportOptions, logger: Logger) {
    self.options = options
    self.logger = logger
  }

  public func run() throws(PipelineError) -> ReportResult {
    let startedAt = Clock.isoNow()
    for (name, value) in [("--from", options.from), ("--to", options.to)] {
      if let value, Timestamp.dayNumber(value) == nil {
        throw PipelineError.input(path: name, reason: "'\(value)' is not a day; write it as YYYY-MM-DD")
      }
    }
    let given = try options.configuration.map { configuration throws(PipelineError) in try EffectiveSettings.given(configuration) }
    try Schema.requireExisting(path: options.databasePath)
    // The lock keeps writers out while the report reads; a user who may only read the
    // database's folder cannot create the lock file, and reports without it.
    let lockPath = RunLock.realPath(of: options.databasePath) + ".lock"
    let folder = (lockPath as NSString).deletingLastPathComponent
    let lock: RunLock?
    if access(lockPath, F_OK) == 0 ? access(lockPath, W_OK) == 0 : access(folder.isEmpty ? "." : folder, W_OK) == 0 {
      lock = try RunLock(databasePath: options.databasePath, command: "report", wait: options.lockWait) { [logger] in logger.info("\($0)") }
    } else {
      logger.info("the run lock is not writable for this user: reporting without it")
      lock = nil
    }
    if let lock { RunRecord.recordUnfinished(of: lock, databasePath: options.databasePath) }
    defer { withExtendedLifetime(lock) {} }
    let db = try Schema.openForReading(path: options.databasePath)
    var result = ReportResult()
    do {
      try db.execute("BEGIN")
      defer { try? db.execute("COMMIT") }
      let settings = try EffectiveSettings.resolve(given: given, db: db, path: options.databasePath, logger: logger).settings
      let catalog = settings.catalog
      let pending = try Self.pendingWork(db, settings: settings)
      if let pending {
        guard options.allowPending else {
          throw PipelineError.unusableDatabase(
            path: options.databasePath, reason: "\(pending); run aggregate first, or pass --allow-pending to report without it")
        }
        logger.warning("\(pending); reporting without it (--allow-pending)")
      }
      let span = try ReportData.span(db)
      let from = options.from ?? span?.0 ?? "0000-01-01"
      let to = options.to ?? span?.1 ?? "0000-01-01"
      result.from = from
      result.to = to
      let stats = options.stats
      let readStarted = StepClock.threadCPU()
      // Statements are rendered and written on a second thread while this one reads the
      // database: creating 50k files is mostly kernel time, reading them mostly SQLite's.
      let staging = try StagingDirectory(finalPath: options.outputDirectory + "/creators", reusing: options.creator == nil)
      let out = options.outputDirectory
      // With --creator, only that statement is written: the CSVs cover everyone.
      let csvFiles =
        options.creator == nil
        ? (
          try StagedFile(finalPath: out + "/creator_earnings.csv"), try StagedFile(finalPath: out + "/payouts.csv"),
          try StagedFile(finalPath: out + "/orders.csv")
        )
        : nil
      let statements = StatementWriter(
        staging: staging,
        renderer: StatementRenderer(
          from: from, to: to, money: MoneyRules(configuration: settings.configuration, catalog: catalog),
          thresholdCents: settings.configuration.payoutThresholdCents),
        earnings: csvFiles?.0, payouts: csvFiles?.1, stats: stats)
      // orders.csv is written on a third thread, from its own read connection: the run lock
      // keeps writers out, so both connections see the same data. Without the lock (a user
      // who may only read the folder), it is written after the scan on this connection, in
      // this read transaction, so that it shows the same data as the statements.
      let databasePath = options.databasePath
      nonisolated(unsafe) let ordersFile = lock == nil ? nil : csvFiles?.2
      let ordersTask = BackgroundTask(name: "orders") { () throws in
        guard let ordersFile else { return }
        let started = StepClock.threadCPU()
        defer { stats?.add(step: ReportStep.orders.rawValue, seconds: StepClock.threadCPU() - started) }
        let own = try Schema.openForReading(path: databasePath, cacheMiB: 16)
        try own.execute("BEGIN")
        defer { try? own.execute("COMMIT") }
        try Self.writeOrdersCSV(own, from: from, to: to, catalog: catalog, into: ordersFile)
      }
      let summary: String
      let count: Int
      let periodRows: Int
      do {
        var batch: [StatementRenderer.CreatorFigures] = []
        let closing = try LedgerStore.closing(db)
        let ledger = PayoutLedger(thresholdCents: settings.configuration.payoutThresholdCents, closing: closing)
        var scan = ReportScan(db: db, from: from, to: to, ledger: ledger)
        if !closing.closedAt.isEmpty { scan.ledgerStore = try LedgerStore(db: db) }
        let figures = try scan.run(only: options.creator) { figures in
          batch.append(figures)
          if batch.count == 256 {
            guard statements.handoff.send(batch) else { throw StatementWriter.Stopped() }
            batch.removeAll(keepingCapacity: true)
          }
        }
        if !batch.isEmpty { statements.handoff.send(batch) }
        periodRows = figures.periodRows
        stats?.setEvents(periodRows)
        stats?.add(step: ReportStep.read.rawValue, seconds: StepClock.threadCPU() - readStarted)
        let summaryStarted = StepClock.threadCPU()
        let text = SummaryRenderer(from: from, to: to, catalog: catalog).render(figures, quality: try ReportData.quality(db))
        if let pending {
          // Right under the title, so nobody takes these figures for complete ones.
          let title = text.prefix { $0 != "\n" }
          summary = title + "\n\n> **Not up to date:** \(pending); run `aggregate`, then report again.\n" + text.dropFirst(title.count)
        } else {
          summary = text
        }
        stats?.add(step: ReportStep.summary.rawValue, seconds: StepClock.threadCPU() - summaryStarted)
        count = try statements.handoff.finish()
        try ordersTask.value()
        if lock == nil, let orders = csvFiles?.2 {
          try Self.writeOrdersCSV(db, from: from, to: to, catalog: catalog, into: orders)
        }
      } catch {
        try? ordersTask.value()
        defer { statements.staging.discard() }
        // If the statement thread stopped, its own error says why.
        _ = try statements.handoff.finish()
        throw error
      }
      var outputs: [(String, String)] = []
      if let creator = options.creator {
        if count == 0 { logger.warning("creator \(creator) has no figures from \(from) to \(to); no statement written") }
      } else {
        if periodRows == 0 {
          logger.warning("daily_metrics has no rows from \(from) to \(to); the report is empty")
        }
        outputs.append(("summary.md", summary))
      }
      result.statements = count
      StopPoint.reached(.reportBeforePublish)
      let publishStarted = StepClock.threadCPU()
      defer { stats?.add(step: ReportStep.publish.rawValue, seconds: StepClock.threadCPU() - publishStarted) }
      try statements.staging.commit(replacing: options.creator == nil)
      StopPoint.reached(.reportStatementsPublished)
      try write(outputs)
      if let (earnings, payouts, orders) = csvFiles {
        for file in [earnings, payouts, orders] { try file.commit() }
      }
      result.files = outputs.map(\.0) + (csvFiles == nil ? [] : ["creator_earnings.csv", "payouts.csv", "orders.csv"])
    } catch let error as PipelineError {
      throw error
    } catch let error as DatabaseError {
      throw PipelineError.database(path: options.databasePath, error)
    } catch {
      throw PipelineError.output(
        path: options.outputDirectory, reason: "\(PipelineError.systemReason(error)); check that the folder is writable and has free space")
    }
    if lock != nil {
      var record = RunRecord(command: "report", arguments: options.commandLine, startedAt: startedAt)
      record.message =
        "\(result.statements) statement(s) from \(result.from) to \(result.to) in \(options.outputDirectory)"
        + (options.creator.map { " (creator \($0) only)" } ?? "")
      if let why = RunRecord.recordAfterwards(record, databasePath: options.databasePath) {
        logger.debug("report not recorded in runs: \(why)")
      }
    }
    return result
  }

  /// `orders.csv`: every ordered conversion and refund counted in the period, as sent (time,
  /// currency, amount), with the rates applied, its money in cents and the click, post and
  /// rule that attributed it, in (day, platform, order, event) order.
  static func writeOrdersCSV(_ db: SQLiteDatabase, from: String, to: String, catalog: ProductCatalog, into file: StagedFile) throws {
    try file.append(
      "day,ts,platform,order_id,event_id,kind,store,product_id,title,quantity,currency,amount,fx_usd_per_unit,revenue_cents,"
        + "commission_rate,commission_cents,refunded_cents,reversed_commission_cents,creator_id,placement,post_id,click_event_id,rule\n")
    let s = try db.prepare(
      """
      SELECT day, ts, platform, order_id, event_id, kind, store, product_id, quantity, currency, amount, fx_usd_per_unit,
        revenue_cents, commission_rate, commission_cents, refunded_cents, reversed_commission_cents, creator_id, placement,
        post_id, click_event_id, rule
      FROM orders WHERE day >= ? AND day <= ? ORDER BY day, platform, order_id, event_id
      """)
    s.bind(1, from)
    s.bind(2, to)
    // Each listing's catalog title, looked up once.
    var listings = ByteKeyTable()
    var titles: [String] = []
    var key = ByteKeyBuilder()
    var line = CSVLine()
    while try s.step() {
      line.reset()
      line.text(s.bytes(0))
      line.text(Timestamp.rfc3339(milliseconds: s.int(1)))
      for column in Int32(2)..<8 { line.text(s.bytes(column)) }
      key.reset()
      for column: Int32 in [2, 6, 7] { key.append(s.bytes(column)) }
      let (listing, isNew) = key.withKey { listings.insert($0) }
      if isNew { titles.append(catalog.product(platform: s.text(2), store: s.text(6), productID: s.text(7))?.title ?? "") }
      line.text(titles[listing])
      line.int(s.int(8))
      for column: Int32 in [9, 10, 11] { line.text(s.bytes(column)) }
      line.int(s.int(12))
      line.text(s.bytes(13))
      for column: Int32 in [14, 15, 16] { line.int(s.int(column)) }
      for column in Int32(17)..<22 { line.text(s.bytes(column)) }
      line.finish()
      try file.append(line)
    }
  }

  /// What `aggregate` has still to do, in words, or `nil` when `daily_metrics` is up to date:
  /// hours of new (or forgotten) data, or settings changed since the last aggregate.
  static func pendingWork(_ db: SQLiteDatabase, settings: EffectiveSettings) throws -> String? {
    let hours = try db.scalarInt("SELECT count(*) FROM dirty_hours") ?? 0
    if hours > 0 { return "\(hours) hour(s) of new or forgotten data are waiting for aggregate" }
    // daily_metrics loaded from the Spark job (spark/load_daily_metrics.py) is complete as it is.
    if try db.scalarText("SELECT value FROM meta WHERE key = 'daily_metrics_loaded_from'") != nil { return nil }
    let last = try db.scalarText("SELECT value FROM meta WHERE key = 'aggregate_fingerprint'")
    let staged = try db.scalarInt("SELECT count(*) FROM files WHERE status = 'ingested'") ?? 0
    if staged > 0 && last != settings.fingerprint {
      return last == nil ? "aggregate has not run on this database yet" : "the settings changed since the last aggregate"
    }
    return nil
  }

  /// The error of a period whose sums (or the payout ledger's, up to the period's end) would
  /// pass 2^63-1 cents. Every metric is non-negative, so if the grand totals fit, every
  /// group's total does too; ``ReportScan`` adds every row into them with overflow checks, and
  /// the report stops before anything is published.
  static func sumsOverflow(from: String, to: String) -> PipelineError {
    PipelineError.input(
      path: "\(from) to \(to)",
      reason:
        "the period's figures add up to more than 9,223,372,036,854,775,807 cents (the largest integer); report shorter periods with --from and --to — nothing was written"
    )
  }

  /// Renders statements on its own thread, writing each into the staging folder, and appends
  /// each creator's rows to `creator_earnings.csv` and `payouts.csv` (staged files; none with
  /// `--creator`). Its result is the number of statements.
  struct StatementWriter {
    /// Thrown to stop reading when the statement thread has failed.
    struct Stopped: Error {}

    let staging: StagingDirectory
    let handoff: Handoff<[StatementRenderer.CreatorFigures], Int>

    init(
      staging: StagingDirectory, renderer: StatementRenderer, earnings: StagedFile?, payouts: StagedFile?,
      stats: StageStats? = nil
    ) {
      self.staging = staging
      let threshold = renderer.thresholdCents
      nonisolated(unsafe) let earnings = earnings
      nonisolated(unsafe) let payouts = payouts
      handoff = Handoff(name: "statements") { [staging] next in
        var count = 0
        try earnings?.append(
          "creator_id,orders,units,revenue_cents,commission_cents,refunds,refunded_cents,reversed_commission_cents,net_commission_cents,payout_status,missing_to_threshold_cents\n"
        )
        try payouts?.append(
          "creator_id,month,line,status,closed_at,opening_cents,net_cents,payable_cents,closing_cents,currency,note\n")
        var clock = StepClock(steps: ReportStep.allCases.count, enabled: stats != nil)
        var line = CSVLine()
        var text = MarkdownText()
        defer { stats?.add(clock) }
        while let batch = next() {
          for figures in batch {
            let name = ReportRunner.fileName(for: figures.creatorID) + ".md"
            let renderStarted = clock.cpuNow()
            renderer.render(figures, into: &text)
            let writeStarted = clock.cpuNow()
            clock.addSeconds(ReportStep.render.rawValue, writeStarted - renderStarted)
            try staging.write(name, text.bytes)
            clock.addSeconds(ReportStep.write.rawValue, clock.cpuNow() - writeStarted)
            count += 1
            let t = figures.totals
            let status = StatementRenderer.payoutStatus(figures.months, threshold: threshold)
            if let earnings {
              line.reset()
              line.text(figures.creatorID)
              for value in [t.orders, t.units, t.revenueCents, t.commissionCents, t.refunds, t.refundedCents] { line.int(value) }
              for value in [t.reversedCommissionCents, t.netCommissionCents] { line.int(value) }
              line.text(status.status)
              line.int(status.missing)
              line.finish()
              try earnings.append(line)
            }
            for m in figures.months {
              guard let payouts else { break }
              // Adjustments first, each on its own line, then the month's balance.
              for a in m.adjustments {
                line.reset()
                for text in [
                  figures.creatorID, m.month, "adjustment", m.closedAt == nil ? "open (not closed)" : "closed", m.closedAt ?? "", "",
                ] {
                  line.text(text)
                }
                line.int(a.cents)
                for text in ["", "", "USD", "from \(a.sourceMonth) (closed)" + (a.orders.isEmpty ? "" : ": orders \(a.orders)")] {
                  line.text(text)
                }
                line.finish()
                try payouts.append(line)
              }
              line.reset()
              for text in [figures.creatorID, m.month, "balance", m.closedAt == nil ? "open (not closed)" : "closed", m.closedAt ?? ""] {
                line.text(text)
              }
              for value in [m.openingCents, m.netCents, m.payableCents, m.closingCents] { line.int(value) }
              line.text("USD")
              line.text("")
              line.finish()
              try payouts.append(line)
            }
          }
        }
        return count
      }
    }
  }

  /// Writes each file under a temporary name, then renames it into place.
  private func write(_ outputs: [(String, String)]) throws(PipelineError) {
    let out = options.outputDirectory
    do {
      try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
      for (name, text) in outputs {
        try StagingDirectory.writeAtomically(text, to: out + "/" + name)
      }
    } catch {
      throw PipelineError.output(
        path: out, reason: "\(PipelineError.systemReason(error)); check that the folder is writable and has free space")
    }
  }

  /// A file name for a creator id: itself when it is made of `A-Z a-z 0-9 . _ -` and does not
  /// start with `.`; otherwise the unsafe characters become `_` and a hash of the id is appended.
  public static func fileName(for creatorID: String) -> String {
    let safe = creatorID.unicodeScalars.allSatisfy { s in
      s.isASCII && (CharacterSet.alphanumerics.contains(s) || s == "." || s == "_" || s == "-")
    }
    if safe && !creatorID.hasPrefix(".") && !creatorID.isEmpty && creatorID.utf8.count <= 200 { return creatorID }
    let cleaned = String(
      creatorID.unicodeScalars.prefix(100).map { s -> Character in
        s.isASCII && (CharacterSet.alphanumerics.contains(s) || s == "_" || s == "-") ? Character(s) : "_"
      })
    let hash = String(UInt64(EventKeyHash.key(creatorID)) & 0xFFFF_FFFF, radix: 16)
    return cleaned + "-" + String(repeating: "0", count: 8 - hash.count) + hash
  }
}
