import Foundation
import Testing

@testable import ClickPipeline

#if canImport(Glibc)
  import Glibc
#endif

extension FaultTests {
  /// Hostile lines through the real `ingest` (and `aggregate` after it): no crash, bounded
  /// memory, and every non-blank line either an event or a reject with its reason.
  @Suite struct Hostile {
    /// What a line must become: an event, or a reject with this reason code.
    enum Expected: Equatable, CustomStringConvertible {
      case event
      case reject(String)
      case blank
      var description: String {
        switch self {
        case .event: "event"
        case .reject(let reason): reason
        case .blank: "blank"
        }
      }
    }

    /// Peak memory allowed for one `ingest` process, whatever its input (KiB).
    static let memoryLimitKiB = 300 * 1024

    /// Checks, for one ingested file, that the events and rejects are exactly the expected ones
    /// (by line number) and that the counts add up.
    static func checkOutcome(
      db: String, path: String, expected: [(line: Int, outcome: Expected)], header: Bool = false,
      sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
      let t = try TestDatabase(db)
      let file = try t.rows("SELECT file_id, status, lines, events, rejected, duplicates FROM files WHERE path = '\(path)'")
      try #require(file.count == 1, "files row of \(path): \(file)", sourceLocation: sourceLocation)
      let id = file[0][0]
      #expect(file[0][1] == "ingested", sourceLocation: sourceLocation)
      var eventLines: [Int] = []
      eventLines += try stagedTraffic(db).filter { $0[10] == id }.map { Int($0[11])! }
      eventLines += try t.rows("SELECT line FROM conversions WHERE file_id = \(id)").map { Int($0[0])! }
      let rejects = try t.rows("SELECT line, reason FROM rejects WHERE file_id = \(id) ORDER BY line")
      var found: [Int: Expected] = [:]
      for line in eventLines { found[line] = .event }
      for row in rejects {
        let line = Int(row[0])!
        #expect(found[line] == nil, "line \(line) is both an event and a reject", sourceLocation: sourceLocation)
        #expect(!row[1].isEmpty, "line \(line) rejected without a reason", sourceLocation: sourceLocation)
        found[line] = .reject(row[1])
      }
      for (line, outcome) in expected {
        let actual = found.removeValue(forKey: line) ?? .blank
        #expect(actual == outcome, "line \(line): expected \(outcome), got \(actual)", sourceLocation: sourceLocation)
      }
      #expect(found.isEmpty, "unexpected outcomes: \(found)", sourceLocation: sourceLocation)
      let nonBlank = expected.filter { $0.outcome != .blank }.count + (header ? 1 : 0)
      let (lines, events, rejected, duplicates) = (Int(file[0][2])!, Int(file[0][3])!, Int(file[0][4])!, Int(file[0][5])!)
      #expect(lines == nonBlank, "files.lines \(lines), non-blank lines \(nonBlank)", sourceLocation: sourceLocation)
      #expect(
        events + rejected + duplicates + (header ? 1 : 0) == lines,
        "events \(events) + rejected \(rejected) + duplicates \(duplicates) != lines \(lines)", sourceLocation: sourceLocation)
    }

    // MARK: - Very long lines

    /// A 2 GiB file with no newline at all (a sparse file: NUL bytes, no disk space used). One
    /// line, rejected as too long without being read into memory.
    @Test(.enabled(if: Stage.canMeasureMemory, "needs /usr/bin/time to measure peak memory"))
    func twoGibibyteFileWithoutNewline() throws {
      let dir = try TemporaryDirectory()
      let path = dir.file("no-newline.log")
      let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
      try #require(fd >= 0)
      #expect(ftruncate(fd, 2 << 30) == 0)
      close(fd)
      let db = dir.file("db.sqlite")
      let r = try Stage.runMeasuringMemory("ingest", ["--db", db, path])
      print(
        "FaultTests.Hostile 2 GiB sparse file without newline: ingest \(r.termination), \(String(format: "%.1f", r.seconds)) s, peak RSS \(r.maxRSSKiB / 1024) MiB"
      )
      #expect(r.termination == .exited(0), "\(r.stderr)")
      #expect(r.maxRSSKiB < Self.memoryLimitKiB, "peak RSS \(r.maxRSSKiB) KiB")
      try Self.checkOutcome(db: db, path: path, expected: [(1, .reject("line_too_long"))])
      #expect(try TestDatabase(db).int("SELECT length(CAST(raw AS BLOB)) FROM rejects") == 1024)
      #expect(try Stage.run("aggregate", ["--db", db]).exitStatus == 0)
    }

