import Foundation
import Testing

@testable import ClickPipeline

/// One NDJSON line (valid UTF-8, without its newline) to give both scanners, named for the report.
struct ScannerLine: Sendable, CustomTestStringConvertible {
  var name: String
  var bytes: [UInt8]
  var testDescription: String { name }
  /// The line for failure messages: printable ASCII as is, anything else as \xNN.
  var shown: String { ScannerAgreementTests.show(bytes) }
}

/// The contract between the two NDJSON scanners (the FuzzScanners target checks the same with
/// libFuzzer; CI runs this suite): for every line, ``FastJSONScanner`` either declines it, or
/// ``JSONLineScanner`` accepts it too and both record the same ``ValueKind`` and, for a field
/// that is present, the same value bytes, for all 17 fields. FileParser trusts the fast scanner
/// whenever it accepts, so a disagreement is a wrong event or a missing reject.
///
/// Lines: the fuzz seeds (Fuzz/seeds/scanners/), the inputs the fuzzer found
/// (Fuzz/regressions/scanners-*), and lines generated from a fixed seed by mutating realistic
/// lines. Plus the other side: the fast scanner does accept the common shapes, so that a fast
/// path declining everything cannot pass unnoticed.
@Suite struct ScannerAgreementTests {
  static let fuzzRoot =
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path + "/Fuzz"

  // MARK: - The property

  /// Why the two scanners disagree on `line`, or nil when the fast one declines or agrees.
  static func disagreement(_ line: [UInt8]) -> String? {
    line.withUnsafeBytes { b in
      let fast = FieldSlots()
      let strict = FieldSlots()
      guard FastJSONScanner.scan(b, into: fast) else { return nil }
      guard JSONLineScanner.scan(b, into: strict) else {
        return "the fast scanner accepted a line the strict one calls malformed"
      }
      for field in Field.allCases {
        guard fast[field] == strict[field] else {
          return "\(field.name): fast kind \(fast[field]), strict kind \(strict[field])"
        }
        // An absent field's range is left over from an earlier line: it has no bytes.
        if fast[field] == .absent { continue }
        guard fast.bytes(field).elementsEqual(strict.bytes(field)) else {
          return "\(field.name): fast bytes \"\(show(Array(fast.bytes(field))))\", "
            + "strict bytes \"\(show(Array(strict.bytes(field))))\""
        }
      }
      return nil
    }
  }

  static func show(_ bytes: [UInt8]) -> String {
    var s = ""
    for c in bytes {
      if c >= 0x20 && c < 0x7F && c != UInt8(ascii: "\\") {
        s.unicodeScalars.append(Unicode.Scalar(c))
      } else {
        s += "\\x" + (c < 0x10 ? "0" : "") + String(c, radix: 16)
      }
    }
    return s
  }

  @Test(arguments: seedLines)
  func seedLine(_ line: ScannerLine) {
    #expect(Self.disagreement(line.bytes) == nil, "line: \(line.shown)")
  }

  @Test(arguments: generatedLines)
  func generatedLine(_ line: ScannerLine) {
    #expect(Self.disagreement(line.bytes) == nil, "line: \(line.shown)")
  }

  /// A moved or emptied seed folder would make `seedLine` pass with no cases.
  @Test func seedCorpusIsRead() {
    #expect(Self.seedLines.count >= 60, "\(Self.seedLines.count) seed lines read from \(Self.fuzzRoot)")
    #expect(Self.seedLines.contains { $0.name.hasPrefix("regression ") })
  }

  /// The generated lines are worth checking only if they reach all three outcomes in numbers:
  /// fast accepts; fast declines and strict accepts; strict rejects.
  @Test func generatedLinesReachEveryOutcome() {
    var fastAccepted = 0
    var strictOnly = 0
    var malformed = 0
    for line in Self.generatedLines {
      line.bytes.withUnsafeBytes { b in
        let slots = FieldSlots()
        if FastJSONScanner.scan(b, into: slots) {
          fastAccepted += 1
        } else if JSONLineScanner.scan(b, into: slots) {
          strictOnly += 1
        } else {
          malformed += 1
        }
      }
    }
    let total = Self.generatedLines.count
    #expect(total == Self.generatedCount)
    #expect(fastAccepted >= total / 4, "fast \(fastAccepted), strict only \(strictOnly), malformed \(malformed)")
    #expect(strictOnly >= total / 20, "fast \(fastAccepted), strict only \(strictOnly), malformed \(malformed)")
    #expect(malformed >= total / 10, "fast \(fastAccepted), strict only \(strictOnly), malformed \(malformed)")
  }

