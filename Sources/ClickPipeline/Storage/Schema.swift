#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The database schema, its version, and the connection settings every stage uses.
///
/// `meta.schema_version` records the version. A database from an older version is migrated
/// in one transaction; one from a newer version is refused (see docs/OPERATIONS.md).
public enum Schema {
  public static let version = 14

  /// One step from schema version `from` to `from + 1`: its SQL, then its code, then more
  /// SQL once the code has run. Applied once, in order, in one transaction with the others.
  struct Migration: Sendable {
    let from: Int
    let name: String
    let sql: String
    var code: (@Sendable (SQLiteDatabase) throws -> Void)? = nil
    var cleanup: String? = nil
  }

  /// Upgrades an older database, step by step (a new database gets ``current``).
  static let steps: [Migration] = [
    // 2: recent event keys go to a small second table until it grows to a quarter of
    // `event_keys` (version 6 replaces both by day partitions), so a nightly run does not rewrite the whole index;
    // a Bloom filter of all stored keys spares most new ids their B-tree lookups (`event_key_filter`).
    //
    // The click index for attribution leads with the click's UTC day, so a night's clicks
    // land at the end of the index instead of all over it (attribution probes each day of
    // the window: 2 for 24 h, 8 for 168 h).
    Migration(
      from: 1, name: "recent event keys beside a Bloom filter; the click index by day",
      sql: """
        CREATE TABLE event_keys_recent(key INTEGER PRIMARY KEY, kind INTEGER NOT NULL, ref INTEGER NOT NULL);
        CREATE TABLE event_key_filter(id INTEGER PRIMARY KEY CHECK (id = 0), keys INTEGER NOT NULL, words BLOB NOT NULL);
        DROP INDEX clicks_by_viewer;
        CREATE INDEX clicks_by_day_viewer ON clicks(ts / 86400000, viewer_id, platform, store, product_id, ts)
          WHERE viewer_id <> '';
        """),
    // 3: views and clicks are numbered by hour: rowid = hour << 32 | arrival order in
    // the hour, instead of ts << 12 | n. Rows are renumbered in (hour, old rowid) order and the
    // event keys that point at them follow.
    Migration(
      from: 2, name: "views and clicks numbered by hour",
      sql: """
        CREATE TEMP TABLE renumbered(
          kind INTEGER NOT NULL, old INTEGER NOT NULL, new INTEGER NOT NULL, PRIMARY KEY (kind, old)
        ) WITHOUT ROWID;
        \(renumberByHour(table: "views", rowid: "view_id", kind: 0))
        \(renumberByHour(table: "clicks", rowid: "click_row", kind: 1))
        CREATE INDEX clicks_by_day_viewer ON clicks(ts / 86400000, viewer_id, platform, store, product_id, ts)
          WHERE viewer_id <> '';
        UPDATE event_keys SET ref = (SELECT new FROM renumbered r WHERE r.kind = event_keys.kind AND r.old = event_keys.ref)
          WHERE kind IN (0, 1);
        UPDATE event_keys_recent SET ref = (SELECT new FROM renumbered r WHERE r.kind = event_keys_recent.kind AND r.old = event_keys_recent.ref)
          WHERE kind IN (0, 1);
        DROP TABLE temp.renumbered;
        """),
    // 4: a plain file whose last line has no newline yet is ingested without that line, which
    // is taken once the file is complete or unchanged at a later run (docs/OPERATIONS.md,
    // "Files still being written"). `held_back_line` is that line's number, 0 when none.
    Migration(
      from: 3, name: "a file's unterminated last line held back",
      sql: """
        ALTER TABLE files ADD COLUMN held_back_line INTEGER NOT NULL DEFAULT 0;
        """),
    // 5: one row per counted ordered conversion and refund, with its money and the click and
    // rule that attributed it (computed by aggregate with `daily_metrics`). Forgetting the
    // aggregate fingerprint makes the next aggregate a full rebuild, which fills it.
    Migration(
      from: 4, name: "orders",
      sql: """
        CREATE TABLE orders(
          day TEXT NOT NULL, event_id TEXT NOT NULL, kind TEXT NOT NULL CHECK (kind IN ('ordered', 'refund')),
          platform TEXT NOT NULL, store TEXT NOT NULL, order_id TEXT NOT NULL, product_id TEXT NOT NULL,
          quantity INTEGER NOT NULL, revenue_cents INTEGER NOT NULL, commission_cents INTEGER NOT NULL,
          refunded_cents INTEGER NOT NULL, reversed_commission_cents INTEGER NOT NULL,
          creator_id TEXT NOT NULL, placement TEXT NOT NULL, click_event_id TEXT NOT NULL,
          rule TEXT NOT NULL CHECK (rule IN ('click_id', 'viewer window', 'bot click', 'none')),
          PRIMARY KEY (day, event_id)
        ) WITHOUT ROWID;
        CREATE INDEX orders_by_creator ON orders(creator_id, day) WHERE creator_id <> '';
        DELETE FROM meta WHERE key = 'aggregate_fingerprint';
        """),
    // 6: views and clicks are staged as columnar segments and event ids in partitions by UTC
    // day (the rows move over in step 7).
    Migration(
      from: 5, name: "the columnar event store",
      sql: createEventStore),
    // 7: segments keep their ids beside the zstd frame (`segment_ids`) and list their rows
    // dropped as duplicates (`dropped`); deduplication reads the ids, so the key partitions
    // (`event_keys`) go; conversions are indexed by integer keys (`ConversionKeys`) and unique
    // by event id across days (`conversions_by_event`). `EventStoreMigration` moves
    // the rows of version 5 (`views`, `clicks`) or 6 (`segments_v6`) into the new tables
    // between this step's SQL and `migrationCleanup[6]`.
    Migration(
      from: 6, name: "ids beside segments; conversions unique by event id",
      sql: createEventStoreV7, code: EventStoreMigration.run, cleanup: stepSixCleanup),
    // 8: the index of conversions by click key carries their timestamps, so the hours of the
    // conversions that late clicks name are read from the index alone (1M late clicks: 0.7 s
    // against 3.9 s fetching each conversion's row). Orders refunded past their amount are
    // kept in `over_refunds` (`OverRefunds`); forgetting the aggregate fingerprint makes the
    // next aggregate a full rebuild, which fills it.
    Migration(
      from: 7, name: "conversion hours from the click index; over_refunds",
      sql: """
        DROP INDEX conversions_by_click;
        CREATE INDEX conversions_by_click ON conversions(click_key, ts) WHERE click_key <> 0;
        CREATE TABLE over_refunds(
          platform TEXT NOT NULL, order_id TEXT NOT NULL, ordered TEXT NOT NULL, refunded TEXT NOT NULL,
          PRIMARY KEY (platform, order_id)
        ) WITHOUT ROWID;
        DELETE FROM meta WHERE key = 'aggregate_fingerprint';
        """),
    // 9: a file whose lines are mostly rejected is refused whole (CONTRACT §8) and recorded
    // with status 'refused'. SQLite cannot change a CHECK constraint, so `files` is rebuilt.
    Migration(
      from: 8, name: "files may be refused",
      sql: """
        CREATE TABLE files_v9(
          file_id INTEGER PRIMARY KEY,
          run_id INTEGER NOT NULL,
          path TEXT NOT NULL,
          content_hash TEXT NOT NULL,
          size INTEGER NOT NULL,
          status TEXT NOT NULL CHECK (status IN ('ingested', 'failed', 'forgotten', 'refused')),
          format TEXT NOT NULL DEFAULT '',
          error TEXT NOT NULL DEFAULT '',
          lines INTEGER NOT NULL DEFAULT 0,
          events INTEGER NOT NULL DEFAULT 0,
          rejected INTEGER NOT NULL DEFAULT 0,
          duplicates INTEGER NOT NULL DEFAULT 0,
          recorded_at TEXT NOT NULL,
          held_back_line INTEGER NOT NULL DEFAULT 0
        );
        INSERT INTO files_v9(file_id, run_id, path, content_hash, size, status, format, error, lines, events, rejected,
          duplicates, recorded_at, held_back_line)
        SELECT file_id, run_id, path, content_hash, size, status, format, error, lines, events, rejected,
          duplicates, recorded_at, held_back_line FROM files;
        DROP TABLE files;
        ALTER TABLE files_v9 RENAME TO files;
        CREATE UNIQUE INDEX files_ingested_content ON files(content_hash) WHERE status = 'ingested';
        """),
    // 10: each file counts its events dated more than a day after the run that ingested it
    // (an exporter's clock gone wrong), for `report --status`.
    Migration(
      from: 9, name: "events dated after their run",
      sql: """
        ALTER TABLE files ADD COLUMN future_events INTEGER NOT NULL DEFAULT 0;
        """),
    // 11: months of the payout ledger that finance closed (`report --close-month`,
    // `MonthCloser`, `LedgerStore`): as closed, never updated, with the orders they are
    // accounted with, so that later differences become adjustments in the first open month.
    Migration(
      from: 10, name: "closed months of the payout ledger",
      sql: """
        CREATE TABLE closed_months(
          month TEXT PRIMARY KEY, closed_at TEXT NOT NULL, time_zone TEXT NOT NULL, threshold_cents INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE ledger_months(
          creator_id TEXT NOT NULL, month TEXT NOT NULL, opening_cents INTEGER NOT NULL, net_cents INTEGER NOT NULL,
          adjustment_cents INTEGER NOT NULL, payable_cents INTEGER NOT NULL, closing_cents INTEGER NOT NULL,
          PRIMARY KEY (creator_id, month)
        ) WITHOUT ROWID;
        CREATE TABLE ledger_adjustments(
          creator_id TEXT NOT NULL, month TEXT NOT NULL, source_month TEXT NOT NULL, cents INTEGER NOT NULL,
          orders TEXT NOT NULL, PRIMARY KEY (creator_id, month, source_month)
        ) WITHOUT ROWID;
        CREATE TABLE ledger_orders(
          month TEXT NOT NULL, event_id TEXT NOT NULL, order_id TEXT NOT NULL, creator_id TEXT NOT NULL,
          net_cents INTEGER NOT NULL, PRIMARY KEY (month, event_id)
        ) WITHOUT ROWID;
        CREATE INDEX ledger_orders_by_creator ON ledger_orders(creator_id, month);
        """),
    // 12: each order keeps the conversion as sent (time, currency, amount), the rates applied
    // (FX, commission) and the attributed click's post, for orders.csv and the statements'
    // earnings per post. Forgetting the aggregate fingerprint makes the next aggregate a full
    // rebuild, which fills them.
    Migration(
      from: 11, name: "orders as sent, with their rates and post",
      sql: """
        ALTER TABLE orders ADD COLUMN post_id TEXT NOT NULL DEFAULT '';
        ALTER TABLE orders ADD COLUMN currency TEXT NOT NULL DEFAULT '';
        ALTER TABLE orders ADD COLUMN amount TEXT NOT NULL DEFAULT '';
        ALTER TABLE orders ADD COLUMN fx_usd_per_unit TEXT NOT NULL DEFAULT '';
        ALTER TABLE orders ADD COLUMN commission_rate TEXT NOT NULL DEFAULT '';
        ALTER TABLE orders ADD COLUMN ts INTEGER NOT NULL DEFAULT 0;
        DELETE FROM meta WHERE key = 'aggregate_fingerprint';
        """),
    // 13: an order is accounted per creator in a closed month (an order that moves from one
    // creator to another is, for a while, accounted to both: one loses it, the other gains it).
    Migration(
      from: 12, name: "closed months' orders keyed by creator",
      sql: """
        CREATE TABLE ledger_orders_v13(
          month TEXT NOT NULL, event_id TEXT NOT NULL, order_id TEXT NOT NULL, creator_id TEXT NOT NULL,
          net_cents INTEGER NOT NULL, PRIMARY KEY (creator_id, month, event_id)
        ) WITHOUT ROWID;
        INSERT INTO ledger_orders_v13(month, event_id, order_id, creator_id, net_cents)
          SELECT month, event_id, order_id, creator_id, net_cents FROM ledger_orders;
        DROP TABLE ledger_orders;
        ALTER TABLE ledger_orders_v13 RENAME TO ledger_orders;
        """),
    // 14: a segment's rows dropped as duplicates live beside it (`segment_dropped`): recording
    // them in `segments.dropped` rewrote the whole row, its payload included, at the end of
    // every ingest that found copies. Dropping the column copies the table once. A version-6
    // database's migration (step 7) already wrote its dropped rows there.
    Migration(
      from: 13, name: "a segment's dropped rows beside it",
      sql: """
        \(createSegmentDropped);
        INSERT OR REPLACE INTO segment_dropped(segment_id, rows)
          SELECT segment_id, dropped FROM segments WHERE dropped IS NOT NULL;
        ALTER TABLE segments DROP COLUMN dropped;
        """),
  ]

