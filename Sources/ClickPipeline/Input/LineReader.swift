#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Splits a decompressed stream into lines (LF or CRLF), numbering them from 1, with memory
/// bounded by ``maxLineBytes``: a longer line is reported as too long with its first KiB and the
/// rest is skipped without being held in memory (CONTRACT §1).
final class LineReader {
  /// A line longer than this (terminator excluded) is `line_too_long`.
  static let maxLineBytes = 1 << 20
  /// How much of a rejected line's raw text is kept.
  static let rawPrefixBytes = 1024

  enum Line {
    /// A complete line without its terminator; the bytes are valid only during the callback.
    case text(number: Int, bytes: UnsafeRawBufferPointer)
    /// The stream's last line, which has no terminating newline: complete (some exporters omit
    /// the final newline) or cut short by a writer that is not done yet. The reader cannot tell.
    case unterminated(number: Int, bytes: UnsafeRawBufferPointer)
    /// A line over the limit, with its first ``rawPrefixBytes`` bytes.
    case tooLong(number: Int, prefix: UnsafeRawBufferPointer)
  }

  private let stream: FileByteStream
  private let capacity: Int
  private let buffer: UnsafeMutableRawBufferPointer
  private static let readSize = 1 << 20

  init(stream: FileByteStream) {
    self.stream = stream
    capacity = LineReader.maxLineBytes + 2 + LineReader.readSize
    buffer = .allocate(byteCount: capacity, alignment: 16)
  }

  deinit { buffer.deallocate() }

  /// Whether to time the stream's reads (decompression) into ``readSeconds``.
  var timesReads = false
  /// Seconds spent in the stream's reads, when ``timesReads``.
  private(set) var readSeconds = 0.0

  /// Calls `body` for every line, in order. Throws what the stream throws.
  func forEachLine(_ body: (Line) -> Void) throws(InputError) {
    let clock = StepClock(steps: 0, enabled: timesReads)
    guard let base = buffer.baseAddress else { return }
    var start = 0  // first byte of the current line
    var filled = 0  // bytes in the buffer
    var scanned = 0  // no newline in start..<scanned
    var number = 0
    var skipping = false  // inside a line already reported too long
    var eof = false
    while true {
      // Emit every complete line in the buffer.
      while scanned < filled {
        guard let hit = memchr(base + scanned, 0x0A, filled - scanned) else {
          scanned = filled
          break
        }
        let p = base.distance(to: UnsafeMutableRawPointer(hit))
        if skipping {
          skipping = false
        } else {
          number += 1
          emit(number: number, from: start, to: p, terminated: true, body)
        }
        start = p + 1
        scanned = start
      }
      if eof {
        if start < filled && !skipping {
          number += 1
          emit(number: number, from: start, to: filled, terminated: false, body)
        }
        return
      }
      // A line that can no longer fit the limit: report it now, then skip to its end.
      if !skipping && filled - start > LineReader.maxLineBytes + 1 {
        number += 1
        body(.tooLong(number: number, prefix: UnsafeRawBufferPointer(start: base + start, count: LineReader.rawPrefixBytes)))
        skipping = true
      }
      if skipping {
        start = 0
        filled = 0
        scanned = 0
      } else if start > 0 {
        let keep = filled - start
        if keep > 0 { memmove(base, base + start, keep) }
        filled = keep
        scanned -= start
        start = 0
      }
      let room = min(capacity - filled, LineReader.readSize)
      let started = clock.cpuNow()
      let n = try stream.read(into: UnsafeMutableRawBufferPointer(start: base + filled, count: room))
      if timesReads { readSeconds += clock.cpuNow() - started }
      if n == 0 { eof = true }
      filled += n
    }
  }

  private func emit(number: Int, from: Int, to: Int, terminated: Bool, _ body: (Line) -> Void) {
    guard let base = buffer.baseAddress else { return }
    var end = to
    if end > from && base.load(fromByteOffset: end - 1, as: UInt8.self) == 0x0D { end -= 1 }
    let length = end - from
    if length > LineReader.maxLineBytes {
      body(.tooLong(number: number, prefix: UnsafeRawBufferPointer(start: base + from, count: LineReader.rawPrefixBytes)))
    } else {
      let bytes = UnsafeRawBufferPointer(start: base + from, count: length)
      body(terminated ? .text(number: number, bytes: bytes) : .unterminated(number: number, bytes: bytes))
    }
  }
}
