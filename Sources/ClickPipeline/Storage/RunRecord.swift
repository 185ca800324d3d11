import Foundation

/// One row of `runs`: what a run did, written in the run's own transaction, so a run that is
/// rolled back leaves none. The one place that writes the table.
struct RunRecord {
  var command: String
  var arguments = ""
  var startedAt: String
  var endedAt = Clock.isoNow()
  var exitStatus: Int64 = 0
  var host = ProcessInfo.processInfo.hostName
  var pid = Int64(ProcessInfo.processInfo.processIdentifier)
  /// `ingest`'s counts (0 for other commands).
  var filesIngested: Int64 = 0
  var filesFailed: Int64 = 0
  var filesSkipped: Int64 = 0
  var linesRead: Int64 = 0
  var eventsKept: Int64 = 0
  var rejected: Int64 = 0
  var duplicates: Int64 = 0
  var message = ""

  init(command: String, arguments: String = "", startedAt: String) {
    self.command = command
    self.arguments = arguments
    self.startedAt = startedAt
  }

  /// The id the next run inserted into `db` gets.
  static func nextID(_ db: SQLiteDatabase) throws(DatabaseError) -> Int64 {
    (try db.scalarInt("SELECT max(run_id) FROM runs") ?? 0) + 1
  }

  /// Inserts the row as run `id` (default: the next id); returns the id.
  @discardableResult
  func insert(into db: SQLiteDatabase, id: Int64? = nil) throws(DatabaseError) -> Int64 {
    let runID: Int64
    if let id { runID = id } else { runID = try Self.nextID(db) }
    try db.run(
      """
      INSERT INTO runs(run_id, command, arguments, started_at, ended_at, exit_status, host, pid,
        files_ingested, files_failed, files_skipped, lines_read, events_kept, rejected, duplicates, message)
      VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
      """,
      [
        .int(runID), .text(command), .text(arguments), .text(startedAt), .text(endedAt), .int(exitStatus), .text(host),
        .int(pid), .int(filesIngested), .int(filesFailed), .int(filesSkipped), .int(linesRead), .int(eventsKept),
        .int(rejected), .int(duplicates), .text(message),
      ])
    return runID
  }

  /// Records that the previous holder of the lock did not finish (``RunLock/unfinished``):
  /// interrupted by a signal, or killed or crashed. In a transaction of its own, right after
  /// the lock is taken, so the record does not depend on this run committing. A database
  /// this user may not write, that does not exist yet, or whose rollback journal is not its
  /// own records nothing (the run's own open says why). Returns why it was not recorded.
  @discardableResult
  static func recordUnfinished(of lock: RunLock, databasePath: String) -> String? {
    guard let previous = lock.unfinished else { return nil }
    guard access(databasePath, W_OK) == 0 else { return "the database is not writable for this user" }
    do {
      try StaleJournal.check(databasePath: databasePath)
      let db = try SQLiteDatabase(path: databasePath)
      guard try db.scalarInt("SELECT count(*) FROM sqlite_master WHERE name = 'runs'") == 1 else { return "no runs table" }
      var record = RunRecord(command: previous.command, startedAt: previous.startedAt)
      record.endedAt = ""
      record.host = previous.host
      record.pid = previous.pid
      switch previous.signal {
      case "SIGINT": record.exitStatus = 130
      case "SIGTERM": record.exitStatus = 143
      default: record.exitStatus = -1
      }
      record.message =
        previous.signal.map { "interrupted by \($0); nothing of that run was kept" }
        ?? "ended without finishing (killed or crashed); nothing of that run was kept"
      try record.insertCommitted(into: db)
      return nil
    } catch {
      return "\(error)"
    }
  }

  /// Inserts the row in a transaction of its own.
  private func insertCommitted(into db: SQLiteDatabase) throws {
    try db.beginWrite()
    do {
      try insert(into: db)
      try db.execute("COMMIT")
    } catch {
      try? db.execute("ROLLBACK")
      throw error
    }
  }

  /// Records a run that does not otherwise write the database (`report`, `backup`), in its own
  /// transaction, when this user may write it; a read-only user's run is simply not recorded.
  /// Returns why it was not recorded, for a debug line.
  @discardableResult
  static func recordAfterwards(_ record: RunRecord, databasePath: String) -> String? {
    guard access(databasePath, W_OK) == 0 else { return "the database is not writable for this user" }
    do {
      try record.insertCommitted(into: try SQLiteDatabase(path: databasePath))
      return nil
    } catch {
      return "\(error)"
    }
  }
}
