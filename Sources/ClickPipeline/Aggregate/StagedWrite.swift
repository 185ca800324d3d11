/// Lets `aggregate`'s writer fill `daily_metrics` and `orders` while days are still being
/// computed, without locking the workers out and without holding the rows in memory.
///
/// In rollback-journal mode a connection may change the database's pages only in its page
/// cache while other connections read: writing them to the file needs every reader gone,
/// and the workers read until they are done. So the writer writes the run's rows into tables
/// of the same definition in a temporary database attached to its connection (`staged`,
/// SQLite's temporary file, deleted when the connection closes or the process dies), which no
/// one else reads and which spills to its own file. Once the workers are done, ``publish(days:all:)``
/// deletes the recomputed days from the real tables and copies the staged rows over in two
/// statements; into an empty table (a full rebuild) SQLite copies the records as they are,
/// without decoding them (its transfer optimization), at a few hundred nanoseconds a row.
final class StagedWrite {
  /// The attached database's name: the writer's statements name `staged.daily_metrics`.
  static let schema = "staged"
  /// The tables staged, and the index the transfer optimization needs on both sides.
  private static let objects = ["daily_metrics", "orders", "orders_by_creator"]

  private let db: SQLiteDatabase

  /// Attaches the staging database and creates its tables as the database defines its own.
  /// Runs outside a transaction (SQLite attaches only there).
  init(db: SQLiteDatabase) throws(PipelineError) {
    self.db = db
    do {
      try db.execute(
        """
        ATTACH DATABASE '' AS \(Self.schema);
        PRAGMA \(Self.schema).page_size = 16384;
        PRAGMA \(Self.schema).journal_mode = OFF;
        PRAGMA \(Self.schema).synchronous = OFF;
        PRAGMA \(Self.schema).cache_size = -\(Self.cacheKiB);
        """)
      let definitions = try db.rows(
        "SELECT name, sql FROM main.sqlite_schema WHERE name IN (\(Self.objects.map { "'\($0)'" }.joined(separator: ", ")))")
      for name in Self.objects {
        guard let sql = definitions.first(where: { $0[0].textValue == name })?[1].textValue,
          let range = sql.range(of: name)
        else { throw DatabaseError(code: 1, message: "no definition of \(name) in the database", sql: nil) }
        let staged = sql.replacingCharacters(in: range, with: "\(Self.schema).\(name)")
        if Self.indexesMadeAtPublish.contains(name) { indexes.append(staged) } else { try db.execute(staged) }
      }
    } catch {
      throw PipelineError(error, databasePath: db.path)
    }
  }

  /// Indexes of the staged tables made once their rows are in, by one sort, rather than kept
  /// up to date row by row: `orders` arrives in (day, event id) order, so each of its rows was
  /// a search at a random place of `orders_by_creator`.
  private static let indexesMadeAtPublish: Set = ["orders_by_creator"]
  /// Their definitions in the staging database, made by ``publish(days:all:)``.
  private var indexes: [String] = []

  /// The staging database's page cache: it is appended to in key order, so a small one will do.
  /// Its pages are 16 KiB, as the database's (``Schema/open(path:cacheMiB:)``): SQLite's 4 KiB
  /// default made four times as many pages to fill and split (0.3 CPU-s of 2.06M rows).
  static let cacheKiB = 8 << 10

  /// Whether every row of `main.table` is of one of `days`: its days are walked on the primary
  /// key, one search each, up to the first that is not recomputed.
  private func hasNoOtherDay(_ table: String, than days: Set<String>) throws(DatabaseError) -> Bool {
    let next = try db.prepare("SELECT day FROM main.\(table) WHERE day > ? ORDER BY day LIMIT 1")
    defer { next.reset() }
    var day = ""
    while true {
      next.reset()
      next.bind(1, day)
      guard try next.step() else { return true }
      day = next.text(0)
      guard days.contains(day) else { return false }
    }
  }

  /// Replaces the rows of the local days `days` (`YYYY-MM-DD`; every row when `all`) of
  /// `daily_metrics` and `orders` by the staged ones. Called in the writer's transaction, once
  /// the workers are done.
  func publish(days: [String], all: Bool) throws(PipelineError) {
    do {
      for index in indexes { try db.execute(index) }
      let recomputed = Set(days)
      for table in ["daily_metrics", "orders"] {
        if try all || hasNoOtherDay(table, than: recomputed) {
          // Every row goes: SQLite frees the table's pages whole instead of deleting (and
          // journaling) row by row and searching the index for each.
          try db.execute("DELETE FROM main.\(table)")
        } else {
          let delete = try db.prepare("DELETE FROM main.\(table) WHERE day = ?")
          for day in days { try delete.run([.text(day)]) }
        }
      }
      try db.execute(
        """
        INSERT INTO main.daily_metrics SELECT * FROM \(Self.schema).daily_metrics;
        INSERT INTO main.orders SELECT * FROM \(Self.schema).orders;
        """)
    } catch {
      throw PipelineError(error, databasePath: db.path)
    }
  }
}
