import Foundation
import Testing

/// `ingest --emit ndjson`: one file's events and rejects as NDJSON, for the Spark job
/// (docs/SPARK.md). The Spark side trusts these fields, so each is asserted exactly.
@Suite struct EmitTests {
  /// One event of each kind, a refund, and two bad lines; days in Asia/Jakarta (UTC+7).
  static let fixture = [
    #"{"type":"view","event_id":"v1","ts":"2026-11-01T23:30:00Z","creator_id":"c1","viewer_id":"u1","user_agent":"Mozilla \"q\" \\ \u0001"}"#,
    #"{"type":"click","event_id":"k1","ts":1793577600000,"creator_id":"c1","post_id":"p9","product_id":"B1","platform":"AMAZON","user_agent":"Googlebot/2.1"}"#,
    #"{"type":"conversion","event_id":"o1","ts":"2026-11-01T12:00:00Z","order_id":"A1","product_id":"B1","platform":"amazon","amount":"19.99","currency":"EUR","click_id":"k1"}"#,
    #"{"type":"conversion","event_id":"r1","ts":"2026-11-03T00:00:00Z","order_id":"A1","product_id":"B1","platform":"amazon","amount":"10","status":"refunded"}"#,
    #"{"type":"purchase","event_id":"x1","ts":1}"#,
    "not json",
  ]

  struct Case: CustomTestStringConvertible, Sendable {
    var name: String
    var line: Int
    /// The exact JSON line `ingest --emit ndjson` writes for it.
    var expected: String
    var testDescription: String { name }
  }