  /// The table of the rows of each segment dropped as duplicates (``DroppedRows``), created by
  /// whichever comes first: a new database, step 7's code or step 14.
  static let createSegmentDropped =
    "CREATE TABLE IF NOT EXISTS segment_dropped(segment_id INTEGER PRIMARY KEY, rows BLOB NOT NULL)"

  /// The tables of the event store (schema version 6).
  static let createEventStore = """
    CREATE TABLE segments(
      segment_id INTEGER PRIMARY KEY, kind INTEGER NOT NULL CHECK (kind IN (0, 1)), day INTEGER NOT NULL,
      file_id INTEGER NOT NULL, rows INTEGER NOT NULL, min_ts INTEGER NOT NULL, max_ts INTEGER NOT NULL,
      data BLOB NOT NULL
    );
    CREATE INDEX segments_by_day ON segments(day, kind);
    CREATE INDEX segments_by_file ON segments(file_id);
    ALTER TABLE event_keys RENAME TO event_keys_v5;
    CREATE TABLE event_keys(day INTEGER PRIMARY KEY, keys INTEGER NOT NULL, data BLOB NOT NULL);
    CREATE TABLE click_index(key INTEGER NOT NULL, day INTEGER NOT NULL, PRIMARY KEY (key, day)) WITHOUT ROWID;
    """

