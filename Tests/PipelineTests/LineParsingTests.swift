import Foundation
import Testing

@testable import ClickPipeline

/// Parses the given file content with the real FileParser.
func parse(_ content: String, currencies: Set<String> = Set(PipelineConfiguration.default.fxUSDPerUnit.keys)) throws -> (
  events: [Event], rejects: [RejectedLine], summary: ParsedFileSummary
) {
  try parse(Data(content.utf8), currencies: currencies)
}

func parse(_ data: Data, currencies: Set<String> = Set(PipelineConfiguration.default.fxUSDPerUnit.keys)) throws -> (
  events: [Event], rejects: [RejectedLine], summary: ParsedFileSummary
) {
  let dir = try TemporaryDirectory()
  let path = try dir.write("input", data)
  var events: [Event] = []
  var rejects: [RejectedLine] = []
  let summary = try FileParser(currencies: currencies).parse(path: path) { chunk in
    events += chunk.events
    rejects += chunk.rejects
  }
  return (events, rejects, summary)
}

@Suite struct LineParsingTests {
  static let view = #"{"type":"view","event_id":"v1","ts":"2026-11-01T10:00:00Z","creator_id":"c1"}"#

  /// One case per reject reason code of CONTRACT §2, NDJSON.
  static let rejectCases: [(String, String)] = [
    ("malformed", #"not json"#),
    ("malformed", #"{"type":"view","event_id":"v1",}"#),
    ("malformed", #"["type","view"]"#),
    ("malformed", #"{"type":"view"} trailing"#),
    ("malformed", #"{"type":"view","x":[1 2]}"#),
    ("malformed", "{\"type\":\"view\",\"creator_id\":\"a\u{01}b\"}"),
    ("missing_field:type", #"{"event_id":"v1","ts":"2026-11-01T10:00:00Z","creator_id":"c1"}"#),
    ("missing_field:type", #"{"type":null,"event_id":"v1"}"#),
    ("missing_field:type", #"{"type":"","event_id":"v1"}"#),
    ("bad_value:type", #"{"type":"purchase","event_id":"v1"}"#),
    ("bad_value:type", #"{"type":1,"event_id":"v1"}"#),
    ("missing_field:event_id", #"{"type":"view","ts":"2026-11-01T10:00:00Z","creator_id":"c1"}"#),
    ("bad_value:event_id", #"{"type":"view","event_id":1.5,"ts":"2026-11-01T10:00:00Z","creator_id":"c1"}"#),
    ("bad_value:event_id", #"{"type":"view","event_id":true,"ts":"2026-11-01T10:00:00Z","creator_id":"c1"}"#),
    ("missing_field:ts", #"{"type":"view","event_id":"v1","creator_id":"c1"}"#),
    ("bad_value:ts", #"{"type":"view","event_id":"v1","ts":"2026-13-01T10:00:00Z","creator_id":"c1"}"#),
    ("bad_value:ts", #"{"type":"view","event_id":"v1","ts":"2026-02-29T10:00:00Z","creator_id":"c1"}"#),
    ("bad_value:ts", #"{"type":"view","event_id":"v1","ts":"2026-11-01T10:00:00","creator_id":"c1"}"#),
    ("bad_value:ts", #"{"type":"view","event_id":"v1","ts":-5,"creator_id":"c1"}"#),
    ("bad_value:ts", #"{"type":"view","event_id":"v1","ts":1.7e12,"creator_id":"c1"}"#),
    ("missing_field:creator_id", #"{"type":"view","event_id":"v1","ts":"2026-11-01T10:00:00Z"}"#),
    ("bad_value:post_id", #"{"type":"view","event_id":"v1","ts":"2026-11-01T10:00:00Z","creator_id":"c1","post_id":{}}"#),
    ("bad_value:placement", #"{"type":"view","event_id":"v1","ts":"2026-11-01T10:00:00Z","creator_id":"c1","placement":"story"}"#),
    ("bad_value:viewer_id", #"{"type":"view","event_id":"v1","ts":"2026-11-01T10:00:00Z","creator_id":"c1","viewer_id":[1]}"#),
    ("missing_field:product_id", #"{"type":"click","event_id":"k1","ts":"2026-11-01T10:00:00Z","creator_id":"c1","platform":"amazon"}"#),
    ("missing_field:platform", #"{"type":"view","event_id":"v1","ts":"2026-11-01T10:00:00Z","creator_id":"c1","product_id":"p1"}"#),
    (
      "bad_value:platform",
      #"{"type":"click","event_id":"k1","ts":"2026-11-01T10:00:00Z","creator_id":"c1","product_id":"p1","platform":"ebay"}"#
    ),
    (
      "missing_field:store",
      #"{"type":"click","event_id":"k1","ts":"2026-11-01T10:00:00Z","creator_id":"c1","product_id":"p1","platform":"brand_store"}"#
    ),
    ("bad_value:user_agent", #"{"type":"view","event_id":"v1","ts":"2026-11-01T10:00:00Z","creator_id":"c1","user_agent":42}"#),
    (
      "missing_field:order_id",
      #"{"type":"conversion","event_id":"o1","ts":"2026-11-01T10:00:00Z","product_id":"p1","platform":"amazon","amount":"1"}"#
    ),
    (
      "bad_value:click_id",
      #"{"type":"conversion","event_id":"o1","ts":"2026-11-01T10:00:00Z","product_id":"p1","platform":"amazon","order_id":"A","click_id":false,"amount":"1"}"#
    ),
    (
      "bad_value:quantity",
      #"{"type":"conversion","event_id":"o1","ts":"2026-11-01T10:00:00Z","product_id":"p1","platform":"amazon","order_id":"A","quantity":0,"amount":"1"}"#
    ),
    (
      "bad_value:quantity",
      #"{"type":"conversion","event_id":"o1","ts":"2026-11-01T10:00:00Z","product_id":"p1","platform":"amazon","order_id":"A","quantity":1.5,"amount":"1"}"#
    ),
    (
      "missing_field:amount",
      #"{"type":"conversion","event_id":"o1","ts":"2026-11-01T10:00:00Z","product_id":"p1","platform":"amazon","order_id":"A"}"#
    ),
    (
      "bad_value:amount",
      #"{"type":"conversion","event_id":"o1","ts":"2026-11-01T10:00:00Z","product_id":"p1","platform":"amazon","order_id":"A","amount":"-1.00"}"#
    ),
    (
      "bad_value:amount",
      #"{"type":"conversion","event_id":"o1","ts":"2026-11-01T10:00:00Z","product_id":"p1","platform":"amazon","order_id":"A","amount":"12,50"}"#
    ),
    (
      "bad_value:amount",
      #"{"type":"conversion","event_id":"o1","ts":"2026-11-01T10:00:00Z","product_id":"p1","platform":"amazon","order_id":"A","amount":1e400}"#
    ),
    (
      "bad_value:currency",
      #"{"type":"conversion","event_id":"o1","ts":"2026-11-01T10:00:00Z","product_id":"p1","platform":"amazon","order_id":"A","amount":"1","currency":"XXX"}"#
    ),
    (
      "bad_value:status",
      #"{"type":"conversion","event_id":"o1","ts":"2026-11-01T10:00:00Z","product_id":"p1","platform":"amazon","order_id":"A","amount":"1","status":"cancelled"}"#
    ),
  ]

  @Test(arguments: rejectCases)
  func rejectsWithTheContractReason(expected: String, line: String) throws {
    let result = try parse(LineParsingTests.view + "\n" + line + "\n")
    #expect(result.events.count == 1)
    #expect(result.rejects.map(\.reason.code) == [expected])
    #expect(result.rejects.first?.line == 2)
    #expect(result.rejects.first?.raw == Array(line.utf8))
  }

  @Test func invalidUTF8IsMalformed() throws {
    var data = Data((LineParsingTests.view + "\n").utf8)
    data += Data(#"{"type":"view","event_id":"v2","ts":"2026-11-01T10:00:00Z","creator_id":"c"#.utf8)
    data += Data([0xC3, 0x28])  // an invalid two-byte sequence
    data += Data("\"}\n".utf8)
    let result = try parse(data)
    #expect(result.events.count == 1)
    #expect(result.rejects.map(\.reason.code) == ["malformed"])
  }

  @Test func lineOverOneMebibyteIsRejectedAndReadingGoesOn() throws {
    let long =
      #"{"type":"view","event_id":"v2","ts":"2026-11-01T10:00:00Z","creator_id":""#
      + String(repeating: "x", count: LineReader.maxLineBytes) + "\"}"
    let result = try parse(
      [LineParsingTests.view, long, LineParsingTests.view.replacingOccurrences(of: "v1", with: "v3")].joined(separator: "\n"))
    #expect(result.events.map(\.eventID) == ["v1", "v3"])
    #expect(result.rejects.map(\.reason.code) == ["line_too_long"])
    #expect(result.rejects.first?.line == 2)
    #expect(result.rejects.first?.raw.count == 1024)
  }

  @Test func lineOfExactlyOneMebibyteIsAccepted() throws {
    let prefix = #"{"type":"view","event_id":"v2","ts":"2026-11-01T10:00:00Z","creator_id":"c1","user_agent":""#
    let suffix = "\"}"
    let filler = String(repeating: "a", count: LineReader.maxLineBytes - prefix.utf8.count - suffix.utf8.count)
    let result = try parse(prefix + filler + suffix + "\r\n")
    #expect(result.rejects.isEmpty)
    #expect(result.events.first?.userAgent.utf8.count == filler.utf8.count)
  }

  @Test func normalizesEnumsIdsAndDefaults() throws {
    let line =
      #"{"type":"CLICK","event_id":42,"ts":"2026-11-01 17:00:00.1239+07:00","creator_id":7,"post_id":"p9","#
      + #""product_id":"P1","platform":"Brand_Store","store":"Lumi","viewer_id":null,"extra":{"a":[1,{"b":null}]}}"#
    let result = try parse(line)
    let e = try #require(result.events.first)
    #expect(e.kind == .click)
    #expect(e.eventID == "42")
    #expect(e.creatorID == "7")
    #expect(e.ts == 1_793_527_200_123)  // 2026-11-01T10:00:00.123Z, extra digits truncated
    #expect(e.placement == .post)
    #expect(e.platform == .brandStore)
    #expect(e.store == "Lumi")
    #expect(e.viewerID == "")
  }

  @Test func amazonIgnoresStoreAndViewsWithoutProductHaveNoPlatform() throws {
    let result = try parse(
      #"{"type":"click","event_id":"k","ts":0,"creator_id":"c","product_id":"p","platform":"amazon","store":"s"}"# + "\n"
        + #"{"type":"view","event_id":"v","ts":0,"creator_id":"c","platform":"amazon","store":"s"}"#)
    #expect(result.events.map(\.store) == ["", ""])
    #expect(result.events.map(\.platform) == [.amazon, nil])
    #expect(result.events.map(\.placement) == [.bio, .bio])
  }

  @Test func amountsAreExactDecimalsNeverDoubles() throws {
    let base = #"{"type":"conversion","event_id":"o","ts":0,"product_id":"p","platform":"amazon","order_id":"A","amount":"#
    let result = try parse(
      [base + "19.99}", base + #""0.1"}"#, base + "1.5e2}", base + "1234567890123.4}"].joined(separator: "\n"))
    #expect(result.events.map(\.amount.description) == ["19.99", "0.1", "150"])
    #expect(result.rejects.map(\.reason.code) == ["bad_value:amount"])  // 10^12 or more is out of range
    #expect(result.events.first?.currency == "USD")
    #expect(result.events.first?.quantity == 1)
  }

  @Test func escapesAreDecoded() throws {
    let line = #"{"type":"view","event_id":"v\u00e9\ud83d\ude00","ts":0,"creator_id":"a\"b\\c"}"#
    let result = try parse(line)
    #expect(result.events.first?.eventID == "vé😀")
    #expect(result.events.first?.creatorID == "a\"b\\c")
    let lone = try parse(#"{"type":"view","event_id":"v\ud800","ts":0,"creator_id":"c"}"#)
    #expect(lone.rejects.map(\.reason.code) == ["malformed"])
  }

  @Test func deepNestingIsRejectedWithoutCrashing() throws {
    let deep =
      #"{"type":"view","event_id":"v","ts":0,"creator_id":"c","x":"# + String(repeating: "[", count: 100_000)
      + String(repeating: "]", count: 100_000) + "}"
    let result = try parse(deep)
    #expect(result.rejects.map(\.reason.code) == ["malformed"])
  }

  @Test func csvWithQuotingCRLFAndBlankLines() throws {
    let csv =
      "type,event_id,ts,creator_id,post_id,user_agent,unknown\r\n"
      + "view,v1,2026-11-01T10:00:00Z,c1,,\"Mozilla, \"\"quoted\"\"\",x\r\n"
      + "\r\n"
      + "view,v2,1761991200000,c2,p7,,\r\n"
      + "view,v3,2026-11-01T10:00:00Z,c1\r\n"
      + "view,v4,2026-11-01T10:00:00Z,c\"1,,,\r\n"
    let result = try parse(csv)
    #expect(result.summary.format == .csv)
    #expect(result.events.map(\.eventID) == ["v1", "v2"])
    #expect(result.events.first?.userAgent == "Mozilla, \"quoted\"")
    #expect(result.events.last?.placement == .post)
    #expect(result.events.last?.ts == 1_761_991_200_000)
    #expect(result.rejects.map(\.line) == [5, 6])
    #expect(result.rejects.map(\.reason.code) == ["malformed", "malformed"])
    #expect(result.summary.lines == 5)  // non-blank lines, header included
  }

  @Test func formatIsDecidedByTheFirstNonBlankLine() throws {
    let result = try parse("\n  \n" + LineParsingTests.view + "\n")
    #expect(result.summary.format == .ndjson)
    #expect(result.events.first?.line == 3)
  }
}

@Suite struct TimestampTests {
  static let valid: [(String, Int64)] = [
    ("1970-01-01T00:00:00Z", 0),
    ("2026-11-01T10:00:00Z", 1_793_527_200_000),
    ("2026-11-01t10:00:00z", 1_793_527_200_000),
    ("2026-11-01 17:00:00+07:00", 1_793_527_200_000),
    ("2026-11-01T05:30:00.5-04:30", 1_793_527_200_500),
    ("2024-02-29T23:59:59.999999Z", 1_709_251_199_999),
  ]

  @Test(arguments: valid)
  func parsesRFC3339(text: String, expected: Int64) {
    var copy = text
    let ms = copy.withUTF8 { Timestamp.parseRFC3339(UnsafeRawBufferPointer($0)) }
    #expect(ms == expected)
  }

  @Test(arguments: [
    "2026-11-01T10:00:00", "2026-11-01T24:00:00Z", "2026-11-31T10:00:00Z", "2026-11-01T10:00:60Z", "2026-11-01T10:00Z",
    "2026-11-01T10:00:00.Z", "2026-11-01T10:00:00+7:00", "2026-11-01T10:00:00+07:00x", "1969-12-31T23:59:59Z",
  ])
  func rejectsInvalid(text: String) {
    var copy = text
    #expect(copy.withUTF8 { Timestamp.parseRFC3339(UnsafeRawBufferPointer($0)) } == nil)
  }

  @Test func civilDatesRoundTrip() {
    for day in stride(from: -800_000, through: 2_900_000, by: 997) {
      let text = Timestamp.civilDate(daysSinceEpoch: day)
      if day >= 0 { #expect(Timestamp.dayNumber(text) == day) }
    }
    #expect(Timestamp.civilDate(daysSinceEpoch: 20_393) == "2025-11-01")
  }

  @Test func jakartaDaysAndDSTBoundaries() {
    let jakarta = DayCalendar(identifier: "Asia/Jakarta")
    let day = Timestamp.dayNumber("2026-11-02") ?? 0
    #expect(jakarta.start(ofDay: day) == 1_793_552_400_000)  // 2026-11-01T17:00:00Z
    #expect(jakarta.day(ofMilliseconds: 1_793_552_399_999) == day - 1)
    let newYork = DayCalendar(identifier: "America/New_York")
    let dstEnd = Timestamp.dayNumber("2026-11-01") ?? 0  // 25 hours long
    #expect(newYork.start(ofDay: dstEnd + 1) - newYork.start(ofDay: dstEnd) == 25 * 3_600_000)
  }
}

@Suite struct ExactDecimalTests {
  @Test(arguments: [
    ("19.99", "19.99"), ("0.045", "0.045"), ("-0.50", "-0.5"), ("007", "7"), ("1e3", "1000"), ("1.5E-2", "0.015"),
    ("0.000063", "0.000063"),
  ])
  func parsesExactly(text: String, canonical: String) {
    #expect(ExactDecimal(text)?.description == canonical)
  }

  @Test(arguments: ["", "-", "1.", ".5", "1e", "0x10", "1,5", "NaN", "1e400", "0.0000000000000000001"])
  func rejects(text: String) {
    #expect(ExactDecimal(text) == nil)
  }

  /// amount × fx × 100, rounded half to even.
  @Test(arguments: [
    ("19.99", "1.08", Int64(2159)),  // 2158.92
    ("0.125", "1", 12),  // 12.5 → 12 (even)
    ("0.135", "1", 14),  // 13.5 → 14 (even)
    ("1000000", "0.000063", 6300),
    ("33333", "0.0067", 22333),  // 22333.11
    ("999999999999.99", "1", 99_999_999_999_999),
  ])
  func revenueRoundsHalfToEven(amount: String, fx: String, cents: Int64) throws {
    let a = try #require(ExactDecimal(amount))
    let r = try #require(ExactDecimal(fx))
    #expect(a.roundedProduct(r, times: 100) == cents)
  }

  @Test func comparisonIsExactEvenWhereScalingWouldOverflow() throws {
    // 10^35 at scale 18 needs 10^53: the plain comparison would overflow 128 bits.
    let big = ExactDecimal(normalizing: 100_000_000_000_000_000_000_000_000_000_000_000, scale: 0)
    let tiny = try #require(ExactDecimal("0.000000000000000001"))
    #expect(tiny < big)
    #expect(!(big < tiny))
    let (a, b, c) = (try #require(ExactDecimal("0.045")), try #require(ExactDecimal("0.05")), try #require(ExactDecimal("0.10")))
    #expect(a < b)
    #expect(!(c < ExactDecimal(normalizing: 1, scale: 1)))
  }

  @Test(arguments: [(Int64(1250), "0.1", Int64(125)), (125, "0.1", 12), (135, "0.1", 14), (2159, "0.04", 86), (-125, "0.1", -12)])
  func commissionRoundsHalfToEven(cents: Int64, rate: String, expected: Int64) throws {
    #expect(try #require(ExactDecimal(rate)).roundedProduct(of: cents) == expected)
  }
}
