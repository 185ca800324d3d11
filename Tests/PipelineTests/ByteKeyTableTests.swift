import Testing

@testable import ClickPipeline

/// The exact byte-keyed numbering `aggregate` counts rows and distinct viewers with.
@Suite struct ByteKeyTableTests {
  static func key(_ parts: [String]) -> [UInt8] {
    var builder = ByteKeyBuilder()
    for part in parts { builder.append(part) }
    return builder.bytes
  }

  @Test func numbersDistinctKeysInOrderOfFirstAppearance() {
    var table = ByteKeyTable()
    var expected: [String: Int] = [:]
    // Enough keys to grow the table several times; many share a prefix or a split.
    for n in 0..<20_000 {
      let parts = ["c\(n % 997)", n % 2 == 0 ? "bio" : "post", "amazon", "", "p\(n % 13)"]
      let text = parts.joined(separator: "|")
      let got = Self.key(parts).withUnsafeBytes { table.insert($0) }
      if let number = expected[text] {
        #expect(got.index == number && !got.inserted)
      } else {
        #expect(got.index == expected.count && got.inserted)
        expected[text] = expected.count
      }
    }
    #expect(table.count == expected.count)
    for (text, number) in expected {
      let parts = table.withKey(number) { ByteKeyBuilder.split($0) }
      #expect(parts.joined(separator: "|") == text)
    }
  }

  @Test func partsAreNotConfusedAcrossBoundariesOrByUnicodeEquivalence() {
    var table = ByteKeyTable()
    let keys: [[String]] = [
      ["ab", "c"], ["a", "bc"], ["abc", ""], ["", "abc"],
      ["caf\u{E9}", "x"], ["cafe\u{301}", "x"],  // equal as Swift Strings, not as bytes (SQL)
    ]
    for key in keys { #expect(Self.key(key).withUnsafeBytes { table.insert($0) }.inserted) }
    #expect(table.count == keys.count)
    table.removeAll()
    #expect(table.count == 0)
    #expect(Self.key(["a", "bc"]).withUnsafeBytes { table.insert($0) } == (0, true))
  }
}