    /// 2 GiB of `x` and no newline, through a named pipe (nothing written to disk; about a
    /// second).
    @Test(.enabled(if: Stage.canMeasureMemory, "needs /usr/bin/time to measure peak memory"))
    func twoGibibytesOfXThroughAPipe() throws {
      let dir = try TemporaryDirectory()
      let fifo = dir.file("x.log")
      #expect(mkfifo(fifo, 0o644) == 0)
      let db = dir.file("db.sqlite")
      let rss = dir.file("rss.txt")
      let child = try ChildProcess(Stage.timeProgram, ["-f", "%M", "-o", rss, Stage.path("ingest"), "--db", db, fifo])
      let chunk = [UInt8](repeating: UInt8(ascii: "x"), count: 1 << 20)
      var written = 0
      serveFifo(fifo, to: child, timeout: 600) { fd in
        written = 0
        while written < 2 << 30, writeAll(fd, chunk) { written += chunk.count }
      }
      var r = child.wait(timeout: 600)
      #expect(!child.timedOut)
      r.maxRSSKiB =
        Int(((try? String(contentsOfFile: rss, encoding: .utf8)) ?? "").split(separator: "\n").last.map(String.init) ?? "") ?? Int.max
      print(
        "FaultTests.Hostile 2 GiB of x through a pipe: ingest \(r.termination), \(String(format: "%.1f", r.seconds)) s, peak RSS \(r.maxRSSKiB / 1024) MiB"
      )
      #expect(written == 2 << 30)
      #expect(r.termination == .exited(0), "\(r.stderr)")
      #expect(r.maxRSSKiB < Self.memoryLimitKiB, "peak RSS \(r.maxRSSKiB) KiB")
      try Self.checkOutcome(db: db, path: fifo, expected: [(1, .reject("line_too_long"))])
      let raw = try TestDatabase(db).rows("SELECT raw FROM rejects")
      #expect(raw == [[String(repeating: "x", count: 1024)]])
    }

