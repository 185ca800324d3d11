import Testing

@testable import ClickPipeline

/// The set the click search tests every click row against: exact membership, whatever the
/// UUIDs (the all-zero one included) and however many.
@Suite struct UUIDWordSetTests {
  static func words(_ n: UInt64, _ m: UInt64) -> UUIDText.Words { UUIDText.Words(high: n, low: m) }

  @Test func holdsExactlyWhatWasInserted() {
    var set = UUIDWordSet()
    var inserted = Set<UUIDText.Words>()
    var generator = SystemRandomNumberGenerator()
    // Enough to grow the table many times; some share a word, some repeat.
    for n in 0..<50_000 {
      let w = n % 7 == 0 ? Self.words(UInt64(n % 100), 0) : Self.words(generator.next(), generator.next())
      set.insert(w)
      inserted.insert(w)
      if n % 3 == 0 { set.insert(w) }
    }
    #expect(set.count == inserted.count)
    #expect(inserted.allSatisfy { set.contains($0) })
    let others = (0..<100_000).map { _ in Self.words(generator.next(), generator.next()) }.filter { !inserted.contains($0) }
    #expect(!others.contains { set.contains($0) })
  }

  @Test func theAllZeroUUIDIsAMemberOnlyOnceInserted() throws {
    let zero = try #require(UUIDText.words("00000000-0000-0000-0000-000000000000"))
    var set = UUIDWordSet()
    #expect(!set.contains(zero))
    set.insert(Self.words(1, 2))
    #expect(!set.contains(zero))
    set.insert(zero)
    set.insert(zero)
    #expect(set.contains(zero) && set.contains(Self.words(1, 2)) && set.count == 2)
  }
}
