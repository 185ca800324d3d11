import Foundation
import Testing

@testable import ClickPipeline

#if canImport(Glibc)
  import Glibc
#endif

/// `report` reports only what is true (issue 14): never a database of its own making, never
/// stale figures without a word, never the full report's files replaced by one creator's.
@Suite struct ReportTruthTests {
  static func click(_ id: String, creator: String, day: String = "2026-11-01") -> String {
    #"{"type":"click","event_id":"\#(id)","ts":"\#(day)T10:00:00Z","creator_id":"\#(creator)","viewer_id":"u-\#(id)","product_id":"p1","platform":"amazon"}"#
  }

  static func order(_ id: String, clickID: String, day: String = "2026-11-01") -> String {
    #"{"type":"conversion","event_id":"\#(id)","ts":"\#(day)T11:00:00Z","viewer_id":"u","product_id":"p1","platform":"amazon","order_id":"O-\#(id)","amount":"100.00","click_id":"\#(clickID)"}"#
  }

  /// Two creators, ingested and aggregated.
  static func database(_ dir: TemporaryDirectory) throws -> String {
    let db = dir.file("db.sqlite")
    let lines = [click("k1", creator: "alice"), order("o1", clickID: "k1"), click("k2", creator: "bob"), order("o2", clickID: "k2")]
    _ = try runPipeline(db: db, inputs: [try dir.writeGzip("a.ndjson.gz", lines: lines)])
    return db
  }

