/// A rejected line: where, why, and its first KiB (CONTRACT §2).
public struct RejectedLine: Sendable, Equatable {
  public var line: Int
  public var reason: RejectReason
  /// The raw bytes (at most 1 KiB); stored as TEXT when valid UTF-8, else as a BLOB.
  public var raw: [UInt8]

  init(line: Int, reason: RejectReason, bytes: UnsafeRawBufferPointer) {
    self.line = line
    self.reason = reason
    raw = Array(bytes[0..<UTF8Validation.prefixLength(bytes, limit: LineReader.rawPrefixBytes)])
  }
}

/// A slice of a file's parse result as owned values (``EventCollector``).
public struct ParsedChunk: Sendable {
  public var events: [Event] = []
  public var rejects: [RejectedLine] = []
  public var isEmpty: Bool { events.isEmpty && rejects.isEmpty }
}

/// What reading a whole file found.
public struct ParsedFileSummary: Sendable, Equatable {
  public enum Format: String, Sendable { case ndjson, csv, empty }
  public var format: Format = .empty
  /// Non-blank lines, header included.
  public var lines = 0
  public var events = 0
  public var rejected = 0
  public var contentHash = ""
  public var fileSize = 0
  public var uncompressedBytes = 0
  public var isGzip = false
  /// The number of the last line if it was held back (no newline yet, see
  /// ``FileParser/parse(path:from:holdingUnterminated:into:)``), else 0.
  public var heldBackLine = 0
  /// Lines that the fast scanner declined and the strict one decided.
  public var strictLines = 0
  /// The line parsing started from (after 1: a held-back line taken later).
  public var firstLine = 1
  /// Events dated after ``FileParser/futureAfter``, and the first of them.
  public var futureEvents = 0
  public var firstFuture: FutureEvent?

  /// An event dated after ``FileParser/futureAfter``: its line and timestamp.
  public struct FutureEvent: Sendable, Equatable {
    public var line: Int
    public var ts: Int64
  }
}

/// What ``FileParser`` hands each line to: a valid event or a rejected line.
protocol LineSink: AnyObject {
  /// A valid event; its bytes are valid only during the call.
  func accept(_ event: EventView)
  func reject(line: Int, reason: RejectReason, raw: UnsafeRawBufferPointer)
  /// The sink's step clock: the parser times its own steps on it (``IngestStep``).
  var clock: StepClock { get set }
}

/// The steps of `ingest`, for `--stats-json`.
enum IngestStep: Int, CaseIterable {
  case inflate, split, scan, validate, encode, compress, write, dedup, commit

  static var names: [String] { allCases.map { "\($0)" } }
}

/// Parses one input file into events and rejected lines (CONTRACT §1-§2), in one pass.
///
/// Input: a path (gzip or plain, NDJSON or CSV). Output: each line to a ``LineSink`` as a
/// validated ``EventView`` or a rejected line, then a ``ParsedFileSummary``. Throws
/// ``InputError`` when the file cannot be read whole (an I/O error, a gzip stream that is
/// truncated, corrupt or fails its trailer's check); what the sink received must then be
/// discarded by the caller. NDJSON lines go through ``FastJSONScanner`` first and through
/// ``JSONLineScanner`` only when it declines; both fill the same ``FieldSlots`` and
/// ``EventValidator`` applies the contract's rules to either.
public struct FileParser: Sendable {
  public var currencies: Set<String>
  /// Events dated after this (milliseconds since 1970) are counted in the summary: an
  /// exporter's clock gone wrong (CONTRACT §8's warning). They are events like any other.
  public var futureAfter = Int64.max

  public init(currencies: Set<String>) {
    self.currencies = currencies
  }

  /// Parses the file at `path` into owned chunks of at most `chunkSize` events (tests, tools).
  public func parse(
    path: String, from firstLine: Int = 1, holdingUnterminated: Bool = false, chunkSize: Int = 4096,
    sink: @escaping (ParsedChunk) -> Void
  ) throws(InputError) -> ParsedFileSummary {
    let collector = EventCollector(chunkSize: chunkSize, sink: sink)
    let summary = try parse(path: path, from: firstLine, holdingUnterminated: holdingUnterminated, into: collector)
    collector.flush()
    return summary
  }

