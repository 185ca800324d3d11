import Foundation
import Testing

@testable import ClickPipeline

#if canImport(Glibc)
  import Glibc
#endif

extension FaultTests {
  /// Input files that cannot be read whole, unreadable files, missing paths, empty folders
  /// (CONTRACT §8: such a file contributes nothing, is recorded as failed, is retried next run).
  @Suite struct Input {
    /// Three small gzip files: a and b are always good, c is the one the tests damage.
    struct Logs {
      let dir: TemporaryDirectory
      let a: String
      let b: String
      let c: String
      let goodC: [UInt8]

      init() throws {
        dir = try TemporaryDirectory()
        a = try dir.writeGzipFast("logs/a.ndjson.gz", Workload.ndjson(.init(lines: 3_000, seed: 31, prefix: "a")).bytes)
        b = try dir.writeGzipFast("logs/b.ndjson.gz", Workload.ndjson(.init(lines: 3_000, seed: 32, prefix: "b")).bytes)
        c = try dir.writeGzipFast("logs/c.ndjson.gz", Workload.ndjson(.init(lines: 3_000, seed: 33, prefix: "c")).bytes)
        goodC = Array(try Data(contentsOf: URL(fileURLWithPath: c)))
      }

      func writeC(_ bytes: [UInt8]) throws { try Data(bytes).write(to: URL(fileURLWithPath: c)) }
    }

    enum GzipFault: String, CaseIterable, CustomTestStringConvertible {
      /// Cut at 60 % (a file still being written).
      case truncated
      /// One bit of the CRC-32 in the trailer flipped.
      case badCRC
      /// A byte in the middle of the deflate data changed.
      case corruptData
      /// Text after the gzip member.
      case trailingGarbage
      /// Zero padding after the member (as some copy tools leave).
      case zeroPadding
      var testDescription: String { rawValue }

      func apply(_ good: [UInt8]) -> [UInt8] {
        var bytes = good
        switch self {
        case .truncated: return Array(good.prefix(good.count * 6 / 10))
        case .badCRC: bytes[bytes.count - 8] ^= 0x01
        case .corruptData: bytes[bytes.count / 2] ^= 0xFF
        case .trailingGarbage: bytes += Array("garbage after the member\n".utf8)
        case .zeroPadding: bytes += [UInt8](repeating: 0, count: 512)
        }
        return bytes
      }

      /// Words the error message must contain.
      var wording: [String] {
        switch self {
        case .truncated: ["truncated gzip"]
        case .badCRC: ["corrupt gzip", "CRC"]
        case .corruptData: ["gzip"]
        case .trailingGarbage, .zeroPadding: ["trailing garbage"]
        }
      }
    }

    /// A damaged file fails alone: exit 2, a message naming it, a `failed` row with the error,
    /// nothing of it counted; the other files are ingested. Once repaired, the next run ingests
    /// it and `daily_metrics` equals an uninterrupted run over the good files.
    @Test(arguments: GzipFault.allCases)
    func damagedGzipFailsAloneAndIsRetried(_ fault: GzipFault) throws {
      let logs = try Logs()
      let dir = logs.dir
      // Reference: all three good files in one run.
      let reference = dir.file("reference.sqlite")
      try runPipeline(db: reference, inputs: [dir.file("logs")])
      let referenceMetrics = try TestDatabase(reference).dailyMetrics()

      try logs.writeC(fault.apply(logs.goodC))
      let db = dir.file("db.sqlite")
      let first = try Stage.run("ingest", ["--db", db, dir.file("logs")])
      #expect(first.termination == .exited(2), "\(fault): \(first.termination) \(first.stderr)")
      #expect(first.stderr.contains(logs.c), "the message should name the file: \(first.stderr)")
      for word in fault.wording {
        #expect(first.stderr.contains(word), "the message should say '\(word)': \(first.stderr)")
      }
      let t = try TestDatabase(db)
      let files = try t.rows("SELECT path, status, error, events, rejected FROM files ORDER BY path")
      #expect(files.map { [$0[0], $0[1]] } == [[logs.a, "ingested"], [logs.b, "ingested"], [logs.c, "failed"]])
      #expect(files.last.map { $0[2].contains(fault.wording[0]) && $0[3] == "0" && $0[4] == "0" } == true, "\(files.last ?? [])")
      #expect(try stagedTraffic(db).filter { $0[1].hasPrefix("c-") }.isEmpty, "the store holds events of the failed file")
      #expect(try t.int("SELECT count(*) FROM conversions WHERE event_id LIKE 'c-%'") == 0, "conversions of the failed file")
      #expect(try t.int("SELECT count(*) FROM rejects WHERE path = '\(logs.c)'") == 0)
      let run = try t.rows("SELECT exit_status, files_ingested, files_failed, message FROM runs WHERE command = 'ingest'")
      #expect(run.count == 1 && run[0][0] == "2" && run[0][1] == "2" && run[0][2] == "1" && run[0][3].contains(logs.c), "\(run)")

      // Repaired: the next run ingests c (a and b are skipped: same content).
      try logs.writeC(logs.goodC)
      let second = try Stage.run("ingest", ["--db", db, dir.file("logs")])
      #expect(second.termination == .exited(0), "\(second.stderr)")
      #expect(try t.rows("SELECT status FROM files WHERE path = '\(logs.c)' ORDER BY file_id").map(\.[0]) == ["failed", "ingested"])
      #expect(
        try t.rows("SELECT files_ingested, files_skipped FROM runs WHERE command = 'ingest' ORDER BY run_id DESC LIMIT 1") == [["1", "2"]])
      #expect(try Stage.run("aggregate", ["--db", db]).exitStatus == 0)
      #expect(try t.dailyMetrics() == referenceMetrics)
    }

