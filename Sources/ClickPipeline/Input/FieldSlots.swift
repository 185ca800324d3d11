/// What kind of value a line gave for a field. JSON `null` and the empty string are `absent`.
enum ValueKind: UInt8 {
  case absent, string, integer, number, boolean, composite
}

/// The known fields of one line, as byte ranges into the line (or into a scratch buffer when a
/// JSON string had escapes). Reused from line to line so parsing allocates nothing.
final class FieldSlots {
  private(set) var kinds = [ValueKind](repeating: .absent, count: Field.allCases.count)
  private var starts = [Int](repeating: 0, count: Field.allCases.count)
  private var lengths = [Int](repeating: 0, count: Field.allCases.count)
  private var inScratch = [Bool](repeating: false, count: Field.allCases.count)
  /// The line being parsed; valid only during one parse-and-validate call.
  var line = UnsafeRawBufferPointer(start: nil, count: 0)
  private var scratch: UnsafeMutableRawBufferPointer
  private var scratchUsed = 0

  init() {
    scratch = .allocate(byteCount: LineReader.maxLineBytes + 16, alignment: 8)
  }

  deinit { scratch.deallocate() }

  func reset(line: UnsafeRawBufferPointer) {
    self.line = line
    scratchUsed = 0
    for i in 0..<kinds.count { kinds[i] = .absent }
  }

  subscript(field: Field) -> ValueKind { kinds[field.rawValue] }

  /// Records a value lying in the line at `start..<start+length`.
  func set(_ field: Field, _ kind: ValueKind, start: Int, length: Int) {
    let i = field.rawValue
    kinds[i] = (kind == .string && length == 0) ? .absent : kind
    starts[i] = start
    lengths[i] = length
    inScratch[i] = false
  }

  /// Starts a decoded string in the scratch buffer; returns its offset there.
  func beginScratch() -> Int { scratchUsed }

  /// Appends decoded bytes to the scratch buffer (a decoded string is never longer than its source).
  func appendScratch(_ byte: UInt8) {
    scratch[scratchUsed] = byte
    scratchUsed += 1
  }

  func setScratch(_ field: Field, start: Int) {
    let i = field.rawValue
    let length = scratchUsed - start
    kinds[i] = length == 0 ? .absent : .string
    starts[i] = start
    lengths[i] = length
    inScratch[i] = true
  }

  func bytes(_ field: Field) -> UnsafeRawBufferPointer {
    let i = field.rawValue
    if inScratch[i] {
      return UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(scratch)[starts[i]..<(starts[i] + lengths[i])])
    }
    return UnsafeRawBufferPointer(rebasing: line[starts[i]..<(starts[i] + lengths[i])])
  }

  func string(_ field: Field) -> String {
    String(decoding: bytes(field), as: UTF8.self)
  }
}