  /// The event store of schema version 7.
  static let createEventStoreV7 = """
    ALTER TABLE segments RENAME TO segments_v6;
    DROP INDEX segments_by_day;
    DROP INDEX segments_by_file;
    CREATE TABLE segments(
      segment_id INTEGER PRIMARY KEY, kind INTEGER NOT NULL CHECK (kind IN (0, 1)), day INTEGER NOT NULL,
      file_id INTEGER NOT NULL, rows INTEGER NOT NULL, min_ts INTEGER NOT NULL, max_ts INTEGER NOT NULL,
      dropped BLOB, data BLOB NOT NULL
    );
    CREATE INDEX segments_by_day ON segments(day, kind);
    CREATE INDEX segments_by_file ON segments(file_id);
    CREATE TABLE segment_ids(segment_id INTEGER PRIMARY KEY, ids BLOB NOT NULL);
    DROP TABLE event_keys;
    ALTER TABLE conversions ADD COLUMN event_key INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE conversions ADD COLUMN order_key INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE conversions ADD COLUMN click_key INTEGER NOT NULL DEFAULT 0;
    DROP INDEX conversions_by_order;
    DROP INDEX conversions_by_click;
    """

  /// The indexes of `conversions` on its integer keys (``ConversionKeys``), made once the
  /// migration has filled the keys.
  static let conversionKeyIndexes = """
    CREATE INDEX conversions_by_event ON conversions(event_key);
    CREATE INDEX conversions_by_order ON conversions(order_key);
    CREATE INDEX conversions_by_click ON conversions(click_key) WHERE click_key <> 0;
    """