  /// Parses the file at `path` into `sink`.
  ///
  /// - `firstLine`: lines before it are read only to learn the format (and a CSV header); they
  ///   give no events, rejects or counts. Used to take a held-back last line later.
  /// - `holdingUnterminated`: a plain file's last line that has no newline is not taken but
  ///   reported in ``ParsedFileSummary/heldBackLine``: the file may still be being written, and
  ///   a cut line can be a valid event (`…,129.99,1` of `…,129.99,12`). Gzip files are checked
  ///   whole, so their last line is always taken.
  func parse<Sink: LineSink>(
    path: String, from firstLine: Int = 1, holdingUnterminated: Bool = false, into sink: Sink
  ) throws(InputError) -> ParsedFileSummary {
    let stream = try FileByteStream(path: path)
    defer { stream.close() }
    let reader = LineReader(stream: stream)
    reader.timesReads = sink.clock.enabled
    let slots = FieldSlots()
    let validator = EventValidator(currencies: currencies)
    var summary = ParsedFileSummary()
    summary.firstLine = firstLine
    var csv: CSVLineScanner?
    var formatKnown = false
    var uncompressed = 0
    var view = EventView(kind: .view, eventID: EventView.empty, ts: 0, line: 0)

    func reject(_ number: Int, _ reason: RejectReason, _ bytes: UnsafeRawBufferPointer) {
      sink.reject(line: number, reason: reason, raw: bytes)
      summary.rejected += 1
    }

    /// Takes one line: format detection, then (from `firstLine` on) an event or a reject.
    func take(_ number: Int, _ line: UnsafeRawBufferPointer, terminatorBytes: Int) {
      var bytes = line
      let counted = number >= firstLine
      if counted { uncompressed += bytes.count + terminatorBytes }
      if number == 1, bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF {
        bytes = UnsafeRawBufferPointer(rebasing: bytes[3...])  // a UTF-8 byte order mark
      }
      guard !FileParser.isBlank(bytes) else { return }
      if counted { summary.lines += 1 }
      guard UTF8Validation.isValid(bytes) else {
        if !formatKnown {
          formatKnown = true
          summary.format = FileParser.firstNonSpace(bytes) == UInt8(ascii: "{") ? .ndjson : .csv
          if summary.format == .csv { csv = CSVLineScanner(columns: []) }
        }
        if counted { reject(number, .malformed, bytes) }
        return
      }
      if !formatKnown {
        formatKnown = true
        if FileParser.firstNonSpace(bytes) == UInt8(ascii: "{") {
          summary.format = .ndjson
        } else {
          summary.format = .csv
          guard let header = CSVLineScanner(header: bytes) else {
            csv = CSVLineScanner(columns: [])
            if counted { reject(number, .malformed, bytes) }
            return
          }
          csv = header
          return
        }
      }
      guard counted else { return }
      let sampled = sink.clock.sampling()
      let t0 = sampled ? sink.clock.now() : 0
      let ok: Bool
      if let csv {
        ok = csv.scan(bytes, into: slots)
      } else if FastJSONScanner.scan(bytes, into: slots) {
        ok = true
      } else {
        summary.strictLines += 1
        ok = JSONLineScanner.scan(bytes, into: slots)
      }
      guard ok else {
        reject(number, .malformed, bytes)
        return
      }
      let t1 = sampled ? sink.clock.now() : 0
      if let reason = validator.validate(slots, line: number, into: &view) {
        reject(number, reason, bytes)
        return
      }
      summary.events += 1
      if view.ts > futureAfter {
        summary.futureEvents += 1
        if summary.firstFuture == nil { summary.firstFuture = .init(line: number, ts: view.ts) }
      }
      guard sampled else {
        sink.accept(view)
        return
      }
      let t2 = sink.clock.now()
      let excluded = sink.clock.excluded
      sink.accept(view)
      let t3 = sink.clock.now()
      let scale = Double(StepClock.sampleEvery)
      let overhead = sink.clock.overhead
      sink.clock.addSeconds(IngestStep.scan.rawValue, max(0, t1 - t0 - overhead) * scale)
      sink.clock.addSeconds(IngestStep.validate.rawValue, max(0, t2 - t1 - overhead) * scale)
      sink.clock.addSeconds(IngestStep.encode.rawValue, max(0, t3 - t2 - overhead - (sink.clock.excluded - excluded)) * scale)
    }

    try reader.forEachLine { line in
      switch line {
      case .tooLong(let number, let prefix):
        if !formatKnown {
          // The first non-blank line decides the format; too long to tell, take NDJSON.
          formatKnown = true
          summary.format = .ndjson
        }
        guard number >= firstLine else { return }
        uncompressed += LineReader.maxLineBytes
        summary.lines += 1
        reject(number, .lineTooLong, prefix)
      case .text(let number, let bytes):
        take(number, bytes, terminatorBytes: 1)
      case .unterminated(let number, let bytes):
        if holdingUnterminated && !stream.isGzip && !FileParser.isBlank(bytes) {
          summary.heldBackLine = number
        } else {
          take(number, bytes, terminatorBytes: 0)
        }
      }
    }
    sink.clock.addSeconds(IngestStep.inflate.rawValue, reader.readSeconds)
    summary.contentHash = stream.contentHash
    summary.fileSize = stream.fileSize
    summary.isGzip = stream.isGzip
    summary.uncompressedBytes = uncompressed
    return summary
  }

