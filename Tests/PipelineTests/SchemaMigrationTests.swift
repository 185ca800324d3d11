import Foundation
import Testing

@testable import ClickPipeline

/// Databases written by earlier releases, migrated by this one.
///
/// `Fixtures/schema-v5-sample.sql` is `sqlite3 .dump` of a schema-version-5 database written
/// by commit 7e8ff05 (the release before the event store): the sample logs ingested in two
/// runs (`2026-11-01`, then all of `logs`), then aggregated.
///
/// `Fixtures/schema-v6-sample.sql` is the same for schema version 6, written by commit 8a17677
/// (the release before segments kept their ids beside them and conversions became unique across
/// days).
///
/// The fixture `Fixtures/schema-v2-sample.sql` is `sqlite3 .dump` of a schema-version-2
/// database: the sample logs ingested in two runs (`2026-11-01`, then all of `logs`) by commit
/// a100ff9, whose views and clicks had `ts << 12 | n` rowids. Every step up to the current
/// version runs: the last moves views and clicks into ``EventSegment``s and their clicks into
/// `click_index`.
@Suite struct SchemaMigrationTests {
  static let fixture = SampleDataTests.root + "/Tests/PipelineTests/Fixtures/schema-v2-sample.sql"
  static let fixtureV5 = SampleDataTests.root + "/Tests/PipelineTests/Fixtures/schema-v5-sample.sql"
  static let fixtureV6 = SampleDataTests.root + "/Tests/PipelineTests/Fixtures/schema-v6-sample.sql"

  /// Writes the version-2 database; keys that are odd move to `event_keys_recent` (a key lives
  /// in one of the two tables), so that the migration meets both.
  static func loadVersion2(_ path: String) throws {
    let db = try SQLiteDatabase(path: path)
    try db.execute(String(contentsOfFile: fixture, encoding: .utf8))
    try db.execute(
      """
      BEGIN;
      INSERT INTO event_keys_recent SELECT * FROM event_keys WHERE key % 2 = 1;
      DELETE FROM event_keys WHERE key % 2 = 1;
      COMMIT;
      """)
  }

  static let traffic = """
    SELECT 'view', event_id, ts, creator_id, placement, viewer_id, product_id, platform, store,
      coalesce((SELECT user_agent FROM user_agents u WHERE u.ua_id = t.ua_id), ''), file_id, line
    FROM views t UNION ALL
    SELECT 'click', event_id, ts, creator_id, placement, viewer_id, product_id, platform, store,
      coalesce((SELECT user_agent FROM user_agents u WHERE u.ua_id = t.ua_id), ''), file_id, line
    FROM clicks t ORDER BY 1, 2
    """

  /// The database the previous release wrote moves into the event store whole: the same
  /// traffic, the same `daily_metrics` (kept, and recomputed), and every id still a duplicate.
  @Test func aVersion5DatabaseMovesIntoTheEventStore() throws {
    let dir = try TemporaryDirectory()
    let db = dir.file("v5.sqlite")
    try SQLiteDatabase(path: db).execute(String(contentsOfFile: Self.fixtureV5, encoding: .utf8))
    let before = try TestDatabase(db).rows(Self.traffic)
    let metrics = try TestDatabase(db).dailyMetrics()
    let expected = try SampleDataTests.expectedDailyMetrics()
    #expect(before.count == 39 && metrics == expected)

    #expect(try stagedTraffic(db) == before)
    #expect(try TestDatabase(db).int("SELECT value FROM meta WHERE key = 'schema_version'") == Int64(Schema.version))
    try Self.keepsItsMetricsAndItsIds(dir, db, metrics)
  }

  /// The database the release before this store format wrote (schema version 6, segments in
  /// format "CPS1", key partitions, conversions unique per UTC day) moves into version 7 whole:
  /// the same traffic as the version-5 database migrated, the same `daily_metrics` (kept, and
  /// recomputed), and every id still a duplicate.
  @Test func aVersion6DatabaseMovesIntoTheNewStoreFormat() throws {
    let dir = try TemporaryDirectory()
    let db = dir.file("v6.sqlite")
    try SQLiteDatabase(path: db).execute(String(contentsOfFile: Self.fixtureV6, encoding: .utf8))
    let v5 = dir.file("v5.sqlite")
    try SQLiteDatabase(path: v5).execute(String(contentsOfFile: Self.fixtureV5, encoding: .utf8))
    let metrics = try TestDatabase(db).dailyMetrics()
    let expected = try SampleDataTests.expectedDailyMetrics()
    #expect(metrics == expected)

    let traffic = try stagedTraffic(db)
    let traffic5 = try stagedTraffic(v5)
    #expect(traffic.count == 39 && traffic == traffic5)
    #expect(try TestDatabase(db).int("SELECT value FROM meta WHERE key = 'schema_version'") == Int64(Schema.version))
    #expect(try TestDatabase(db).rows("SELECT name FROM sqlite_master WHERE name IN ('event_keys', 'segments_v6')").isEmpty)
    try Self.keepsItsMetricsAndItsIds(dir, db, metrics)
  }

