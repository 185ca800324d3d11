import Foundation
import Testing

@testable import ClickPipeline

/// A plain log that is still being written when a run reads it (issue 11, point 6), through the
/// real executables: its last line without a newline is held back, never taken cut short.
@Suite struct FilesBeingWrittenTests {
  static let header = "type,event_id,ts,creator_id,viewer_id,product_id,platform,order_id,amount,quantity"
  static let click = "click,c1,2026-11-01T10:00:00Z,maya,v1,P1,amazon,,,"
  static let order = "conversion,o1,2026-11-01T11:00:00Z,,v1,P1,amazon,O-1,129.99,12"
  static let orderJSON =
    #"{"type":"conversion","event_id":"o1","ts":"2026-11-01T11:00:00Z","viewer_id":"v1","product_id":"P1","platform":"amazon","order_id":"O-1","amount":"129.99","quantity":12}"#
  static let clickJSON =
    #"{"type":"click","event_id":"c1","ts":"2026-11-01T10:00:00Z","creator_id":"maya","viewer_id":"v1","product_id":"P1","platform":"amazon"}"#

  /// Orders and units in `daily_metrics`, and the `files` rows (events, duplicates, rejected,
  /// held_back_line) in ingestion order.
  static func state(_ db: String) throws -> (orders: Int64, units: Int64, files: [[String]], rejects: Int64) {
    let t = try TestDatabase(db)
    return (
      try t.int("SELECT coalesce(sum(orders), 0) FROM daily_metrics"),
      try t.int("SELECT coalesce(sum(units), 0) FROM daily_metrics"),
      try t.rows("SELECT events, duplicates, rejected, held_back_line FROM files ORDER BY file_id"),
      try t.int("SELECT count(*) FROM rejects")
    )
  }

  struct CutCase: CustomTestStringConvertible, Sendable {
    var name: String
    /// What the first night finds: the file cut in its last line.
    var cut: String
    /// The same file, complete, the next night.
    var complete: String
    var testDescription: String { name }
  }

  static let cutCases = [
    CutCase(
      name: "CSV cut inside the quantity cell",
      cut: [header, click, "conversion,o1,2026-11-01T11:00:00Z,,v1,P1,amazon,O-1,129.99,1"].joined(separator: "\n"),
      complete: [header, click, order].joined(separator: "\n") + "\n"),
    CutCase(
      name: "CRLF CSV cut between CR and LF",
      cut: [header, click, order].joined(separator: "\r\n") + "\r",
      complete: [header, click, order].joined(separator: "\r\n") + "\r\n"),
    CutCase(
      name: "NDJSON cut inside a line",
      cut: clickJSON + "\n" + orderJSON.dropLast(9),
      complete: clickJSON + "\n" + orderJSON + "\n"),
  ]

  /// Night 1 reads the file cut in its last line: that line is held back (not taken, not
  /// rejected). Night 2 reads the complete file, new content: the line counts once, correctly.
  @Test(arguments: cutCases)
  func aLineCutShortIsTakenOnceTheFileIsComplete(_ c: CutCase) throws {
    let dir = try TemporaryDirectory()
    let db = dir.file("db.sqlite")
    let log = try dir.write("logs/shop.log", c.cut)
    let night1 = try runPipeline(db: db, inputs: [log])
    #expect(night1.ingest.stderr.isEmpty, "\(night1.ingest.stderr)")
    var s = try Self.state(db)
    #expect(s.orders == 0 && s.units == 0 && s.rejects == 0)
    #expect(s.files == [["1", "0", "0", c.cut.hasPrefix("{") ? "2" : "3"]])

    try dir.write("logs/shop.log", c.complete)
    try runPipeline(db: db, inputs: [log])
    s = try Self.state(db)
    #expect(s.orders == 1 && s.units == 12 && s.rejects == 0)
    #expect(s.files.last == ["1", "1", "0", "0"], "the complete file: the order taken, the click a duplicate")
    #expect(try TestDatabase(db).int("SELECT clicks FROM daily_metrics WHERE creator_id = 'maya'") == 1)
  }

  /// A file whose last line simply has no newline (as some exporters write it) and never
  /// changes: the first run holds that line back, the second run takes it, later runs skip
  /// the file. A copy of it under another name in the second run does not count it twice.
  @Test func aLastLineWithoutNewlineIsTakenByTheNextRunIfTheFileIsUnchanged() throws {
    let dir = try TemporaryDirectory()
    let db = dir.file("db.sqlite")
    let text = [Self.header, Self.click, Self.order].joined(separator: "\n")
    let log = try dir.write("logs/export.csv", text)
    let night1 = try runPipeline(db: db, inputs: [log])
    #expect(night1.ingest.stderr.isEmpty, "\(night1.ingest.stderr)")
    var s = try Self.state(db)
    #expect(s.orders == 0 && s.files == [["1", "0", "0", "3"]])

    let copy = try dir.write("again/export-copy.csv", text)
    let night2 = try Executables.stage("ingest", ["--db", db, "-v", log, copy])
    #expect(night2.status == 0, "\(night2.stderr)")
    #expect(
      night2.stderr.contains("took the held-back last line 3: the file is unchanged since the last run"),
      "\(night2.stderr)")
    #expect(try Executables.stage("aggregate", ["--db", db]).status == 0)
    s = try Self.state(db)
    #expect(s.orders == 1 && s.units == 12)
    #expect(s.files == [["2", "0", "0", "0"]], "one row for the file, now complete; the copy is the same content")
    #expect(try TestDatabase(db).rows("SELECT file_id, line FROM conversions") == [["1", "3"]])