  @Test func creatorOptionWritesThatStatementOnly() throws {
    let dir = try TemporaryDirectory()
    let db = try Self.database(dir)
    let out = dir.file("out")
    #expect(try Stage.run("report", ["--db", db, "--out", out]).exitStatus == 0)
    let full = folderContents(out)
    #expect(
      full.keys.sorted() == ["creator_earnings.csv", "creators/alice.md", "creators/bob.md", "orders.csv", "payouts.csv", "summary.md"])
    try FileManager.default.removeItem(atPath: out + "/creators/alice.md")
    let one = try Stage.run("report", ["--db", db, "--out", out, "--creator", "alice"])
    #expect(one.exitStatus == 0, "\(one.stderr)")
    #expect(folderContents(out) == full, "only creators/alice.md is written, and the rest is left as it was")
    let unknown = try Stage.run("report", ["--db", db, "--out", out, "--creator", "carol"])
    #expect(unknown.exitStatus == 0)
    #expect(unknown.stderr == "report: warning: creator carol has no figures from 2026-11-01 to 2026-11-01; no statement written\n")
    #expect(folderContents(out) == full)
  }

  /// New data not yet aggregated: `report` refuses (exit 1) and says why; with
  /// `--allow-pending` it reports and says so under the summary's title.
  @Test func pendingDaysAreRefusedOrAnnounced() throws {
    let dir = try TemporaryDirectory()
    let db = try Self.database(dir)
    let more = try dir.writeGzip("b.ndjson.gz", lines: [Self.click("k3", creator: "alice", day: "2026-11-02")])
    #expect(try Stage.run("ingest", ["--db", db, more]).exitStatus == 0)
    let out = dir.file("out")
    let refused = try Stage.run("report", ["--db", db, "--out", out])
    #expect(refused.termination == .exited(1))
    #expect(
      refused.stderr
        == "report: error: database \(db) cannot be used: 1 hour(s) of new or forgotten data are waiting for aggregate; run aggregate first, or pass --allow-pending to report without it\n"
    )
    #expect(!FileManager.default.fileExists(atPath: out))
    let anyway = try Stage.run("report", ["--db", db, "--out", out, "--allow-pending"])
    #expect(anyway.exitStatus == 0, "\(anyway.stderr)")
    let summary = try String(contentsOfFile: out + "/summary.md", encoding: .utf8)
    let lines = summary.split(separator: "\n", omittingEmptySubsequences: false)
    #expect(
      lines[2] == "> **Not up to date:** 1 hour(s) of new or forgotten data are waiting for aggregate; run `aggregate`, then report again.")
    #expect(try Stage.run("aggregate", ["--db", db]).exitStatus == 0)
    #expect(try Stage.run("report", ["--db", db, "--out", out]).exitStatus == 0)
    #expect(!(try String(contentsOfFile: out + "/summary.md", encoding: .utf8)).contains("Not up to date"))
  }

  /// A user who may only read the database (and not write its folder) can still report.
  @Test(.enabled(if: FaultEnvironment.canDropPrivileges, "needs root and setpriv to run report as nobody"))
  func aReadOnlyUserCanReport() throws {
    let dir = try TemporaryDirectory()
    let db = try Self.database(dir)
    let out = dir.file("out")
    try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    #expect(chmod(out, 0o777) == 0 && chmod(dir.path, 0o755) == 0 && chmod(db, 0o644) == 0)
    let before = try DatabaseDump(db)
    let r = try Stage.run("report", ["--db", db, "--out", out], asNobody: true)
    #expect(r.exitStatus == 0, "\(r.termination) \(r.stderr)")
    #expect(FileManager.default.fileExists(atPath: out + "/creators/bob.md"))
    #expect(try DatabaseDump(db) == before)
  }

  /// `report --status`: the operator's view, on standard output, changing nothing.
  @Test func statusShowsRunsFailuresPendingWorkAndSettings() throws {
    let dir = try TemporaryDirectory()
    let db = try Self.database(dir)
    let broken = try dir.write("broken.ndjson.gz", Data([0x1f, 0x8b, 0x08, 0x00]))
    let more = try dir.writeGzip("b.ndjson.gz", lines: [Self.click("k3", creator: "alice", day: "2026-11-02")])
    #expect(try Stage.run("ingest", ["--db", db, more, broken]).exitStatus == 2)
    let before = try DatabaseDump(db)
    let r = try Stage.run("report", ["--db", db, "--status"])
    #expect(r.exitStatus == 0, "\(r.stderr)")
    let lines = r.stdout.split(separator: "\n").map(String.init)
    #expect(lines.first == "database \(db)")
    #expect(lines.contains("  lock: free"), "\(r.stdout)")
    let failedRun = lines.first { $0.hasPrefix("  #3 ingest, ended ") } ?? ""
    #expect(
      failedRun.hasSuffix(
        "Z, exit 2: 1 file(s) ingested, 1 failed or refused, 0 skipped; 1 lines, 1 events kept, 0 rejected, 0 duplicates; \(broken): truncated gzip stream (ended inside the header of member 1 after 4 compressed bytes); the file may still be being written — it will be retried next run"
      ),
      "\(r.stdout)")
    #expect(lines.contains("last report: none recorded") && lines.contains("last backup: none recorded"), "\(r.stdout)")
    #expect(lines.contains("files that failed and are retried when given again: 1"), "\(r.stdout)")
    #expect(lines.contains("waiting for aggregate: 1 hour(s) of new or forgotten data are waiting for aggregate"), "\(r.stdout)")
    #expect(lines.contains("daily_metrics: 2 row(s), 2026-11-01 to 2026-11-01"), "\(r.stdout)")
    #expect(lines.contains("  commission.amazon = 0.04") && lines.contains("  catalog = (none)"), "\(r.stdout)")
    #expect(try DatabaseDump(db) == before)
    // A report and a backup are recorded, and --json gives the same status to a monitor.
    #expect(try Stage.run("report", ["--db", db, "--out", dir.file("out"), "--allow-pending"]).exitStatus == 0)
    #expect(try Stage.run("backup", ["--db", db, "--out", dir.file("copy.sqlite")]).exitStatus == 0)
    let again = try Stage.run("report", ["--db", db, "--status"]).stdout.split(separator: "\n").map(String.init)
    let lastReport = again.first { $0.hasPrefix("last report: ") } ?? ""
    #expect(lastReport.hasSuffix("Z: 2 statement(s) from 2026-11-01 to 2026-11-01 in \(dir.file("out"))"), "\(again)")
    let lastBackup = again.first { $0.hasPrefix("last backup: ") } ?? ""
    #expect(lastBackup.contains("Z: copied ") && lastBackup.hasSuffix(" bytes to \(dir.file("copy.sqlite"))"), "\(again)")
    let json = try Stage.run("report", ["--db", db, "--status", "--json"])
    #expect(json.exitStatus == 0, "\(json.stderr)")
    let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
    #expect((object["lock"] as? [String: Any])?["state"] as? String == "free")
    #expect(object["waiting_for_aggregate"] as? String == "1 hour(s) of new or forgotten data are waiting for aggregate")
    #expect((object["failed_files"] as? [[String: Any]])?.first?["path"] as? String == broken)
    #expect((object["last_runs"] as? [[String: Any]])?.first?["command"] as? String == "backup")
    #expect(object["daily_metrics_rows"] as? Int == 2)
    // A database that cannot be used is an error in JSON too, not an empty object.
    let missing = try Stage.run("report", ["--db", dir.file("missing.sqlite"), "--status", "--json"])
    #expect(missing.exitStatus == 1 && missing.stdout.isEmpty, "\(missing.stdout)")
    #expect(missing.stderr.hasPrefix("report: error: "), "\(missing.stderr)")
    let usage = try Stage.run("report", ["--db", db, "--status", "--out", dir.file("out")])
    #expect(usage.termination == .exited(1))
    #expect(usage.stderr.hasPrefix("Error: --status prints to standard output; leave out --out."))
  }
}