  // MARK: - The fast path takes the common shapes

  struct Shape: Sendable, CustomTestStringConvertible {
    var name: String
    var line: String
    var type: String
    var eventID: String
    init(_ name: String, _ line: String, _ type: String, _ eventID: String) {
      (self.name, self.line, self.type, self.eventID) = (name, line, type, eventID)
    }
    var testDescription: String { name }
  }

  static let commonShapes: [Shape] = [
    Shape(
      "view, compact", #"{"type":"view","event_id":"v-01547640","ts":"2026-11-01T10:00:00Z","creator_id":"c1"}"#,
      "view", "v-01547640"
    ),
    Shape(
      "view, spaced", #"{"type": "view", "event_id": "v-01547640", "ts": "2026-11-01T10:00:00Z", "creator_id": "c1"}"#,
      "view", "v-01547640"
    ),
    Shape(
      "view, spaced around colons and commas",
      #"{ "type" : "view" , "event_id" : "v-2" , "ts" : 1761991200000 , "creator_id" : "c1" }"#, "view", "v-2"
    ),
    Shape(
      "view, raw unicode and optional fields",
      #"{"type":"view","event_id":"vé-😀","ts":"2026-11-01T10:00:00.123+07:00","creator_id":"创作者","post_id":"p-1","placement":"post","viewer_id":"u-9","user_agent":"Mozilla/5.0 (X11; Linux x86_64)"}"#,
      "view", "vé-😀"
    ),
    Shape(
      "click, compact, epoch ts",
      #"{"type":"click","event_id":"k-00000001","ts":1761991200000,"creator_id":"c1","product_id":"p-17","platform":"brand_store","store":"s-1"}"#,
      "click", "k-00000001"
    ),
    Shape(
      "conversion, spaced, numbers, nulls, unknown flat keys",
      #"{"type": "conversion", "event_id": "o-1", "ts": "2026-11-01 10:05:00", "product_id": "p-1", "platform": "amazon", "store": null, "order_id": "A-1001", "amount": 19.99, "currency": "eur", "quantity": 2, "status": "REFUNDED", "click_id": 12345678901234567890, "test": false, "note": ""}"#,
      "conversion", "o-1"
    ),
    Shape(
      "view, trailing carriage return and tabs",
      "\t{\"type\":\"view\",\"event_id\":\"v-3\",\"ts\":\"2026-11-01T10:00:00Z\",\"creator_id\":\"c1\"} \r", "view", "v-3"
    ),
  ]

  @Test(arguments: commonShapes)
  func fastScannerAcceptsCommonShape(_ shape: Shape) {
    let bytes = Array(shape.line.utf8)
    bytes.withUnsafeBytes { b in
      let slots = FieldSlots()
      #expect(FastJSONScanner.scan(b, into: slots), "the fast scanner declined: \(shape.line)")
      #expect(slots[.type] == .string && slots.string(.type) == shape.type)
      #expect(slots[.eventID] == .string && slots.string(.eventID) == shape.eventID)
      #expect(slots[.ts] != .absent)
    }
    #expect(Self.disagreement(bytes) == nil)
  }

  /// Through FileParser: a file of the common shapes never reaches the strict scanner.
  @Test func fileOfCommonShapesStaysOnTheFastPath() throws {
    let text = Self.commonShapes.map(\.line).joined(separator: "\n") + "\n"
    let result = try parse(text)
    #expect(result.summary.lines == Self.commonShapes.count)
    #expect(result.summary.strictLines == 0)
    #expect(result.events.count + result.rejects.count == Self.commonShapes.count)
  }

  // MARK: - Seed lines

  /// Every valid-UTF-8 line of the files in Fuzz/seeds/scanners/ and Fuzz/regressions/scanners-*
  /// (FileParser gives the scanners valid UTF-8 only).
  static let seedLines: [ScannerLine] = {
    var result: [ScannerLine] = []
    func read(_ path: String, _ name: String) {
      guard let data = FileManager.default.contents(atPath: path) else { return }
      var lines = Array(data).split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
      if lines.count > 1, lines.last?.isEmpty == true { lines.removeLast() }  // the final newline
      for (i, line) in lines.enumerated() {
        guard line.withUnsafeBytes({ UTF8Validation.isValid($0) }) else { continue }
        result.append(ScannerLine(name: lines.count == 1 ? name : "\(name):\(i + 1)", bytes: line))
      }
    }
    let files = FileManager.default
    let seeds = fuzzRoot + "/seeds/scanners"
    for file in ((try? files.contentsOfDirectory(atPath: seeds)) ?? []).sorted() {
      read(seeds + "/" + file, "seed " + file)
    }
    let regressions = fuzzRoot + "/regressions"
    for file in ((try? files.contentsOfDirectory(atPath: regressions)) ?? []).sorted()
    where file.hasPrefix("scanners-") {
      read(regressions + "/" + file, "regression " + file)
    }
    return result
  }()

