import Foundation
import Testing

@testable import ClickPipeline

/// A database written by the previous release, migrated by this one.
///
/// The fixture `Fixtures/schema-v2-sample.sql` is `sqlite3 .dump` of a schema-version-2
/// database: the sample logs ingested in two runs (`2026-11-01`, then all of `logs`) by commit
/// a100ff9, whose views and clicks had `ts << 12 | n` rowids. Version 3 numbers them by hour
/// (``HourRowID``) and repoints the event keys.
@Suite struct SchemaMigrationTests {
  static let fixture = SampleDataTests.root + "/Tests/PipelineTests/Fixtures/schema-v2-sample.sql"

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
    SELECT 'view', event_id, ts, creator_id, placement, viewer_id, product_id, platform, store, ua_id, file_id, line
    FROM views UNION ALL
    SELECT 'click', event_id, ts, creator_id, placement, viewer_id, product_id, platform, store, ua_id, file_id, line
    FROM clicks ORDER BY 1, 2
    """

  @Test func rowsAreNumberedByHourAndTheKeysFollowThem() throws {
    let dir = try TemporaryDirectory()
    let path = dir.file("v2.sqlite")
    try Self.loadVersion2(path)
    let before = try TestDatabase(path).rows(Self.traffic)
    let recentBefore = try TestDatabase(path).int("SELECT count(*) FROM event_keys_recent WHERE kind IN (0, 1)")
    #expect(before.count == 39 && recentBefore > 0)

    let db = try Schema.open(path: path)
    #expect(try db.scalarText("SELECT value FROM meta WHERE key = 'schema_version'") == "5")
    // Version 5's orders table starts empty, and the next aggregate is a full rebuild that fills it.
    #expect(try db.scalarInt("SELECT count(*) FROM orders") == 0)
    #expect(try db.scalarText("SELECT value FROM meta WHERE key = 'aggregate_fingerprint'") == nil)
    #expect(try db.scalarInt("SELECT count(*) FROM files WHERE held_back_line <> 0") == 0)
    #expect(try db.rows(Self.traffic).map { $0.map(\.textValue) } == before)

    for (table, rowid) in [("views", "view_id"), ("clicks", "click_row")] {
      // Each hour's rows are numbered 0, 1, 2, … in their old order (the old rowids were in ts order).
      var counts: [Int64: Int64] = [:]
      for row in try db.rows("SELECT \(rowid), ts FROM \(table) ORDER BY \(rowid)") {
        let (id, ts) = (row[0].intValue, row[1].intValue)
        let hour = HourRowID.hour(ofMilliseconds: ts)
        #expect(id == HourRowID.first(ofHour: hour) + counts[hour, default: 0], "\(table) \(id) at \(ts)")
        counts[hour, default: 0] += 1
      }
    }
    let indexes = try db.rows("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'clicks'")
    #expect(indexes.map(\.[0].textValue) == ["clicks_by_day_viewer"])

    // Every staged event is found at its new row, from either key table.
    let keys = try EventKeyIndex(db: db, readFilter: false)
    for (kind, table, rowid) in [(0, "views", "view_id"), (1, "clicks", "click_row"), (2, "conversions", "conversion_row")] {
      for row in try db.rows("SELECT \(rowid), event_id FROM \(table)") {
        let found = try keys.find(row[1].textValue)
        #expect(found?.kind == kind && found?.ref == row[0].intValue, "\(table) \(row[1].textValue)")
      }
    }
  }

  /// After the migration the real executables go on as with a new database: a re-sent copy of
  /// the traffic is all duplicates, aggregation gives the hand-derived table, and a new view
  /// lands after the last row of its hour.
  @Test func aMigratedDatabaseGoesOnLikeANewOne() throws {
    let dir = try TemporaryDirectory()
    let db = dir.file("v2.sqlite")
    try Self.loadVersion2(db)
    let config = SampleDataTests.sample + "/clickpipeline.toml"
    var copy = Data()
    for name in ["views", "clicks"] {
      let unzip = try Executables.run("/bin/gzip", ["-dc", SampleDataTests.sample + "/logs/2026-11-01/\(name).ndjson.gz"])
      #expect(unzip.status == 0)
      copy.append(unzip.stdoutData)
    }
    let resent = try dir.write("resent/traffic.ndjson", copy)
    try runPipeline(db: db, config: config, inputs: [resent])
    let database = try TestDatabase(db)
    let file = try database.rows("SELECT events, duplicates FROM files WHERE path = '\(resent)'")
    #expect(file.count == 1 && file.first?[0] == "0" && Int(file.first?[1] ?? "") ?? 0 > 20, "\(file)")
    #expect(try database.dailyMetrics() == SampleDataTests.expectedDailyMetrics())

    // 2026-11-01T08:00:05.120Z's hour already has rows: a new view goes after them.
    let hour = HourRowID.hour(ofMilliseconds: 1_793_520_005_120)
    let last = try database.int("SELECT max(view_id) FROM views WHERE view_id >> 32 = \(hour)")
    #expect(last > HourRowID.first(ofHour: hour))
    let view = try dir.write(
      "new/view.ndjson",
      #"{"type":"view","event_id":"ev-v-new","ts":"2026-11-01T08:59:59.999Z","creator_id":"maya_glow","placement":"post","viewer_id":"v-9999","product_id":"B0AMZBEAU1","platform":"amazon"}"#
        + "\n")
    try runPipeline(db: db, config: config, inputs: [view])
    #expect(try database.int("SELECT view_id FROM views WHERE event_id = 'ev-v-new'") == last + 1)
  }
}
