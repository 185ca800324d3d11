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

  @Test(arguments: [1, 3, 1 << 20])
  func duplicatesAreFoundBeforeAndAfterEveryFlush(flushThreshold: Int) throws {
    let dir = try TemporaryDirectory()
    let db = try Schema.open(path: dir.file("db.sqlite"))
    let kinds: [EventKind] = [.view, .click, .conversion]
    try db.execute("BEGIN")
    let keys = try EventKeyIndex(db: db, flushThreshold: flushThreshold)
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
    #expect(try db.scalarInt("SELECT count(*) FROM event_keys") == 300)
    #expect(try db.scalarInt("SELECT count(DISTINCT kind) FROM event_keys") == 3)

    // A later run finds them in SQLite.
    try db.execute("BEGIN")
    let later = try EventKeyIndex(db: db, flushThreshold: flushThreshold)
    #expect(try !Self.stage("e7", kind: .view, row: 20_000, in: db, keys: later))
    #expect(try Self.stage("e300", kind: .click, row: 20_001, in: db, keys: later))
    #expect(try later.find("e299")?.kind == EventKind.conversion.rawValue)
    try later.flush()
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
    let maxRow: Int64 = 253_402_300_799_999 << 12 | 4095  // 9999-12-31T23:59:59.999Z
    for n in 0..<5_000 {
      pending.insert(key: Int64(n) * 7_919 + 1, kind: n % 3, ref: n % 2 == 0 ? maxRow - Int64(n) : Int64(n))
    }
    #expect(pending.count == 5_000)
    for n in 0..<5_000 {
      let found = pending.find(key: Int64(n) * 7_919 + 1)
      #expect(found?.kind == n % 3 && found?.ref == (n % 2 == 0 ? maxRow - Int64(n) : Int64(n)))
    }
    let updated = pending.update(key: 1, ref: 42)
    #expect(updated && pending.find(key: 1)?.ref == 42 && pending.find(key: 1)?.kind == 0)
    let absent = pending.update(key: 2, ref: 42)
    #expect(!absent)
    let sorted = pending.sortedEntries().map(\.key)
    #expect(sorted == sorted.sorted() && sorted.count == 5_000)
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
}