  /// The content hash of the file at `path` (``FileByteStream/contentHash``: its raw bytes),
  /// read without decompressing: to learn whether a file was ingested before parsing it.
  public static func contentHash(path: String) throws(InputError) -> String {
    try FileByteStream.rawContentHash(path: path)
  }

  /// Reads the whole file once without parsing: checks that it can be read whole (gzip
  /// integrity: every member's CRC and length, no truncation, no trailing garbage) and returns
  /// its content hash. For `ingest --emit`, whose output cannot be taken back once written;
  /// `ingest` itself reads each file once and drops what a failed file staged.
  public static func verify(path: String) throws(InputError) -> String {
    let stream = try FileByteStream(path: path)
    defer { stream.close() }
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
    defer { buffer.deallocate() }
    while try stream.read(into: buffer) > 0 {}
    return stream.contentHash
  }

  static func isBlank(_ b: UnsafeRawBufferPointer) -> Bool {
    for c in b where c != 0x20 && c != 0x09 { return false }
    return true
  }

  static func firstNonSpace(_ b: UnsafeRawBufferPointer) -> UInt8? {
    for c in b where c != 0x20 && c != 0x09 { return c }
    return nil
  }
}

/// A ``LineSink`` that makes owned ``Event``s and ``RejectedLine``s in chunks.
final class EventCollector: LineSink {
  private let chunkSize: Int
  private let sink: (ParsedChunk) -> Void
  private var chunk = ParsedChunk()
  var clock = StepClock(steps: IngestStep.allCases.count, enabled: false)

  init(chunkSize: Int, sink: @escaping (ParsedChunk) -> Void) {
    self.chunkSize = chunkSize
    self.sink = sink
  }

  func accept(_ event: EventView) {
    chunk.events.append(Event(event))
    if chunk.events.count >= chunkSize { flush() }
  }

  func reject(line: Int, reason: RejectReason, raw: UnsafeRawBufferPointer) {
    chunk.rejects.append(RejectedLine(line: line, reason: reason, bytes: raw))
    if chunk.rejects.count >= chunkSize { flush() }
  }

  func flush() {
    if !chunk.isEmpty { sink(chunk) }
    chunk = ParsedChunk()
  }
}
