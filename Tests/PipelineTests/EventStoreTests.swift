import CGzip
import Foundation
import Testing

@testable import ClickPipeline

/// The columnar event store against a real SQLite file: segments and id columns round-trip
/// and refuse damage; deduplication is exact whatever the hashes, reads only the days a run
/// touches, and keeps the first arrival (CONTRACT §3).
extension String {
  fileprivate func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}

@Suite struct EventStoreTests {
  struct Row {
    var id: String
    var ts: Int64
    var creator = "c1"
    var viewer = "v1"
    var agent = "Mozilla/5.0"
    var post = ""
    var platform: Platform? = .amazon
    var store = ""
    var product = "p1"
  }

  /// A segment built from `rows` the way a parse thread builds it.
  static func segment(_ kind: EventKind, day: Int64, _ rows: [Row]) -> StagedSegment {
    let builder = EventSegmentBuilder(kind: kind)
    builder.start(day: day)
    for (line, row) in rows.enumerated() {
      let stored = EventStoreMigration.Row(
        eventID: row.id, ts: row.ts, line: line + 7, creator: row.creator, placement: row.post.isEmpty ? "bio" : "post",
        viewer: row.viewer, product: row.platform == nil ? "" : row.product, platform: row.platform?.rawValue ?? "",
        store: row.store, userAgent: row.agent, post: row.post)
      stored.withView(kind: kind) { builder.append($0) }
    }
    var scratch = ColumnWriter()
    return builder.finish(scratch: &scratch, compressor: ZstdCompressor())
  }

  @Test func segmentsRoundTripEveryColumn() throws {
    let rows = [
      Row(id: "a", ts: 1_728_000_000_123, post: "7300"), Row(id: "béta", ts: 1_728_000_000_001, viewer: ""),
      Row(id: "c", ts: 1_728_000_003_000, agent: "", platform: .brandStore, store: "lumi-skin", product: "p2"),
      Row(id: "d", ts: 1_728_000_004_000, platform: nil),
    ]
    let staged = Self.segment(.click, day: 20_000, rows)
    #expect(staged.rows == 4 && staged.minTs == 1_728_000_000_001 && staged.maxTs == 1_728_000_004_000)
    #expect(staged.hashes == rows.map { EventKeyHash.hash($0.id) })
    let segment = try staged.data.withUnsafeBytes { try EventSegment(stored: $0) }
    #expect(segment.count == 4)
    #expect(segment.ts == rows.map(\.ts))
    #expect(segment.lines == [7, 8, 9, 10])
    #expect((0..<4).map { segment.string(.viewer, $0) } == ["v1", "", "v1", "v1"])
    #expect((0..<4).map { segment.string(.userAgent, $0) } == ["Mozilla/5.0", "Mozilla/5.0", "", "Mozilla/5.0"])
    #expect((0..<4).map { segment.string(.post, $0) } == ["7300", "", "", ""])
    #expect((0..<4).map { segment.placement($0) } == [.post, .bio, .bio, .bio])
    let listings = (0..<4).map { r in
      segment.withListing(r) { platform, store, product in
        [platform?.rawValue ?? "", String(decoding: store, as: UTF8.self), String(decoding: product, as: UTF8.self)]
      }
    }
    #expect(listings == [["amazon", "", "p1"], ["amazon", "", "p1"], ["brand_store", "lumi-skin", "p2"], ["", "", ""]])
    #expect(segment.dictionaries[EventSegment.Column.creator.rawValue].count == 1)
    let ids = try staged.ids.withUnsafeBytes { try EventIDColumn(stored: $0) }
    #expect(ids.format == .packed && (0..<4).map { ids.id($0) } == ["a", "béta", "c", "d"])
  }

