import Foundation

/// The operator's view of a database (`report --status`): the lock, what ran (and what was
/// interrupted), what failed and will be retried, what was refused, what waits for
/// `aggregate`, the last report and backup, the closed months, the settings in force and the
/// size. Plain text, or JSON for monitoring (`--json`), on standard output; it reads the
/// database and changes nothing.
public enum StatusReport {
  /// How many recent runs are listed.
  public static let recentRuns = 5
  /// How many failed or refused files, and orders refunded past their amount, are named.
  static let named = 20

  /// Everything the status shows; its JSON form is `report --status --json`.
  struct Status: Encodable {
    struct Lock: Encodable {
      /// `free`, `held`, or `free, last holder unfinished`.
      var state: String
      var holder: String?
    }
    struct Run: Encodable {
      var runID: Int64
      var command: String
      var startedAt: String
      var endedAt: String
      var exitStatus: Int64
      var message: String
      var filesIngested: Int64
      var filesFailed: Int64
      var filesSkipped: Int64
      var linesRead: Int64
      var eventsKept: Int64
      var rejected: Int64
      var duplicates: Int64
    }
    struct File: Encodable {
      var path: String
      var error: String
    }
    struct Setting: Encodable {
      var key: String
      var value: String
    }

    var database: String
    var sizeBytes: Int
    var schemaVersion: Int
    var version: String
    var lock: Lock
    var lastRuns: [Run] = []
    /// Runs that were interrupted by a signal or ended without finishing, latest first.
    var unfinishedRuns: [Run] = []
    var lastReport: Run?
    var lastBackup: Run?
    var failedFiles: [File] = []
    var refusedFiles: [File] = []
    var waitingForAggregate: String?
    var ordersRefundedPastTheirAmount: Int = 0
    var overRefunds: [String] = []
    var futureEvents: Int64 = 0
    var filesWithFutureEvents: Int64 = 0
    var dailyMetricsRows: Int64 = 0
    var firstDay: String?
    var lastDay: String?
    var closedMonths: [String] = []
    var settings: [Setting] = []
  }

  public static func render(databasePath path: String) throws(PipelineError) -> String {
    text(try gather(databasePath: path))
  }