    try runPipeline(db: db, inputs: [log])
    s = try Self.state(db)
    #expect(s.orders == 1 && s.units == 12 && s.files.count == 1)
    #expect(try TestDatabase(db).int("SELECT files_skipped FROM runs WHERE command = 'ingest' ORDER BY run_id DESC LIMIT 1") == 1)
  }

  /// The same content through a pipe (read whole, its hash known only at the end) brings the
  /// held-back line: it is staged as that file's, not lost, and nothing is counted twice.
  @Test func thePipedSameContentTakesTheHeldBackLineAsThatFile() throws {
    let dir = try TemporaryDirectory()
    let db = dir.file("db.sqlite")
    let text = [Self.header, Self.click, Self.order].joined(separator: "\n")
    let log = try dir.write("logs/export.csv", text)
    _ = try runPipeline(db: db, inputs: [log])
    let piped = try Executables.run(Executables.path("ingest"), ["--db", db, "-v", "/dev/stdin"], stdin: Data(text.utf8))
    #expect(piped.status == 0, "\(piped.stderr)")
    #expect(
      piped.stderr.contains("same content as an ingested file, with 1 event(s) not staged before: counted as that file's"),
      "\(piped.stderr)")
    #expect(try Executables.stage("aggregate", ["--db", db]).status == 0)
    let s = try Self.state(db)
    #expect(s.orders == 1 && s.units == 12 && s.rejects == 0)
    #expect(s.files == [["2", "0", "0", "0"]])
    #expect(try TestDatabase(db).rows("SELECT file_id, line FROM conversions") == [["1", "3"]])
    // The next run of the file finds it complete; a second pipe of it is all duplicates.
    _ = try runPipeline(db: db, inputs: [log])
    let again = try Executables.run(Executables.path("ingest"), ["--db", db, "/dev/stdin"], stdin: Data(text.utf8))
    #expect(again.status == 0, "\(again.stderr)")
    #expect(try Self.state(db).files == [["2", "0", "0", "0"]])
  }

  /// The first run says, with -v, which line it held back and when it is taken.
  @Test func theHoldIsReported() throws {
    let dir = try TemporaryDirectory()
    let log = try dir.write("export.csv", [Self.header, Self.click].joined(separator: "\n"))
    let r = try Executables.stage("ingest", ["--db", dir.file("db.sqlite"), "-v", log])
    #expect(r.status == 0)
    #expect(
      r.stderr.contains(
        "held back: last line 2 has no newline; it is taken when the file is complete or unchanged by the next run"),
      "\(r.stderr)")
  }

  /// Gzip is checked whole (a cut member fails), so its last line is taken at once, newline or not.
  @Test func aGzipFileWithoutFinalNewlineIsTakenWhole() throws {
    let dir = try TemporaryDirectory()
    let db = dir.file("db.sqlite")
    let log = try dir.write(
      "export.csv.gz", try Gzip.compress(Data([Self.header, Self.click, Self.order].joined(separator: "\n").utf8)))
    try runPipeline(db: db, inputs: [log])
    let s = try Self.state(db)
    #expect(s.orders == 1 && s.units == 12 && s.files == [["2", "0", "0", "0"]])
  }

  /// The parser on its own: what is held back, and a later parse from the held line.
  @Test func theParserHoldsOnlyAPlainFilesUnterminatedLastLine() throws {
    let dir = try TemporaryDirectory()
    let parser = FileParser(currencies: ["USD"])
    let plain = try dir.write("a.csv", [Self.header, Self.click, Self.order].joined(separator: "\n"))
    var events: [Event] = []
    let held = try parser.parse(path: plain, holdingUnterminated: true) { events += $0.events }
    #expect(held.heldBackLine == 3 && held.lines == 2 && events.map(\.eventID) == ["c1"])

    events = []
    let rest = try parser.parse(path: plain, from: 3) { events += $0.events }
    #expect(rest.heldBackLine == 0 && rest.lines == 1 && rest.format == .csv && events.map(\.eventID) == ["o1"])

    let blankTail = try dir.write("b.csv", [Self.header, Self.click].joined(separator: "\n") + "\n  ")
    #expect(try parser.parse(path: blankTail, holdingUnterminated: true) { _ in }.heldBackLine == 0)
  }
}