    /// The gzip reader's crash found by the fuzzer (Fuzz/regressions/gzip-isal-avail-in-underflow.gz):
    /// corrupt deflate data arriving in small pieces (a pipe, a slow network file system) made
    /// ISA-L report a consumed count below zero and `ingest` died with SIGSEGV. Now: exit 2,
    /// the file named, nothing counted.
    @Test func corruptGzipArrivingInSmallPiecesThroughAPipe() throws {
      let dir = try TemporaryDirectory()
      let db = dir.file("db.sqlite")
      let fifo = dir.file("pipe.ndjson.gz")
      #expect(mkfifo(fifo, 0o644) == 0)
      let child = try Stage.start("ingest", ["--db", db, fifo])
      let bytes = FuzzRegressions.isalUnderflow
      let served = serveFifo(fifo, to: child, timeout: 60) { fd in
        var offset = 0
        while offset < bytes.count {
          let n = min(13, bytes.count - offset)
          guard writeAll(fd, Array(bytes[offset..<(offset + n)])) else { return }
          offset += n
          usleep(60_000)  // the reader takes each piece before the next one comes
        }
      }
      let r = child.wait(timeout: 60)
      #expect(served >= 1 && !child.timedOut)
      #expect(r.termination == .exited(2), "\(r.termination): \(r.stderr.prefix(500))")
      #expect(r.stderr.contains(fifo) && r.stderr.contains("gzip"), "\(r.stderr.prefix(500))")
      let t = try TestDatabase(db)
      #expect(try t.rows("SELECT status FROM files") == [["failed"]])
      #expect(try stagedTraffic(db).count + Int(t.int("SELECT count(*) FROM rejects")) == 0)
    }

    /// An input that can be read only once — bash process substitution, `ingest --db DB
    /// <(zcat dump.gz)`, an anonymous pipe — is ingested whole: no hang, no empty second read.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/bin/bash"), "needs bash"))
    func pipeInputThatCanBeReadOnlyOnce() throws {
      let dir = try TemporaryDirectory()
      let lines = Workload.ndjson(.init(lines: 2_000, seed: 34, prefix: "pipe"))
      let file = try dir.write("dump.ndjson", Data(lines.bytes))
      let db = dir.file("db.sqlite")
      let child = try ChildProcess("/bin/bash", ["-c", "exec \"$0\" --db \"$1\" <(cat \"$2\")", Stage.path("ingest"), db, file])
      let r = child.wait(timeout: 60)
      #expect(!child.timedOut, "ingest hung on a pipe (does it open its input twice?)")
      #expect(r.termination == .exited(0), "\(r.termination): \(r.stderr)")
      let t = try TestDatabase(db)
      let row = try t.rows("SELECT status, lines, events + rejected + duplicates FROM files")
      #expect(row.count == 1 && row[0][0] == "ingested" && row[0][1] == "2000" && row[0][2] == "2000", "\(row)")
    }

