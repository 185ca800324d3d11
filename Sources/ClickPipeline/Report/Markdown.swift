/// Small, deterministic Markdown helpers: escaping, tables, money and rates.
public enum Markdown {
  /// Escapes text for a GFM table cell or a paragraph: Markdown punctuation gets a backslash,
  /// `|` cannot end the cell, and line breaks become spaces. Works on UTF-8 bytes, so a
  /// combining mark after `|` or a CR LF pair (one `Character` each) is still caught.
  public static func escape(_ text: String) -> String {
    guard needsEscaping(text) else { return text }
    var out: [UInt8] = []
    out.reserveCapacity(text.utf8.count + 8)
    appendEscaped(text, to: &out)
    return String(decoding: out, as: UTF8.self)
  }

  /// Whether ``escape(_:)`` changes `text`.
  @inline(__always)
  static func needsEscaping(_ text: String) -> Bool {
    text.utf8.contains(where: { $0 < 0x80 && escapeClass[Int($0)] != 0 })
  }

  /// Appends `text` escaped as ``escape(_:)`` does.
  static func appendEscaped(_ text: String, to out: inout [UInt8]) {
    for b in text.utf8 {
      switch b < 0x80 ? escapeClass[Int(b)] : 0 {
      case 1:
        out.append(UInt8(ascii: "\\"))
        out.append(b)
      case 2: out.append(UInt8(ascii: " "))
      default: out.append(b)
      }
    }
  }

  /// For each ASCII byte: 1 if ``escape(_:)`` puts a backslash before it, 2 if it becomes a space.
  private static let escapeClass: [UInt8] = {
    var table = [UInt8](repeating: 0, count: 128)
    for c in "\\`*_[]<>|#~$".utf8 { table[Int(c)] = 1 }
    for c in "\n\r\t".utf8 { table[Int(c)] = 2 }
    return table
  }()

  /// Inline code for ids (backticks inside are replaced, the id is escaped for tables).
  public static func code(_ text: String) -> String {
    if text.isEmpty { return "—" }
    return escape(text)
  }

  /// A GFM table; `alignRight` marks numeric columns.
  public static func table(_ header: [String], _ rows: [[String]], alignRight: Set<Int> = []) -> String {
    var out = tableHead(header, alignRight: alignRight)
    out.reserveCapacity(out.utf8.count + 64 * rows.count)
    for row in rows {
      out += "| "
      for (index, cell) in row.enumerated() {
        if index > 0 { out += " | " }
        out += cell
      }
      out += " |\n"
    }
    return out
  }

  /// A table's header line and alignment line.
  static func tableHead(_ header: [String], alignRight: Set<Int> = []) -> String {
    var out = "| " + header.joined(separator: " | ") + " |\n|"
    for index in header.indices { out += alignRight.contains(index) ? " ---: |" : " --- |" }
    return out + "\n"
  }

  /// `$1,234.56` from cents (USD), exact.
  public static func usd(_ cents: Int64) -> String {
    String(unsafeUninitializedCapacity: maxGroupedLength) { writeUSD(cents, to: $0) }
  }

  /// `1,234,567`.
  public static func count(_ value: Int64) -> String {
    String(unsafeUninitializedCapacity: maxGroupedLength) { writeCount(value, to: $0) }
  }

  /// The longest ``usd(_:)`` or ``count(_:)``: `-$92,233,720,368,547,758.08`.
  static let maxGroupedLength = 32

  /// Writes ``usd(_:)``'s text at the start of `out` (``maxGroupedLength`` bytes at least);
  /// returns its length.
  @inline(__always)
  static func writeUSD(_ cents: Int64, to out: UnsafeMutableBufferPointer<UInt8>) -> Int {
    writeGrouped(cents.magnitude / 100, prefix: cents < 0 ? "-$" : "$", cents: Int(cents.magnitude % 100), to: out)
  }

  /// Writes ``count(_:)``'s text at the start of `out`; returns its length.
  @inline(__always)
  static func writeCount(_ value: Int64, to out: UnsafeMutableBufferPointer<UInt8>) -> Int {
    writeGrouped(value.magnitude, prefix: value < 0 ? "-" : "", cents: nil, to: out)
  }

  /// `prefix`, `value`'s digits in groups of three joined by commas, and `.` with two digits
  /// of `cents` if given (these are most of the statements' cells).
  private static func writeGrouped(_ value: UInt64, prefix: StaticString, cents: Int?, to out: UnsafeMutableBufferPointer<UInt8>)
    -> Int
  {
    let digits = DecimalDigits(value)
    let count = digits.count
    var at = 0
    for k in 0..<prefix.utf8CodeUnitCount {
      out[at] = prefix.utf8Start[k]
      at += 1
    }
    digits.withBytes { digits in
      for k in 0..<count {
        if k > 0 && (count - k) % 3 == 0 {
          out[at] = UInt8(ascii: ",")
          at += 1
        }
        out[at] = digits[k]
        at += 1
      }
    }
    if let cents {
      out[at] = UInt8(ascii: ".")
      out[at + 1] = UInt8(ascii: "0") + UInt8(cents / 10)
      out[at + 2] = UInt8(ascii: "0") + UInt8(cents % 10)
      at += 3
    }
    return at
  }

  /// `numerator / denominator` as a percentage with two decimals, rounded half to even; `—` if undefined.
  public static func percent(_ numerator: Int64, _ denominator: Int64) -> String {
    guard denominator > 0 else { return "—" }
    let hundredths = roundedDivision(Int128(numerator) * 10_000, Int128(denominator))
    let whole = hundredths / 100
    let fraction = hundredths % 100
    return "\(whole).\(fraction < 10 ? "0" : "")\(fraction)%"
  }

  static func roundedDivision(_ a: Int128, _ b: Int128) -> Int128 {
    let q = a / b
    let r = a % b
    if 2 * r > b || (2 * r == b && q % 2 == 1) { return q + 1 }
    return q
  }

}