/// Monthly payout balances (issue 14): carried balances carry, clawbacks carry, and a month
/// that crosses the threshold pays everything carried.
@Suite struct PayoutTests {
  static func click(_ id: String, creator: String, day: String) -> String {
    #"{"type":"click","event_id":"\#(id)","ts":"\#(day)T10:00:00Z","creator_id":"\#(creator)","viewer_id":"u-\#(id)","product_id":"p1","platform":"amazon"}"#
  }

  static func order(_ id: String, click: String, day: String, amount: String, status: String = "ordered", orderID: String? = nil) -> String
  {
    #"{"type":"conversion","event_id":"\#(id)","ts":"\#(day)T11:00:00Z","product_id":"p1","platform":"amazon","order_id":"\#(orderID ?? "O-" + id)","amount":"\#(amount)","click_id":"\#(click)","status":"\#(status)"}"#
  }

  /// alice earns $4 a month (4 % of $100): below $10 twice, then $12 payable. bob earns $12 in
  /// September (payable), has it clawed back by an October refund, and is still $4 short in
  /// November. carol earned $4 in September only.
  static func database(_ dir: TemporaryDirectory) throws -> String {
    var lines: [String] = []
    for (n, month) in ["09", "10", "11"].enumerated() {
      lines.append(click("a\(n)", creator: "alice", day: "2026-\(month)-05"))
      lines.append(order("ao\(n)", click: "a\(n)", day: "2026-\(month)-05", amount: "100.00"))
    }
    lines += [
      click("b0", creator: "bob", day: "2026-09-10"), order("bo0", click: "b0", day: "2026-09-10", amount: "300.00"),
      order("br0", click: "", day: "2026-10-02", amount: "300.00", status: "refunded", orderID: "O-bo0"),
      click("b2", creator: "bob", day: "2026-11-10"), order("bo2", click: "b2", day: "2026-11-10", amount: "200.00"),
      click("c0", creator: "carol", day: "2026-09-20"), order("co0", click: "c0", day: "2026-09-20", amount: "100.00"),
    ]
    let db = dir.file("db.sqlite")
    _ = try runPipeline(db: db, inputs: [try dir.writeGzip("a.ndjson.gz", lines: lines)])
    return db
  }