  // MARK: - Generated lines

  static let generatedCount = 400

  /// `generatedCount` lines from a fixed seed: realistic lines (random fields, order, spacing
  /// and values), most with one to four mutations (bytes inserted, deleted or replaced,
  /// spacing swapped, escapes added, values nested, replaced, duplicated or cut short).
  static let generatedLines: [ScannerLine] = {
    var rng = SeededRandom(seed: 0x5CA9_2026_1101)
    var result: [ScannerLine] = []
    while result.count < generatedCount {
      var line = realisticLine(&rng)
      var applied: [String] = []
      let mutations = rng.chance(15) ? 0 : 1 + rng.below(4)
      for _ in 0..<mutations {
        // A mutation that breaks UTF-8 (cutting a multi-byte character) is tried again.
        for _ in 0..<8 {
          var candidate = line
          let name = mutate(&candidate, &rng)
          if candidate.withUnsafeBytes({ UTF8Validation.isValid($0) }) {
            line = candidate
            applied.append(name)
            break
          }
        }
      }
      let number = String(result.count + 1)
      let label = applied.isEmpty ? "as is" : applied.joined(separator: ", ")
      result.append(
        ScannerLine(name: "generated #\(String(repeating: "0", count: 3 - number.count))\(number) (\(label))", bytes: line))
    }
    return result
  }()

  private static func pick<T>(_ options: [T], _ rng: inout SeededRandom) -> T { options[rng.below(options.count)] }

  /// One event line as the logs have them, in one of several spacings.
  static func realisticLine(_ rng: inout SeededRandom) -> [UInt8] {
    let type = pick(["view", "view", "click", "conversion"], &rng)
    var pairs: [(String, String)] = [("type", "\"\(type)\"")]
    let id = String(10_000_000 + rng.below(90_000_000))
    pairs.append(("event_id", rng.chance(85) ? "\"\(type.prefix(1))-\(id)\"" : id))
    pairs.append(
      (
        "ts",
        pick(
          [
            "\"2026-11-0\(1 + rng.below(9))T\(10 + rng.below(14)):0\(rng.below(10)):00Z\"",
            "\(1_761_955_200_000 + rng.below(86_400_000))",
            "\"2026-11-01 10:00:00.\(rng.below(1_000_000))+07:00\"",
            "\"1761991200000\"",
          ], &rng)
      ))
    let texts = ["c1", "creator-\(rng.below(500))", "é-\(rng.below(9))", "创作者", "😀x", "", "a b/c"]
    if type != "conversion" {
      pairs.append(("creator_id", "\"\(pick(texts, &rng))\""))
      if rng.chance(50) { pairs.append(("post_id", "\"post-\(rng.below(1000))\"")) }
      if rng.chance(30) { pairs.append(("placement", pick(["\"post\"", "\"bio\"", "null"], &rng))) }
      if rng.chance(40) { pairs.append(("viewer_id", pick(["\"u-\(rng.below(99))\"", "\(rng.below(99))", "null"], &rng))) }
      if rng.chance(40) { pairs.append(("user_agent", "\"Mozilla/5.0 (X11; Linux x86_64) rv:\(rng.below(130)).0\"")) }
    }
    if type != "view" || rng.chance(20) {
      pairs.append(("product_id", "\"p-\(rng.below(200))\""))
      let platform = pick(["amazon", "brand_store"], &rng)
      pairs.append(("platform", "\"\(platform)\""))
      if platform == "brand_store" || rng.chance(30) { pairs.append(("store", pick(["\"s-1\"", "\"\"", "null"], &rng))) }
    }
    if type == "conversion" {
      pairs.append(("order_id", "\"A-\(rng.below(100_000))\""))
      pairs.append(("amount", pick(["\"19.99\"", "129.5", "0", "\"1000\"", "1e2", "-0.5"], &rng)))
      if rng.chance(60) { pairs.append(("currency", pick(["\"USD\"", "\"eur\"", "\"JPY\"", "null"], &rng))) }
      if rng.chance(60) { pairs.append(("quantity", pick(["1", "2", "\"3\"", "1.0", "true"], &rng))) }
      if rng.chance(50) { pairs.append(("status", pick(["\"ordered\"", "\"REFUNDED\"", "null"], &rng))) }
      if rng.chance(50) { pairs.append(("click_id", pick(["\"k-1\"", "12345678901234567890", "-0"], &rng))) }
    }
    if rng.chance(25) { pairs.append(("session", pick(["\"abc\"", "42", "false", "null", "{\"id\":1}", "[1,2]"], &rng))) }
    // Shuffle all but `type`, which usually comes first.
    for i in stride(from: pairs.count - 1, to: 1, by: -1) { pairs.swapAt(i, 1 + rng.below(i)) }
    if rng.chance(10) { pairs.swapAt(0, rng.below(pairs.count)) }

    let (colon, comma, open, close) =
      switch rng.below(4) {
      case 0: (":", ",", "{", "}")
      case 1: (": ", ", ", "{", "}")
      case 2: (" : ", " , ", "{ ", " }")
      default: (":\t", ",\t", "{", "}")
      }
    let text = open + pairs.map { "\"\($0.0)\"\(colon)\($0.1)" }.joined(separator: comma) + close
    return Array(text.utf8)
  }