    /// The same inputs through the library with the raw read sizes the fuzzer used: both
    /// backends fail cleanly (no crash), with a gzip error kind.
    @Test(
      arguments: zip(
        ["isal-avail-in-underflow", "corrupt-and-truncated", "corrupt-and-truncated-zlib-first"],
        [FuzzRegressions.isalUnderflow, FuzzRegressions.corruptAndTruncated, FuzzRegressions.corruptAndTruncatedZlibFirst]))
    func fuzzFoundGzipInputsFailCleanly(name: String, bytes: [UInt8]) throws {
      let dir = try TemporaryDirectory()
      let path = try dir.write(name + ".gz", Data(bytes))
      for backend in FileByteStream.Backend.available {
        for readSize in [1, 2, 3, 5, 8, 13, 16, 1 << 20] {
          let stream = try FileByteStream(path: path, inputBufferSize: readSize, backend: backend)
          let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
          defer { buffer.deallocate() }
          var kind: InputError.Kind?
          do {
            while try stream.read(into: buffer) > 0 {}
          } catch {
            kind = error.kind
          }
          #expect(
            kind == .corruptGzip || kind == .truncatedGzip, "\(name), \(backend), \(readSize)-byte reads: \(String(describing: kind))")
        }
      }
    }

    /// Found by FuzzGzip (Fuzz/regressions/gzip-isal-accepts-invalid-huffman-table.gz): a member
    /// whose deflate block has a literal/length code zlib rejects ("invalid literal/lengths
    /// set") decodes with ISA-L as empty data. The same file is then ingested by an ISA-L build
    /// and failed by a zlib build. Known, not fixed here (ISA-L does not check the code's
    /// completeness); the test turns into a failure the day both backends agree.
    @Test func backendsDisagreeOnAnInvalidHuffmanTable() throws {
      let dir = try TemporaryDirectory()
      let path = try dir.write("huffman.gz", Data(FuzzRegressions.isalAcceptsInvalidHuffmanTable))
      var kinds: [FileByteStream.Backend: InputError.Kind?] = [:]
      for backend in FileByteStream.Backend.available {
        let stream = try FileByteStream(path: path, inputBufferSize: 1 << 20, backend: backend)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { buffer.deallocate() }
        do {
          while try stream.read(into: buffer) > 0 {}
          kinds[backend] = .some(nil)
        } catch {
          kinds[backend] = error.kind
        }
      }
      #expect(kinds[.zlib] == .some(.corruptGzip))
      if let isal = kinds[.isal] {
        withKnownIssue("ISA-L accepts a deflate block whose literal/length code zlib rejects") {
          #expect(isal == kinds[.zlib] ?? nil, "ISA-L: \(String(describing: isal))")
        }
      }
    }

    /// A file the run may not read (permission denied): the run goes on as `nobody` so that
    /// permissions apply (root reads everything).
    @Test(.enabled(if: FaultEnvironment.canDropPrivileges, "needs root and setpriv to run ingest as nobody"))
    func unreadableFileFailsAloneAndIsRetried() throws {
      let logs = try Logs()
      let dir = logs.dir
      try dir.openToEveryone()
      let reference = dir.file("reference.sqlite")
      try runPipeline(db: reference, inputs: [dir.file("logs")])
      let referenceMetrics = try TestDatabase(reference).dailyMetrics()

      #expect(chmod(logs.c, 0o600) == 0)  // owned by root: nobody cannot read it
      let db = dir.file("nobody.sqlite")
      let first = try Stage.run("ingest", ["--db", db, dir.file("logs")], asNobody: true)
      #expect(first.termination == .exited(2), "\(first.termination) \(first.stderr)")
      #expect(first.stderr.contains(logs.c) && first.stderr.contains("permission denied"), "\(first.stderr)")
      let t = try TestDatabase(db)
      #expect(
        try t.rows("SELECT path, status FROM files ORDER BY path") == [[logs.a, "ingested"], [logs.b, "ingested"], [logs.c, "failed"]])
      #expect(try stagedTraffic(db, kind: .view).filter { $0[1].hasPrefix("c-") }.isEmpty)

      #expect(chmod(logs.c, 0o644) == 0)
      let second = try Stage.run("ingest", ["--db", db, dir.file("logs")], asNobody: true)
      #expect(second.termination == .exited(0), "\(second.stderr)")
      #expect(try Stage.run("aggregate", ["--db", db], asNobody: true).exitStatus == 0)
      #expect(try t.dailyMetrics() == referenceMetrics)
    }

    /// A path that does not exist: exit 1 before anything is done; the message names it.
    @Test func missingPathChangesNothing() throws {
      let logs = try Logs()
      let db = logs.dir.file("db.sqlite")
      #expect(try Stage.run("ingest", ["--db", db, logs.a]).exitStatus == 0)
      let before = try DatabaseDump(db)
      let missing = logs.dir.file("logs/2026-11-03/missing.ndjson.gz")
      let r = try Stage.run("ingest", ["--db", db, logs.b, missing])
      #expect(r.termination == .exited(1), "\(r.stderr)")
      #expect(r.stderr.contains(missing) && r.stderr.contains("no such file"), "\(r.stderr)")
      #expect(try DatabaseDump(db) == before, "b must not have been ingested either")
      let fresh = logs.dir.file("fresh.sqlite")
      #expect(try Stage.run("ingest", ["--db", fresh, missing]).termination == .exited(1))
      #expect(!FileManager.default.fileExists(atPath: fresh), "a refused run should not create the database")
    }

    /// A folder without input files (empty, or only hidden files): exit 1 with a message that
    /// says so; next to other paths it is a warning and the others are ingested.
    @Test func folderWithoutFiles() throws {
      let logs = try Logs()
      let dir = logs.dir
      let empty = dir.file("empty/2026-11-04")
      try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
      try dir.write("empty/2026-11-04/.partial.ndjson.gz", "hidden files are skipped\n")
      let db = dir.file("db.sqlite")
      #expect(try Stage.run("ingest", ["--db", db, logs.a]).exitStatus == 0)
      let before = try DatabaseDump(db)
      let alone = try Stage.run("ingest", ["--db", db, dir.file("empty")])
      #expect(alone.termination == .exited(1), "\(alone.stderr)")
      #expect(alone.stderr.contains(dir.file("empty")) && alone.stderr.contains("no input files"), "\(alone.stderr)")
      #expect(try DatabaseDump(db) == before)

      let mixed = try Stage.run("ingest", ["--db", db, dir.file("empty"), logs.b])
      #expect(mixed.termination == .exited(0), "\(mixed.stderr)")
      #expect(
        mixed.stderr.contains(dir.file("empty")) && mixed.stderr.contains("no input files"),
        "the empty folder should be warned about: \(mixed.stderr)")
      #expect(try TestDatabase(db).rows("SELECT path FROM files ORDER BY file_id").map(\.[0]) == [logs.a, logs.b])
    }
  }
}

