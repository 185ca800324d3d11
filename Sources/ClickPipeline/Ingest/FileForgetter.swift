import Foundation
import Logging

/// Forgets ingested files: their events and their rejects, in one transaction, so that a
/// corrected dump with the same event ids can be ingested again. The forgotten content is
/// remembered (`status = 'forgotten'`, with its hash and size): later runs over the same
/// folder skip it, while a corrected file (new content) comes in; `ingest --take-forgotten`
/// takes the same content back. A file that failed and would be retried every run (a
/// corrupt gzip) can be dismissed the same way, by its path.
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
    /// Failed files taken off the retry list.
    public var dismissed = 0
  }

  /// Content set aside by `--forget` and not ingested since: content hash → file size.
  static func setAside(_ db: SQLiteDatabase) throws(DatabaseError) -> [String: Int] {
    var result: [String: Int] = [:]
    for row in try db.rows(
      """
      SELECT f.content_hash, f.size FROM files f
      WHERE f.status = 'forgotten' AND f.content_hash <> ''
        AND NOT EXISTS (SELECT 1 FROM files g WHERE g.status = 'ingested' AND g.content_hash = f.content_hash)
      """)
    {
      result[row[0].textValue] = Int(row[1].intValue)
    }
    return result
  }

  public init(databasePath: String, lockWait: Double, logger: Logger) {
    self.databasePath = databasePath
    self.lockWait = lockWait
    self.logger = logger
  }

  /// Forgets every ingested file whose path or content hash is in `selectors`.
  public func forget(_ selectors: [String], commandLine: String = "") throws(PipelineError) -> Result {
    let lock = try RunLock(databasePath: databasePath, command: "ingest --forget", wait: lockWait) { [logger] in logger.info("\($0)") }
    RunRecord.recordUnfinished(of: lock, databasePath: databasePath)
    defer { withExtendedLifetime(lock) {} }
    let db = try Schema.open(path: databasePath)
    var result = Result()
    let startedAt = Clock.isoNow()
    do {
      try db.beginWrite()
      var fileIDs: [Int64] = []
      for selector in selectors {
        // A path whose last attempt failed or was refused: that attempt is dismissed (an
        // earlier ingested content of the same path is forgotten by its content hash).
        if try dismissFailed(path: selector, db) {
          result.dismissed += 1
          continue
        }
        let ids = try db.rows(
          "SELECT file_id FROM files WHERE status = 'ingested' AND (path = ? OR content_hash = ?)",
          [.text(selector), .text(selector)]
        ).map(\.[0].intValue)
        if !ids.isEmpty {
          fileIDs += ids
        } else {
          throw PipelineError.input(
            path: selector,
            reason:
              "no ingested or failed file has this path or content hash; list them with: SELECT path, status, content_hash FROM files WHERE status IN ('ingested', 'failed')"
          )
        }
      }
      let keys = try EventKeys(db: db)
      let segments = try SegmentReader(db: db)
      let conversionHours = try DirtyHours.ConversionHours(db: db)
      var dirty = DirtyHours()
      var markedOrders = Set<[String]>()
      for fileID in Set(fileIDs).sorted() {
        for info in try segments.segments(ofFile: fileID) {
          let segment = try segments.load(info.segmentID)
          let ids = try segments.ids(info.segmentID)
          for row in segment.liveRows {
            let id = ids.id(row)
            let platform = segment.withListing(row) { platform, _, _ in platform }
            dirty.mark(segment.ts[row], click: info.kind == .click ? platform : nil)
            guard info.kind == .click else { continue }
            keys.removeClick(hash: EventKeyHash.hash(id), day: info.day)
            // Conversions that named this click by click_id fall back to other rules.
            if try conversionHours.markConversionsNaming(click: id, in: &dirty) {
              try db.run("INSERT OR IGNORE INTO pending_click_refs(click_id) VALUES (?)", [.text(id)])
            }
          }
          result.events += segment.liveRows.count
        }
        for table in ["segment_ids", "segment_dropped"] {
          try db.run(
            "DELETE FROM \(table) WHERE segment_id IN (SELECT segment_id FROM segments WHERE file_id = ?)", [.int(fileID)])
        }
        try db.run("DELETE FROM segments WHERE file_id = ?", [.int(fileID)])
        let rows = try db.rows("SELECT ts, platform, order_id FROM conversions WHERE file_id = ?", [.int(fileID)])
        for row in rows {
          dirty.mark(row[0].intValue)
          // Other conversions of the order may become the kept copy, or lose their order.
          guard markedOrders.insert([row[1].textValue, row[2].textValue]).inserted else { continue }
          try conversionHours.markOrder(platform: row[1].textValue, orderID: row[2].textValue, in: &dirty)
        }
        result.events += rows.count
        try db.run("DELETE FROM conversions WHERE file_id = ?", [.int(fileID)])
        result.rejects += Int(try db.scalarInt("SELECT count(*) FROM rejects WHERE file_id = ?", [.int(fileID)]) ?? 0)
        try db.run("DELETE FROM rejects WHERE file_id = ?", [.int(fileID)])
        try db.run("UPDATE files SET status = 'forgotten' WHERE file_id = ?", [.int(fileID)])
        result.files += 1
      }
      _ = try keys.finish(reader: segments)
      try dirty.write(to: db)
      var record = RunRecord(command: "forget", arguments: commandLine, startedAt: startedAt)
      record.message =
        "forgot \(result.files) file(s), \(result.events) event(s), \(result.rejects) reject(s)"
        + (result.dismissed > 0 ? "; dismissed \(result.dismissed) failed file(s)" : "")
      try record.insert(into: db)
      try db.execute("COMMIT")
      RunLock.markCommitted()
    } catch {
      try? db.execute("ROLLBACK")
      throw PipelineError(error, databasePath: databasePath)
    }
    return result
  }

  /// Takes the file at `path` whose last attempt failed (or was refused as mostly rejected)
  /// off the retry list, remembering its content so that later runs skip it; false if its
  /// last attempt did neither. A file that cannot be read now is refused: its content could
  /// not be recognised.
  private func dismissFailed(path: String, _ db: SQLiteDatabase) throws -> Bool {
    let last = try db.rows(
      "SELECT file_id, status FROM files WHERE path = ? ORDER BY file_id DESC LIMIT 1", [.text(path)]
    ).first
    guard let last, ["failed", "refused"].contains(last[1].textValue) else { return false }
    let hash: String
    do {
      hash = try FileParser.contentHash(path: path)
    } catch {
      // Without its bytes there is nothing to recognise it by: it would fail again.
      throw PipelineError.input(
        path: path,
        reason:
          "its last attempt failed and it cannot be read now (\(error.message)), so it cannot be dismissed by its content; remove it from the input folders, or make it readable and run --forget again; nothing was changed"
      )
    }
    let size = ParallelParse.regularFileSize(path) ?? 0
    try db.run(
      "UPDATE files SET status = 'forgotten', content_hash = ?, size = ? WHERE file_id = ?",
      [.text(hash), .int(Int64(size)), last[0]])
    logger.info("dismissed: no longer retried; later runs skip this content", metadata: ["ingest.file": "\(path)"])
    return true
  }
}
