/// A Markdown document built as UTF-8 bytes in one buffer that is reused from document to
/// document: a statement's hundreds of table cells are written in place, not made into a
/// `String` each and joined. The text is that of ``Markdown``'s helpers.
///
/// ```swift
/// var text = MarkdownText()
/// text.append("| ")
/// text.usd(123_456)       // "$1,234.56"
/// text.append(" |\n")
/// ```
struct MarkdownText {
  private(set) var bytes: [UInt8] = []
  /// Cells written in the current table row (``beginRow()``).
  private var cells = 0

  /// Forgets the text, keeping the memory.
  mutating func removeAll() { bytes.removeAll(keepingCapacity: true) }

  mutating func append(_ text: StaticString) {
    text.withUTF8Buffer { bytes.append(contentsOf: $0) }
  }

  mutating func append(_ text: String) {
    bytes.append(contentsOf: text.utf8)
  }

  /// `text` escaped (``Markdown/escape(_:)``).
  mutating func escaped(_ text: String) {
    if Markdown.needsEscaping(text) { Markdown.appendEscaped(text, to: &bytes) } else { append(text) }
  }

  /// An id (``Markdown/code(_:)``): `—` when empty, else escaped.
  mutating func code(_ text: String) {
    if text.isEmpty { append("—") } else { escaped(text) }
  }

  /// Cents as ``Markdown/usd(_:)`` writes them.
  mutating func usd(_ cents: Int64) { grouped { Markdown.writeUSD(cents, to: $0) } }

  /// A count as ``Markdown/count(_:)`` writes it.
  mutating func count(_ value: Int64) { grouped { Markdown.writeCount(value, to: $0) } }

  private mutating func grouped(_ write: (UnsafeMutableBufferPointer<UInt8>) -> Int) {
    var scratch = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
    withUnsafeMutableBytes(of: &scratch) { raw in
      let out = raw.bindMemory(to: UInt8.self)
      precondition(out.count >= Markdown.maxGroupedLength)
      bytes.append(contentsOf: UnsafeBufferPointer(rebasing: out[..<write(out)]))
    }
  }

  /// One cell per value, written as ``count(_:)`` writes it.
  mutating func countCells(_ values: Int64...) {
    for value in values {
      cell()
      count(value)
    }
  }

  /// One cell per amount of cents, written as ``usd(_:)`` writes it.
  mutating func usdCells(_ amounts: Int64...) {
    for cents in amounts {
      cell()
      usd(cents)
    }
  }

  /// Starts a table row: each of its cells is written after a call to ``cell()``.
  mutating func beginRow() {
    append("| ")
    cells = 0
  }

  /// Starts the next cell of the row.
  mutating func cell() {
    if cells > 0 { append(" | ") }
    cells += 1
  }

  mutating func endRow() { append(" |\n") }
}
