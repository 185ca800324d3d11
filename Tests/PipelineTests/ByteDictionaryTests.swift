import Testing

@testable import ClickPipeline

/// ``ByteDictionary``: codes in order of first appearance, values kept byte for byte, and the
/// batch ``ByteDictionary/code(_:into:)`` giving what one value at a time gives.
@Suite struct ByteDictionaryTests {
  /// Values of every length class the table treats apart: empty, up to 8 bytes (in the slot),
  /// 9 to 16 (second word), longer (compared byte for byte), and ones that differ only past
  /// byte 16 or only in length.
  static let values: [String] = [
    "", "a", "c-001", "12345678", "123456789", "c-0000000000001", "1234567890123456",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X)",
    "12345678901234567", "1234567890123456\u{0}", "a\u{0}", "c-001 ",
  ]

  static func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

  @Test func codesFollowFirstAppearanceAndKeepTheBytes() {
    let d = ByteDictionary(capacity: 4)
    for (round, order) in [Self.values, Self.values.reversed()].enumerated() {
      for value in order {
        let code = Self.bytes(value).withUnsafeBytes { d.code(for: $0) }
        #expect(Int(code) == Self.values.firstIndex(of: value)!, "round \(round) value \(value.debugDescription)")
      }
    }
    #expect(d.count == Self.values.count)
    for (code, value) in Self.values.enumerated() {
      #expect(d.withValue(code) { Array($0) } == Self.bytes(value))
    }
    #expect(d.values.elementsEqual(Self.values.flatMap { Self.bytes($0) }))
  }

  /// More values than one chunk, repeating, in a table that grows while they are coded.
  @Test(arguments: [0, 1, 255, 256, 257, 2_000])
  func batchCodingEqualsCodingOneAtATime(_ count: Int) {
    let rows = (0..<count).map { i in Self.values[i % Self.values.count] + String(i % 301) }
    let arena = ValueArena(bytes: 16, values: 4)
    for row in rows { Self.bytes(row).withUnsafeBytes { arena.append($0) } }
    let batch = ByteDictionary(capacity: 4)
    let codes = UnsafeMutablePointer<UInt32>.allocate(capacity: max(count, 1))
    defer { codes.deallocate() }
    batch.code(arena, into: codes)
    let single = ByteDictionary(capacity: 4)
    let expected = rows.map { row in Self.bytes(row).withUnsafeBytes { single.code(for: $0) } }
    #expect(Array(UnsafeBufferPointer(start: codes, count: count)) == expected)
    #expect(batch.count == single.count && batch.values.elementsEqual(single.values))
  }
}