  /// A segment's creators and listings are coded a chunk of rows at a time: across several
  /// chunks, each row reads back its own, and the dictionaries hold each value once.
  @Test func creatorsAndListingsRoundTripAcrossCodingChunks() throws {
    let rows: [Row] = (0..<1_000).map { (i: Int) -> Row in
      let branded = i % 3 == 0
      return Row(
        id: "e\(i)", ts: 1_728_000_000_000 + Int64(i), creator: "creator-\(i % 37)", platform: branded ? .brandStore : .amazon,
        store: branded ? "store-\(i % 5)" : "", product: "p\(i % 101)")
    }
    let segment = try Self.segment(.view, day: 20_000, rows).data.withUnsafeBytes { try EventSegment(stored: $0) }
    let creators: [String] = (0..<rows.count).map { segment.string(.creator, $0) }
    #expect(creators == rows.map { $0.creator })
    let listings: [[String]] = (0..<rows.count).map { r in
      segment.withListing(r) { platform, store, product in
        [platform?.rawValue ?? "", String(decoding: store, as: UTF8.self), String(decoding: product, as: UTF8.self)]
      }
    }
    let expected: [[String]] = rows.map { [$0.platform?.rawValue ?? "", $0.store, $0.product] }
    #expect(listings == expected)
    #expect(segment.dictionaries[EventSegment.Column.creator.rawValue].count == 37)
    #expect(segment.dictionaries[EventSegment.Column.listing.rawValue].count == Set(listings).count)
  }

  /// Lowercase UUIDs are stored as 16 bytes (format 1); any other segment is packed by shape
  /// (format 3): UUIDs of either case as 16 bytes, canonical integers as varints, the rest as
  /// text. Every id reads back byte for byte.
  @Test(arguments: [
    (["0f8fad5b-d9cb-469f-a165-70867728950e", "7c9e6679-7425-40de-944b-e07fc1f90ae7"], EventIDColumn.Format.uuid),
    (["00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff"], .uuid),
    (["0f8fad5b-d9cb-469f-a165-70867728950e", "0F8FAD5B-D9CB-469F-A165-70867728950E"], .packed),
    (["0F8FAD5B-D9CB-469F-A165-70867728950E", "0f8FAD5B-D9CB-469F-A165-70867728950E"], .packed),
    (["0f8fad5b-d9cb-469f-a165-70867728950e", "v-01547640"], .packed),
    (["147093591", "0", "007", "-5", "+5", "9999999999999999999", "10000000000000000000", "18446744073709551616"], .packed),
    (["01M48SK4M3XWZQZF13F62S55P7", "", "béta", "a b"], .packed),
    (["0f8fad5b-d9cb-469f-a165-70867728950g"], .packed),
    (["0f8fad5b-d9cb-469f-a165-70867728950/"], .packed),
    (["0f8fad5b-d9cb-469f-a165-7086772895:e"], .packed),
    (["0f8fad5b-d9cb-469f-a165-7086772895`e"], .packed),
    (["0F8FAD5B-D9CB-469F-A165-7086772895@E"], .packed),
    (["0F8FAD5B-D9CB-469F-A165-7086772895GE"], .packed),
    (["0f8fad5bxd9cb-469f-a165-70867728950e"], .packed),
    (["0f8fad5b-d9cb-469f-a165-7086772895é"], .packed),
  ])
  func idColumnsRoundTrip(ids: [String], format: EventIDColumn.Format) throws {
    let builder = EventIDColumn.Builder()
    for id in ids { Array(id.utf8).withUnsafeBytes { builder.append($0) } }
    let stored = builder.encoded()
    #expect(stored[0] == format.rawValue)
    let column = try stored.withUnsafeBytes { try EventIDColumn(stored: $0) }
    #expect(column.format == format)
    #expect((0..<ids.count).map { column.id($0) } == ids)
  }

  /// Ids of the shapes real logs mix take about half their text in a packed column.
  @Test func packedIdsTakeLessThanTheirText() throws {
    let builder = EventIDColumn.Builder()
    var text = 0
    for n in 0..<4000 {
      let id =
        switch n % 4 {
        case 0: String(147_093_591 + n * 37)
        case 1: "v-\(String(1_547_640 + n).leftPadded(8))"
        case 2: "0F8FAD5B-D9CB-469F-A165-\(String(70_867_728_950 + n).leftPadded(12))"
        default: "0f8fad5b-d9cb-469f-a165-\(String(70_867_728_950 + n).leftPadded(12))"
        }
      text += id.utf8.count
      Array(id.utf8).withUnsafeBytes { builder.append($0) }
    }
    let stored = builder.encoded()
    #expect(stored[0] == EventIDColumn.Format.packed.rawValue)
    #expect(stored.count * 2 < text)
  }

