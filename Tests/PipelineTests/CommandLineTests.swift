import Foundation
import Testing

@testable import ClickPipeline

/// What operators see: help, messages, log formats, exit statuses, silence under cron.
@Suite struct CommandLineTests {
  static let view = #"{"type":"view","event_id":"v1","ts":"2026-11-01T10:00:00Z","creator_id":"c1"}"#

  @Test(arguments: ["ingest", "aggregate", "report"])
  func helpExplainsOptionsExamplesAndExitStatuses(stage: String) throws {
    let result = try Executables.stage(stage, ["--help"])
    #expect(result.status == 0)
    let help = result.stdout
    for needle in ["--db", "--config", "--wait", "--quiet", "--verbose", "--log-format", "EXAMPLES", "EXIT STATUS", "75"] {
      #expect(help.contains(needle), "\(stage) --help lacks \(needle)")
    }
  }

  /// `--version` names the project, the SQLite library, the gzip decoder and the crawler list's
  /// release. The build uses ISA-L (a required system package), never a silent fallback to zlib.
  @Test(arguments: ["ingest", "aggregate", "report"])
  func versionNamesSQLiteTheGzipDecoderAndTheCrawlerList(stage: String) throws {
    let result = try Executables.stage(stage, ["--version"])
    #expect(result.status == 0)
    #expect(
      result.stdout
        == "\(stage) (ClickPipeline) \(BuildInfo.version), SQLite \(BuildInfo.sqliteVersion), gzip isa-l \(BuildInfo.gzipBackend.dropFirst("isa-l ".count)), crawler list crawler-user-agents 1.67.0 (1504 patterns)\n"
    )
    #expect(BuildInfo.gzipBackend.hasPrefix("isa-l 2."))
  }

  @Test func aCleanRunPrintsNothingWhenNotOnATerminal() throws {
    let dir = try TemporaryDirectory()
    let log = try dir.writeGzip("logs/a.ndjson.gz", lines: [CommandLineTests.view, "not json"])
    let db = dir.file("db.sqlite")
    for (stage, args) in [("ingest", [log]), ("aggregate", []), ("report", ["--out", dir.file("out")])] {
      let result = try Executables.stage(stage, ["--db", db] + args)
      #expect(result.status == 0)
      #expect(result.stderr.isEmpty, "\(stage) printed: \(result.stderr)")
      #expect(result.stdout.isEmpty)
    }
  }

  @Test func verboseJSONLogsAreOneObjectPerLine() throws {
    let dir = try TemporaryDirectory()
    let log = try dir.writeGzip("a.ndjson.gz", lines: [CommandLineTests.view])
    let result = try Executables.stage("ingest", ["--db", dir.file("db.sqlite"), "-vv", "--log-format", "json", log])
    #expect(result.status == 0)
    let lines = result.stderr.split(separator: "\n")
    #expect(!lines.isEmpty)
    for line in lines {
      let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
      #expect(object?["level"] != nil && object?["message"] != nil, "not a log object: \(line)")
    }
    #expect(result.stderr.contains("\"ingest.file\""))
  }

  @Test func configurationErrorsNameFileLineAndKeyAndChangeNothing() throws {
    let dir = try TemporaryDirectory()
    let config = try dir.write("bad.toml", "timezone = \"Mars/Olympus\"\n")
    let log = try dir.writeGzip("a.ndjson.gz", lines: [CommandLineTests.view])
    let result = try Executables.stage("ingest", ["--db", dir.file("db.sqlite"), "--config", config, log])
    #expect(result.status == 1)
    #expect(result.stderr.contains("bad.toml:1: timezone: unknown time zone 'Mars/Olympus'"))
    #expect(!FileManager.default.fileExists(atPath: dir.file("db.sqlite")), "nothing is created before the configuration is valid")
  }

  @Test func badArgumentsExitOneWithAHint() throws {
    let missing = try Executables.stage("ingest", ["--db", "/tmp/x.sqlite"])
    #expect(missing.status != 0)
    #expect(missing.stderr.contains("Give at least one log file or directory"))
    let dates = try Executables.stage("report", ["--db", "/tmp/x.sqlite", "--out", "/tmp/x", "--from", "2026-11-02", "--to", "2026-11-01"])
    #expect(dates.status != 0)
    #expect(dates.stderr.contains("--from 2026-11-02 is after --to 2026-11-01"))
    let day = try Executables.stage("report", ["--db", "/tmp/x.sqlite", "--out", "/tmp/x", "--from", "2026-11-31"])
    #expect(day.status == 1)
    #expect(day.stderr.contains("'2026-11-31' is not a day; write it as YYYY-MM-DD"))
  }

  @Test func nightlyWrapperRunsAllStagesWithOneExitStatus() throws {
    let dir = try TemporaryDirectory()
    try dir.writeGzip("logs/a.ndjson.gz", lines: [CommandLineTests.view])
    let good = try Data(contentsOf: URL(fileURLWithPath: dir.file("logs/a.ndjson.gz")))
    try dir.write("logs/b.ndjson.gz", good.prefix(good.count / 2))  // truncated: exit 2
    let script = SampleDataTests.root + "/scripts/nightly.sh"
    var environment = ProcessInfo.processInfo.environment
    environment["CLICKPIPELINE_BIN"] = Executables.productsDirectory
    let result = try Executables.run(
      "/bin/bash", [script, "--db", dir.file("db.sqlite"), "--out", dir.file("out"), dir.file("logs")],
      environment: environment)
    #expect(result.status == 2, "\(result.stderr)")
    #expect(result.stderr.contains("b.ndjson.gz: truncated gzip stream"))
    #expect(FileManager.default.fileExists(atPath: dir.file("out/summary.md")), "aggregate and report still ran")
    #expect(try TestDatabase(dir.file("db.sqlite")).int("SELECT sum(views) FROM daily_metrics") == 1)
  }
}
