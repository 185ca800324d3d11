import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Parses one input file with `ingest`'s own rules and writes what it found as NDJSON, so that
/// another engine (Apache Spark: docs/SPARK.md) can do the relational work with the same parser,
/// days and money.
///
/// Input: one path (`-` is standard input). Output, one JSON object per line:
/// - `{"kind":"event",...}` for each valid event, with its local `day`, `is_bot`, and for
///   conversions `revenue_cents`/`commission_cents` from ``MoneyRules`` (integers, or `null`
///   when the revenue does not fit in 64-bit cents; `aggregate` leaves such a conversion out);
/// - `{"kind":"reject","file","line","reason","raw"}` for each rejected line;
/// - last, `{"kind":"file","file","content_hash","events","rejected"}`; the content hash is the
///   one `ingest` uses to skip a file whose content was already ingested.
///
/// A file that cannot be read whole writes only `{"kind":"failed","file","error"}`: the file is
/// read once without parsing first (as ``FileParser/verify(path:)``), so no event of it is
/// written. Standard input is first copied to a temporary file for that reason.
///
/// ```
/// $ ingest --emit ndjson logs/part-0001.ndjson.gz
/// {"kind":"event","type":"click","event_id":"c1","ts_ms":1761991200000,"day":"2025-11-01",...}
/// ```
public final class EventEmitter {
  /// What the emitter found, for the exit status.
  public enum Outcome: Sendable, Equatable {
    case emitted(events: Int, rejected: Int)
    case failed(InputError)
  }

  public let configuration: PipelineConfiguration
  private let money: MoneyRules
  private let calendar: DayCalendar
  private let bots: BotMatcher
  /// The last day looked up: its text and its span `start..<end` in epoch milliseconds.
  private var lastDay: (start: Int64, end: Int64, text: String) = (0, 0, "")

  public init(configuration: PipelineConfiguration, catalog: ProductCatalog) {
    self.configuration = configuration
    money = MoneyRules(configuration: configuration, catalog: catalog)
    calendar = DayCalendar(identifier: configuration.timeZoneIdentifier)
    bots = BotMatcher(configuration)
  }

  /// Emits the file at `path` (`-`: standard input) to the file descriptor `output`.
  /// Throws ``PipelineError/input(path:reason:)`` when `path` is not a file one can emit
  /// (missing, a directory) or the output cannot be written.
  public func emit(path: String, to output: Int32) throws(PipelineError) -> Outcome {
    var spooled: String?
    defer { if let spooled { unlink(spooled) } }
    var readPath = path
    if path == "-" {
      spooled = try Self.spoolStandardInput()
      readPath = spooled ?? path
    } else {
      var st = stat()
      guard stat(path, &st) == 0 else {
        throw PipelineError.input(path: path, reason: "no such file or directory; check the path (nothing was emitted)")
      }
      if (st.st_mode & S_IFMT) == S_IFDIR {
        throw PipelineError.input(path: path, reason: "is a directory; --emit reads one file (list the files and run one emit per file)")
      }
    }
    let writer = NDJSONWriter(fd: output)
    func named(_ error: InputError) -> InputError {
      InputError(kind: error.kind, path: path, message: error.message)
    }
    // First pass: can the file be read whole? Pipes and devices cannot be read twice, but
    // standard input was spooled to a regular file above.
    if ParallelParse.isRegularFile(readPath) {
      do {
        _ = try FileParser.verify(path: readPath)
      } catch {
        writer.failed(file: path, error: named(error).description)
        try writer.finish(path: path)
        return .failed(named(error))
      }
    }
    let parser = FileParser(currencies: Set(configuration.fxUSDPerUnit.keys))
    let summary: ParsedFileSummary
    do {
      summary = try parser.parse(path: readPath) { chunk in
        for event in chunk.events { self.write(event, file: path, to: writer) }
        for reject in chunk.rejects { writer.reject(file: path, reject) }
      }
    } catch {
      // A non-regular file failing mid-way: events were written; the `failed` line tells the
      // reader to drop them.
      writer.failed(file: path, error: named(error).description)
      try writer.finish(path: path)
      return .failed(named(error))
    }
    writer.fileSummary(file: path, contentHash: summary.contentHash, events: summary.events, rejected: summary.rejected)
    try writer.finish(path: path)
    return .emitted(events: summary.events, rejected: summary.rejected)
  }