  /// Columns written before format 3 (offsets and text) are still read.
  @Test func textColumnsOfOlderDatabasesAreRead() throws {
    let ids = ["a", "béta", "147093591"]
    var stored: [UInt8] = [EventIDColumn.Format.text.rawValue]
    func put(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { stored += $0 } }
    put(UInt32(ids.count))
    var end: UInt32 = 0
    put(0)
    for id in ids {
      end += UInt32(id.utf8.count)
      put(end)
    }
    for id in ids { stored += Array(id.utf8) }
    put(stored.withUnsafeBytes { cg_crc32(0, $0.baseAddress, $0.count) })
    let column = try stored.withUnsafeBytes { try EventIDColumn(stored: $0) }
    #expect(column.format == .text && (0..<3).map { column.id($0) } == ids)
    stored[7] ^= 1
    #expect(throws: ColumnReader.Corrupt.self) { try stored.withUnsafeBytes { try EventIDColumn(stored: $0) } }
  }

  /// A flipped byte anywhere in a stored segment or id column is an error, never other values.
  @Test(arguments: [0, 5, 20, -1])
  func damagedSegmentsAreRefused(position: Int) throws {
    let staged = Self.segment(.view, day: 1, (0..<100).map { Row(id: "id-\($0)", ts: Int64($0) * 1000) })
    var data = staged.data
    data[position >= 0 ? position : data.count - 2] ^= 0x40
    #expect(throws: ColumnReader.Corrupt.self) { try data.withUnsafeBytes { try EventSegment(stored: $0) } }
    var ids = staged.ids
    ids[position >= 0 ? position : ids.count - 2] ^= 0x40
    #expect(throws: ColumnReader.Corrupt.self) { try ids.withUnsafeBytes { try EventIDColumn(stored: $0) } }
  }

  @Test func droppedRowsRoundTrip() throws {
    for rows in [[0], [3, 9, 65_535], Array(0..<1000)] {
      let stored = DroppedRows.encode(rows.reversed())
      #expect(try stored.withUnsafeBytes { try DroppedRows.decode($0, rows: 65_536) } == rows)
    }
  }

  /// Writes segments through a real ``StagingWriter`` (one file each) and finishes the run.
  static func stage(
    _ db: SQLiteDatabase, _ segments: [StagedSegment], runID: Int64 = 1, spillKeys: Int = EventKeys.defaultSpillKeys
  ) throws -> StagingWriter.Outcome {
    try db.beginWrite()
    let writer = try StagingWriter(db: db, runID: runID, spillKeys: spillKeys)
    for (index, segment) in segments.enumerated() {
      try writer.beginFile(id: Int64(index + 1) + runID * 100)
      try writer.write(segment)
      try writer.commitFile()
    }
    let outcome = try writer.finish()
    try db.execute("COMMIT")
    return outcome
  }

  /// Two different ids with the same hash are two events; the same id twice on one day is one,
  /// the first arrival; on another day it is a new event.
  @Test func collidingHashesAreTwoEventsAndCopiesAreDropped() throws {
    let dir = try TemporaryDirectory()
    let db = try Schema.open(path: dir.file("db.sqlite"))
    let rowsA = [Row(id: "a", ts: 864_000_000), Row(id: "b", ts: 864_000_001)]
    let rowsB = [Row(id: "b", ts: 864_000_002), Row(id: "c", ts: 864_000_003)]
    let rowsC = [Row(id: "a", ts: 950_400_000)]
    var a = Self.segment(.view, day: 10, rowsA)
    a.hashes = [42, 42]
    var b = Self.segment(.click, day: 10, rowsB)
    b.hashes = [42, 43]
    let outcome = try Self.stage(db, [a, b, Self.segment(.view, day: 11, rowsC)])
    #expect(outcome.droppedByFile == [102: 1])
    let reader = try SegmentReader(db: db)
    #expect(try reader.dropped(2) == [0])
    #expect(try stagedTraffic(db).map { [$0[0], $0[1]] } == [["click", "c"], ["view", "a"], ["view", "a"], ["view", "b"]])
    // A later run: the same ids again are all duplicates, found in the stored id columns.
    let again = try Self.stage(
      db, [Self.segment(.view, day: 10, rowsA), Self.segment(.click, day: 10, rowsB), Self.segment(.view, day: 11, rowsC)],
      runID: 2)
    #expect(again.droppedByFile == [201: 2, 202: 2, 203: 1])
  }