  static let cases: [Case] = [
    Case(
      name: "view: local day, placement bio, JSON escapes in the user agent", line: 1,
      expected:
        #"{"kind":"event","type":"view","event_id":"v1","ts_ms":1793575800000,"day":"2026-11-02","creator_id":"c1","placement":"bio","viewer_id":"u1","product_id":"","platform":"","store":"","user_agent":"Mozilla \"q\" \\ \u0001","is_bot":false,"order_id":"","click_id":"","quantity":null,"status":"","revenue_cents":null,"commission_cents":null,"file":"FILE","line":1}"#
    ),
    Case(
      name: "bot click: is_bot, placement post, platform lowercased", line: 2,
      expected:
        #"{"kind":"event","type":"click","event_id":"k1","ts_ms":1793577600000,"day":"2026-11-02","creator_id":"c1","placement":"post","viewer_id":"","product_id":"B1","platform":"amazon","store":"","user_agent":"Googlebot/2.1","is_bot":true,"order_id":"","click_id":"","quantity":null,"status":"","revenue_cents":null,"commission_cents":null,"file":"FILE","line":2}"#
    ),
    Case(
      name: "order: EUR 19.99 is 2159 cents, books category rate 0.045 gives 97", line: 3,
      expected:
        #"{"kind":"event","type":"conversion","event_id":"o1","ts_ms":1793534400000,"day":"2026-11-01","creator_id":"","placement":"","viewer_id":"","product_id":"B1","platform":"amazon","store":"","user_agent":"","is_bot":false,"order_id":"A1","click_id":"k1","quantity":1,"status":"ordered","revenue_cents":2159,"commission_cents":97,"file":"FILE","line":3}"#
    ),
    Case(
      name: "refund: its own amount, its own day", line: 4,
      expected:
        #"{"kind":"event","type":"conversion","event_id":"r1","ts_ms":1793664000000,"day":"2026-11-03","creator_id":"","placement":"","viewer_id":"","product_id":"B1","platform":"amazon","store":"","user_agent":"","is_bot":false,"order_id":"A1","click_id":"","quantity":1,"status":"refunded","revenue_cents":1000,"commission_cents":45,"file":"FILE","line":4}"#
    ),
    Case(
      name: "unknown type is rejected with its raw line", line: 5,
      expected:
        #"{"kind":"reject","file":"FILE","line":5,"reason":"bad_value:type","raw":"{\"type\":\"purchase\",\"event_id\":\"x1\",\"ts\":1}"}"#
    ),
    Case(
      name: "not JSON is malformed", line: 6,
      expected: #"{"kind":"reject","file":"FILE","line":6,"reason":"malformed","raw":"not json"}"#),
  ]

  /// Writes the fixture, a catalog and a configuration; returns (log path, config path).
  static func setUp(_ dir: TemporaryDirectory) throws -> (String, String) {
    let log = try dir.writeGzip("logs/part-1.ndjson.gz", lines: fixture)
    try dir.write("products.csv", "product_id,platform,store,title,category\nB1,amazon,,A Book,books\n")
    let config = try dir.write(
      "pipeline.toml",
      """
      timezone = "Asia/Jakarta"
      catalog = "products.csv"
      [commission.amazon_categories]
      books = 0.045
      """)
    return (log, config)
  }

  /// The emitted lines keyed by their `line` field (events and rejects), and the rest in order.
  static func emitted(_ stdout: String) -> (byLine: [Int: String], others: [String]) {
    var byLine: [Int: String] = [:]
    var others: [String] = []
    for text in stdout.split(separator: "\n").map(String.init) {
      let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
      if let line = object?["line"] as? Int { byLine[line] = text } else { others.append(text) }
    }
    return (byLine, others)
  }

  @Test(arguments: cases)
  func emitsEachLine(_ c: Case) throws {
    let dir = try TemporaryDirectory()
    let (log, config) = try Self.setUp(dir)
    let result = try Executables.stage("ingest", ["--emit", "ndjson", "--config", config, log])
    #expect(result.status == 0, "\(result.stderr)")
    let expected = c.expected.replacingOccurrences(of: "\"FILE\"", with: "\"\(log)\"")
    #expect(Self.emitted(result.stdout).byLine[c.line] == expected)
  }

  @Test func endsWithTheFileSummaryAndReadsStandardInput() throws {
    let dir = try TemporaryDirectory()
    let (log, config) = try Self.setUp(dir)
    let fromFile = try Executables.stage("ingest", ["--emit", "ndjson", "--config", config, log])
    let others = Self.emitted(fromFile.stdout).others
    #expect(others.count == 1)
    #expect(others.first?.hasPrefix(#"{"kind":"file","file":"\#(log)","content_hash":""#) == true)
    #expect(others.first?.hasSuffix(#","events":4,"rejected":2}"#) == true)

    let data = try Data(contentsOf: URL(fileURLWithPath: log))
    let fromStdin = try Executables.run(
      Executables.path("ingest"), ["--emit", "ndjson", "--config", config, "-"], stdin: data)
    #expect(fromStdin.status == 0)
    #expect(fromStdin.stdout == fromFile.stdout.replacingOccurrences(of: "\"file\":\"\(log)\"", with: "\"file\":\"-\""))
  }

  @Test func corruptGzipWritesOnlyFailedAndExits2() throws {
    let dir = try TemporaryDirectory()
    var data = try Gzip.compress(Data((Self.fixture.joined(separator: "\n") + "\n").utf8))
    data[data.count - 6] ^= 0xFF  // the CRC-32 in the trailer: every line parses, the check fails
    let path = try dir.write("broken.ndjson.gz", data)
    let result = try Executables.stage("ingest", ["--emit", "ndjson", path])
    #expect(result.status == 2)
    let lines = result.stdout.split(separator: "\n")
    #expect(lines.count == 1)
    #expect(lines.first?.hasPrefix(#"{"kind":"failed","file":"\#(path)","error":"\#(path): "#) == true)
    #expect(result.stderr.contains("\(path): "))
  }

  struct UsageCase: CustomTestStringConvertible, Sendable {
    var name: String
    var arguments: [String]
    var message: String
    var testDescription: String { name }
  }

  static let usageCases: [UsageCase] = [
    UsageCase(
      name: "two files", arguments: ["--emit", "ndjson", "a", "b"],
      message: "Error: --emit reads exactly one file (or - for standard input), got 2."),
    UsageCase(
      name: "with --db", arguments: ["--emit", "ndjson", "--db", "x.sqlite", "a"],
      message: "Error: --emit writes to standard output and uses no database: drop --db."),
    UsageCase(
      name: "unknown format", arguments: ["--emit", "csv", "a"],
      message: "Error: The value 'csv' is invalid for '--emit <format>'. Please provide one of 'ndjson'."),
    UsageCase(
      name: "no --db without --emit", arguments: ["a"], message: "Error: Missing expected argument '--db <file>'"),
  ]

  @Test(arguments: usageCases)
  func usageErrorsExit1(_ c: UsageCase) throws {
    let result = try Executables.stage("ingest", c.arguments)
    #expect(result.status == 1)
    #expect(result.stderr.split(separator: "\n").first.map(String.init) == c.message)
  }

  @Test func aDirectoryIsRefused() throws {
    let dir = try TemporaryDirectory()
    let result = try Executables.stage("ingest", ["--emit", "ndjson", dir.path])
    #expect(result.status == 1)
    #expect(result.stderr.contains("\(dir.path): is a directory; --emit reads one file"))
    #expect(result.stdout.isEmpty)
  }
}