  /// Bytes inserted one at a time: JSON's punctuation, whitespace, pieces of numbers, literals
  /// and escapes, control characters, and whole multi-byte characters.
  private static let insertions: [[UInt8]] = [
    "{", "}", "[", "]", "\"", ":", ",", "\\", " ", "\t", "\r", "0", "1", "9", "-", "+", ".", "e", "E",
    "u", "n", "t", "f", "a", "x", "\u{01}", "\u{1F}", "\u{7F}", "é", "😀", "\u{2028}",
  ].map { Array($0.utf8) }

  /// Applies one random mutation; returns its name.
  static func mutate(_ line: inout [UInt8], _ rng: inout SeededRandom) -> String {
    switch rng.below(10) {
    case 0:
      line.insert(contentsOf: pick(insertions, &rng), at: rng.below(line.count + 1))
      return "insert"
    case 1:
      guard !line.isEmpty else { return "delete" }
      line.remove(at: rng.below(line.count))
      return "delete"
    case 2:
      guard !line.isEmpty else { return "replace" }
      let at = rng.below(line.count)
      line.replaceSubrange(at...at, with: pick(insertions, &rng))
      return "replace"
    case 3:
      return swapSpacing(&line, &rng)
    case 4:
      return addEscape(&line, &rng)
    case 5:
      return nestValue(&line, &rng)
    case 6:
      return replaceValue(&line, &rng)
    case 7:
      return duplicateKey(&line, &rng)
    case 8:
      line.removeSubrange(rng.below(line.count + 1)...)
      return "truncate"
    default:
      let ws = pick([" ", "\t", "\r", "  ", " \t\r "], &rng)
      if rng.chance(50) { line.insert(contentsOf: Array(ws.utf8), at: 0) } else { line.append(contentsOf: Array(ws.utf8)) }
      return "outer whitespace"
    }
  }

  private static func replacing(_ line: [UInt8], _ from: String, _ to: String) -> [UInt8] {
    Array(String(decoding: line, as: UTF8.self).replacingOccurrences(of: from, with: to).utf8)
  }

  /// Compact to spaced (`": "`, `", "`) or back, or whitespace at one structural byte.
  private static func swapSpacing(_ line: inout [UInt8], _ rng: inout SeededRandom) -> String {
    let text = String(decoding: line, as: UTF8.self)
    if rng.chance(30) {
      let structural = line.indices.filter { [UInt8(ascii: ":"), UInt8(ascii: ","), UInt8(ascii: "{")].contains(line[$0]) }
      guard !structural.isEmpty else { return "spacing" }
      let at = structural[rng.below(structural.count)] + (rng.chance(50) ? 1 : 0)
      line.insert(contentsOf: Array(pick([" ", "\t", "\r", "   "], &rng).utf8), at: at)
    } else if text.contains("\": ") || text.contains(", \"") {
      line = replacing(replacing(line, "\": ", "\":"), ", \"", ",\"")
    } else {
      line = replacing(replacing(line, "\":", "\": "), ",\"", ", \"")
    }
    return "spacing"
  }

