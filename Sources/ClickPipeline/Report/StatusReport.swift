import Foundation

/// The operator's view of a database (`report --status`): what ran, what failed and will be
/// retried, what waits for `aggregate`, the settings in force and the size. Plain text on
/// standard output; it reads the database and changes nothing.
public enum StatusReport {
  /// How many recent runs are listed.
  public static let recentRuns = 5

  public static func render(databasePath path: String) throws(PipelineError) -> String {
    try Schema.requireExisting(path: path)
    let db = try Schema.openForReading(path: path, cacheMiB: 8)
    do {
      try db.execute("BEGIN")
      defer { try? db.execute("COMMIT") }
      var out = "database \(path)\n"
      let bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
      out += "  size: \(String(format: "%.1f", Double(bytes) / 1_048_576)) MiB, schema version \(Schema.version), \(BuildInfo.versionText(command: "report"))\n"

      out += "\nlast runs:\n"
      let runs = try db.rows(
        "SELECT run_id, command, ended_at, exit_status, message FROM runs ORDER BY run_id DESC LIMIT \(recentRuns)")
      if runs.isEmpty { out += "  none yet\n" }
      for run in runs {
        let message = run[4].textValue.split(separator: "\n").first.map(String.init) ?? ""
        out += "  #\(run[0].intValue) \(run[1].textValue), ended \(run[2].textValue), exit \(run[3].intValue)\(message.isEmpty ? "" : ": " + message)\n"
      }

      let failed = try ReportData.failedFiles(db)
      out += "\nfiles that failed and are retried when given again: \(failed.count)\n"
      for file in failed.prefix(20) { out += "  \(file.path): \(file.error)\n" }
      if failed.count > 20 { out += "  … and \(failed.count - 20) more (SELECT path, error FROM files WHERE status = 'failed')\n" }
      let refused = try ReportData.refusedFiles(db)
      out += "files refused because most of their lines were rejected: \(refused.count)\n"
      for file in refused.prefix(20) { out += "  \(file.path): \(file.error)\n" }
      if refused.count > 20 { out += "  … and \(refused.count - 20) more (SELECT path, error FROM files WHERE status = 'refused')\n" }

      let settings = try EffectiveSettings.stored(in: db, path: path)
        ?? EffectiveSettings(configuration: .default, catalog: ProductCatalog(), catalogText: nil)
      out += "\nwaiting for aggregate: \(try ReportRunner.pendingWork(db, settings: settings) ?? "nothing; daily_metrics is up to date")\n"
      let overRefunds = try db.rows("SELECT platform, order_id, ordered, refunded FROM over_refunds ORDER BY platform, order_id")
      out += "orders refunded past their amount: \(overRefunds.count)\n"
      for row in overRefunds.prefix(10) {
        let entry = OverRefunds.Entry(
          platform: row[0].textValue, orderID: row[1].textValue, ordered: row[2].textValue, refunded: row[3].textValue)
        out += "  \(entry.description)\n"
      }
      if overRefunds.count > 10 { out += "  … and \(overRefunds.count - 10) more (SELECT * FROM over_refunds)\n" }
      let future = try db.rows(
        "SELECT coalesce(sum(future_events), 0), count(*) FROM files WHERE status = 'ingested' AND future_events > 0")[0]
      out += "events dated more than a day after their ingest: \(future[0].intValue)"
        + (future[0].intValue > 0 ? " in \(future[1].intValue) file(s) (SELECT path, future_events FROM files WHERE future_events > 0)" : "")
        + "\n"
      let span = try db.rows("SELECT count(*), min(day), max(day) FROM daily_metrics")[0]
      out += "daily_metrics: \(span[0].intValue) row(s)" + (span[0].intValue > 0 ? ", \(span[1].textValue) to \(span[2].textValue)" : "") + "\n"

      out += "\nsettings in force (stored in the database; a run with a different --config names what changes):\n"
      for entry in settings.entries { out += "  \(entry.key) = \(entry.value)\n" }
      return out
    } catch let error as PipelineError {
      throw error
    } catch {
      throw PipelineError(error, databasePath: path)
    }
  }
}