  /// A migrated database keeps its `daily_metrics`, recomputes them identical, and takes a
  /// re-sent copy of its traffic as duplicates.
  static func keepsItsMetricsAndItsIds(
    _ dir: TemporaryDirectory, _ db: String, _ metrics: [String], sourceLocation: SourceLocation = #_sourceLocation
  ) throws {
    #expect(try TestDatabase(db).dailyMetrics() == metrics, sourceLocation: sourceLocation)
    let rebuild = try Stage.run("aggregate", ["--db", db, "--rebuild", "--config", SampleDataTests.sample + "/clickpipeline.toml"])
    #expect(rebuild.exitStatus == 0, "\(rebuild.stderr)", sourceLocation: sourceLocation)
    #expect(try TestDatabase(db).dailyMetrics() == metrics, sourceLocation: sourceLocation)
    let file = try resendTraffic(dir, db)
    #expect(file.count == 1 && file.first?[0] == "0" && Int(file.first?[1] ?? "") ?? 0 > 10, "\(file)", sourceLocation: sourceLocation)
    #expect(try TestDatabase(db).dailyMetrics() == metrics, sourceLocation: sourceLocation)
  }

  /// Runs the pipeline on a copy of the sample's 2026-11-01 views and clicks in one new file;
  /// returns that file's `files` row (events, duplicates).
  static func resendTraffic(_ dir: TemporaryDirectory, _ db: String) throws -> [[String]] {
    var copy = Data()
    for name in ["views", "clicks"] {
      let unzip = try Executables.run("/bin/gzip", ["-dc", SampleDataTests.sample + "/logs/2026-11-01/\(name).ndjson.gz"])
      #expect(unzip.status == 0)
      copy.append(unzip.stdoutData)
    }
    let resent = try dir.write("resent/traffic.ndjson", copy)
    try runPipeline(db: db, config: SampleDataTests.sample + "/clickpipeline.toml", inputs: [resent])
    return try TestDatabase(db).rows("SELECT events, duplicates FROM files WHERE path = '\(resent)'")
  }

  /// A version-13 database kept a segment's dropped rows in `segments.dropped`; version 14
  /// moves them to `segment_dropped` and drops the column, and the copies stay dropped.
  @Test func aVersion13DatabaseKeepsItsDroppedRows() throws {
    let dir = try TemporaryDirectory()
    let db = dir.file("v13.sqlite")
    let config = SampleDataTests.sample + "/clickpipeline.toml"
    _ = try Self.resendTraffic(dir, db)
    // A file of copies and one new view: its segment keeps one row and drops the others.
    let unzip = try Executables.run("/bin/gzip", ["-dc", SampleDataTests.sample + "/logs/2026-11-01/views.ndjson.gz"])
    var copies = unzip.stdoutData
    copies.append(
      Data(
        (#"{"type":"view","event_id":"ev-v-new","ts":"2026-11-01T08:59:59.999Z","creator_id":"maya_glow","viewer_id":"v-9"}"#
          + "\n").utf8))
    try runPipeline(db: db, config: config, inputs: [try dir.write("copies/views.ndjson", copies)])
    let dropped = try TestDatabase(db).rows("SELECT segment_id, hex(rows) FROM segment_dropped ORDER BY 1")
    let metrics = try TestDatabase(db).dailyMetrics()
    #expect(dropped.count == 1)
    // Back to version 13's layout.
    try SQLiteDatabase(path: db).execute(
      """
      ALTER TABLE segments ADD COLUMN dropped BLOB;
      UPDATE segments SET dropped = (SELECT rows FROM segment_dropped d WHERE d.segment_id = segments.segment_id);
      DROP TABLE segment_dropped;
      UPDATE meta SET value = '13' WHERE key = 'schema_version';
      """)

    let rebuild = try Stage.run("aggregate", ["--db", db, "--rebuild", "--config", config])
    #expect(rebuild.exitStatus == 0, "\(rebuild.stderr)")
    let migrated = try TestDatabase(db)
    #expect(try migrated.int("SELECT value FROM meta WHERE key = 'schema_version'") == Int64(Schema.version))
    #expect(try migrated.rows("SELECT segment_id, hex(rows) FROM segment_dropped ORDER BY 1") == dropped)
    #expect(try migrated.int("SELECT count(*) FROM pragma_table_info('segments') WHERE name = 'dropped'") == 0)
    #expect(try migrated.dailyMetrics() == metrics)
    #expect(try stagedTraffic(db).filter { $0[1] == "ev-v-new" }.count == 1)
    // Forgetting the file takes its segments' dropped rows with them.
    #expect(try Executables.stage("ingest", ["--db", db, "--forget", dir.file("copies/views.ndjson")]).status == 0)
    #expect(try migrated.int("SELECT count(*) FROM segment_dropped") == 0)
  }

