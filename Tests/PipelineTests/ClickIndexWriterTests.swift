import Testing

@testable import ClickPipeline

/// `click_index` on a fresh database: entries come out sorted by (key, day), each once,
/// whatever order and repeats they were collected in, beside the rows already there; the
/// entries of a failed file can be taken back.
@Suite struct ClickIndexWriterTests {
  static func rows(_ db: SQLiteDatabase) throws -> [[Int64]] {
    try db.rows("SELECT key, day FROM click_index").map { $0.map(\.intValue) }
  }

  @Test(
    arguments: [
      ([(5, 20_001), (3, 20_000), (5, 20_000), (3, 20_000), (9, 1)], [[3, 20_000], [5, 20_000], [5, 20_001], [9, 1]]),
      ([], []),
      ([(UInt64.max, 3), (0, 2), (UInt64.max, 3)], [[0, 2], [Int64.max, 3]]),
    ] as [([(UInt64, Int64)], [[Int64]])])
  func sortedEachOnce(collected: [(UInt64, Int64)], expected: [[Int64]]) throws {
    let dir = try TemporaryDirectory()
    let db = try Schema.open(path: dir.file("db.sqlite"))
    let writer = try ClickIndexWriter(db: db)
    for (hash, day) in collected { writer.add(hash: hash, day: day) }
    try writer.flush()
    #expect(try Self.rows(db) == expected)
    #expect(writer.count == 0)
  }

  /// Enough entries for the radix sort and whole 64-row statements, in reverse order, twice,
  /// beside an entry already stored.
  @Test func manyEntries() throws {
    let dir = try TemporaryDirectory()
    let db = try Schema.open(path: dir.file("db.sqlite"))
    try db.execute("INSERT INTO click_index(key, day) VALUES (7, 1)")
    let writer = try ClickIndexWriter(db: db)
    for copy: Int64 in 0..<2 {
      for n: UInt64 in (0..<5000).reversed() { writer.add(hash: n * 1_000_003, day: Int64(n % 3) + copy) }
    }
    try writer.flush()
    var expected: [[Int64]] = []
    for n: Int64 in 0..<5000 { expected += [[n * 1_000_003, n % 3], [n * 1_000_003, n % 3 + 1]] }
    expected.append([7, 1])
    #expect(try Self.rows(db) == expected.sorted { $0.lexicographicallyPrecedes($1) })
  }

  @Test func aFailedFilesEntriesAreTakenBack() throws {
    let dir = try TemporaryDirectory()
    let db = try Schema.open(path: dir.file("db.sqlite"))
    let writer = try ClickIndexWriter(db: db)
    writer.add(hash: 7, day: 1)
    writer.add(hash: 2, day: 1)
    writer.removeSubrange(from: 1)
    try writer.flush()
    #expect(try Self.rows(db) == [[7, 1]])
  }

  /// The keys a run's conversions name are first looked for among the collected entries;
  /// only the others are left to look up in the table. Collecting more afterwards still
  /// writes everything, sorted.
  @Test func namedKeysOfCollectedClicksAreRemoved() throws {
    let dir = try TemporaryDirectory()
    let db = try Schema.open(path: dir.file("db.sqlite"))
    let writer = try ClickIndexWriter(db: db)
    for (hash, day) in [(40, 2), (10, 1), (30, 1), (10, 2)] as [(UInt64, Int64)] { writer.add(hash: hash, day: day) }
    var named: [(key: Int64, id: String)] = [(5, "a"), (10, "b"), (10, "c"), (20, "d"), (40, "e"), (41, "f")]
    writer.removeCollected(from: &named)
    #expect(named.map(\.id) == ["a", "d", "f"])
    writer.add(hash: 20, day: 3)
    try writer.flush()
    #expect(try Self.rows(db) == [[10, 1], [10, 2], [20, 3], [30, 1], [40, 2]])
  }
}
