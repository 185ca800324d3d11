import Testing

@testable import ClickPipeline

/// ``RadixSort`` against a stable comparison sort: by the bits from `lowBit` up, equal keys in
/// arrival order, the payload moved with its key.
@Suite struct RadixSortTests {
  /// (keys, low bit, how the keys are made).
  static let cases: [(count: Int, lowBit: Int, shape: String)] = [
    (0, 0, "random"), (1, 0, "random"), (2, 0, "random"), (300, 0, "random"), (5_000, 0, "random"),
    (5_000, 32, "random"), (5_000, 60, "random"), (5_000, 7, "random"),
    (5_000, 0, "few values"), (5_000, 0, "one value"), (5_000, 32, "ordinals below"),
  ]

  static func keys(_ count: Int, _ shape: String) -> [UInt64] {
    var state: UInt64 = 0x1234_5678_9ABC_DEF0
    func next() -> UInt64 {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return state ^ (state >> 29)
    }
    return (0..<count).map { i in
      switch shape {
      case "few values": next() % 7 << 40 | next() % 3
      case "one value": 0xFFFF_0000_FFFF_0000
      case "ordinals below": next() % 1_000 << 32 | UInt64(i)
      default: next()
      }
    }
  }

  @Test(arguments: cases)
  func sortsAsAStableComparisonSortDoes(_ c: (count: Int, lowBit: Int, shape: String)) {
    let original = Self.keys(c.count, c.shape)
    let expected = original.indices.sorted {
      let a = original[$0] >> UInt64(c.lowBit)
      let b = original[$1] >> UInt64(c.lowBit)
      return a != b ? a < b : $0 < $1
    }
    var keys = original
    var payload = original.indices.map { UInt32($0) }
    RadixSort.sort(&keys, carrying: &payload, fromBit: c.lowBit)
    #expect(payload == expected.map { UInt32($0) })
    #expect(keys == expected.map { original[$0] })
    var alone = original
    RadixSort.sort(&alone, fromBit: c.lowBit)
    #expect(alone == keys)
  }
}