  @Test func trafficMovesToSegmentsAndEveryKeyIsFound() throws {
    let dir = try TemporaryDirectory()
    let path = dir.file("v2.sqlite")
    try Self.loadVersion2(path)
    let before = try TestDatabase(path).rows(Self.traffic)
    #expect(before.count == 39)

    let db = try Schema.open(path: path)
    #expect(try db.scalarText("SELECT value FROM meta WHERE key = 'schema_version'") == String(Schema.version))
    // Version 5's orders table starts empty, and the next aggregate is a full rebuild that fills it.
    #expect(try db.scalarInt("SELECT count(*) FROM orders") == 0)
    #expect(try db.scalarText("SELECT value FROM meta WHERE key = 'aggregate_fingerprint'") == nil)
    #expect(try db.scalarInt("SELECT count(*) FROM files WHERE held_back_line <> 0") == 0)
    #expect(try stagedTraffic(db) == before)
    let gone = try db.rows(
      "SELECT name FROM sqlite_master WHERE name IN ('views', 'clicks', 'user_agents', 'event_keys_recent', 'event_key_filter', 'event_keys_v5', 'event_keys', 'segments_v6')"
    )
    #expect(gone.isEmpty)

    // Every click is in the click index under its id's hash and day, and every id column
    // holds the segment's ids.
    let segments = try SegmentReader(db: db)
    for info in try segments.segments(.click, days: Int64.min...Int64.max) {
      let ids = try segments.ids(info.segmentID)
      #expect(ids.count == info.rows)
      for row in 0..<ids.count {
        let key = EventKeys.indexKey(EventKeyHash.hash(ids.id(row)))
        #expect(try db.scalarInt("SELECT count(*) FROM click_index WHERE key = ? AND day = ?", [.int(key), .int(info.day)]) == 1)
      }
    }
    #expect(try db.scalarInt("SELECT count(*) FROM click_index") == Int64(before.filter { $0[0] == "click" }.count))
  }

  /// After the migration the real executables go on as with a new database: a re-sent copy of
  /// the traffic is all duplicates, aggregation gives the hand-derived table, and a new view
  /// is staged next to the migrated ones and counted.
  @Test func aMigratedDatabaseGoesOnLikeANewOne() throws {
    let dir = try TemporaryDirectory()
    let db = dir.file("v2.sqlite")
    try Self.loadVersion2(db)
    let config = SampleDataTests.sample + "/clickpipeline.toml"
    let file = try Self.resendTraffic(dir, db)
    let database = try TestDatabase(db)
    #expect(file.count == 1 && file.first?[0] == "0" && Int(file.first?[1] ?? "") ?? 0 > 20, "\(file)")
    #expect(try database.dailyMetrics() == SampleDataTests.expectedDailyMetrics())

    // A new view is staged next to the migrated ones and counted.
    let view = try dir.write(
      "new/view.ndjson",
      #"{"type":"view","event_id":"ev-v-new","ts":"2026-11-01T08:59:59.999Z","creator_id":"maya_glow","placement":"post","viewer_id":"v-9999","product_id":"B0AMZBEAU1","platform":"amazon"}"#
        + "\n")
    let views = try database.int("SELECT sum(views) FROM daily_metrics")
    try runPipeline(db: db, config: config, inputs: [view])
    #expect(try database.int("SELECT sum(views) FROM daily_metrics") == views + 1)
    #expect(try stagedTraffic(Schema.open(path: db)).filter { $0[1] == "ev-v-new" }.count == 1)
  }

  /// Every table, index and view with its definition (whitespace and quotes dropped: a table
  /// rebuilt by `ALTER TABLE … RENAME` is stored quoted, a column added by `ADD COLUMN` on the
  /// last line), and every column's type, nullability, default and key position.
  static func schema(_ path: String) throws -> [String] {
    let t = try TestDatabase(path)
    let objects = try t.rows("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name").map { row in
      row.dropLast().joined(separator: " ") + " " + row[3].filter { !$0.isWhitespace && $0 != "\"" }
    }
    var columns: [String] = []
    for table in try t.rows("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").map(\.[0]) {
      columns += try t.rows("SELECT name, type, \"notnull\", coalesce(dflt_value, ''), pk FROM pragma_table_info('\(table)') ORDER BY cid")
        .map { "\(table).\($0.joined(separator: " "))" }
    }
    return objects + columns
  }

  /// A new database gets the frozen current schema; a version-2 database migrated through
  /// every step has exactly the same tables, columns, indexes and views.
  @Test func aMigratedDatabaseHasExactlyTheCurrentSchema() throws {
    let dir = try TemporaryDirectory()
    let fresh = dir.file("new.sqlite")
    _ = try Schema.open(path: fresh)
    let migrated = dir.file("v2.sqlite")
    try Self.loadVersion2(migrated)
    _ = try Schema.open(path: migrated)
    let (a, b) = (try Self.schema(fresh), try Self.schema(migrated))
    #expect(a == b, "only new: \(Set(a).subtracting(b).sorted())\nonly migrated: \(Set(b).subtracting(a).sorted())")
    #expect(a.count > 100)
  }

  /// The steps are named, one per version, in order, up to this version.
  @Test func theStepsLeadFromVersionOneToThisOne() {
    #expect(Schema.steps.map(\.from) == Array(1..<Schema.version))
    #expect(Set(Schema.steps.map(\.name)).count == Schema.steps.count && Schema.steps.allSatisfy { !$0.name.isEmpty })
  }
}
