import Testing

@testable import ClickPipeline

/// ``SortedWords`` answers every lower bound as a plain binary search of the same words does,
/// whether their top bits are uniform hashes or not (tests make every hash collide).
@Suite struct SortedWordsTests {
  /// (words, how they are made).
  static let cases: [(count: Int, shape: String)] = [
    (0, "random"), (1, "random"), (3, "random"), (4, "random"), (5, "random"), (1_000, "random"),
    (20_000, "random"), (20_000, "repeated"), (20_000, "top bits zero"), (20_000, "top bits one"),
    (5_000, "all equal"), (5_000, "extremes"),
  ]

  static func words(_ count: Int, _ shape: String) -> [UInt64] {
    var rng = SeededRandom(seed: 0x0DDB_1A5E_5BAD_5EED)
    return (0..<count).map { i in
      switch shape {
      case "repeated": rng.next() & 0xFFFF_0000_0000_0000
      case "top bits zero": rng.next() >> 40
      case "top bits one": .max - rng.next() >> 40
      case "all equal": 0x8000_0000_0000_0001
      case "extremes": i % 2 == 0 ? 0 : .max
      default: rng.next()
      }
    }.sorted()
  }

  /// A binary search of all the words.
  static func plainLowerBound(_ words: [UInt64], _ value: UInt64, orEqual: Bool) -> Int {
    var low = 0
    var high = words.count
    while low < high {
      let mid = (low + high) / 2
      if words[mid] < value || (orEqual && words[mid] == value) { low = mid + 1 } else { high = mid }
    }
    return low
  }

  @Test(arguments: cases)
  func lowerBoundsMatchAPlainSearch(_ c: (count: Int, shape: String)) {
    let words = Self.words(c.count, c.shape)
    let sorted = SortedWords(words)
    // Every word, its neighbours, and values between and outside them.
    var probes: [UInt64] = [0, 1, .max, .max - 1, 1 << 63, (1 << 63) - 1]
    for word in words.prefix(2_000) { probes += [word, word &- 1, word &+ 1] }
    for probe in probes {
      for orEqual in [false, true] {
        #expect(
          sorted.lowerBound(probe, orEqual: orEqual) == Self.plainLowerBound(words, probe, orEqual: orEqual),
          "probe \(probe), orEqual \(orEqual)")
      }
    }
    #expect(sorted.count == words.count)
  }
}
