import Foundation
import Testing

@testable import ClickPipeline

/// The global event-id index against a real SQLite file: keys held in memory, flushed sorted,
/// and found again by a later connection (CONTRACT §3, "unique by event_id").
@Suite struct EventKeyIndexTests {
  /// Stages `id` the way `ingest` does: claim its key, then write its row.
  static func stage(_ id: String, kind: EventKind, row: Int64, in db: SQLiteDatabase, keys: EventKeyIndex) throws -> Bool {
    guard try keys.claim(id, kind: kind.rawValue, row: row) != nil else { return false }
    switch kind {
    case .view:
      try db.run(
        "INSERT INTO views VALUES (?, ?, 0, '', '', '', '', '', '', 0, 1, 1)", [.int(row), .text(id)])
    case .click:
      try db.run(
        "INSERT INTO clicks VALUES (?, ?, 0, '', '', '', '', '', '', 0, 1, 1)", [.int(row), .text(id)])
    case .conversion:
      try db.run(
        "INSERT INTO conversions VALUES (?, ?, 0, '', '', '', '', '', '', 1, '1', 'USD', 0, 1, 1)",
        [.int(row), .text(id)])
    }
    return true
  }

  /// (flush threshold, written-keys limit): the last case passes the limit mid-run, after
  /// which the run's keys are remembered by the filter instead of a sorted array.
  @Test(arguments: [(1, 1 << 23), (3, 1 << 23), (1 << 20, 1 << 23), (3, 50)])
  func duplicatesAreFoundBeforeAndAfterEveryFlush(flushThreshold: Int, writtenKeysLimit: Int) throws {
    let dir = try TemporaryDirectory()
    let db = try Schema.open(path: dir.file("db.sqlite"))
    let kinds: [EventKind] = [.view, .click, .conversion]
    try db.execute("BEGIN")
    let keys = try EventKeyIndex(db: db, flushThreshold: flushThreshold, writtenKeysLimit: writtenKeysLimit)
    for n in 0..<300 {
      let kind = kinds[n % 3]
      #expect(try Self.stage("e\(n)", kind: kind, row: Int64(n + 1), in: db, keys: keys))
      // A copy of an earlier id, pending or already flushed, is a duplicate.
      #expect(try !Self.stage("e\(n / 2)", kind: kind, row: Int64(10_000 + n), in: db, keys: keys))
    }
    for n in 0..<300 {
      let found = try #require(try keys.find("e\(n)"))
      #expect(found.kind == kinds[n % 3].rawValue && found.ref == Int64(n + 1))
    }
    #expect(try keys.find("e300") == nil)
    try keys.flush()
    try db.execute("COMMIT")
    // Later flushes of the run may go to the recent table once the main one is 4x larger.
    let stored = "SELECT * FROM event_keys UNION ALL SELECT * FROM event_keys_recent"
    #expect(try db.scalarInt("SELECT count(*) FROM (\(stored))") == 300)
    #expect(try db.scalarInt("SELECT count(DISTINCT kind) FROM (\(stored))") == 3)

    // A later run finds them in SQLite.
    try db.execute("BEGIN")
    let later = try EventKeyIndex(db: db, flushThreshold: flushThreshold)
    #expect(try !Self.stage("e7", kind: .view, row: 20_000, in: db, keys: later))
    #expect(try Self.stage("e300", kind: .click, row: 20_001, in: db, keys: later))
    #expect(try later.find("e299")?.kind == EventKind.conversion.rawValue)
    try later.flush()
    try db.execute("COMMIT")
  }

