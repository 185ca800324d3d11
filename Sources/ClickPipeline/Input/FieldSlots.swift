/// What kind of value a line gave for a field. JSON `null` and the empty string are `absent`.
enum ValueKind: UInt8 {
  case absent, string, integer, number, boolean, composite
}

/// The known fields of one line, as byte ranges into the line (or into a scratch buffer when a
/// JSON string had escapes). Both scanners fill it (``FastJSONScanner`` for the common shape,
/// ``JSONLineScanner`` and ``CSVLineScanner`` for the rest) and ``EventValidator`` reads it, so
/// the contract's rules are applied in one place whatever the line's shape.
///
/// Reused from line to line on one thread: parsing allocates nothing. The ranges live in one
/// flat allocation, read without bounds checks (a field's index is its ``Field`` raw value).
final class FieldSlots {
  struct Range: Equatable {
    var start: Int32
    var length: Int32
    var kind: ValueKind
    var inScratch: Bool
  }

  private let ranges: UnsafeMutablePointer<Range>
  /// The line being parsed; valid only during one parse-and-validate call.
  private(set) var line = UnsafeRawBufferPointer(start: nil, count: 0)
  private let scratch: UnsafeMutableRawBufferPointer
  private var scratchUsed = 0

  init() {
    ranges = .allocate(capacity: Field.count)
    ranges.initialize(repeating: Range(start: 0, length: 0, kind: .absent, inScratch: false), count: Field.count)
    scratch = .allocate(byteCount: LineReader.maxLineBytes + 16, alignment: 8)
  }

  deinit {
    ranges.deallocate()
    scratch.deallocate()
  }

  @inline(__always)
  func reset(line: UnsafeRawBufferPointer) {
    self.line = line
    scratchUsed = 0
    for i in 0..<Field.count { ranges[i].kind = .absent }
  }

  @inline(__always)
  subscript(field: Field) -> ValueKind { ranges[field.rawValue].kind }

  /// The recorded range of `field` (for comparing two scanners' results).
  func range(_ field: Field) -> Range { ranges[field.rawValue] }

  /// Records a value lying in the line at `start..<start+length`.
  @inline(__always)
  func set(_ field: Field, _ kind: ValueKind, start: Int, length: Int) {
    ranges[field.rawValue] = Range(
      start: Int32(truncatingIfNeeded: start), length: Int32(truncatingIfNeeded: length),
      kind: (kind == .string && length == 0) ? .absent : kind, inScratch: false)
  }

  /// Starts a decoded string in the scratch buffer; returns its offset there.
  func beginScratch() -> Int { scratchUsed }

  /// Appends decoded bytes to the scratch buffer (a decoded string is never longer than its source).
  @inline(__always)
  func appendScratch(_ byte: UInt8) {
    scratch[scratchUsed] = byte
    scratchUsed += 1
  }

  func setScratch(_ field: Field, start: Int) {
    let length = scratchUsed - start
    ranges[field.rawValue] = Range(
      start: Int32(start), length: Int32(length), kind: length == 0 ? .absent : .string, inScratch: true)
  }

  /// The value's bytes; valid while the line is.
  @inline(__always)
  func bytes(_ field: Field) -> UnsafeRawBufferPointer {
    let r = ranges[field.rawValue]
    let base = r.inScratch ? UnsafeRawPointer(scratch.baseAddress!) : line.baseAddress!
    return UnsafeRawBufferPointer(start: base + Int(r.start), count: Int(r.length))
  }

  func string(_ field: Field) -> String {
    String(decoding: bytes(field), as: UTF8.self)
  }
}
