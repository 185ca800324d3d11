import Foundation
import Testing

@testable import ClickPipeline

/// A file of at least 100 data lines of which more than `ingest.max_rejected_share` are
/// rejected is refused whole (CONTRACT §8): nothing of it counts, it is recorded as refused
/// with its most frequent reasons, the same content is refused again, the run exits 2, and
/// `--accept-mostly-rejected` takes it line by line. Over the real executables.
@Suite struct RefusedFileTests {
  static func view(_ n: Int) -> String {
    #"{"type":"view","event_id":"v\#(n)","ts":"2026-11-02T10:00:00Z","creator_id":"c1","placement":"bio","viewer_id":"u\#(n)"}"#
  }

  /// `good` valid views, then `bad` lines rejected: all but one for a bad `ts`, one malformed.
  static func log(good: Int, bad: Int) -> String {
    var lines = (0..<good).map(view)
    for n in 0..<bad {
      lines.append(n == 0 ? "{not json" : view(1000 + n).replacingOccurrences(of: "2026-11-02T10:00:00Z", with: "yesterday"))
    }
    return lines.joined(separator: "\n") + "\n"
  }

  struct Case: CustomTestStringConvertible, Sendable {
    var name: String
    var good: Int
    var bad: Int
    var share: String?
    var refused: Bool
    var testDescription: String { name }
  }

  static let cases: [Case] = [
    Case(name: "51 of 100 rejected: refused", good: 49, bad: 51, share: nil, refused: true),
    Case(name: "50 of 100 rejected: exactly half is not more than half", good: 50, bad: 50, share: nil, refused: false),
    Case(name: "99 lines, all rejected: too few lines to judge", good: 0, bad: 99, share: nil, refused: false),
    Case(name: "51 of 100 with a share of 0.9: taken", good: 49, bad: 51, share: "0.9", refused: false),
    Case(name: "1 of 100 with a share of 0: refused", good: 99, bad: 1, share: "0", refused: true),
  ]

  @Test(arguments: cases) func mostlyRejectedFilesAreRefusedWhole(_ c: Case) throws {
    let dir = try TemporaryDirectory()
    let db = dir.file("db.sqlite")
    let config = try dir.write("c.toml", c.share.map { "[ingest]\nmax_rejected_share = \($0)\n" } ?? "")
    let file = try dir.write("logs/a.ndjson", Self.log(good: c.good, bad: c.bad))
    let ingest = try Executables.stage("ingest", ["--db", db, "--config", config, file])
    let t = try TestDatabase(db)
    if c.refused {
      #expect(ingest.status == 2)
      #expect(try t.rows("SELECT status, events, rejected FROM files") == [["refused", "0", "\(c.bad)"]])
      #expect(try t.int("SELECT count(*) FROM rejects") == 0)
      #expect(try t.int("SELECT count(*) FROM segments") == 0)
    } else {
      #expect(ingest.status == 0, "\(ingest.stderr)")
      #expect(try t.rows("SELECT status, events, rejected FROM files") == [["ingested", "\(c.good)", "\(c.bad)"]])
      #expect(try t.int("SELECT count(*) FROM rejects") == Int64(c.bad))
    }
  }

  @Test func aRefusedFileIsNamedRefusedAgainAndTakenOnRequest() throws {
    let dir = try TemporaryDirectory()
    let db = dir.file("db.sqlite")
    let bad = try dir.write("logs/bad.ndjson", Self.log(good: 30, bad: 90))
    let good = try dir.write("logs/good.ndjson", Self.view(7000) + "\n")
    let why =
      "refused: 90 of 120 data lines rejected, more than ingest.max_rejected_share 0.5; most frequent: "
      + "bad_value:ts (89), malformed (1). Nothing of the file was counted"
    let expected = """
      ingest: error: \(bad): \(why)
      ingest: error: 1 file(s) refused: most of their lines were rejected. Nothing of them was counted; fix the exporter and ingest the corrected files, or take them line by line with --accept-mostly-rejected

      """

    // The other file of the run is ingested; the refused one counts nothing.
    let first = try Executables.stage("ingest", ["--db", db, dir.file("logs")])
    #expect(first.status == 2)
    #expect(first.stderr == expected)
    #expect(
      try TestDatabase(db).rows("SELECT path, status, error FROM files ORDER BY file_id") == [
        [bad, "refused", why], [good, "ingested", ""],
      ])