  /// A thousand copies of one id and, among them, another id with the same hash: one group,
  /// in which every copy after the first is dropped and the other id stays.
  @Test func aGroupOfManyCopiesKeepsTheFirstOfEachID() throws {
    let dir = try TemporaryDirectory()
    let db = try Schema.open(path: dir.file("db.sqlite"))
    let rows = (0..<1_000).map { Row(id: $0 == 500 ? "y" : "x", ts: 864_000_000 + Int64($0)) }
    var segment = Self.segment(.view, day: 10, rows)
    segment.hashes = Array(repeating: 42, count: rows.count)
    let outcome = try Self.stage(db, [segment])
    #expect(outcome.droppedByFile == [101: 998])
    #expect(try SegmentReader(db: db).dropped(1) == (1..<1_000).filter { $0 != 500 })
  }

  /// Keys spilled to the temporary file (any number of times, across days) give the same
  /// duplicates as keys kept in memory.
  @Test(arguments: [1, 3, 7, 1000])
  func spilledKeysGiveTheSameDuplicates(spillKeys: Int) throws {
    let dir = try TemporaryDirectory()
    let db = try Schema.open(path: dir.file("db.sqlite"))
    // Three files over two days; ids repeat within a file, across files and across days.
    let segments = [
      Self.segment(.view, day: 10, (0..<5).map { Row(id: "v\($0 % 3)", ts: 864_000_000 + Int64($0)) }),
      Self.segment(.click, day: 10, (0..<4).map { Row(id: "v\($0)", ts: 864_000_100 + Int64($0)) }),
      Self.segment(.view, day: 11, (0..<3).map { Row(id: "v\($0)", ts: 950_400_000 + Int64($0)) }),
      Self.segment(.view, day: 10, (0..<2).map { Row(id: "w\($0)", ts: 864_000_200 + Int64($0)) }),
    ]
    try db.beginWrite()
    let writer = try StagingWriter(db: db, runID: 1, spillKeys: spillKeys)
    for (index, segment) in segments.enumerated() {
      try writer.beginFile(id: Int64(101 + index))
      try writer.write(segment)
      try writer.commitFile()
    }
    #expect((writer.keys.keysSpilled > 0) == (spillKeys < 14))
    let outcome = try writer.finish()
    try db.execute("COMMIT")
    #expect(outcome.droppedByFile == [101: 2, 102: 3])
    #expect(try stagedTraffic(db).map { [$0[0], $0[1]] }.count == 5 + 4 + 3 + 2 - 5)
  }

  /// A run reads the stored ids of the days it touches, not the history.
  @Test func aRunReadsOnlyTheStoredIdsOfItsDays() throws {
    let dir = try TemporaryDirectory()
    let db = try Schema.open(path: dir.file("db.sqlite"))
    let history = (0..<30).map { day in
      Self.segment(.view, day: Int64(day), (0..<10).map { Row(id: "d\(day)-\($0)", ts: Int64(day) * 86_400_000 + Int64($0)) })
    }
    _ = try Self.stage(db, history)
    try db.beginWrite()
    let writer = try StagingWriter(db: db, runID: 2)
    try writer.beginFile(id: 900)
    try writer.write(Self.segment(.view, day: 29, [Row(id: "d29-3", ts: 29 * 86_400_000 + 3), Row(id: "new", ts: 29 * 86_400_000 + 5)]))
    try writer.commitFile()
    let outcome = try writer.finish()
    try db.execute("COMMIT")
    #expect(outcome.dropped == 1)
    #expect(writer.keys.storedSegmentsRead == 1)
  }

