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
    var lines = ["| " + header.joined(separator: " | ") + " |"]
    lines.append("|" + header.indices.map { alignRight.contains($0) ? " ---: |" : " --- |" }.joined())
    for row in rows { lines.append("| " + row.joined(separator: " | ") + " |") }
    return lines.joined(separator: "\n") + "\n"
  }

  /// `$1,234.56` from cents (USD), exact.
  public static func usd(_ cents: Int64) -> String {
    let negative = cents < 0
    let magnitude = cents.magnitude
    let dollars = magnitude / 100
    let rest = magnitude % 100
    return (negative ? "-$" : "$") + groupDigits(String(dollars)) + "." + (rest < 10 ? "0" : "") + String(rest)
  }

  /// `1,234,567`.
  public static func count(_ value: Int64) -> String {
    (value < 0 ? "-" : "") + groupDigits(String(value.magnitude))
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

  static func groupDigits(_ digits: String) -> String {
    let bytes = Array(digits.utf8)
    guard bytes.count > 3 else { return digits }
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count + bytes.count / 3)
    for (index, b) in bytes.enumerated() {
      if index > 0 && (bytes.count - index) % 3 == 0 { out.append(UInt8(ascii: ",")) }
      out.append(b)
    }
    return String(decoding: out, as: UTF8.self)
  }
}