  /// An escape in place of, or before, a letter or digit (valid ones mostly, some broken).
  private static func addEscape(_ line: inout [UInt8], _ rng: inout SeededRandom) -> String {
    let candidates = line.indices.filter {
      let c = line[$0]
      return (c | 0x20) >= UInt8(ascii: "a") && (c | 0x20) <= UInt8(ascii: "z") || c &- 48 < 10
    }
    guard !candidates.isEmpty else { return "escape" }
    let at = candidates[rng.below(candidates.count)]
    let c = line[at]
    switch rng.below(6) {
    case 0, 1:
      let hex = String(c, radix: 16)
      line.replaceSubrange(at...at, with: Array(("\\u00" + (rng.chance(50) ? hex : hex.uppercased())).utf8))
    case 2:
      line.insert(contentsOf: Array(pick(["\\\"", "\\\\", "\\/", "\\n", "\\t", "\\r", "\\b", "\\f"], &rng).utf8), at: at)
    case 3:
      line.insert(contentsOf: Array(pick(["\\ud83d\\ude00", "\\u00e9", "\\u2028", "\\u0000"], &rng).utf8), at: at)
    case 4:
      line.insert(contentsOf: Array(pick(["\\ud83d", "\\ude00", "\\u12", "\\x41", "\\", "\\U0041"], &rng).utf8), at: at)
    default:
      line.insert(UInt8(ascii: "\\"), at: at)
    }
    return "escape"
  }

  /// Where the value after the `n`th colon starts and ends (a rough scan: strings skipped,
  /// up to the next `,` or `}` at the same depth).
  private static func valueRange(_ line: [UInt8], _ rng: inout SeededRandom) -> Range<Int>? {
    let colons = line.indices.filter { line[$0] == UInt8(ascii: ":") }
    guard !colons.isEmpty else { return nil }
    var i = colons[rng.below(colons.count)] + 1
    while i < line.count, line[i] == 0x20 || line[i] == 0x09 { i += 1 }
    let start = i
    var depth = 0
    var inString = false
    while i < line.count {
      let c = line[i]
      if inString {
        if c == UInt8(ascii: "\\") { i += 1 } else if c == UInt8(ascii: "\"") { inString = false }
      } else if c == UInt8(ascii: "\"") {
        inString = true
      } else if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") {
        depth += 1
      } else if c == UInt8(ascii: "}") || c == UInt8(ascii: "]") {
        if depth == 0 { break }
        depth -= 1
      } else if c == UInt8(ascii: ","), depth == 0 {
        break
      }
      i += 1
    }
    return start..<min(i, line.count)
  }

  /// A value wrapped in an object or an array.
  private static func nestValue(_ line: inout [UInt8], _ rng: inout SeededRandom) -> String {
    guard let range = valueRange(line, &rng) else { return "nest" }
    let value = String(decoding: line[range], as: UTF8.self)
    let nested = pick(["{\"v\":\(value)}", "[\(value)]", "[\(value),null]", "{\"a\":[{\"b\":\(value)}]}", "{ }", "[ ]"], &rng)
    line.replaceSubrange(range, with: Array(nested.utf8))
    return "nest"
  }

  /// A value replaced by another JSON value, or by something that is almost one.
  private static func replaceValue(_ line: inout [UInt8], _ rng: inout SeededRandom) -> String {
    guard let range = valueRange(line, &rng) else { return "value" }
    let value = pick(
      [
        "-0", "1e5", "0.5", "-1.5E-3", "1E+2", "12345678901234567890", "0", "\"\"", "null", "true", "false",
        "\"x\"", "\"😀\"", "01", "1.", ".5", "-", "+1", "1e", "nul", "tru", "NaN", "0x10", "'x'", "\"a",
      ], &rng)
    line.replaceSubrange(range, with: Array(value.utf8))
    return "value"
  }

  /// A key given again with another value, before the closing brace (the last one counts).
  private static func duplicateKey(_ line: inout [UInt8], _ rng: inout SeededRandom) -> String {
    guard let close = line.lastIndex(of: UInt8(ascii: "}")) else { return "duplicate" }
    let key = pick(Field.names + ["type", "event_id", "other"], &rng)
    let value = pick(["null", "\"\"", "\"dup\"", "7", "1.5", "true", "{}", "[1]", "\"é\""], &rng)
    let pair = pick([",", ", "], &rng) + "\"\(key)\"" + pick([":", ": "], &rng) + value
    line.insert(contentsOf: Array(pair.utf8), at: close)
    return "duplicate"
  }
}