  /// A damaged id column is an error that says what to do, never a wrong answer or a trap.
  @Test func damagedIdColumnsAreRefused() throws {
    let dir = try TemporaryDirectory()
    let db = try Schema.open(path: dir.file("db.sqlite"))
    _ = try Self.stage(db, [Self.segment(.view, day: 5, [Row(id: "a", ts: 432_000_000)])])
    var ids = try #require(
      try db.rows("SELECT ids FROM segment_ids WHERE segment_id = 1").first.flatMap { row -> [UInt8]? in
        if case .blob(let b) = row[0] { return b } else { return nil }
      })
    ids[6] ^= 0x55
    try db.run("UPDATE segment_ids SET ids = ? WHERE segment_id = 1", [.blob(ids)])
    do {
      _ = try Self.stage(db, [Self.segment(.view, day: 5, [Row(id: "a", ts: 432_000_001)])], runID: 2)
      Issue.record("a damaged id column was read")
    } catch let error as DatabaseError {
      #expect(
        error.message
          == "staged segment 1 is damaged (its checksum or layout does not match); restore the database from a backup")
    }
  }

  /// Clicks are in the click index under their id's hash and day until forgotten.
  @Test func clicksAreIndexedByIdOnEveryDayTheyOccur() throws {
    let dir = try TemporaryDirectory()
    let db = try Schema.open(path: dir.file("db.sqlite"))
    _ = try Self.stage(
      db,
      [
        Self.segment(.click, day: 100, [Row(id: "k", ts: 8_640_000_000)]),
        Self.segment(.click, day: 101, [Row(id: "k", ts: 8_726_400_000)]),
        Self.segment(.view, day: 102, [Row(id: "k", ts: 8_812_800_000)]),
      ])
    let key = EventKeys.indexKey(EventKeyHash.hash("k"))
    #expect(try db.rows("SELECT day FROM click_index WHERE key = ? ORDER BY day", [.int(key)]).map(\.[0].intValue) == [100, 101])
  }

  /// Every per-event lookup into `conversions` is an index search, not a scan: a scan per late
  /// click made N late clicks cost N² (the `late-clicks` shape of `bench.py --shapes`).
  @Test(arguments: DirtyHours.ConversionHours.perEventSQL + [StagingWriter.copiesOfIDSQL])
  func perEventLookupsSearchAnIndex(sql: String) throws {
    let dir = try TemporaryDirectory()
    let db = try Schema.open(path: dir.file("db.sqlite"))
    let plan = try db.rows("EXPLAIN QUERY PLAN " + sql, [.text("a"), .text("b")]).map { $0.last?.textValue ?? "" }
    #expect(
      plan.allSatisfy { $0.hasPrefix("SEARCH conversions USING INDEX") || $0.hasPrefix("SEARCH conversions USING COVERING INDEX") },
      "\(plan)")
  }

  /// The hours of the conversions that late clicks name come from `conversions_by_click`
  /// alone: fetching each conversion's row cost 3.9 s of random page reads at 1M late clicks.
  @Test func lateClickHoursAreReadFromTheIndexAlone() throws {
    let dir = try TemporaryDirectory()
    let db = try Schema.open(path: dir.file("db.sqlite"))
    try db.execute("CREATE TEMP TABLE late_clicks(id TEXT PRIMARY KEY, key INTEGER NOT NULL) WITHOUT ROWID")
    let plan = try db.rows("EXPLAIN QUERY PLAN " + DirtyHours.ConversionHours.lateClicksSQL).map { $0.last?.textValue ?? "" }
    #expect(plan.contains { $0.hasPrefix("SEARCH c USING COVERING INDEX conversions_by_click (click_key=?)") }, "\(plan)")
    #expect(!plan.contains { $0.contains("conversions") && !$0.contains("COVERING") }, "\(plan)")
  }

  @Test func keyFilterHasNoFalseNegativesAndFewFalsePositives() {
    var generator = SystemRandomNumberGenerator()
    var filter = KeyFilter(capacity: 10_000)
    let keys = (0..<10_000).map { _ in Int64.random(in: 0...Int64.max, using: &generator) }
    for key in keys { filter.insert(key) }
    #expect(keys.allSatisfy { filter.mayContain($0) })
    let others = (0..<100_000).filter { _ in filter.mayContain(Int64.random(in: 0...Int64.max, using: &generator)) }.count
    #expect(others < 1_000, "false positives: \(others) of 100000")
  }

  /// The field names the fast scanner recognises by word compares are the contract's names.
  @Test func everyFieldIsRecognisedByItsName() {
    for field in Field.allCases {
      #expect(Array(field.name.utf8).withUnsafeBytes { Field.named($0) } == field)
      #expect(Array((field.name + "x").utf8).withUnsafeBytes { Field.named($0) } == nil)
      #expect(Array(field.name.uppercased().utf8).withUnsafeBytes { Field.named($0) } == nil)
    }
    #expect(Field.count == Field.allCases.count)
  }
}