  public static func renderJSON(databasePath path: String) throws(PipelineError) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
    encoder.keyEncodingStrategy = .convertToSnakeCase
    // A database that cannot be read is an error, as in the text form, never an empty object.
    let status = try gather(databasePath: path)
    let data = (try? encoder.encode(status)) ?? Data("{}".utf8)
    return String(decoding: data, as: UTF8.self) + "\n"
  }

  static func gather(databasePath path: String) throws(PipelineError) -> Status {
    try Schema.requireExisting(path: path)
    let lock = lockState(databasePath: path)
    let db = try Schema.openForReading(path: path, cacheMiB: 8)
    do {
      try db.execute("BEGIN")
      defer { try? db.execute("COMMIT") }
      let bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
      var status = Status(
        database: path, sizeBytes: bytes, schemaVersion: Schema.version, version: BuildInfo.versionText(command: "report"),
        lock: lock)
      let columns = """
        run_id, command, started_at, ended_at, exit_status, message, files_ingested, files_failed, files_skipped,
        lines_read, events_kept, rejected, duplicates
        """
      func runs(_ filter: String, limit: Int) throws -> [Status.Run] {
        try db.rows("SELECT \(columns) FROM runs \(filter) ORDER BY run_id DESC LIMIT \(limit)").map { r in
          Status.Run(
            runID: r[0].intValue, command: r[1].textValue, startedAt: r[2].textValue, endedAt: r[3].textValue,
            exitStatus: r[4].intValue, message: r[5].textValue, filesIngested: r[6].intValue, filesFailed: r[7].intValue,
            filesSkipped: r[8].intValue, linesRead: r[9].intValue, eventsKept: r[10].intValue, rejected: r[11].intValue,
            duplicates: r[12].intValue)
        }
      }
      status.lastRuns = try runs("", limit: recentRuns)
      status.unfinishedRuns = try runs("WHERE exit_status IN (130, 143, -1)", limit: recentRuns)
      status.lastReport = try runs("WHERE command = 'report'", limit: 1).first
      status.lastBackup = try runs("WHERE command = 'backup'", limit: 1).first
      status.failedFiles = try ReportData.failedFiles(db).map { .init(path: $0.path, error: $0.error) }
      status.refusedFiles = try ReportData.refusedFiles(db).map { .init(path: $0.path, error: $0.error) }
      let settings =
        try EffectiveSettings.stored(in: db, path: path)
        ?? EffectiveSettings(configuration: .default, catalog: ProductCatalog(), catalogText: nil)
      status.waitingForAggregate = try ReportRunner.pendingWork(db, settings: settings)
      let overRefunds = try db.rows("SELECT platform, order_id, ordered, refunded FROM over_refunds ORDER BY platform, order_id")
      status.ordersRefundedPastTheirAmount = overRefunds.count
      status.overRefunds = overRefunds.prefix(named).map { row in
        OverRefunds.Entry(platform: row[0].textValue, orderID: row[1].textValue, ordered: row[2].textValue, refunded: row[3].textValue)
          .description
      }
      let future = try db.rows(
        "SELECT coalesce(sum(future_events), 0), count(*) FROM files WHERE status = 'ingested' AND future_events > 0")[0]
      (status.futureEvents, status.filesWithFutureEvents) = (future[0].intValue, future[1].intValue)
      let span = try db.rows("SELECT count(*), min(day), max(day) FROM daily_metrics")[0]
      status.dailyMetricsRows = span[0].intValue
      if status.dailyMetricsRows > 0 { (status.firstDay, status.lastDay) = (span[1].textValue, span[2].textValue) }
      status.closedMonths = try db.rows("SELECT month FROM closed_months ORDER BY month").map(\.[0].textValue)
      status.settings = settings.entries.map { .init(key: $0.key, value: $0.value) }
      return status
    } catch let error as PipelineError {
      throw error
    } catch {
      throw PipelineError(error, databasePath: path)
    }
  }

  /// The run lock as the lock file tells it, without taking it: a holder whose process is
  /// alive on this host holds it; a holder that left its line and is gone did not finish.
  static func lockState(databasePath path: String) -> Status.Lock {
    let lockPath = RunLock.realPath(of: path) + ".lock"
    let text = ((try? String(contentsOfFile: lockPath, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    guard !text.isEmpty else { return .init(state: "free") }
    if let run = RunLock.UnfinishedRun(lockText: text), run.signal == nil, run.host == ProcessInfo.processInfo.hostName,
      kill(pid_t(run.pid), 0) == 0 || errno == EPERM
    {
      return .init(state: "held", holder: text)
    }
    return .init(state: "free, last holder unfinished", holder: text)
  }

  static func text(_ s: Status) -> String {
    var out = "database \(s.database)\n"
    out += "  size: \(String(format: "%.1f", Double(s.sizeBytes) / 1_048_576)) MiB, schema version \(s.schemaVersion), \(s.version)\n"
    switch s.lock.state {
    case "free": out += "  lock: free\n"
    case "held": out += "  lock: held by \(s.lock.holder ?? "")\n"
    default: out += "  lock: free; its last holder did not finish (\(s.lock.holder ?? "")); the next run records it\n"
    }

    out += "\nlast runs:\n"
    if s.lastRuns.isEmpty { out += "  none yet\n" }
    for run in s.lastRuns { out += "  " + line(run) + "\n" }
    if !s.unfinishedRuns.isEmpty {
      out += "interrupted or unfinished runs (latest \(s.unfinishedRuns.count)):\n"
      for run in s.unfinishedRuns { out += "  " + line(run) + "\n" }
    }
    out += "last report: " + (s.lastReport.map { "\($0.endedAt): \($0.message)" } ?? "none recorded") + "\n"
    out += "last backup: " + (s.lastBackup.map { "\($0.endedAt): \($0.message)" } ?? "none recorded") + "\n"

    out += "\nfiles that failed and are retried when given again: \(s.failedFiles.count)\n"
    for file in s.failedFiles.prefix(named) { out += "  \(file.path): \(file.error)\n" }
    if s.failedFiles.count > named {
      out += "  … and \(s.failedFiles.count - named) more (SELECT path, error FROM files WHERE status = 'failed')\n"
    }
    out += "files refused because most of their lines were rejected: \(s.refusedFiles.count)\n"
    for file in s.refusedFiles.prefix(named) { out += "  \(file.path): \(file.error)\n" }
    if s.refusedFiles.count > named {
      out += "  … and \(s.refusedFiles.count - named) more (SELECT path, error FROM files WHERE status = 'refused')\n"
    }

    out += "\nwaiting for aggregate: \(s.waitingForAggregate ?? "nothing; daily_metrics is up to date")\n"
    out += "orders refunded past their amount: \(s.ordersRefundedPastTheirAmount)\n"
    for entry in s.overRefunds.prefix(10) { out += "  \(entry)\n" }
    if s.ordersRefundedPastTheirAmount > 10 {
      out += "  … and \(s.ordersRefundedPastTheirAmount - 10) more (SELECT * FROM over_refunds)\n"
    }
    out +=
      "events dated more than a day after their ingest: \(s.futureEvents)"
      + (s.futureEvents > 0 ? " in \(s.filesWithFutureEvents) file(s) (SELECT path, future_events FROM files WHERE future_events > 0)" : "")
      + "\n"
    out += "daily_metrics: \(s.dailyMetricsRows) row(s)" + (s.firstDay.map { ", \($0) to \(s.lastDay ?? $0)" } ?? "") + "\n"
    out += "closed months: " + (s.closedMonths.isEmpty ? "none" : "\(s.closedMonths.count), the last \(s.closedMonths.last!)") + "\n"

    out += "\nsettings in force (stored in the database; a run with a different --config names what changes):\n"
    for entry in s.settings { out += "  \(entry.key) = \(entry.value)\n" }
    return out
  }

  /// `#12 ingest, ended T, exit 0: …`, with an ingest's counts.
  private static func line(_ run: Status.Run) -> String {
    let message = run.message.split(separator: "\n").first.map(String.init) ?? ""
    var text =
      "#\(run.runID) \(run.command), " + (run.endedAt.isEmpty ? "started \(run.startedAt)" : "ended \(run.endedAt)")
      + ", exit \(run.exitStatus)"
    if run.command == "ingest" && (run.exitStatus == 0 || run.exitStatus == 2) {
      text +=
        ": \(run.filesIngested) file(s) ingested, \(run.filesFailed) failed or refused, \(run.filesSkipped) skipped; "
        + "\(run.linesRead) lines, \(run.eventsKept) events kept, \(run.rejected) rejected, \(run.duplicates) duplicates"
      if !message.isEmpty { text += "; " + message }
    } else if !message.isEmpty {
      text += ": " + message
    }
    return text
  }
}
