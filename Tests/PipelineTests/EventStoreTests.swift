import Foundation
import Testing

@testable import ClickPipeline

/// The columnar event store against a real SQLite file: segments round-trip and refuse damage;
/// event keys are exact whatever their hashes, partitioned by day, and found again by a later
/// connection (CONTRACT §3, "unique by event_id").
@Suite struct EventStoreTests {
  static func event(_ kind: EventKind, _ id: String, ts: Int64, viewer: String = "v1", agent: String = "Mozilla/5.0") -> Event {
    var e = Event(kind: kind, eventID: id, ts: ts)
    e.creatorID = "c1"
    e.placement = "bio"
    e.viewerID = viewer
    e.productID = "p1"
    e.platform = "amazon"
    e.userAgent = agent
    e.line = 7
    return e
  }

  @Test func segmentsRoundTripEveryColumn() throws {
    var builder = EventSegmentBuilder(kind: .click, day: 20_000, segmentID: 3)
    let events = [
      Self.event(.click, "a", ts: 1_728_000_000_123), Self.event(.click, "béta", ts: 1_728_000_000_001, viewer: ""),
      Self.event(.click, "c", ts: -5, agent: ""),
    ]
    for (i, e) in events.enumerated() { #expect(builder.append(e) == i) }
    let stored = builder.encoded()
    let segment = try stored.withUnsafeBytes { try EventSegment(stored: $0) }
    #expect(segment.count == 3)
    #expect(segment.ts == events.map(\.ts))
    #expect(segment.lines == [7, 7, 7])
    #expect((0..<3).map { segment.eventID($0) } == ["a", "béta", "c"])
    #expect((0..<3).map { segment.string(.viewer, $0) } == ["v1", "", "v1"])
    #expect((0..<3).map { segment.string(.userAgent, $0) } == ["Mozilla/5.0", "Mozilla/5.0", ""])
    #expect(segment.dictionaries[EventSegment.Dimension.creator.rawValue].count == 1)
  }

  /// A flipped byte anywhere in a stored segment is an error, never other numbers.
  @Test(arguments: [0, 5, 20, -1])
  func damagedSegmentsAreRefused(position: Int) throws {
    var builder = EventSegmentBuilder(kind: .view, day: 1, segmentID: 1)
    for i in 0..<100 { _ = builder.append(Self.event(.view, "id-\(i)", ts: Int64(i) * 1000)) }
    var stored = builder.encoded()
    let at = position >= 0 ? position : stored.count - 2
    stored[at] ^= 0x40
    #expect(throws: ColumnReader.Corrupt.self) { try stored.withUnsafeBytes { try EventSegment(stored: $0) } }
  }

  /// Two different ids with the same 64-bit hash are two events: the stored id decides.
  @Test func collidingHashesAreTwoEvents() throws {
    let dir = try TemporaryDirectory()
    let db = try Schema.open(path: dir.file("db.sqlite"))
    let ids: [UInt64: String] = [1: "a", 2: "b"]
    func verify(_ id: String) -> (EventRef) -> Bool { { ids[$0.raw & 0xFFFF] == id } }
    let keys = try EventKeys(db: db)
    let a = EventRef(kind: .view, segmentID: 1, row: 1)
    let b = EventRef(kind: .view, segmentID: 1, row: 2)
    keys.add(hash: 42, day: 10, ref: a)
    #expect(try keys.find(hash: 42, day: 10, verify: verify("b")) == nil)
    keys.add(hash: 42, day: 10, ref: b)
    #expect(try keys.find(hash: 42, day: 10, verify: verify("b")) == b)
    try keys.write()
    let later = try EventKeys(db: db)
    #expect(try later.find(hash: 42, day: 10, verify: verify("a")) == a)
    #expect(try later.find(hash: 42, day: 10, verify: verify("b")) == b)
    #expect(try later.find(hash: 42, day: 11, verify: verify("a")) == nil)
  }

  /// A damaged key partition is an error that says what to do, never a wrong answer or a trap.
  @Test(arguments: [3, 12, -2])
  func damagedKeyPartitionsAreRefused(position: Int) throws {
    let dir = try TemporaryDirectory()
    let db = try Schema.open(path: dir.file("db.sqlite"))
    let keys = try EventKeys(db: db)
    for n in UInt64(0)..<100 { keys.add(hash: n * 7_919, day: 5, ref: EventRef(conversionRow: Int64(n))) }
    try keys.write()
    let read = try db.prepare("SELECT data FROM event_keys WHERE day = 5")
    #expect(try read.step())
    var data = Array(read.blob(0))
    read.reset()
    data[position >= 0 ? position : data.count + position] ^= 0x55
    try db.run("UPDATE event_keys SET data = ? WHERE day = 5", [.blob(data)])
    do {
      _ = try EventKeys(db: db).find(hash: 7_919, day: 5) { _ in true }
      Issue.record("a damaged partition was read")
    } catch {
      #expect(error.message == "the event keys of UTC day 5 are damaged; restore the database from a backup")
    }
  }

  /// A run reads the key partitions of the days it touches, not the history.
  @Test func aRunReadsOnlyThePartitionsOfItsDays() throws {
    let dir = try TemporaryDirectory()
    let db = try Schema.open(path: dir.file("db.sqlite"))
    let first = try EventKeys(db: db)
    for day in Int64(0)..<30 {
      for n in 0..<10 {
        first.add(hash: UInt64(day * 100 + Int64(n)), day: day, ref: EventRef(conversionRow: day * 100 + Int64(n)))
      }
    }
    try first.write()
    #expect(try db.scalarInt("SELECT count(*) FROM event_keys") == 30)
    let night = try EventKeys(db: db)
    #expect(try night.find(hash: 2_905, day: 29) { _ in true } == EventRef(conversionRow: 2_905))
    night.add(hash: 3_000, day: 30, ref: EventRef(conversionRow: 3_000))
    #expect(try night.find(hash: 3_000, day: 30) { _ in true } == EventRef(conversionRow: 3_000))
    try night.write()
    #expect(night.partitionsRead == 1)
  }

  /// Clicks are found by id on any day; a removed click is gone from its day and the index.
  @Test func clicksAreFoundOnAnyDayUntilRemoved() throws {
    let dir = try TemporaryDirectory()
    let db = try Schema.open(path: dir.file("db.sqlite"))
    let keys = try EventKeys(db: db)
    let click = EventRef(kind: .click, segmentID: 9, row: 0)
    keys.add(hash: 7, day: 100, ref: click)
    keys.add(hash: 7, day: 101, ref: EventRef(kind: .view, segmentID: 10, row: 0))
    #expect(try keys.findClick(hash: 7) { _ in true } == click)
    try keys.write()
    #expect(try EventKeys(db: db).findClick(hash: 7) { _ in true } == click)
    let forget = try EventKeys(db: db)
    try forget.remove(hash: 7, day: 100, ref: click)
    try forget.write()
    #expect(try EventKeys(db: db).findClick(hash: 7) { _ in true } == nil)
    #expect(try db.scalarInt("SELECT count(*) FROM click_index") == 0)
    #expect(try db.scalarInt("SELECT count(*) FROM event_keys") == 1)
  }

  /// Every per-event lookup into `conversions` is an index search, not a scan: a scan per late
  /// click made N late clicks cost N² (the `late-clicks` shape of `bench.py --shapes`).
  @Test(arguments: EventStore.lookups)
  func perEventLookupsSearchAnIndex(sql: String) throws {
    let dir = try TemporaryDirectory()
    let db = try Schema.open(path: dir.file("db.sqlite"))
    let plan = try db.rows("EXPLAIN QUERY PLAN " + sql, [.text("a"), .text("b")]).map { $0.last?.textValue ?? "" }
    #expect(plan.allSatisfy { $0.hasPrefix("SEARCH conversions USING INDEX") }, "\(plan)")
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
}