  /// Code that runs after migration step N's SQL, and SQL after that code.
  /// What step 6 drops once `EventStoreMigration` has moved the rows.
  static let stepSixCleanup = """
    DROP TABLE IF EXISTS views;
    DROP TABLE IF EXISTS clicks;
    DROP TABLE IF EXISTS user_agents;
    DROP TABLE IF EXISTS event_keys_v5;
    DROP TABLE IF EXISTS event_keys_recent;
    DROP TABLE IF EXISTS event_key_filter;
    DROP TABLE segments_v6;
    DELETE FROM meta WHERE key = 'event_keys_slice';
    """

  /// Migration 3's step for `views` or `clicks` (event kind 0 or 1): each row's new rowid, by
  /// hour in the order of the old ones, into `temp.renumbered`, then the table copied under
  /// the new rowids (which drops its indexes).
  private static func renumberByHour(table: String, rowid: String, kind: Int) -> String {
    let columns = "event_id, ts, creator_id, placement, viewer_id, product_id, platform, store, ua_id, file_id, line"
    return """
      INSERT INTO renumbered
        SELECT \(kind), \(rowid), hour * 4294967296 + row_number() OVER (PARTITION BY hour ORDER BY \(rowid)) - 1
        FROM (SELECT \(rowid), (CASE WHEN ts >= 0 THEN ts / 3600000 ELSE (ts + 1) / 3600000 - 1 END) AS hour FROM \(table));
      CREATE TABLE \(table)_v3(\(rowid) INTEGER PRIMARY KEY, \(trafficColumns));
      INSERT INTO \(table)_v3(\(rowid), \(columns))
        SELECT r.new, \(columns.split(separator: ", ").map { "t." + $0 }.joined(separator: ", "))
        FROM \(table) t JOIN renumbered r ON r.kind = \(kind) AND r.old = t.\(rowid) ORDER BY r.new;
      DROP TABLE \(table);
      ALTER TABLE \(table)_v3 RENAME TO \(table);
      """
  }

