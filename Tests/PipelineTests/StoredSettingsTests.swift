import Foundation
import Testing

@testable import ClickPipeline

/// The database remembers the settings it was built with (issue 14): a cron line that forgets
/// `--config` computes with the same rates and titles, and a changed setting is named.
@Suite struct StoredSettingsTests {
  /// The sample, ingested and aggregated with its configuration; returns the database.
  static func sampleDatabase(_ dir: TemporaryDirectory) throws -> String {
    let db = dir.file("db.sqlite")
    let config = ["--config", SampleDataTests.sample + "/clickpipeline.toml"]
    #expect(try Executables.stage("ingest", ["--db", db] + config + [SampleDataTests.sample + "/logs"]).status == 0)
    #expect(try Executables.stage("aggregate", ["--db", db] + config).status == 0)
    return db
  }

  @Test func aRunWithoutConfigUsesTheStoredSettings() throws {
    let dir = try TemporaryDirectory()
    let db = try Self.sampleDatabase(dir)
    let before = try TestDatabase(db).dailyMetrics()
    let aggregate = try Executables.stage("aggregate", ["--db", db])
    #expect(aggregate.status == 0 && aggregate.stderr.isEmpty, "\(aggregate.stderr)")
    #expect(try TestDatabase(db).dailyMetrics() == before)
    #expect(try TestDatabase(db).rows("SELECT message FROM runs ORDER BY run_id DESC LIMIT 1")[0][0].hasPrefix("incremental: 0 day(s)"))
    let report = try Executables.stage("report", ["--db", db, "--out", dir.file("out")])
    #expect(report.status == 0, "\(report.stderr)")
    let summary = try String(contentsOfFile: dir.file("out/summary.md"), encoding: .utf8)
    #expect(summary.contains("Data Pipelines"), "product titles come from the stored catalog")
    let expected = try String(contentsOfFile: SampleDataTests.expectedReports + "/summary.md", encoding: .utf8)
    #expect(summary == expected, "the same report as with --config")
  }

  @Test func aChangedSettingIsNamedAndRecomputed() throws {
    let dir = try TemporaryDirectory()
    let db = try Self.sampleDatabase(dir)
    let text = try String(contentsOfFile: SampleDataTests.sample + "/clickpipeline.toml", encoding: .utf8)
      .replacingOccurrences(of: "beauty = 0.10", with: "beauty = 0.12")
      .replacingOccurrences(of: "catalog = \"products.csv\"", with: "catalog = \"\(SampleDataTests.sample)/products.csv\"")
    let changed = try dir.write("changed.toml", text)
    let aggregate = try Executables.stage("aggregate", ["--db", db, "--config", changed])
    #expect(aggregate.status == 0)
    #expect(
      aggregate.stderr
        == "aggregate: warning: setting changed since the database's last run: commission.amazon_categories.\"beauty\" 0.1 → 0.12\n")
    #expect(try TestDatabase(db).rows("SELECT message FROM runs ORDER BY run_id DESC LIMIT 1")[0][0].hasPrefix("full rebuild: 2 day(s)"))
    // Stored now: the next run without --config keeps 0.12, silently.
    let next = try Executables.stage("aggregate", ["--db", db])
    #expect(next.status == 0 && next.stderr.isEmpty, "\(next.stderr)")
    #expect(try TestDatabase(db).rows("SELECT message FROM runs ORDER BY run_id DESC LIMIT 1")[0][0].hasPrefix("incremental: 0 day(s)"))
  }
}