    /// A 100 MB line between good lines, plain and gzip: rejected with its first KiB; the lines
    /// around it keep their numbers.
    @Test(.enabled(if: Stage.canMeasureMemory, "needs /usr/bin/time to measure peak memory"), arguments: [false, true])
    func hundredMegabyteLine(gzip: Bool) throws {
      let dir = try TemporaryDirectory()
      var bytes: [UInt8] = []
      bytes += Array(#"{"type":"view","event_id":"l1","ts":"2026-11-01T10:00:00Z","creator_id":"c1"}"#.utf8) + [0x0A]
      bytes += Array(#"{"type":"view","event_id":"l2","ts":"2026-11-01T10:00:00Z","creator_id":"c1","user_agent":""#.utf8)
      bytes += [UInt8](repeating: UInt8(ascii: "a"), count: 100_000_000)
      bytes += Array(#""}"#.utf8) + [0x0D, 0x0A]
      bytes += Array(#"{"type":"view","event_id":"l3","ts":"2026-11-01T10:00:00Z","creator_id":"c1"}"#.utf8) + [0x0D, 0x0A]
      bytes += [0x20, 0x09, 0x0A]
      bytes += Array(
        #"{"type":"click","event_id":"l5","ts":"2026-11-01T10:00:00Z","creator_id":"c1","product_id":"p","platform":"amazon"}"#.utf8)
      // A plain file's last line without a newline would be held back (FilesBeingWrittenTests);
      // gzip's is taken as it is.
      if !gzip { bytes.append(0x0A) }
      let path = gzip ? try dir.writeGzipFast("long.ndjson.gz", bytes) : try dir.write("long.ndjson", Data(bytes))
      bytes = []
      let db = dir.file("db.sqlite")
      let r = try Stage.runMeasuringMemory("ingest", ["--db", db, path])
      print(
        "FaultTests.Hostile 100 MB line (\(gzip ? "gzip" : "plain")): \(r.termination), \(String(format: "%.2f", r.seconds)) s, peak RSS \(r.maxRSSKiB / 1024) MiB"
      )
      #expect(r.termination == .exited(0), "\(r.stderr)")
      #expect(r.maxRSSKiB < Self.memoryLimitKiB, "peak RSS \(r.maxRSSKiB) KiB")
      try Self.checkOutcome(
        db: db, path: path,
        expected: [(1, .event), (2, .reject("line_too_long")), (3, .event), (4, .blank), (5, .event)])
      let raw = try TestDatabase(db).rows("SELECT raw FROM rejects")
      #expect(raw.count == 1 && raw[0][0].utf8.count == 1024 && raw[0][0].hasPrefix(#"{"type":"view","event_id":"l2""#))
      #expect(try Stage.run("aggregate", ["--db", db]).exitStatus == 0)
    }

    // MARK: - Hostile NDJSON

    static let ts = #""ts":"2026-11-01T10:00:00Z""#

    /// One hostile NDJSON line and what it must become.
    static func ndjsonCases() -> [(bytes: [UInt8], outcome: Expected)] {
      func line(_ text: String) -> [UInt8] { Array(text.utf8) }
      func view(_ id: String, _ extra: String = "") -> String {
        #"{"type":"view","event_id":"\#(id)",\#(ts),"creator_id":"c1"\#(extra)}"#
      }
      func conversion(_ id: String, amount: String = #""9.99""#, quantity: String = "1") -> String {
        #"{"type":"conversion","event_id":"\#(id)",\#(ts),"product_id":"p1","platform":"amazon","order_id":"o-\#(id)","amount":\#(amount),"quantity":\#(quantity)}"#
      }
      let deepArray = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
      let deepObject = String(repeating: #"{"a":"#, count: 100_000) + "1" + String(repeating: "}", count: 100_000)
      let allowedDepth = String(repeating: "[", count: 500) + String(repeating: "]", count: 500)
      let digits400 = String(repeating: "9", count: 400)
      var cases: [(bytes: [UInt8], outcome: Expected)] = [
        (line(view("ok-1")), .event),
        // Deep nesting: 100 000 levels, as an unknown field, a known field, and the whole line.
        (line(view("deep-1", #","extra":\#(deepArray)"#)), .reject("malformed")),
        (line(#"{"type":"view","event_id":\#(deepArray),\#(ts),"creator_id":"c1"}"#), .reject("malformed")),
        (line(view("deep-3", #","extra":\#(deepObject)"#)), .reject("malformed")),
        (line(deepArray), .reject("malformed")),
        (line(deepObject), .reject("malformed")),
        (line(String(repeating: "[", count: 100_000)), .reject("malformed")),
        // 500 levels in an unknown field: valid JSON, ignored field.
        (line(view("deep-ok", #","extra":\#(allowedDepth)"#)), .event),
        // Huge numbers.
        (line(conversion("num-1", amount: "1e400")), .reject("bad_value:amount")),
        (line(conversion("num-2", amount: "1e-400")), .reject("bad_value:amount")),
        (line(conversion("num-3", amount: digits400)), .reject("bad_value:amount")),
        (line(conversion("num-4", amount: "\"\(digits400).5\"")), .reject("bad_value:amount")),
        (line(conversion("num-5", quantity: digits400)), .reject("bad_value:quantity")),
        (line(#"{"type":"view","event_id":"num-6","ts":\#(digits400),"creator_id":"c1"}"#), .reject("bad_value:ts")),
        (line(#"{"type":"view","event_id":"num-7","ts":-1,"creator_id":"c1"}"#), .reject("bad_value:ts")),
        (line(#"{"type":"view","event_id":"num-8","ts":1e400,"creator_id":"c1"}"#), .reject("bad_value:ts")),
        // A 400-digit integer is a valid id (rendered in decimal).
        (line(#"{"type":"view","event_id":\#(digits400),\#(ts),"creator_id":\#(digits400)}"#), .event),
        (line(conversion("num-9", amount: "0.000000000000000001")), .event),
        (line(conversion("num-10", amount: "999999999999.99")), .event),
        // Invalid UTF-8: a stray byte, an overlong encoding, a UTF-8 encoded surrogate, a cut sequence.
        (line(#"{"type":"view","event_id":"utf-1",\#(ts),"creator_id":"c"#) + [0xFF] + line(#""}"#), .reject("malformed")),
        (line(#"{"type":"view","event_id":"utf-2",\#(ts),"creator_id":"c"#) + [0xC0, 0xAF] + line(#""}"#), .reject("malformed")),
        (line(#"{"type":"view","event_id":"utf-3",\#(ts),"creator_id":"c"#) + [0xED, 0xA0, 0x80] + line(#""}"#), .reject("malformed")),
        (line(#"{"type":"view","event_id":"utf-4",\#(ts),"creator_id":"c"}"#) + [0xE2, 0x82], .reject("malformed")),
        // Escaped lone surrogate.
        (line(view("utf-5", #","user_agent":"\ud800""#)), .reject("malformed")),
        // Valid escaped pair and raw emoji.
        (line(view("utf-6", #","user_agent":"\ud83d\ude00 😀""#)), .event),
        // NUL bytes: inside a string, between tokens, escaped in an id, at the end.
        (line(#"{"type":"view","event_id":"nul-1",\#(ts),"creator_id":"c"#) + [0x00] + line(#"1"}"#), .reject("malformed")),
        (line(#"{"type":"view","event_id":"nul-2",\#(ts),"#) + [0x00] + line(#""creator_id":"c1"}"#), .reject("malformed")),
        (line(view("nul-3", #","viewer_id":"u\u0000""#)), .reject("bad_value:viewer_id")),
        (line(view("nul-4")) + [0x00], .reject("malformed")),
        ([0x00], .reject("malformed")),
        // A CR in the middle is JSON whitespace; a line of only CR, or spaces and tabs, is blank.
        (line(#"{"type":"view","event_id":"cr-1",\#r\#(ts),"creator_id":"c1"}"#), .event),
        ([0x0D], .blank),
        (line(" \t "), .blank),
        (line(view("ok-2")), .event),
        // Duplicate keys (the last wins), trailing garbage, two objects on a line.
        (line(#"{"type":"click","type":"view","event_id":"dup-key",\#(ts),"creator_id":"c1"}"#), .event),
        (line(view("trail") + "x"), .reject("malformed")),
        (line(view("two-a") + view("two-b")), .reject("malformed")),
        (line(#"{"type":"view","event_id":"unterminated"#), .reject("malformed")),
      ]
      cases.append((line(view("ok-3")), .event))
      return cases
    }

    /// Deep nesting, huge numbers, invalid UTF-8, NUL bytes, CR, duplicate keys… in one NDJSON
    /// file (plain, with CRLF and LF endings): each line becomes exactly what it must.
    @Test(.enabled(if: Stage.canMeasureMemory, "needs /usr/bin/time to measure peak memory"))
    func hostileNDJSONLines() throws {
      let dir = try TemporaryDirectory()
      let cases = Self.ndjsonCases()
      var bytes: [UInt8] = []
      for (index, c) in cases.enumerated() {
        // Every third line ends in CRLF (not the line that is a lone CR: "\r\r\n" is not blank).
        bytes += c.bytes + (index % 3 == 0 && c.bytes.last != 0x0D ? [0x0D, 0x0A] : [0x0A])
      }
      let path = try dir.write("hostile.ndjson", Data(bytes))
      let db = dir.file("db.sqlite")
      let r = try Stage.runMeasuringMemory("ingest", ["--db", db, path])
      #expect(r.termination == .exited(0), "\(r.stderr)")
      #expect(r.maxRSSKiB < Self.memoryLimitKiB, "peak RSS \(r.maxRSSKiB) KiB")
      try Self.checkOutcome(db: db, path: path, expected: cases.enumerated().map { ($0.offset + 1, $0.element.outcome) })
      let a = try Stage.run("aggregate", ["--db", db])
      #expect(a.termination == .exited(0), "\(a.stderr)")
      let report = try Stage.run("report", ["--db", db, "--out", dir.file("out")])
      #expect(report.termination == .exited(0), "\(report.stderr)")
    }

    // MARK: - CSV quote chaos

    static func csvCases() -> [(text: String, outcome: Expected)] {
      let ts = "2026-11-01T10:00:00Z"
      return [
        ("view,q1,\(ts),c1", .event),
        ("view,\"q2\"\"x\",\(ts),c1", .event),  // event_id q2"x
        ("\"view\",\"q3\",\"\(ts)\",\"c1\"", .event),
        ("view,\"q4,\(ts),c1", .reject("malformed")),  // unterminated quote
        ("view,q\"5,\(ts),c1", .reject("malformed")),  // stray quote in an unquoted cell
        ("view,\"q6\"x,\(ts),c1", .reject("malformed")),  // text after the closing quote
        ("view,q7,\(ts), \"c1\"", .reject("malformed")),  // space before the opening quote
        ("view,q8,\(ts),c1,extra", .reject("malformed")),  // one cell too many
        ("view,q9,\(ts)", .reject("malformed")),  // one cell too few
        (",q10,\(ts),c1", .reject("missing_field:type")),
        ("view,\"\",\(ts),c1", .reject("missing_field:event_id")),
        ("view,\"\"\"\",\(ts),c1", .event),  // event_id is one quote
        ("view,\"q12,with,commas\",\(ts),\"c,1\"", .event),
        ("view,\"q13\"\"\"\"\",\(ts),c1", .event),  // q13""
        ("view,\"q14\"\"\",\(ts),c1", .event),  // q14"
        ("view,q15\u{0}x,\(ts),c1", .reject("bad_value:event_id")),  // NUL in an id
        ("view,q16,\(ts),c1\r", .event),  // CRLF
        ("\"\"\"\"", .reject("malformed")),
        (",,,", .reject("missing_field:type")),
        ("", .blank),
        ("   ", .blank),
        ("view,q17,\(ts),\"\"", .reject("missing_field:creator_id")),
        ("VIEW,q18,\(ts),c1", .event),
        ("view,q19,\(ts),c1\"", .reject("malformed")),
      ]
    }

    /// RFC 4180 edge cases and quote chaos in a CSV file (plain and with a quoted header).
    @Test(arguments: [false, true])
    func csvQuoteChaos(quotedHeader: Bool) throws {
      let dir = try TemporaryDirectory()
      let header = quotedHeader ? "\"type\",\"event_id\",\"ts\",\"creator_id\"" : "type,event_id,ts,creator_id"
      let cases = Self.csvCases()
      let text = ([header] + cases.map(\.text)).joined(separator: "\n") + "\n"
      let path = try dir.write("chaos.csv", text)
      let db = dir.file("db.sqlite")
      let r = try Stage.run("ingest", ["--db", db, path])
      #expect(r.termination == .exited(0), "\(r.stderr)")
      try Self.checkOutcome(
        db: db, path: path, expected: cases.enumerated().map { ($0.offset + 2, $0.element.outcome) }, header: true)
      let ids = try stagedTraffic(db, kind: .view).sorted { Int($0[11])! < Int($1[11])! }.map(\.[1])
      #expect(ids == ["q1", "q2\"x", "q3", "\"", "q12,with,commas", "q13\"\"", "q14\"", "q16", "q18"])
      #expect(try Stage.run("aggregate", ["--db", db]).exitStatus == 0)
    }
  }
}
