/// Small, deterministic Markdown helpers: escaping, tables, money and rates.
public enum Markdown {
  /// Escapes text for a GFM table cell or a paragraph: Markdown punctuation gets a backslash,
  /// `|` cannot end the cell, and line breaks become spaces.
  public static func escape(_ text: String) -> String {
    var out = ""
    for c in text {
      switch c {
      case "\\", "`", "*", "_", "[", "]", "<", ">", "|", "#", "~", "$":
        out.append("\\")
        out.append(c)
      case "\n", "\r", "\t": out.append(" ")
      default: out.append(c)
      }
    }
    return out
  }

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
    var out = ""
    for (index, c) in digits.enumerated() {
      if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
      out.append(c)
    }
    return out
  }
}
