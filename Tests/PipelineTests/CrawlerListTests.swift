import Foundation
import Testing

@testable import ClickPipeline

/// The crawler-user-agents list (`bots.known_crawlers`, CONTRACT §3): every instance the list
/// ships is a bot, real browsers are not, and the constructs that regular-expression engines
/// read differently mean what the list's common subset says.
@Suite struct CrawlerListTests {
  static let data = SampleDataTests.root + "/data/crawler-user-agents"

  struct Entry: Decodable {
    var pattern: String
    var instances: [String]?
  }

  static func entries() throws -> [Entry] {
    try JSONDecoder().decode([Entry].self, from: Data(contentsOf: URL(fileURLWithPath: data + "/crawler-user-agents.json")))
  }

  @Test func theShippedPatternsAreTheDataFilesPatterns() throws {
    #expect(CrawlerList.patterns == (try Self.entries().map(\.pattern)))
    #expect(try String(contentsOfFile: Self.data + "/RELEASE", encoding: .utf8) == CrawlerList.release + "\n")
    #expect(try String(contentsOfFile: Self.data + "/LICENSE", encoding: .utf8).contains("MIT"))
  }

  @Test func everyInstanceOfTheListIsABot() throws {
    let list = CrawlerList.shipped
    #expect(list.patternCount == CrawlerList.patterns.count, "every pattern of the list is matched (none failed to compile)")
    let instances = try Self.entries().flatMap { $0.instances ?? [] }
    #expect(instances.count == 2123)
    let missed = instances.filter { !list.matches($0) }
    #expect(missed.isEmpty, "\(missed.count) instances not matched: \(missed.prefix(5))")
    // And through the bot rules, with the list switched on.
    var configuration = PipelineConfiguration.default
    configuration.knownCrawlers = true
    let bots = BotMatcher(configuration)
    #expect(instances.allSatisfy(bots.isBot))
  }

  @Test func realBrowsersAreNotBots() throws {
    let agents = try String(contentsOfFile: SampleDataTests.root + "/Tests/PipelineTests/Fixtures/browser-user-agents.txt", encoding: .utf8)
      .split(separator: "\n").map(String.init)
    #expect(agents.count == 25)
    let list = CrawlerList.shipped
    #expect(agents.filter(list.matches).isEmpty, "\(agents.filter(list.matches))")
    // The default substrings catch device names ("CUBOT", "M bot 54"); the exemptions free them.
    var configuration = PipelineConfiguration.default
    configuration.knownCrawlers = true
    #expect(agents.filter(BotMatcher(configuration).isBot).count == 3)
    configuration.notBotPatterns = ["cubot", "; m bot "]
    #expect(agents.filter(BotMatcher(configuration).isBot).isEmpty)
  }

  struct Reading: CustomTestStringConvertible, Sendable {
    var pattern: String
    var agent: String
    var matches: Bool
    var why: String
    var testDescription: String { why }
  }

