/// Reads the sorted runs of a ``SpoolFile`` back as one sequence in key order: each run through
/// its own small buffer, the next record chosen by a heap of the runs' current records
/// (``IndexHeap``).
/// Memory follows the number of runs, not their size, so a day's `orders` and `daily_metrics`
/// rows reach the writer in primary-key order (the B-tree is appended to) without being in
/// memory at once.
struct SortedRunMerge {
  /// One run being read: its buffer, the current record's place in it, and what is left.
  private struct Cursor {
    var buffer: [UInt8]
    var start = 0
    var filled = 0
    var record = 0..<0
    var next: Int
    var end: Int
  }

  private let file: SpoolFile?
  private let precedes: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Bool
  private var cursors: [Cursor]
  private var heap = IndexHeap()

  /// Bytes read from a run at a time (a larger record grows its buffer).
  static let bufferBytes = 64 << 10

  /// `precedes(a, b)`: record `a` comes before `b`. Each run must already be in that order.
  init(
    file: SpoolFile?, runs: [SpoolFile.Run], precedes: @escaping (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Bool
  ) {
    self.file = file
    self.precedes = precedes
    cursors = runs.map { Cursor(buffer: [UInt8](repeating: 0, count: Self.bufferBytes), next: $0.offset, end: $0.offset + $0.length) }
  }

  /// Calls `body` with each record of every run, in key order (a run's records in their order
  /// when keys are equal). The bytes are valid only during the call.
  mutating func forEach(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
    for run in cursors.indices where try advance(run) { heap.push(run, by: before) }
    while let run = heap.first {
      try cursors[run].buffer.withUnsafeBytes { bytes in
        try body(UnsafeRawBufferPointer(rebasing: bytes[cursors[run].record]))
      }
      if try advance(run) {
        heap.firstMoved(by: before)
      } else {
        heap.removeFirst(by: before)
      }
    }
  }

  /// Moves run `run` to its next record; `false` at its end.
  private mutating func advance(_ run: Int) throws -> Bool {
    var c = cursors[run]
    cursors[run].buffer = []  // `c` then holds the only reference: refilling copies nothing
    defer { cursors[run] = c }
    c.start = c.record.upperBound
    if c.filled - c.start < 4 || c.filled - c.start < 4 + length(c, at: c.start) {
      // Move what is left to the front and read more.
      let left = c.filled - c.start
      if left > 0 { c.buffer.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[c.start..<c.filled])) } }
      c.start = 0
      c.filled = left
      let needed = left >= 4 ? 4 + length(c, at: 0) : 4
      if needed > c.buffer.count { c.buffer += [UInt8](repeating: 0, count: needed - c.buffer.count) }
      let want = min(c.buffer.count - c.filled, c.end - c.next)
      if want > 0 {
        try c.buffer.withUnsafeMutableBytes { bytes in
          try file!.read(at: c.next, into: UnsafeMutableRawBufferPointer(rebasing: bytes[c.filled..<c.filled + want]))
        }
        c.next += want
        c.filled += want
      }
      if c.filled == 0 { return false }
      if c.filled < 4 || c.filled < 4 + length(c, at: 0) {
        // A record longer than the buffer: grow it and read the rest.
        let needed = 4 + length(c, at: 0)
        precondition(c.filled >= 4 && needed - c.filled <= c.end - c.next, "a spooled run ends inside a record")
        c.buffer += [UInt8](repeating: 0, count: needed - c.buffer.count)
        let rest = needed - c.filled
        try c.buffer.withUnsafeMutableBytes { bytes in
          try file!.read(at: c.next, into: UnsafeMutableRawBufferPointer(rebasing: bytes[c.filled..<needed]))
        }
        c.next += rest
        c.filled += rest
      }
    }
    c.record = (c.start + 4)..<(c.start + 4 + length(c, at: c.start))
    return true
  }

  private func length(_ c: Cursor, at offset: Int) -> Int {
    c.buffer.withUnsafeBytes { Int(UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: UInt32.self))) }
  }

  /// Run `a`'s record comes before run `b`'s (ties: the earlier run).
  private func before(_ a: Int, _ b: Int) -> Bool {
    cursors[a].buffer.withUnsafeBytes { x in
      cursors[b].buffer.withUnsafeBytes { y in
        let ra = UnsafeRawBufferPointer(rebasing: x[cursors[a].record])
        let rb = UnsafeRawBufferPointer(rebasing: y[cursors[b].record])
        return precedes(ra, rb) || (!precedes(rb, ra) && a < b)
      }
    }
  }
}
