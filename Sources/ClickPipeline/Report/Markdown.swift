/// Small, deterministic Markdown helpers: escaping, tables, money and rates.
public enum Markdown {
  /// Escapes text for a GFM table cell or a paragraph: Markdown punctuation gets a backslash,
  /// `|` cannot end the cell, and line breaks become spaces. Works on UTF-8 bytes, so a
  /// combining mark after `|` or a CR LF pair (one `Character` each) is still caught.
  public static func escape(_ text: String) -> String {
    guard text.utf8.contains(where: { $0 < 0x80 && escapeClass[Int($0)] != 0 }) else { return text }
    var out: [UInt8] = []
    out.reserveCapacity(text.utf8.count + 8)
    for b in text.utf8 {
      switch b < 0x80 ? escapeClass[Int(b)] : 0 {
      case 1:
        out.append(UInt8(ascii: "\\"))
        out.append(b)
      case 2: out.append(UInt8(ascii: " "))
      default: out.append(b)
      }
    }
    return String(decoding: out, as: UTF8.self)
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
    var out = ""
    out.reserveCapacity(64 * (rows.count + 2))
    func line(_ cells: [String]) {
      out += "| "
      for (index, cell) in cells.enumerated() {
        if index > 0 { out += " | " }
        out += cell
      }
      out += " |\n"
    }
    line(header)
    out += "|"
    for index in header.indices { out += alignRight.contains(index) ? " ---: |" : " --- |" }
    out += "\n"
    for row in rows { line(row) }
    return out
  }

  /// `$1,234.56` from cents (USD), exact.
  public static func usd(_ cents: Int64) -> String {
    grouped(cents.magnitude / 100, prefix: cents < 0 ? "-$" : "$", cents: Int(cents.magnitude % 100))
  }

  /// `1,234,567`.
  public static func count(_ value: Int64) -> String {
    grouped(value.magnitude, prefix: value < 0 ? "-" : "", cents: nil)
  }

  /// `prefix`, `value`'s digits in groups of three joined by commas, and `.` with two digits
  /// of `cents` if given, written once into the string's own storage (these are most of the
  /// statements' cells).
  private static func grouped(_ value: UInt64, prefix: StaticString, cents: Int?) -> String {
    let digits = DecimalDigits(value)
    let count = digits.count
    let length = prefix.utf8CodeUnitCount + count + (count - 1) / 3 + (cents == nil ? 0 : 3)
    return String(unsafeUninitializedCapacity: length) { out in
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
