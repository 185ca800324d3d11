import Foundation
import Logging

/// `report --close-month YYYY-MM`: closes the payout ledger's month for every creator at once,
/// irreversibly (``PayoutLedger``).
///
/// Closing stores each creator's month as the ledger has it now (opening, net, adjustments
/// from earlier closed months, payable, closing) and the orders it is accounted with. Every
/// open month up to the given one is closed, in order. It is refused while data waits for
/// `aggregate`, for a month that is not over in the configured time zone, and for a month
/// already closed. It is `report`'s only write, made under the run lock in one transaction.
public struct MonthCloser {
  public var databasePath: String
  /// The configuration given with `--config`; `nil`: the database's stored settings.
  public var configuration: PipelineConfiguration?
  public var lockWait: Double = 0
  public var logger: Logger

  /// What was closed.
  public struct Result: Sendable, Equatable {
    public var months: [String] = []
    /// Per closed month: creators with a row, payable cents and creators paid.
    public var creators: [Int] = []
    public var payableCents: [Int64] = []
    public var creatorsPaid: [Int] = []

    /// One line per month: `2026-11: 303 creator(s), $1,234.00 payable to 12 creator(s)`.
    public var description: String {
      months.indices.map { i in
        "closed \(months[i]): \(creators[i]) creator(s), \(Markdown.usd(payableCents[i])) payable to \(creatorsPaid[i]) creator(s)"
      }.joined(separator: "\n")
    }
  }

  public init(databasePath: String, configuration: PipelineConfiguration?, logger: Logger) {
    self.databasePath = databasePath
    self.configuration = configuration
    self.logger = logger
  }

  public func close(month: String, now: Int64 = Clock.nowMilliseconds()) throws(PipelineError) -> Result {
    let startedAt = Clock.isoNow()
    guard month.utf8.count == 7, Timestamp.dayNumber(month + "-01") != nil else {
      throw PipelineError.input(path: "--close-month", reason: "'\(month)' is not a month; write it as YYYY-MM")
    }
    let given = try configuration.map { configuration throws(PipelineError) in try EffectiveSettings.given(configuration) }
    try Schema.requireExisting(path: databasePath)
    let lock = try RunLock(databasePath: databasePath, command: "report --close-month", wait: lockWait) { [logger] in logger.info("\($0)") }
    RunRecord.recordUnfinished(of: lock, databasePath: databasePath)
    defer { withExtendedLifetime(lock) {} }
    let db = try Schema.open(path: databasePath, cacheMiB: 16)
    do {
      try db.beginWrite()
      let settings = try EffectiveSettings.resolve(given: given, db: db, path: databasePath, logger: logger).settings
      let result = try closeMonths(through: month, db: db, settings: settings, now: now)
      var record = RunRecord(command: "close-month", arguments: "--close-month \(month)", startedAt: startedAt)
      record.message = result.description.replacingOccurrences(of: "\n", with: "; ")
      try record.insert(into: db)
      try db.execute("COMMIT")
      RunLock.markCommitted()
      return result
    } catch {
      try? db.execute("ROLLBACK")
      throw PipelineError(error, databasePath: databasePath)
    }
  }

  /// Accounts a closed month of a creator with its orders as they are. `creator_id <> ''`
  /// lets SQLite use the partial index `orders_by_creator` instead of the month's orders.
  static let accountSQL = """
    INSERT INTO ledger_orders(month, event_id, order_id, creator_id, net_cents)
    SELECT ?2, event_id, order_id, creator_id, commission_cents - reversed_commission_cents FROM orders
    WHERE creator_id = ?1 AND creator_id <> '' AND day >= ?2 || '-01' AND day <= ?2 || '-31'
    """

  private func refuse(_ month: String, _ reason: String) -> PipelineError {
    .input(path: "--close-month \(month)", reason: reason + "; nothing was closed")
  }

