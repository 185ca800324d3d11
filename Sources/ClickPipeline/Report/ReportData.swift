/// What the reports read besides the scan of `daily_metrics` (``ReportScan``): the table's span
/// and the data-quality figures.
enum ReportData {
  /// `(first day, last day)` in `daily_metrics`, or nil if it is empty.
  static func span(_ db: SQLiteDatabase) throws(DatabaseError) -> (String, String)? {
    // Two subqueries: SQLite reads a lone min() or max() from the primary key's ends, but
    // scans every row for both in one query.
    let row = try db.rows("SELECT (SELECT min(day) FROM daily_metrics), (SELECT max(day) FROM daily_metrics)")[0]
    guard case .text(let lo) = row[0], case .text(let hi) = row[1] else { return nil }
    return (lo, hi)
  }

  /// Files, failures, rejects by reason, duplicates: over everything ingested (not per period).
  struct Quality {
    var filesIngested: Int64 = 0
    var filesFailedNow: [(path: String, error: String)] = []
    /// Files refused whole because most of their lines were rejected, whose content was not
    /// taken later (`--accept-mostly-rejected`).
    var filesRefusedNow: [(path: String, error: String)] = []
    var linesRead: Int64 = 0
    var rejectsByReason: [(String, Int64)] = []
    var duplicates: Int64 = 0
    /// Orders whose refunds add up to more than their amount (`over_refunds`).
    var ordersRefundedPastTheirAmount: Int64 = 0
  }

  static func quality(_ db: SQLiteDatabase) throws(DatabaseError) -> Quality {
    var q = Quality()
    let files = try db.rows(
      "SELECT count(*), coalesce(sum(lines), 0), coalesce(sum(duplicates), 0) FROM files WHERE status = 'ingested'")[0]
    q.filesIngested = files[0].intValue
    q.linesRead = files[1].intValue
    q.duplicates = files[2].intValue
    q.filesFailedNow = try failedFiles(db)
    q.filesRefusedNow = try refusedFiles(db)
    q.rejectsByReason = try db.rows(
      """
      SELECT r.reason, count(*) FROM rejects r JOIN files f ON f.file_id = r.file_id
      WHERE f.status = 'ingested' GROUP BY r.reason ORDER BY count(*) DESC, r.reason
      """
    ).map { ($0[0].textValue, $0[1].intValue) }
    q.ordersRefundedPastTheirAmount = try db.scalarInt("SELECT count(*) FROM over_refunds") ?? 0
    return q
  }

  /// Files whose last attempt failed (they are retried when given again), by path.
  static func failedFiles(_ db: SQLiteDatabase) throws(DatabaseError) -> [(path: String, error: String)] {
    // A failed file counts until the same path is ingested later.
    try db.rows(
      """
      SELECT f.path, f.error FROM files f
      WHERE f.status = 'failed' AND f.file_id = (SELECT max(file_id) FROM files g WHERE g.path = f.path)
      ORDER BY f.path
      """
    ).map { ($0[0].textValue, $0[1].textValue) }
  }

  /// Files refused as mostly rejected whose content has not been ingested since and whose
  /// path has not been ingested again (a corrected file) or dismissed (`--forget`), by path.
  static func refusedFiles(_ db: SQLiteDatabase) throws(DatabaseError) -> [(path: String, error: String)] {
    try db.rows(
      """
      SELECT f.path, f.error FROM files f
      WHERE f.status = 'refused'
        AND NOT EXISTS (SELECT 1 FROM files g WHERE g.status = 'ingested' AND g.content_hash = f.content_hash)
        AND NOT EXISTS (
          SELECT 1 FROM files g WHERE g.path = f.path AND g.file_id > f.file_id AND g.status IN ('ingested', 'forgotten'))
      ORDER BY f.path, f.file_id
      """
    ).map { ($0[0].textValue, $0[1].textValue) }
  }
}
