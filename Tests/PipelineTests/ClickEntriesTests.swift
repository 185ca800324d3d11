import Testing

@testable import ClickPipeline

/// The `click_index` rows a run collects come out sorted by (key, day), each once, whatever
/// order and repeats they were collected in; entries of a failed file can be taken back.
@Suite struct ClickEntriesTests {
  @Test(
    arguments: [
      ([(5, 20_001), (3, 20_000), (5, 20_000), (3, 20_000), (9, 1)], [(3, 20_000), (5, 20_000), (5, 20_001), (9, 1)]),
      ([], []),
      ([(Int64.max, 3), (0, 2), (Int64.max, 3)], [(0, 2), (Int64.max, 3)]),
    ] as [([(Int64, Int64)], [(Int64, Int64)])])
  func sortedEachOnce(collected: [(Int64, Int64)], expected: [(Int64, Int64)]) {
    var entries = ClickEntries()
    for (key, day) in collected { entries.append(key: key, day: day) }
    entries.sortDistinct()
    let sorted = (0..<entries.count).map { entries[$0] }
    #expect(sorted.map(\.key) == expected.map(\.0) && sorted.map(\.day) == expected.map(\.1))
  }

  /// Enough entries for the radix sort (not its small-input path), in reverse order, twice.
  @Test func manyEntries() {
    var entries = ClickEntries()
    for copy: Int64 in 0..<2 {
      for n: Int64 in (0..<5000).reversed() { entries.append(key: n * 1_000_003, day: n % 3 + copy) }
    }
    entries.sortDistinct()
    var keys: [Int64] = []
    var days: [Int64] = []
    for i in 0..<entries.count {
      keys.append(entries[i].key)
      days.append(entries[i].day)
    }
    var expectedKeys: [Int64] = []
    var expectedDays: [Int64] = []
    for n: Int64 in 0..<5000 {
      expectedKeys += [n * 1_000_003, n * 1_000_003]
      expectedDays += [n % 3, n % 3 + 1]
    }
    #expect(keys == expectedKeys && days == expectedDays)
  }

  @Test func aFailedFilesEntriesAreTakenBack() {
    var entries = ClickEntries()
    entries.append(key: 7, day: 1)
    entries.append(key: 2, day: 1)
    entries.removeSubrange(from: 1)
    entries.sortDistinct()
    #expect(entries.count == 1 && entries[0] == (7, 1))
  }
}