  private func closeMonths(through month: String, db: SQLiteDatabase, settings: EffectiveSettings, now: Int64) throws -> Result {
    let configuration = settings.configuration
    var closing = try LedgerStore.closing(db)
    if let closedAt = closing.closedAt[month] {
      throw refuse(
        month, "it was closed on \(closedAt), and a closed month never changes (later differences are adjustments in the first open month)")
    }
    if let pending = try ReportRunner.pendingWork(db, settings: settings) {
      throw refuse(month, "\(pending); run aggregate first, then close the month")
    }
    let zone = configuration.timeZoneIdentifier
    let today = DayCalendar(identifier: zone).text(ofDay: DayCalendar(identifier: zone).day(ofMilliseconds: now))
    guard month < String(today.prefix(7)) else {
      throw refuse(month, "it is not over yet in \(zone) (today is \(today)); close it from \(PayoutLedger.next(month))-01 on")
    }
    if let last = closing.lastClosed, last > month {
      throw refuse(month, "a later month, \(last), is closed already")
    }
    // Every open month up to `month`, in order: from the month after the last closed one, or
    // from the first month with figures.
    let firstWithData = try db.scalarText("SELECT substr(min(day), 1, 7) FROM daily_metrics")
    let start = closing.lastClosed.map(PayoutLedger.next) ?? min(firstWithData ?? month, month)
    let months = PayoutLedger.monthRange(start, month)

    let store = try LedgerStore(db: db)
    let insertRow = try db.prepare("INSERT INTO ledger_months VALUES (?, ?, ?, ?, ?, ?, ?)")
    let insertAdjustment = try db.prepare("INSERT INTO ledger_adjustments VALUES (?, ?, ?, ?, ?)")
    let forgetAccounted = try db.prepare("DELETE FROM ledger_orders WHERE creator_id = ? AND month = ?")
    let account = try db.prepare(Self.accountSQL)
    var result = Result()
    // One moment for the whole close, whatever the number of months.
    let closedAt = Clock.isoNow()
    for current in months {
      // Each creator's net earnings per month now, up to the month's end.
      var nets: [String: [(month: String, cents: Int64)]] = [:]
      for row in try db.rows(
        """
        SELECT creator_id, substr(day, 1, 7), sum(commission_cents) - sum(reversed_commission_cents) FROM daily_metrics
        WHERE day <= ? AND creator_id <> '' GROUP BY creator_id, substr(day, 1, 7)
        """, [.text(current + "-31")])
      {
        nets[row[0].textValue, default: []].append((row[1].textValue, row[2].intValue))
      }
      // Creators known only to the ledger (their orders moved away or were forgotten) are
      // closed too: their differences are adjustments.
      for row in try db.rows("SELECT creator_id FROM ledger_months UNION SELECT creator_id FROM ledger_orders")
      where nets[row[0].textValue] == nil {
        nets[row[0].textValue] = []
      }
      let ledger = PayoutLedger(thresholdCents: configuration.payoutThresholdCents, closing: closing)
      var creators = 0
      var payable: Int64 = 0
      var paid = 0
      for creator in nets.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
        let history = try store.history(of: creator)
        guard
          let row = try ledger.months(
            net: nets[creator]!, firstMonth: current, lastMonth: current, history: history,
            orders: { source in try store.orders(of: creator, month: source) }
          ).last
        else { continue }
        for adjustment in row.adjustments {
          try insertAdjustment.run([
            .text(creator), .text(current), .text(adjustment.sourceMonth), .int(adjustment.cents), .text(adjustment.orders),
          ])
          // The source month is now accounted with its orders as they are.
          try forgetAccounted.run([.text(creator), .text(adjustment.sourceMonth)])
          try account.run([.text(creator), .text(adjustment.sourceMonth)])
        }
        try account.run([.text(creator), .text(current)])
        guard row.openingCents != 0 || row.netCents != 0 || !row.adjustments.isEmpty else { continue }
        try insertRow.run([
          .text(creator), .text(current), .int(row.openingCents), .int(row.netCents), .int(row.adjustmentCents),
          .int(row.payableCents), .int(row.closingCents),
        ])
        creators += 1
        payable += row.payableCents
        if row.payableCents > 0 { paid += 1 }
      }
      try db.run(
        "INSERT INTO closed_months(month, closed_at, time_zone, threshold_cents) VALUES (?, ?, ?, ?)",
        [.text(current), .text(closedAt), .text(zone), .int(configuration.payoutThresholdCents)])
      closing.closedAt[current] = closedAt
      result.months.append(current)
      result.creators.append(creators)
      result.payableCents.append(payable)
      result.creatorsPaid.append(paid)
    }
    return result
  }
}
