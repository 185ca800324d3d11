import Foundation
import Testing

@testable import ClickPipeline

/// The README's first command, end to end: `sample-data` through the real executables, checked
/// against the table worked out by hand in `sample-data/EXPECTED.md`, and the Markdown reports
/// against checked-in expected files and a real GFM renderer.
@Suite struct SampleDataTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path
  static let sample = root + "/sample-data"
  static let expectedReports = root + "/Tests/PipelineTests/Fixtures/sample-report"

  /// Runs the three stages on the sample into a fresh folder; returns (database, report folder).
  static func runSample(_ dir: TemporaryDirectory) throws -> (db: String, out: String) {
    let db = dir.file("sample.sqlite")
    let out = dir.file("reports")
    let config = ["--config", sample + "/clickpipeline.toml"]
    let ingest = try Executables.stage("ingest", ["--db", db] + config + [sample + "/logs"])
    #expect(ingest.status == 0, "\(ingest.stderr)")
    #expect(ingest.stderr.isEmpty, "a clean run prints nothing when not on a terminal")
    let aggregate = try Executables.stage("aggregate", ["--db", db] + config)
    #expect(aggregate.status == 0, "\(aggregate.stderr)")
    let report = try Executables.stage("report", ["--db", db, "--out", out] + config)
    #expect(report.status == 0, "\(report.stderr)")
    return (db, out)
  }

  /// The rows of the hand-derived `daily_metrics` table in EXPECTED.md, as `a|b|...` strings.
  static func expectedDailyMetrics() throws -> [String] {
    let text = try String(contentsOfFile: sample + "/EXPECTED.md", encoding: .utf8)
    let after = try #require(text.components(separatedBy: "## `daily_metrics`").last)
    let section = after.components(separatedBy: "\n#").first ?? after
    return section.split(separator: "\n")
      .filter { $0.hasPrefix("| 20") }
      .map { line in
        line.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast()
          .map { $0.trimmingCharacters(in: .whitespaces) }
          .map { $0 == "''" ? "" : $0 }
          .joined(separator: "|")
      }
  }

  @Test func dailyMetricsMatchTheHandDerivedTable() throws {
    let dir = try TemporaryDirectory()
    let (db, _) = try SampleDataTests.runSample(dir)
    let expected = try SampleDataTests.expectedDailyMetrics()
    #expect(expected.count == 27)
    let actual = try TestDatabase(db).dailyMetrics()
    #expect(actual == expected)
  }

  /// The sample's catalog and configuration as Excel ("CSV UTF-8") and Windows editors save
  /// them, with a byte-order mark and CRLF line ends: the same `daily_metrics` as with LF.
  @Test func catalogAndConfigurationWithBOMAndCRLFGiveTheSameMetrics() throws {
    let dir = try TemporaryDirectory()
    for name in ["products.csv", "clickpipeline.toml"] {
      let text = try String(contentsOfFile: SampleDataTests.sample + "/" + name, encoding: .utf8)
      let windows = "\u{FEFF}" + text.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\r\n")
      _ = try dir.write("conf/" + name, windows)
    }
    let db = dir.file("crlf.sqlite")
    let config = ["--config", dir.file("conf/clickpipeline.toml")]
    let ingest = try Executables.stage("ingest", ["--db", db] + config + [SampleDataTests.sample + "/logs"])
    #expect(ingest.status == 0, "\(ingest.stderr)")
    let aggregate = try Executables.stage("aggregate", ["--db", db] + config)
    #expect(aggregate.status == 0, "\(aggregate.stderr)")
    let actual = try TestDatabase(db).dailyMetrics()
    #expect(actual == (try SampleDataTests.expectedDailyMetrics()))
    let report = try Executables.stage("report", ["--db", db, "--out", dir.file("out")] + config)
    #expect(report.status == 0, "\(report.stderr)")
    let summary = try String(contentsOfFile: dir.file("out/summary.md"), encoding: .utf8)
    #expect(summary.contains("Data Pipelines"), "catalog titles should reach the report")
  }

  /// `orders`: one row per counted order and refund, with the click and the rule that decided;
  /// the sample has one of each rule.
  @Test func ordersRecordTheirAttributionRule() throws {
    let dir = try TemporaryDirectory()
    let (db, _) = try SampleDataTests.runSample(dir)
    let rows = try TestDatabase(db).rows(
      "SELECT event_id, kind, creator_id, placement, click_event_id, rule FROM orders WHERE event_id IN ('ev-c-0001', 'ev-c-0003', 'ev-c-0401', 'ev-c-0601', 'ev-r-0001') ORDER BY event_id"
    )
    #expect(
      rows.map { $0.joined(separator: "|") } == [
        "ev-c-0001|ordered|maya_glow|post|ev-k-0001|click_id",
        "ev-c-0003|ordered|kenji_reads|bio|ev-k-0003|viewer window",
        "ev-c-0401|ordered|||ev-k-0007|bot click",
        "ev-c-0601|ordered||||none",
        "ev-r-0001|refund|kenji_reads|bio|ev-k-0003|viewer window",
      ])
    // The table adds up to daily_metrics.
    let t = try TestDatabase(db)
    #expect(
      try t.rows("SELECT sum(revenue_cents), sum(commission_cents), sum(refunded_cents), sum(reversed_commission_cents) FROM orders")
        == t.rows(
          "SELECT sum(revenue_cents), sum(commission_cents), sum(refunded_cents), sum(reversed_commission_cents) FROM daily_metrics"))
  }

  @Test func filesRejectsAndRunsAreRecorded() throws {
    let dir = try TemporaryDirectory()
    let (path, _) = try SampleDataTests.runSample(dir)
    let db = try TestDatabase(path)
    let logs = SampleDataTests.sample + "/logs/"
    let rejects = try db.rows("SELECT path, line, reason FROM rejects ORDER BY path, line")
      .map { [$0[0].replacingOccurrences(of: logs, with: ""), $0[1], $0[2]].joined(separator: " ") }
    #expect(
      rejects == [
        "2026-11-01/amazon-postbacks.ndjson.gz 4 bad_value:amount",
        "2026-11-01/clicks.ndjson.gz 4 bad_value:type",
        "2026-11-01/clicks.ndjson.gz 9 missing_field:store",
        "2026-11-01/tracker-export.csv 6 malformed",
        "2026-11-01/tracker-export.csv 7 bad_value:currency",
        "2026-11-01/views.ndjson.gz 10 malformed",
        "2026-11-01/views.ndjson.gz 11 missing_field:event_id",
        "2026-11-01/views.ndjson.gz 14 malformed",
        "2026-11-02/events.ndjson.gz 8 missing_field:ts",
        "2026-11-02/events.ndjson.gz 9 bad_value:ts",
        "2026-11-02/views-oversized.ndjson.gz 2 line_too_long",
      ])
    let run = try db.rows(
      "SELECT files_ingested, files_failed, files_skipped, events_kept, rejected, duplicates, exit_status FROM runs WHERE command = 'ingest'"
    )
    #expect(run == [["10", "0", "1", "53", "11", "4", "0"]])
  }

  @Test func reportsMatchTheExpectedFiles() throws {
    let dir = try TemporaryDirectory()
    let (_, out) = try SampleDataTests.runSample(dir)
    let expected = SampleDataTests.expectedReports
    let names =
      ["summary.md", "creator_earnings.csv", "payouts.csv", "orders.csv"]
      + (try FileManager.default.contentsOfDirectory(atPath: expected + "/creators")).sorted().map { "creators/" + $0 }
    #expect(
      try FileManager.default.contentsOfDirectory(atPath: out + "/creators").sorted()
        == (try FileManager.default.contentsOfDirectory(atPath: expected + "/creators")).sorted())
    for name in names {
      let actual = try String(contentsOfFile: out + "/" + name, encoding: .utf8)
      let wanted = try String(contentsOfFile: expected + "/" + name, encoding: .utf8)
      #expect(actual == wanted, "\(name) differs from Tests/PipelineTests/Fixtures/sample-report/\(name)")
    }
  }

  static let haveCmark = FileManager.default.isExecutableFile(atPath: "/usr/bin/cmark-gfm")

  /// Every Markdown table renders as an HTML table whose rows all have the header's cell count,
  /// so titles with `|` or `*` keep their cells.
  @Test(.enabled(if: haveCmark, "needs cmark-gfm (apt-get install cmark-gfm)"))
  func markdownTablesRenderAsTables() throws {
    let dir = try TemporaryDirectory()
    let (_, out) = try SampleDataTests.runSample(dir)
    let files = ["summary.md"] + (try FileManager.default.contentsOfDirectory(atPath: out + "/creators")).map { "creators/" + $0 }
    for name in files {
      let markdown = try String(contentsOfFile: out + "/" + name, encoding: .utf8)
      let html = try Executables.run("/usr/bin/cmark-gfm", ["-e", "table", out + "/" + name]).stdout
      let headerRules = markdown.split(separator: "\n").filter { $0.hasPrefix("|") && $0.contains("---") }.count
      #expect(html.components(separatedBy: "<table>").count - 1 == headerRules, "\(name): tables")
      for table in html.components(separatedBy: "<table>").dropFirst() {
        let body = table.components(separatedBy: "</table>")[0]
        let rows = body.components(separatedBy: "<tr>").dropFirst()
        let counts = rows.map { $0.components(separatedBy: "<td").count - 1 + $0.components(separatedBy: "<th").count - 1 }
        #expect(Set(counts).count == 1, "\(name): every row of a table has the same number of cells: \(counts)")
      }
    }
    let summary = try String(contentsOfFile: out + "/summary.md", encoding: .utf8)
    #expect(summary.contains(#"Data Pipelines \| A Field Guide"#) || !summary.contains("Data Pipelines"))
  }
}
