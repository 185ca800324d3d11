/// What a parse thread hands to the writer for one file, in order.
enum FilePiece: Sendable {
  case segment(StagedSegment)
  case conversions(StagedConversions)
  case rejects([RejectedLine])
  /// The file's content was ingested before: not parsed (its content hash).
  case known(String)
  /// The file was read whole (its summary), or could not be (why): nothing of it may count.
  case finished(Result<ParsedFileSummary, InputError>)
}

/// The parse thread's side of staging (a ``LineSink``): views and clicks go straight into
/// ``EventSegmentBuilder``s, one per kind and UTC day of the file, which become compressed
/// ``StagedSegment``s when full or when the file ends; conversions and rejected lines are
/// batched. Everything goes to the writer through `send`, in file order.
///
/// Memory is bounded whatever the file: at most ``maxOpenRows`` rows wait in open builders
/// (the fullest is written out first), and the writer's queue holds a few pieces.
final class FileStager: LineSink {
  static let maxOpenRows = 4 * EventSegment.maxRows
  static let batchSize = 4096

  var clock: StepClock
  private var send: (FilePiece) -> Bool = { _ in false }
  /// Open builders: views [0] and clicks [1], by UTC day.
  private var open: [[Int64: EventSegmentBuilder]] = [[:], [:]]
  /// Builders kept for reuse, by kind.
  private var spare: [[EventSegmentBuilder]] = [[], []]
  /// The open builder used last, per kind, and its day: lines come in runs of the same day.
  /// Unmanaged (`open` holds them), so using one costs no reference counting on the hot path.
  private var lastView: (builder: Unmanaged<EventSegmentBuilder>, day: Int64)?
  private var lastClick: (builder: Unmanaged<EventSegmentBuilder>, day: Int64)?
  private var openRows = 0
  private var conversions = StagedConversions()
  private var rejects: [RejectedLine] = []
  private var scratch = ColumnWriter(reserving: 1 << 20)
  private let compressor = ZstdCompressor()
  /// The writer has stopped (the run failed): drop everything.
  private(set) var isStopped = false

  init(clock: StepClock) {
    self.clock = clock
  }

  /// Starts a file whose pieces go to `send` (which returns `false` once the run is cancelled).
  func begin(send: @escaping (FilePiece) -> Bool) {
    self.send = send
    isStopped = false
  }

  func accept(_ event: EventView) {
    guard event.kind != .conversion else {
      conversions.append(event)
      if conversions.count >= Self.batchSize { flushConversions() }
      return
    }
    let kind = event.kind.rawValue
    let day = utcDay(ofMilliseconds: event.ts)
    let builder: Unmanaged<EventSegmentBuilder>
    if let cached = kind == 0 ? lastView : lastClick, cached.day == day {
      builder = cached.builder
    } else {
      builder = Unmanaged.passUnretained(openBuilder(kind: kind, day: day))
    }
    let isFull = builder._withUnsafeGuaranteedRef { builder in
      builder.append(event)
      return builder.isFull
    }
    openRows += 1
    if isFull {
      write(kind: kind, day: day)
    } else if openRows > Self.maxOpenRows {
      writeFullest()
    }
  }

  func reject(line: Int, reason: RejectReason, raw: UnsafeRawBufferPointer) {
    rejects.append(RejectedLine(line: line, reason: reason, bytes: raw))
    if rejects.count >= Self.batchSize { flushRejects() }
  }

  /// Writes out everything still open (after the last line of the file).
  func finishFile() {
    for kind in 0..<2 {
      for day in open[kind].keys.sorted() { write(kind: kind, day: day) }
    }
    flushConversions()
    flushRejects()
  }

  /// Forgets what is still open (the file failed).
  func abandonFile() {
    for kind in 0..<2 {
      for day in Array(open[kind].keys) {
        guard let builder = open[kind].removeValue(forKey: day) else { continue }
        builder.removeAll()
        spare[kind].append(builder)
      }
    }
    lastView = nil
    lastClick = nil
    openRows = 0
    conversions.removeAll()
    rejects.removeAll()
  }

  private func openBuilder(kind: Int, day: Int64) -> EventSegmentBuilder {
    let builder: EventSegmentBuilder
    if let known = open[kind][day] {
      builder = known
    } else {
      builder = spare[kind].popLast() ?? EventSegmentBuilder(kind: EventKind(rawValue: kind)!)
      builder.start(day: day)
      open[kind][day] = builder
    }
    if kind == 0 {
      lastView = (Unmanaged.passUnretained(builder), day)
    } else {
      lastClick = (Unmanaged.passUnretained(builder), day)
    }
    return builder
  }

  private func writeFullest() {
    var best: (kind: Int, day: Int64, rows: Int)?
    for kind in 0..<2 {
      for (day, builder) in open[kind] where builder.count > (best?.rows ?? 0) { best = (kind, day, builder.count) }
    }
    if let best { write(kind: best.kind, day: best.day) }
  }

  private func write(kind: Int, day: Int64) {
    guard let builder = open[kind].removeValue(forKey: day) else { return }
    if lastView?.builder.toOpaque() == Unmanaged.passUnretained(builder).toOpaque() { lastView = nil }
    if lastClick?.builder.toOpaque() == Unmanaged.passUnretained(builder).toOpaque() { lastClick = nil }
    openRows -= builder.count
    let wall = clock.now()
    let started = clock.cpuNow()
    let segment = builder.finish(scratch: &scratch, compressor: compressor)
    clock.addSeconds(IngestStep.compress.rawValue, clock.cpuNow() - started)
    clock.exclude(since: wall)
    spare[kind].append(builder)
    deliver(.segment(segment))
  }

  private func flushConversions() {
    guard conversions.count > 0 else { return }
    deliver(.conversions(conversions))
    conversions.removeAll()
  }

  private func flushRejects() {
    guard !rejects.isEmpty else { return }
    deliver(.rejects(rejects))
    rejects.removeAll(keepingCapacity: true)
  }

  private func deliver(_ piece: FilePiece) {
    guard !isStopped else { return }
    let waiting = clock.now()
    if !send(piece) { isStopped = true }
    clock.exclude(since: waiting)
  }
}