  /// The columns of `views` and `clicks` after their rowid.
  static let trafficColumns = """
    event_id TEXT NOT NULL, ts INTEGER NOT NULL,
        creator_id TEXT NOT NULL, placement TEXT NOT NULL, viewer_id TEXT NOT NULL,
        product_id TEXT NOT NULL, platform TEXT NOT NULL, store TEXT NOT NULL,
        ua_id INTEGER NOT NULL, file_id INTEGER NOT NULL, line INTEGER NOT NULL
    """

  /// Refuses a `--db` that is not an existing database file, before anything is created
  /// (`aggregate` and `report` never create one: a mistyped path must not look like an empty
  /// database).
  public static func requireExisting(path: String) throws(PipelineError) {
    var st = stat()
    guard stat(path, &st) == 0 else {
      throw PipelineError.unusableDatabase(
        path: path, reason: "no such database; check the --db path (ingest creates a new database)")
    }
    if (st.st_mode & S_IFMT) == S_IFDIR {
      throw PipelineError.unusableDatabase(path: path, reason: "it is a directory; --db names the database file")
    }
  }

  /// Opens the database for a stage: sets the connection up and brings the schema to ``version``.
  /// `cacheMiB`: SQLite's page cache. Ingest passes less (48 MiB): it appends segment BLOBs and
  /// deduplicates by sorting keys at the run's end, so it looks few pages up at random.
  public static func open(path: String, cacheMiB: Int = 64) throws(PipelineError) -> SQLiteDatabase {
    var st = stat()
    if stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR {
      throw PipelineError.unusableDatabase(path: path, reason: "it is a directory; --db names the database file")
    }
    try StaleJournal.check(databasePath: path)
    let db: SQLiteDatabase
    do {
      db = try SQLiteDatabase(path: path)
      try db.execute(
        """
        PRAGMA journal_mode = DELETE;
        PRAGMA synchronous = NORMAL;
        PRAGMA page_size = 16384;
        PRAGMA cache_size = -\(cacheMiB * 1024);
        PRAGMA temp_store = FILE;
        PRAGMA foreign_keys = OFF;
        """)
    } catch {
      throw PipelineError.database(path: path, error)
    }
    try migrate(db)
    return db
  }