    // The next night's run over the same folder refuses it again, without a second record.
    let again = try Executables.stage("ingest", ["--db", db, dir.file("logs")])
    #expect(again.status == 2)
    #expect(again.stderr == expected)
    #expect(try TestDatabase(db).int("SELECT count(*) FROM files WHERE status = 'refused'") == 1)

    // The operator sees it in --status and in the summary.
    #expect(try Executables.stage("aggregate", ["--db", db]).status == 0)
    let status = try Executables.stage("report", ["--db", db, "--status"])
    #expect(status.stdout.contains("\nfiles refused because most of their lines were rejected: 1\n  \(bad): \(why)\n"), "\(status.stdout)")
    let out = dir.file("out")
    #expect(try Executables.stage("report", ["--db", db, "--out", out]).status == 0)
    let summary = try String(contentsOfFile: out + "/summary.md", encoding: .utf8)
    #expect(summary.contains("| Files refused (most lines rejected) | 1 |"))
    #expect(summary.contains("### Files refused because most of their lines were rejected"))

    // Dismissed with --forget, it is no longer listed and later runs skip it; a corrected
    // file at the same path (new content) comes in.
    let copy = dir.file("copy.sqlite")
    try FileManager.default.copyItem(atPath: db, toPath: copy)
    #expect(try Executables.stage("ingest", ["--db", copy, "--forget", bad]).status == 0)
    let dismissed = try Executables.stage("report", ["--db", copy, "--status"])
    #expect(dismissed.stdout.contains("\nfiles refused because most of their lines were rejected: 0\n"), "\(dismissed.stdout)")
    #expect(try Executables.stage("ingest", ["--db", copy, bad]).status == 0)
    try Self.log(good: 30, bad: 0).write(toFile: bad, atomically: true, encoding: .utf8)
    #expect(try Executables.stage("ingest", ["--db", copy, bad]).status == 0)
    #expect(
      try TestDatabase(copy).rows("SELECT status FROM files WHERE path = '\(bad)' ORDER BY file_id").map { $0[0] } == [
        "forgotten", "ingested",
      ])
    try Self.log(good: 30, bad: 90).write(toFile: bad, atomically: true, encoding: .utf8)

    // Taken on request, line by line: its 30 views count and its 90 rejects are recorded.
    let taken = try Executables.stage("ingest", ["--db", db, "--accept-mostly-rejected", bad])
    #expect(taken.status == 0, "\(taken.stderr)")
    #expect(try TestDatabase(db).int("SELECT count(*) FROM rejects") == 90)
    #expect(try Executables.stage("aggregate", ["--db", db]).status == 0)
    #expect(try TestDatabase(db).int("SELECT sum(views) FROM daily_metrics") == 31)
    let after = try Executables.stage("report", ["--db", db, "--status"])
    #expect(after.stdout.contains("\nfiles refused because most of their lines were rejected: 0\n"), "\(after.stdout)")
  }

  @Test func aShareOutsideZeroToOneIsAConfigurationError() throws {
    let dir = try TemporaryDirectory()
    let config = try dir.write("c.toml", "[ingest]\nmax_rejected_share = 1.5\n")
    let result = try Executables.stage("ingest", ["--db", dir.file("db.sqlite"), "--config", config, config])
    #expect(result.status == 1)
    #expect(
      result.stderr
        == "ingest: error: configuration error: \(config):2: ingest.max_rejected_share: must be a decimal from 0 to 1, got 1.5\n")
  }
}
