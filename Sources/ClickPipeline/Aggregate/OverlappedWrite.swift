/// Lets `aggregate`'s writer fill `daily_metrics` and `orders` while the last days are still
/// being computed, within a memory budget.
///
/// The writer starts when a worker has run out of days (``DaySpool/waitForAnIdleCore()``):
/// started earlier, it only slowed the workers down on two cores. In rollback-journal mode a
/// connection that has begun a write transaction can change pages while other connections
/// read, as long as its changes stay in its page cache: writing them to the file (a cache
/// spill) needs an exclusive lock, which waits for every reader, and the workers hold theirs
/// until they are done. So while they run, spilling is off and the writer's cache may grow to
/// the budget; past it, the writer waits for the workers to finish, turns spilling back on and
/// goes on as a writer alone. Memory stays bounded by the budget whatever the size of the run.
final class OverlappedWrite {
  /// The writer's page cache while workers run: below the 64 MiB a writer alone has
  /// (``Schema/open(path:cacheMiB:)``), so the overlap costs no more memory than writing after.
  static let defaultBudgetBytes = 48 << 20

  private let db: SQLiteDatabase
  private let spool: DaySpool
  private let budgetBytes: Int
  private var overlapping = true

  /// Turns spilling off on `db`, which has just begun its write transaction.
  init(db: SQLiteDatabase, spool: DaySpool, budgetBytes: Int) throws(PipelineError) {
    self.db = db
    self.spool = spool
    self.budgetBytes = budgetBytes
    try execute("PRAGMA cache_spill = OFF")
  }

  /// Called before each chunk the writer inserts: past the budget, waits for the computing to end.
  func check() throws(PipelineError) {
    guard overlapping, db.cacheBytes > budgetBytes else { return }
    try end()
  }

  /// Waits for the workers (rethrowing their error) and lets the writer spill again.
  func end() throws(PipelineError) {
    guard overlapping else { return }
    overlapping = false
    try spool.finish()
    try execute("PRAGMA cache_spill = ON")
  }

  private func execute(_ sql: String) throws(PipelineError) {
    do {
      try db.execute(sql)
    } catch {
      throw PipelineError(error, databasePath: db.path)
    }
  }
}
