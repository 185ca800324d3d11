/// Scans CSV rows (RFC 4180: `,` separator, `"` quoting, `""` escape, no line breaks inside a
/// quoted field). Columns carry the NDJSON field names; unknown columns are ignored and an empty
/// cell means absent.
struct CSVLineScanner {
  /// The field of each column, from the header row; `nil` for columns we ignore.
  let columns: [Field?]

  init(columns: [Field?]) {
    self.columns = columns
  }

  /// Reads the header row; `nil` when the row itself is not valid CSV.
  init?(header: UnsafeRawBufferPointer) {
    var names: [Field?] = []
    let ok = CSVLineScanner.cells(of: header) { start, end, quoted in
      let raw = UnsafeRawBufferPointer(rebasing: header[start..<end])
      if quoted {
        let unescaped = CSVLineScanner.unescape(raw)
        names.append(unescaped.withUnsafeBytes { Field.named($0) })
      } else {
        names.append(Field.named(raw))
      }
    }
    guard ok else { return nil }
    columns = names
  }

  /// Parses one data row into `slots`; `false` when malformed or the cell count differs from the header.
  func scan(_ line: UnsafeRawBufferPointer, into slots: FieldSlots) -> Bool {
    slots.reset(line: line)
    var column = 0
    let ok = CSVLineScanner.cells(of: line) { start, end, quoted in
      defer { column += 1 }
      guard column < columns.count, let field = columns[column] else { return }
      if quoted && line[start..<end].contains(UInt8(ascii: "\"")) {
        let out = slots.beginScratch()
        var p = start
        while p < end {
          slots.appendScratch(line[p])
          p += line[p] == UInt8(ascii: "\"") ? 2 : 1
        }
        slots.setScratch(field, start: out)
      } else {
        slots.set(field, .string, start: start, length: end - start)
      }
    }
    return ok && column == columns.count
  }

  /// Calls `cell(start, end, quoted)` for each cell (the range excludes the quotes); `false` on
  /// a stray quote or an unterminated quoted cell.
  static func cells(
    of b: UnsafeRawBufferPointer, _ cell: (Int, Int, Bool) -> Void
  ) -> Bool {
    var i = 0
    let n = b.count
    while true {
      if i < n, b[i] == UInt8(ascii: "\"") {
        let start = i + 1
        i = start
        while true {
          guard i < n else { return false }
          if b[i] == UInt8(ascii: "\"") {
            if i + 1 < n, b[i + 1] == UInt8(ascii: "\"") {
              i += 2
              continue
            }
            break
          }
          i += 1
        }
        cell(start, i, true)
        i += 1
        if i == n { return true }
        guard b[i] == UInt8(ascii: ",") else { return false }
        i += 1
      } else {
        let start = i
        while i < n, b[i] != UInt8(ascii: ",") {
          if b[i] == UInt8(ascii: "\"") { return false }
          i += 1
        }
        cell(start, i, false)
        if i == n { return true }
        i += 1
      }
    }
  }

  static func unescape(_ raw: UnsafeRawBufferPointer) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(raw.count)
    var p = 0
    while p < raw.count {
      out.append(raw[p])
      p += raw[p] == UInt8(ascii: "\"") ? 2 : 1
    }
    return out
  }
}