  /// Opens the database read-only, for `report`: a user who may only read the file can report.
  /// The schema must be this version already (a read-only connection cannot migrate it).
  public static func openForReading(path: String, cacheMiB: Int = 64) throws(PipelineError) -> SQLiteDatabase {
    try StaleJournal.check(databasePath: path)
    let db: SQLiteDatabase
    do {
      db = try SQLiteDatabase(path: path, readOnly: true)
      try db.execute("PRAGMA cache_size = -\(cacheMiB * 1024); PRAGMA temp_store = FILE;")
      let found = try db.scalarText("SELECT value FROM meta WHERE key = 'schema_version'")
      guard let found else { throw notOurs(path) }
      guard found == String(version) else {
        let number = Int(found) ?? 0
        throw PipelineError.unusableDatabase(
          path: path,
          reason: number > version
            ? "it has schema version \(found), newer than this ClickPipeline (version \(version)); upgrade ClickPipeline"
            : !steps.contains(where: { $0.from == number })
              ? "schema version \(found) cannot be migrated; rebuild it by ingesting the logs into a new database"
              : "it has schema version \(found), older than this ClickPipeline (version \(version)); run aggregate once to upgrade it, then report"
        )
      }
    } catch let error as PipelineError {
      throw error
    } catch let error as DatabaseError {
      if error.message.contains("no such table: meta") { throw notOurs(path) }
      if error.code == 776 {  // SQLITE_READONLY_ROLLBACK: a killed run's journal, not yet rolled back
        throw PipelineError.unusableDatabase(
          path: path,
          reason: "a killed run left its rollback journal, which a read-only report cannot apply; run aggregate once, then report")
      }
      throw PipelineError.database(path: path, error)
    } catch {
      throw PipelineError.database(path: path, DatabaseError(code: 1, message: "\(error)"))
    }
    return db
  }

  private static func notOurs(_ path: String) -> PipelineError {
    .unusableDatabase(
      path: path,
      reason: "it is not a ClickPipeline database (no schema version); point --db at a new file or at a database ClickPipeline created")
  }

  private static func run(_ step: Migration, _ db: SQLiteDatabase) throws {
    try db.execute(step.sql)
    try step.code?(db)
    if let cleanup = step.cleanup { try db.execute(cleanup) }
  }

  static func migrate(_ db: SQLiteDatabase) throws(PipelineError) {
    do {
      let tables = try db.scalarInt("SELECT count(*) FROM sqlite_master WHERE type = 'table'") ?? 0
      if tables == 0 {
        try db.transaction {
          try db.execute(current)
          try db.run("INSERT INTO meta(key, value) VALUES ('schema_version', ?)", [.text(String(version))])
        }
        return
      }
      let hasMeta = try db.scalarInt("SELECT count(*) FROM sqlite_master WHERE name = 'meta'") ?? 0
      guard hasMeta == 1,
        let text = try db.scalarText("SELECT value FROM meta WHERE key = 'schema_version'"),
        let found = Int(text)
      else { throw notOurs(db.path) }
      if found > version {
        throw PipelineError.unusableDatabase(
          path: db.path,
          reason: "it has schema version \(found), newer than this ClickPipeline (version \(version)); upgrade ClickPipeline")
      }
      if found < version {
        try db.transaction {
          for from in found..<version {
            guard let step = steps.first(where: { $0.from == from }) else {
              throw PipelineError.unusableDatabase(
                path: db.path,
                reason: "schema version \(from) cannot be migrated; rebuild it by ingesting the logs into a new database")
            }
            try run(step, db)
          }
          try db.run("UPDATE meta SET value = ? WHERE key = 'schema_version'", [.text(String(version))])
        }
      }
    } catch let error as PipelineError {
      throw error
    } catch let error as DatabaseError {
      throw PipelineError.database(path: db.path, error)
    } catch {
      throw PipelineError.database(path: db.path, DatabaseError(code: 1, message: "\(error)"))
    }
  }
}
