import Foundation
import Logging

/// Forgets ingested files: their events, their rejects and their content hash, in one
/// transaction, so that a corrected dump with the same event ids can be ingested again.
///
/// The hours the forgotten events touched are marked dirty, so the next `aggregate` recomputes
/// exactly the days they counted in (and the windows and orders they influenced).
public struct FileForgetter {
  public var databasePath: String
  public var lockWait: Double
  public var logger: Logger

  public struct Result: Sendable, Equatable {
    public var files = 0
    public var events = 0
    public var rejects = 0
  }

  public init(databasePath: String, lockWait: Double, logger: Logger) {
    self.databasePath = databasePath
    self.lockWait = lockWait
    self.logger = logger
  }

  /// Forgets every ingested file whose path or content hash is in `selectors`.
  public func forget(_ selectors: [String], commandLine: String = "") throws(PipelineError) -> Result {
    let lock = try RunLock(databasePath: databasePath, command: "ingest --forget", wait: lockWait) { [logger] in logger.info("\($0)") }
    defer { withExtendedLifetime(lock) {} }
    let db = try Schema.open(path: databasePath)
    var result = Result()
    let startedAt = Clock.isoNow()
    do {
      try db.beginWrite()
      var fileIDs: [Int64] = []
      for selector in selectors {
        let ids = try db.rows(
          "SELECT file_id FROM files WHERE status = 'ingested' AND (path = ? OR content_hash = ?)",
          [.text(selector), .text(selector)]
        ).map(\.[0].intValue)
        guard !ids.isEmpty else {
          throw PipelineError.input(
            path: selector,
            reason: "no ingested file has this path or content hash; list them with: SELECT path, content_hash FROM files WHERE status = 'ingested'")
        }
        fileIDs += ids
      }
      let keys = try EventKeyIndex(db: db, readFilter: false)
      let markDirty = try db.prepare(
        """
        INSERT INTO dirty_hours(hour, click_platforms) VALUES (?, ?)
        ON CONFLICT(hour) DO UPDATE SET click_platforms = click_platforms | excluded.click_platforms
        """)
      func mark(_ ts: Int64, _ platforms: Int64) throws(DatabaseError) {
        try markDirty.run([.int(ts / 3_600_000), .int(platforms)])
      }
      for fileID in Set(fileIDs).sorted() {
        for (table, isClick) in [("views", false), ("clicks", true), ("conversions", false)] {
          let rows = try db.rows(
            "SELECT event_id, ts, platform\(table == "conversions" ? ", order_id" : ", ''") FROM \(table) WHERE file_id = ?",
            [.int(fileID)])
          for row in rows {
            let eventID = row[0].textValue
            try keys.forget(eventID)
            try mark(row[1].intValue, isClick ? (row[2].textValue == "amazon" ? 1 : 2) : 0)
            if table == "conversions" {
              // Other conversions of the order may become the kept copy, or lose their order.
              for other in try db.rows(
                "SELECT ts FROM conversions WHERE platform = ? AND order_id = ?", [row[2], row[3]])
              {
                try mark(other[0].intValue, 0)
              }
            }
            if isClick {
              // Conversions that named this click by click_id fall back to other rules.
              let named = try db.rows("SELECT ts FROM conversions WHERE click_id = ?", [.text(eventID)])
              for other in named { try mark(other[0].intValue, 0) }
              if !named.isEmpty {
                try db.run("INSERT OR IGNORE INTO pending_click_refs(click_id) VALUES (?)", [.text(eventID)])
              }
            }
          }
          result.events += rows.count
          try db.run("DELETE FROM \(table) WHERE file_id = ?", [.int(fileID)])
        }
        result.rejects += Int(try db.scalarInt("SELECT count(*) FROM rejects WHERE file_id = ?", [.int(fileID)]) ?? 0)
        try db.run("DELETE FROM rejects WHERE file_id = ?", [.int(fileID)])
        try db.run("UPDATE files SET status = 'forgotten' WHERE file_id = ?", [.int(fileID)])
        result.files += 1
      }
      let runID = (try db.scalarInt("SELECT max(run_id) FROM runs") ?? 0) + 1
      try db.run(
        """
        INSERT INTO runs(run_id, command, arguments, started_at, ended_at, exit_status, host, pid, message)
        VALUES (?, 'forget', ?, ?, ?, 0, ?, ?, ?)
        """,
        [
          .int(runID), .text(commandLine), .text(startedAt), .text(Clock.isoNow()),
          .text(ProcessInfo.processInfo.hostName), .int(Int64(ProcessInfo.processInfo.processIdentifier)),
          .text("forgot \(result.files) file(s), \(result.events) event(s), \(result.rejects) reject(s)"),
        ])
      try db.execute("COMMIT")
    } catch {
      try? db.execute("ROLLBACK")
      throw PipelineError(error, databasePath: databasePath)
    }
    return result
  }
}