/// Inputs found by the libFuzzer targets in Fuzz/ (copies of Fuzz/regressions/).
enum FuzzRegressions {
  /// FuzzGzip: SIGSEGV in CGzip's ISA-L step (consumed count below zero after an error) when
  /// the file is read 13 bytes at a time.
  static let isalUnderflow: [UInt8] = [
    0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x61, 0x03, 0xed, 0xc1, 0x31, 0x01, 0x00,
    0x00, 0x00, 0xc2, 0xa0, 0xf5, 0x4f, 0x6d, 0x0d, 0x0f, 0xa0, 0x00, 0x00, 0x80, 0x77, 0x03, 0x0d,
    0x5b, 0x86, 0xda, 0xb8, 0x0a, 0xff, 0xfc,
  ]
  /// FuzzGzip: ISA-L reports corrupt data, zlib a truncated stream.
  static let corruptAndTruncated: [UInt8] = [
    0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x20, 0x30, 0x3a, 0x36, 0x06, 0x00, 0x00, 0x1a,
  ]
  /// FuzzGzip: ISA-L decodes this member (as empty data); zlib: "invalid literal/lengths set".
  static let isalAcceptsInvalidHuffmanTable: [UInt8] = [
    0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0x8d, 0x90, 0xcd, 0x4e, 0xc3, 0x30,
    0x10, 0x84, 0xef, 0x3c, 0xcb, 0x3a, 0x5a, 0x9b, 0x90, 0x34, 0xdc, 0x1a, 0xa5, 0xe5, 0x80, 0x20,
    0x08, 0xe8, 0xa5, 0x97, 0xca, 0xd8, 0xae, 0x1a, 0xb5, 0xb5, 0xc3, 0xc6, 0x0e, 0x0a, 0x4f, 0x8f,
    0x4d, 0xc4, 0x59, 0x81, 0x8a, 0x03, 0x23, 0x6b, 0xb5, 0xfe, 0xd9, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00,
  ]
  /// FuzzGzip: zlib reports corrupt data ("invalid code lengths set"), ISA-L a truncated stream.
  static let corruptAndTruncatedZlibFirst: [UInt8] = [
    0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0xed, 0x32, 0xd0, 0x8b, 0x08,
  ]
}
