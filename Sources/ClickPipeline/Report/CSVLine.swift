/// One line of a report CSV, built in a reused byte buffer: cells are appended from bytes
/// (SQLite's column buffers), strings or integers, without a `String` per cell.
///
/// A text cell that a spreadsheet would run as a formula (it begins with `=`, `+`, `-`, `@`,
/// a tab or a carriage return) gets a leading `'`, as OWASP recommends for CSV injection:
/// finance opens these files in Excel. A cell holding `,`, `"`, CR or LF is quoted (RFC 4180).
/// Money and counts are written as plain integers and stay numbers.
struct CSVLine {
  private(set) var bytes: [UInt8] = []
  private var cells = 0

  init() { bytes.reserveCapacity(256) }

  /// Starts the next line.
  mutating func reset() {
    bytes.removeAll(keepingCapacity: true)
    cells = 0
  }

  mutating func text(_ cell: UnsafeRawBufferPointer) {
    separate()
    let quoted = cell.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D }
    if quoted { bytes.append(UInt8(ascii: "\"")) }
    if let first = cell.first, Self.formulaStarts.contains(first) { bytes.append(UInt8(ascii: "'")) }
    guard quoted else {
      bytes.append(contentsOf: cell)
      return
    }
    for byte in cell {
      bytes.append(byte)
      if byte == UInt8(ascii: "\"") { bytes.append(byte) }
    }
    bytes.append(UInt8(ascii: "\""))
  }

  mutating func text(_ cell: String) {
    var cell = cell
    cell.withUTF8 { text(UnsafeRawBufferPointer($0)) }
  }

  mutating func int(_ value: Int64) {
    separate()
    if value < 0 { bytes.append(UInt8(ascii: "-")) }
    DecimalDigits(value.magnitude).withBytes { bytes.append(contentsOf: $0) }
  }

  /// Ends the line with LF.
  mutating func finish() { bytes.append(0x0A) }

  private mutating func separate() {
    if cells > 0 { bytes.append(UInt8(ascii: ",")) }
    cells += 1
  }

  private static let formulaStarts: [UInt8] = [
    UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "@"), 0x09, 0x0D,
  ]

  /// `text` as one CSV cell, neutralised and quoted as above.
  static func cell(_ text: String) -> String {
    var line = CSVLine()
    line.text(text)
    return String(decoding: line.bytes, as: UTF8.self)
  }
}