  @Test func balancesCarryAcrossMonthsAndPayWhenTheyCrossTheThreshold() throws {
    let dir = try TemporaryDirectory()
    let db = try Self.database(dir)
    let out = dir.file("all")
    #expect(try Stage.run("report", ["--db", db, "--out", out]).exitStatus == 0)
    #expect(
      try String(contentsOfFile: out + "/payouts.csv", encoding: .utf8) == """
        creator_id,month,line,status,closed_at,opening_cents,net_cents,payable_cents,closing_cents,currency,note
        alice,2026-09,balance,open (not closed),,0,400,0,400,USD,
        alice,2026-10,balance,open (not closed),,400,400,0,800,USD,
        alice,2026-11,balance,open (not closed),,800,400,1200,0,USD,
        bob,2026-09,balance,open (not closed),,0,1200,1200,0,USD,
        bob,2026-10,balance,open (not closed),,0,-1200,0,-1200,USD,
        bob,2026-11,balance,open (not closed),,-1200,800,0,-400,USD,
        carol,2026-09,balance,open (not closed),,0,400,0,400,USD,
        carol,2026-10,balance,open (not closed),,400,0,0,400,USD,
        carol,2026-11,balance,open (not closed),,400,0,0,400,USD,

        """)
    let bob = try String(contentsOfFile: out + "/creators/bob.md", encoding: .utf8)
    #expect(bob.contains("| 2026-10 | open (not closed) | $0.00 | -$12.00 | $0.00 | $0.00 | -$12.00 |"), "\(bob)")
    #expect(
      bob.contains(
        "**2026-11 is open (not closed): with today's figures, -$4.00 would be carried to next month** ($14.00 more is needed)."))
    // The summary: whose commission it is, and each month's payouts over every creator.
    let summary = try String(contentsOfFile: out + "/summary.md", encoding: .utf8)
    #expect(
      summary.contains(
        """
        | Owed to creators | $36.00 | $12.00 | $24.00 |
        | Unattributed (no creator; not paid out) | $0.00 | $0.00 | $0.00 |
        | Total | $36.00 | $12.00 | $24.00 |
        """), "\(summary)")
    #expect(
      summary.contains(
        """
        | Month | Status | Payable (open: if closed now) | Creators paid | Carried to next month | Creators carried | Owed back | Creators owing |
        | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |
        | 2026-09 | open (not closed) | $12.00 | 1 | $8.00 | 2 | $0.00 | 0 |
        | 2026-10 | open (not closed) | $0.00 | 0 | $12.00 | 2 | -$12.00 | 1 |
        | 2026-11 | open (not closed) | $12.00 | 1 | $4.00 | 1 | -$4.00 | 1 |
        """), "\(summary)")
  }

  /// The same ledger whatever the period: November alone opens with what earlier months
  /// carried, and carol, with no activity in November, still gets her statement.
  @Test func aLaterPeriodOpensWithTheCarriedBalance() throws {
    let dir = try TemporaryDirectory()
    let db = try Self.database(dir)
    let out = dir.file("nov")
    #expect(try Stage.run("report", ["--db", db, "--out", out, "--from", "2026-11-01", "--to", "2026-11-30"]).exitStatus == 0)
    #expect(
      try String(contentsOfFile: out + "/payouts.csv", encoding: .utf8) == """
        creator_id,month,line,status,closed_at,opening_cents,net_cents,payable_cents,closing_cents,currency,note
        alice,2026-11,balance,open (not closed),,800,400,1200,0,USD,
        bob,2026-11,balance,open (not closed),,-1200,800,0,-400,USD,
        carol,2026-11,balance,open (not closed),,400,0,0,400,USD,

        """)
    let alice = try String(contentsOfFile: out + "/creators/alice.md", encoding: .utf8)
    #expect(
      alice.contains("| 2026-11 | open (not closed) | $8.00 | $4.00 | $0.00 | $12.00 | $0.00 |")
        && alice.contains("**2026-11 is open (not closed): with today's figures, $12.00 would be payable once it is closed.**"),
      "\(alice)")
    #expect(FileManager.default.fileExists(atPath: out + "/creators/carol.md"))
  }
}