  /// A small flush goes to `event_keys_recent`; one that would take it past half of
  /// `event_keys` merges both. Lookups, moves and tombstones work in either table.
  @Test func recentKeysStayInTheSmallTableUntilTheyMerge() throws {
    let dir = try TemporaryDirectory()
    let db = try Schema.open(path: dir.file("db.sqlite"))
    func count(_ table: String) throws -> Int64? { try db.scalarInt("SELECT count(*) FROM \(table)") }
    func run(_ ids: Range<Int>, firstRow: Int64) throws {
      try db.execute("BEGIN")
      let keys = try EventKeyIndex(db: db)
      for n in ids { #expect(try Self.stage("e\(n)", kind: .view, row: firstRow + Int64(n), in: db, keys: keys)) }
      try keys.flush()
      try db.execute("COMMIT")
    }
    try run(0..<400, firstRow: 0)
    #expect(try count("event_keys") == 400 && count("event_keys_recent") == 0)
    try run(400..<460, firstRow: 0)  // 60 * 2 <= 400
    #expect(try count("event_keys") == 400 && count("event_keys_recent") == 60)

    // Every id is found, wherever it is; a copy is a duplicate; a tombstone lands.
    try db.execute("BEGIN")
    let keys = try EventKeyIndex(db: db)
    for n in [0, 399, 400, 459] {
      #expect(try keys.find("e\(n)")?.ref == Int64(n))
      #expect(try !Self.stage("e\(n)", kind: .click, row: 9_000, in: db, keys: keys))
    }
    try keys.forget("e451")
    #expect(try keys.find("e451") == nil)
    try keys.flush()
    try db.execute("COMMIT")

    try run(460..<620, firstRow: 0)  // (60 + 160) * 2 > 400: merge
    #expect(try count("event_keys") == 620 && count("event_keys_recent") == 0)
    #expect(try db.scalarInt("SELECT kind FROM event_keys WHERE key = ?", [.int(EventKeyHash.key("e451"))]) == EventKeyIndex.tombstone)
    let again = try EventKeyIndex(db: db)
    #expect(try again.find("e450")?.ref == 450 && again.find("e619")?.ref == 619 && again.find("e451") == nil)
  }

  /// Each run's settle() moves one slice of the key space from the recent table to the main
  /// one, walking the whole key space in turn: the recent table stays small and nothing is
  /// lost or found twice.
  @Test func settleMovesOneSliceOfRecentKeysPerRun() throws {
    let dir = try TemporaryDirectory()
    let db = try Schema.open(path: dir.file("db.sqlite"))
    func count(_ table: String) throws -> Int64 { try db.scalarInt("SELECT count(*) FROM \(table)") ?? -1 }
    func run(_ ids: Range<Int>) throws {
      try db.execute("BEGIN")
      let keys = try EventKeyIndex(db: db)
      for n in ids { #expect(try Self.stage("e\(n)", kind: .view, row: Int64(n), in: db, keys: keys)) }
      try keys.flush()
      try keys.settle()
      try keys.persistFilter()
      try db.execute("COMMIT")
    }
    try run(0..<800)
    #expect(try count("event_keys") == 800 && count("event_keys_recent") == 0)
    var slicesSeen = Set<String>()
    for night in 0..<30 {  // 20 keys a night: 800 / (4 * 20) = 10 slices
      try run(800 + night * 20..<800 + (night + 1) * 20)
      let total = 800 + (night + 1) * 20
      #expect(try count("event_keys") + count("event_keys_recent") == Int64(total))
      #expect(try count("event_keys_recent") <= 260, "night \(night)")
      slicesSeen.insert(try db.scalarText("SELECT value FROM meta WHERE key = 'event_keys_slice'") ?? "")
    }
    #expect(slicesSeen.contains("0"), "the cursor wraps around the key space")
    // A run as large as a quarter of the main table: one slice, the whole key space.
    try run(1_400..<1_700)
    #expect(try count("event_keys") + count("event_keys_recent") == 1_700)
    #expect(try count("event_keys") > 1_100)
    try db.execute("BEGIN")
    let keys = try EventKeyIndex(db: db)
    for n in 0..<1_400 { #expect(try keys.find("e\(n)")?.ref == Int64(n)) }
    #expect(try !Self.stage("e1399", kind: .view, row: 99_999, in: db, keys: keys))
    try db.execute("COMMIT")
  }

  @Test func colliding63BitKeysProbeToTheNextSlot() throws {
    let dir = try TemporaryDirectory()
    let db = try Schema.open(path: dir.file("db.sqlite"))
    let keys = try EventKeyIndex(db: db, flushThreshold: 2)
    let first = try #require(try keys.claim("a", kind: EventKind.view.rawValue, row: 1))
    try db.run("INSERT INTO views VALUES (1, 'a', 0, '', '', '', '', '', '', 0, 1, 1)")
    // Occupy the slot "b" hashes to with an unrelated event, then stage "b".
    let slotOfB = EventKeyHash.key("b")
    try db.run("INSERT INTO event_keys VALUES (?, 0, 1)", [.int(slotOfB)])
    let fresh = try EventKeyIndex(db: db, flushThreshold: 2)
    let b = try #require(try fresh.claim("b", kind: EventKind.click.rawValue, row: 5))
    #expect(b == EventKeyHash.probe(slotOfB))
    #expect(first == EventKeyHash.key("a"))
  }

  @Test func pendingKeysKeepKindAndRowForEveryKind() {
    var pending = PendingKeys()
    // The last rowid of the last hour of 9999-12-31 (HourRowID).
    let maxRow = HourRowID.first(ofHour: HourRowID.hour(ofMilliseconds: 253_402_300_799_999) + 1) - 1
    for n in 0..<5_000 {
      pending.insert(key: Int64(n) * 7_919 + 1, kind: n % 3, ref: n % 2 == 0 ? maxRow - Int64(n) : Int64(n))
    }
    #expect(pending.count == 5_000)
    for n in 0..<5_000 {
      let found = pending.find(key: Int64(n) * 7_919 + 1)
      #expect(found?.kind == n % 3 && found?.ref == (n % 2 == 0 ? maxRow - Int64(n) : Int64(n)))
    }
    // Small keys all share one bucket of the sort; random ones spread over all of them.
    let sorted = pending.sortedEntries().map(\.key)
    #expect(sorted == sorted.sorted() && sorted.count == 5_000)
    var spread = PendingKeys()
    var generator = SystemRandomNumberGenerator()
    var inserted = Set<Int64>()
    while inserted.count < 50_000 {
      let key = Int64.random(in: 0...Int64.max, using: &generator)
      if inserted.insert(key).inserted { spread.insert(key: key, kind: 1, ref: key & 0xFFFF) }
    }
    let entries = spread.sortedEntries()
    #expect(entries.map(\.key) == inserted.sorted())
    #expect(entries.allSatisfy { $0.kind == 1 && $0.ref == $0.key & 0xFFFF })
  }

  @Test func sortedKeysAgreeWithASet() {
    var generator = SystemRandomNumberGenerator()
    let a = (0..<20_000).map { _ in Int64.random(in: 0...Int64.max, using: &generator) }.sorted()
    let b = (0..<7_000).map { _ in Int64.random(in: 0...Int64.max, using: &generator) }.sorted()
    let merged = SortedKeys.merge(a, b)
    #expect(merged == (a + b).sorted())
    for key in b.prefix(1_000) { #expect(SortedKeys.contains(merged, key)) }
    let present = Set(merged)
    for _ in 0..<5_000 {
      let key = Int64.random(in: 0...Int64.max, using: &generator)
      #expect(SortedKeys.contains(merged, key) == present.contains(key))
    }
    #expect(SortedKeys.contains([0, Int64.max], Int64.max) && !SortedKeys.contains([], 3))
    #expect(SortedKeys.contains([5, 5, 5], 5) && !SortedKeys.contains([5, 5, 5], 6))
  }

  /// The stored Bloom filter covers every stored key across runs, including after it fills
  /// up and is rebuilt larger, so later runs still find every duplicate.
  @Test func storedFilterCoversEveryKeyAcrossRunsAndRebuilds() throws {
    let dir = try TemporaryDirectory()
    let db = try Schema.open(path: dir.file("db.sqlite"))
    func run(_ ids: Range<Int>) throws {
      try db.execute("BEGIN")
      let keys = try EventKeyIndex(db: db)
      for n in ids { #expect(try Self.stage("e\(n)", kind: .view, row: Int64(n), in: db, keys: keys)) }
      for n in stride(from: 0, to: ids.upperBound, by: 97) {
        #expect(try !Self.stage("e\(n)", kind: .view, row: 1_000_000 + Int64(n), in: db, keys: keys))
      }
      try keys.flush()
      try keys.persistFilter()
      try db.execute("COMMIT")
    }
    try run(0..<1_000)
    #expect(try db.scalarInt("SELECT keys FROM event_key_filter") == 1_000)
    let small = try db.scalarInt("SELECT length(words) FROM event_key_filter")
    try run(1_000..<1_300)  // into the recent table, added to the stored filter
    #expect(try db.scalarInt("SELECT keys FROM event_key_filter") == 1_300)
    try run(1_300..<6_000)  // fills the filter: rebuilt larger from both tables
    #expect(try db.scalarInt("SELECT keys FROM event_key_filter") == 6_000)
    #expect(try db.scalarInt("SELECT length(words) FROM event_key_filter")! > small!)
    let stored = try db.scalarInt("SELECT (SELECT count(*) FROM event_keys) + (SELECT count(*) FROM event_keys_recent)")
    #expect(stored == 6_000)
    try db.execute("BEGIN")
    let keys = try EventKeyIndex(db: db)
    for n in 0..<6_000 { #expect(try keys.find("e\(n)")?.ref == Int64(n)) }
    #expect(try keys.find("e6000") == nil)
    try db.execute("COMMIT")
  }

  @Test func keyFilterHasNoFalseNegativesAndFewFalsePositives() {
    var generator = SystemRandomNumberGenerator()
    var filter = KeyFilter(capacity: 10_000)
    let keys = (0..<10_000).map { _ in Int64.random(in: 0...Int64.max, using: &generator) }
    for key in keys { filter.insert(key) }
    #expect(keys.allSatisfy { filter.mayContain($0) })
    let others = (0..<100_000).filter { _ in filter.mayContain(Int64.random(in: 0...Int64.max, using: &generator)) }.count
    #expect(others < 1_000, "false positives: \(others) of 100000")
    #expect(KeyFilter(words: filter.words, keys: filter.keys)?.mayContain(keys[0]) == true)
    #expect(KeyFilter(words: [1, 2, 3], keys: 1) == nil)
  }

  /// However many keys, the filter stays within 64 MiB; at that size it is never "full" (a
  /// rebuild could not make it larger), below it it is at 16 bits per key.
  @Test func keyFilterStopsGrowingAtItsCap() {
    #expect(KeyFilter(capacity: 1_000_000_000).words.count * 64 == KeyFilter.maxBits)
    let capped = [UInt64](repeating: 0, count: KeyFilter.maxBits / 64)
    #expect(KeyFilter(words: capped, keys: 1_000_000_000)?.isFull == false)
    let half = [UInt64](repeating: 0, count: KeyFilter.maxBits / 128)
    #expect(KeyFilter(words: half, keys: KeyFilter.maxBits / 32)?.isFull == true)
    #expect(KeyFilter(words: half, keys: KeyFilter.maxBits / 32 - 1)?.isFull == false)
  }
}