  /// Whether a view's or click's user agent matches a configured bot pattern (CONTRACT §3), as
  /// `aggregate` decides it.
  func isBot(_ event: Event) -> Bool {
    event.kind != .conversion && bots.isBot(event.userAgent)
  }

  /// `YYYY-MM-DD` of the local day holding `ts`. Days are the spans
  /// `start(day)..<start(day + 1)` that `aggregate` selects conversions by; the last one is
  /// kept, since a file's events mostly fall on a few days.
  func dayText(_ ts: Int64) -> String {
    if ts >= lastDay.start && ts < lastDay.end { return lastDay.text }
    let day = calendar.day(ofMilliseconds: ts)
    let start = calendar.start(ofDay: day)
    let end = calendar.start(ofDay: day + 1)
    let text = calendar.text(ofDay: day)
    guard ts >= start && ts < end else { return text }  // not a plain span (never seen): no cache
    lastDay = (start, end, text)
    return text
  }

  private func write(_ event: Event, file: String, to w: NDJSONWriter) {
    w.begin("event")
    w.field("type", event.kind.name)
    w.field("event_id", event.eventID)
    w.field("ts_ms", event.ts)
    w.field("day", dayText(event.ts))
    w.field("creator_id", event.creatorID)
    w.field("placement", event.placement?.name ?? "")
    w.field("viewer_id", event.viewerID)
    w.field("product_id", event.productID)
    w.field("platform", event.platform?.rawValue ?? "")
    w.field("store", event.store)
    w.field("user_agent", event.userAgent)
    w.field("is_bot", isBot(event))
    w.field("order_id", event.orderID)
    w.field("click_id", event.clickID)
    if event.kind == .conversion {
      w.field("quantity", event.quantity)
      w.field("status", event.isRefund ? "refunded" : "ordered")
      let revenue = money.revenueCents(amount: event.amount, currency: event.currency)
      w.field("revenue_cents", revenue)
      w.field(
        "commission_cents",
        revenue.flatMap { cents in
          event.platform.map { money.commissionCents(revenueCents: cents, platform: $0, store: event.store, productID: event.productID) }
        })
    } else {
      w.field("quantity", Int64?.none)
      w.field("status", "")
      w.field("revenue_cents", Int64?.none)
      w.field("commission_cents", Int64?.none)
    }
    w.field("file", file)
    w.field("line", Int64(event.line))
    w.end()
  }

  /// Copies standard input to a temporary file and returns its path.
  private static func spoolStandardInput() throws(PipelineError) -> String {
    var template = Array((NSTemporaryDirectory() + "/clickpipeline-emit-XXXXXX").utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    guard fd >= 0 else {
      throw PipelineError.input(
        path: "-", reason: "cannot create a temporary file to hold standard input: \(String(cString: strerror(errno)))")
    }
    defer { close(fd) }
    let path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
    defer { buffer.deallocate() }
    while true {
      let n = read(STDIN_FILENO, buffer.baseAddress, buffer.count)
      if n < 0 && errno == EINTR { continue }
      if n < 0 {
        let text = String(cString: strerror(errno))
        unlink(path)
        throw PipelineError.input(path: "-", reason: "cannot read standard input: \(text)")
      }
      if n == 0 { break }
      var done = 0
      while done < n {
        let m = Glibc.write(fd, buffer.baseAddress! + done, n - done)
        if m < 0 && errno == EINTR { continue }
        guard m > 0 else {
          let text = String(cString: strerror(errno))
          unlink(path)
          throw PipelineError.input(path: "-", reason: "cannot spool standard input to \(path): \(text)")
        }
        done += m
      }
    }
    return path
  }
}