  /// Patterns of the list (and two made up for `.` and `\s`) on agents where an engine's own
  /// reading would differ from the common subset the list keeps to.
  static let readings: [Reading] = [
    Reading(
      pattern: #"BlogTraffic\/\d\.\d+ Feed-Fetcher"#, agent: "BlogTraffic/3.14 Feed-Fetcher", matches: true, why: "\\d: ASCII digits"),
    Reading(
      pattern: #"BlogTraffic\/\d\.\d+ Feed-Fetcher"#, agent: "BlogTraffic/\u{663}.\u{664} Feed-Fetcher", matches: false,
      why: "\\d: not Arabic-Indic digits (ICU's \\d would match)"),
    Reading(pattern: "GoogleAssociationService$", agent: "x GoogleAssociationService", matches: true, why: "$: at the end"),
    Reading(
      pattern: "GoogleAssociationService$", agent: "GoogleAssociationService\n", matches: false,
      why: "$: not before a final line feed (PCRE's and ICU's would match)"),
    Reading(pattern: "AdsBot-Google([^-]|$)", agent: "AdsBot-Google", matches: true, why: "an anchor in an alternative"),
    Reading(pattern: "AdsBot-Google([^-]|$)", agent: "AdsBot-Google-Mobile", matches: false, why: "a negated class"),
    Reading(pattern: #"(^| )sentry\/"#, agent: "sentry/1.0", matches: true, why: "^ in a group, at the start"),
    Reading(pattern: #"(^| )sentry\/"#, agent: "xsentry/1.0", matches: false, why: "^ in a group, not mid-text"),
    Reading(pattern: #"Current[\s\S]*RSS Reader"#, agent: "Current\u{2003}RSS Reader", matches: true, why: "[\\s\\S]: any character"),
    Reading(pattern: "[wW]get", agent: "WGET/1.0", matches: false, why: "case-sensitive as written"),
    Reading(pattern: "^curl", agent: "my curl", matches: false, why: "^: the start only"),
    Reading(pattern: #"a\sb"#, agent: "a\u{A0}b", matches: false, why: "\\s: ASCII white space, not NBSP"),
    Reading(pattern: "a.b", agent: "a\rb", matches: true, why: ".: a carriage return (ICU's . would not)"),
    Reading(pattern: "a.b", agent: "a\nb", matches: false, why: ".: not a line feed"),
    Reading(pattern: #"Bot\x2Fcrawler"#, agent: "Bot/crawler 1.0", matches: true, why: "\\xHH: an escaped byte, not text"),
    Reading(pattern: "foo{bar", agent: "a foo{bar b", matches: true, why: "a brace that is no quantifier is text"),
    Reading(pattern: #"ab{2}c"#, agent: "abbc", matches: true, why: "{n}: a quantifier"),
  ]

  @Test(arguments: readings) func expressionsMeanWhatTheCommonSubsetSays(_ r: Reading) {
    #expect(CrawlerList(patterns: [r.pattern]).matches(r.agent) == r.matches)
  }

  /// Over the real executables: the setting is named when it changes, aggregate recomputes,
  /// `ingest --emit` (the Spark job's parser) applies the same list.
  @Test func theListIsASettingThatAggregateAndEmitApply() throws {
    let dir = try TemporaryDirectory()
    let db = dir.file("db.sqlite")
    let shield = "Mozilla/5.0 (compatible; ProjectShield-UrlCheck; +http://g.co/projectshield)"
    let line =
      #"{"type":"click","event_id":"k1","ts":"2026-11-02T10:00:00Z","creator_id":"c1","viewer_id":"u1","product_id":"p1","platform":"amazon","user_agent":"\#(shield)"}"#
    let logs = try dir.write("logs/a.ndjson", line + "\n")
    let off = try dir.write("off.toml", "")
    let on = try dir.write("on.toml", "[bots]\nknown_crawlers = true\n")
    try runPipeline(db: db, config: off, inputs: [logs])
    #expect(try TestDatabase(db).rows("SELECT clicks, bot_clicks FROM daily_metrics") == [["1", "0"]])
    let aggregate = try Executables.stage("aggregate", ["--db", db, "--config", on])
    #expect(aggregate.status == 0)
    #expect(
      aggregate.stderr == """
        aggregate: warning: setting changed since the database's last run: bots.known_crawlers false → true
        aggregate: warning: setting changed since the database's last run: crawler list (off) → crawler-user-agents 1.67.0 (1504 patterns)

        """)
    #expect(try TestDatabase(db).rows("SELECT clicks, bot_clicks FROM daily_metrics") == [["0", "1"]])
    let emit = try Executables.stage("ingest", ["--emit", "ndjson", "--config", on, logs])
    #expect(emit.stdout.contains(#""is_bot":true"#), "\(emit.stdout)")
    let status = try Executables.stage("report", ["--db", db, "--status"])
    #expect(status.stdout.contains("\n  crawler list = crawler-user-agents 1.67.0 (1504 patterns)\n"), "\(status.stdout)")
  }
}
