import Testing

@testable import ClickPipeline

/// ``UTF8Validation`` agrees with the standard library's strict decoder on every sequence
/// class, wherever in a line it falls: the ASCII runs are skipped 32 and 8 bytes at a time,
/// so a bad byte is placed at every offset around those strides.
@Suite struct UTF8ValidationTests {
  static let sequences: [(name: String, bytes: [UInt8], valid: Bool)] = [
    ("two-byte é", [0xC3, 0xA9], true),
    ("three-byte €", [0xE2, 0x82, 0xAC], true),
    ("four-byte emoji", [0xF0, 0x9F, 0x98, 0x80], true),
    ("highest code point", [0xF4, 0x8F, 0xBF, 0xBF], true),
    ("lone continuation", [0x80], false),
    ("overlong slash", [0xC0, 0xAF], false),
    ("overlong three-byte", [0xE0, 0x80, 0xAF], false),
    ("surrogate", [0xED, 0xA0, 0x80], false),
    ("above U+10FFFF", [0xF4, 0x90, 0x80, 0x80], false),
    ("truncated three-byte", [0xE2, 0x82], false),
    ("bad continuation", [0xE2, 0x28, 0xA1], false),
    ("invalid byte 0xFF", [0xFF], false),
  ]

  @Test(arguments: sequences.indices)
  func agreesWithTheStandardLibraryAtEveryOffset(_ index: Int) {
    let sequence = Self.sequences[index]
    for offset in 0..<72 {
      for tail in [0, 1, 9, 40] {
        let line =
          Array(repeating: UInt8(ascii: "a"), count: offset) + sequence.bytes
          + Array(repeating: UInt8(ascii: "z"), count: tail)
        let ours = line.withUnsafeBytes { UTF8Validation.isValid($0) }
        #expect(ours == sequence.valid, "\(sequence.name) at offset \(offset), \(tail) bytes after")
        #expect(ours == (String(validating: line, as: UTF8.self) != nil))
      }
    }
  }

  @Test func asciiOfEveryLengthIsValid() {
    for length in 0..<100 {
      let line = (0..<length).map { UInt8(0x20 + $0 % 95) }
      #expect(line.withUnsafeBytes { UTF8Validation.isValid($0) })
    }
  }
}
