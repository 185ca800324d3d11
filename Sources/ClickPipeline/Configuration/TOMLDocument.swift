/// A strict parser for the TOML subset a ClickPipeline configuration needs, written by hand so
/// that floats keep their exact source text (`0.045` stays the text "0.045", never a `Double`).
///
/// Supported: `#` comments, bare / quoted / dotted keys, `[table]` headers, basic strings with
/// the TOML 1.0 escapes, literal strings, decimal integers (`Int64`, `_` separators), floats,
/// booleans, and arrays (multi-line, trailing comma, comments inside, mixed element types
/// allowed as in TOML 1.0). Everything else — multi-line strings, dates and times, inline
/// tables, arrays of tables, hex/octal/binary integers, `inf`/`nan` — is an error naming the
/// line, as are duplicate keys and redefined tables. Array nesting and dotted-key length are
/// bounded, so hostile input cannot exhaust the stack.
struct TOMLDocument: Sendable, Equatable {
  /// The top-level table.
  var root: TOMLTable

  /// The deepest accepted nesting of arrays.
  static let maxArrayDepth = 32
  /// The most parts a dotted key or table header may have.
  static let maxKeyParts = 32

  init(parsing text: String) throws(TOMLError) {
    var parser = TOMLParser(bytes: Array(text.utf8))
    root = try parser.parseDocument()
  }

  /// Renders a key path as TOML would spell it: `commission.amazon_categories."home & garden"`.
  static func keyPath(_ parts: some Sequence<String>) -> String {
    parts.map { part in
      !part.isEmpty && part.utf8.allSatisfy(TOMLParser.isBare) ? part : quoted(part)
    }.joined(separator: ".")
  }

  /// `text` as a TOML basic string, control characters escaped.
  static func quoted(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\t": out += "\\t"
      case "\r": out += "\\r"
      case _ where scalar.value < 0x20 || scalar.value == 0x7F:
        let hex = String(scalar.value, radix: 16, uppercase: true)
        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out + "\""
  }
}

/// A TOML syntax error, or a construct outside the supported subset, at a 1-based line.
struct TOMLError: Error, Equatable, Sendable {
  var line: Int
  var message: String
}

/// A TOML value with the 1-based line where it starts (for a table: its header, or the first
/// key that created it).
struct TOMLValue: Sendable, Equatable {
  enum Kind: Sendable, Equatable {
    case string(String)
    case integer(Int64)
    /// The float exactly as written, underscores removed: `0.045`, `1e-3`, `+2.5E2`.
    case float(String)
    case boolean(Bool)
    case array([TOMLValue])
    case table(TOMLTable)
  }
  var kind: Kind
  var line: Int
}

/// A TOML table: its keys in order of definition, and their values.
struct TOMLTable: Sendable, Equatable {
  private(set) var keys: [String] = []
  private(set) var values: [String: TOMLValue] = [:]

  subscript(key: String) -> TOMLValue? { values[key] }

  /// The entries in order of definition.
  var entries: [(key: String, value: TOMLValue)] {
    keys.compactMap { key in values[key].map { (key, $0) } }
  }

  mutating func insert(_ key: String, _ value: TOMLValue) {
    if values.updateValue(value, forKey: key) == nil { keys.append(key) }
  }
}

private struct TOMLParser {
  /// A table under construction; `origin` enforces TOML's rules on redefinition.
  struct Node {
    enum Origin { case implicit, header, dotted }
    enum Child {
      case table(Int)
      case value(TOMLValue)
    }
    var origin: Origin
    var line: Int
    var keys: [String] = []
    var children: [String: Child] = [:]
  }

  let bytes: [UInt8]
  var pos = 0
  var line = 1
  var nodes = [Node(origin: .header, line: 1)]
  var current = 0
  var currentPath: [String] = []

  init(bytes: [UInt8]) { self.bytes = bytes }

  static func isBare(_ c: UInt8) -> Bool {
    (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || isDigit(c) || c == 0x5F || c == 0x2D
  }
  static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

  func peek(_ offset: Int = 0) -> UInt8? { pos + offset < bytes.count ? bytes[pos + offset] : nil }
  func error(_ message: String) -> TOMLError { TOMLError(line: line, message: message) }
  func describe(_ c: UInt8) -> String {
    c >= 0x21 && c < 0x7F ? "'\(Character(Unicode.Scalar(c)))'" : "byte 0x\(String(c, radix: 16, uppercase: true))"
  }

  mutating func parseDocument() throws(TOMLError) -> TOMLTable {
    if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { pos = 3 }
    while true {
      skipSpaces()
      guard let c = peek() else { break }
      switch c {
      case UInt8(ascii: "#"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): break
      case UInt8(ascii: "["): try parseHeader()
      default: try parseKeyValue()
      }
      try endOfLine()
    }
    return build(0)
  }

  mutating func skipSpaces() {
    while let c = peek(), c == 0x20 || c == 0x09 { pos += 1 }
  }

  /// Skips a comment, if any, up to (not over) the end of the line.
  mutating func skipComment() throws(TOMLError) {
    guard peek() == UInt8(ascii: "#") else { return }
    while let c = peek(), c != UInt8(ascii: "\n") {
      if c == UInt8(ascii: "\r") { return }  // newline() accepts only CR LF
      if (c < 0x20 && c != 0x09) || c == 0x7F { throw error("control character (\(describe(c))) in a comment") }
      pos += 1
    }
  }

  /// Consumes a line break, if one is next; `false` when something else is next.
  mutating func newline() throws(TOMLError) -> Bool {
    if peek() == UInt8(ascii: "\n") {
      pos += 1
    } else if peek() == UInt8(ascii: "\r") {
      guard peek(1) == UInt8(ascii: "\n") else { throw error("carriage return without a line feed") }
      pos += 2
    } else {
      return false
    }
    line += 1
    return true
  }

  mutating func endOfLine() throws(TOMLError) {
    skipSpaces()
    try skipComment()
    guard try newline() || peek() == nil else {
      throw error("unexpected text after the end of the entry; put each entry on its own line")
    }
  }

  /// Skips spaces, comments and line breaks (inside arrays).
  mutating func skipBlank() throws(TOMLError) {
    repeat {
      skipSpaces()
      try skipComment()
    } while try newline()
  }

  mutating func parseHeader() throws(TOMLError) {
    pos += 1
    if peek() == UInt8(ascii: "[") {
      throw error("arrays of tables ([[...]]) are not supported; use one [table] per setting group")
    }
    let path = try parseKey()
    guard peek() == UInt8(ascii: "]") else { throw error("expected ']' to close the table header") }
    pos += 1
    var node = 0
    for (i, part) in path.enumerated() {
      let isLast = i == path.count - 1
      switch nodes[node].children[part] {
      case nil:
        node = addTable(part, under: node, origin: isLast ? .header : .implicit)
      case .value(let value)?:
        let name = TOMLDocument.keyPath(path[...i])
        throw error("key '\(name)' is already defined on line \(value.line) as a value, not a table")
      case .table(let child)?:
        if isLast {
          guard nodes[child].origin == .implicit else {
            let name = TOMLDocument.keyPath(path)
            throw error("table [\(name)] is already defined on line \(nodes[child].line)")
          }
          nodes[child].origin = .header
          nodes[child].line = line
        }
        node = child
      }
    }
    current = node
    currentPath = path
  }

  mutating func addTable(_ key: String, under parent: Int, origin: Node.Origin) -> Int {
    nodes.append(Node(origin: origin, line: line))
    nodes[parent].keys.append(key)
    nodes[parent].children[key] = .table(nodes.count - 1)
    return nodes.count - 1
  }

  mutating func parseKeyValue() throws(TOMLError) {
    let key = try parseKey()
    var node = current
    for (i, part) in key.dropLast().enumerated() {
      switch nodes[node].children[part] {
      case nil:
        node = addTable(part, under: node, origin: .dotted)
      case .table(let child)? where nodes[child].origin == .dotted:
        node = child
      case .table(let child)?:
        let name = TOMLDocument.keyPath(currentPath + key[...i])
        throw error(
          "table [\(name)] is already defined on line \(nodes[child].line); set '\(TOMLDocument.keyPath(key[(i + 1)...]))' under that header instead"
        )
      case .value(let existing)?:
        let name = TOMLDocument.keyPath(currentPath + key[...i])
        throw error("key '\(name)' is already defined on line \(existing.line) as a value, not a table")
      }
    }
    let last = key[key.count - 1]
    if let existing = nodes[node].children[last] {
      let definedOn: Int
      switch existing {
      case .table(let child): definedOn = nodes[child].line
      case .value(let value): definedOn = value.line
      }
      throw error("key '\(TOMLDocument.keyPath(currentPath + key))' is already defined on line \(definedOn)")
    }
    guard peek() == UInt8(ascii: "=") else {
      throw error("expected '=' after the key '\(TOMLDocument.keyPath(key))'")
    }
    pos += 1
    skipSpaces()
    let value = try parseValue(depth: 0)
    nodes[node].keys.append(last)
    nodes[node].children[last] = .value(value)
  }

  /// Parses `simple-key ( . simple-key )*`, with the spaces around it.
  mutating func parseKey() throws(TOMLError) -> [String] {
    var parts: [String] = []
    while true {
      skipSpaces()
      parts.append(try parseSimpleKey())
      guard parts.count <= TOMLDocument.maxKeyParts else {
        throw error("key has more than \(TOMLDocument.maxKeyParts) dotted parts")
      }
      skipSpaces()
      guard peek() == UInt8(ascii: ".") else { return parts }
      pos += 1
    }
  }

  mutating func parseSimpleKey() throws(TOMLError) -> String {
    switch peek() {
    case UInt8(ascii: "\"")?: return try parseBasicString()
    case UInt8(ascii: "'")?: return try parseLiteralString()
    default:
      let start = pos
      while let c = peek(), TOMLParser.isBare(c) { pos += 1 }
      guard pos > start else {
        let found = peek().map(describe) ?? "the end of the file"
        throw error("expected a key (letters, digits, '_', '-', or a quoted string), found \(found)")
      }
      return String(decoding: bytes[start..<pos], as: UTF8.self)
    }
  }

  mutating func parseValue(depth: Int) throws(TOMLError) -> TOMLValue {
    let startLine = line
    switch peek() {
    case UInt8(ascii: "\"")?: return TOMLValue(kind: .string(try parseBasicString()), line: startLine)
    case UInt8(ascii: "'")?: return TOMLValue(kind: .string(try parseLiteralString()), line: startLine)
    case UInt8(ascii: "[")?: return try parseArray(depth: depth)
    case UInt8(ascii: "{")?:
      throw error("inline tables ({ ... }) are not supported; use a [table] header instead")
    default: return TOMLValue(kind: try parseBareValue(), line: startLine)
    }
  }

  mutating func parseArray(depth: Int) throws(TOMLError) -> TOMLValue {
    guard depth < TOMLDocument.maxArrayDepth else {
      throw error("arrays are nested more than \(TOMLDocument.maxArrayDepth) deep")
    }
    let startLine = line
    pos += 1
    var items: [TOMLValue] = []
    while true {
      try skipBlank()
      if peek() == UInt8(ascii: "]") { break }
      guard peek() != nil else { throw TOMLError(line: startLine, message: "array is never closed with ']'") }
      items.append(try parseValue(depth: depth + 1))
      try skipBlank()
      if peek() == UInt8(ascii: ",") {
        pos += 1
      } else if peek() == UInt8(ascii: "]") {
        break
      } else {
        guard peek() != nil else { throw TOMLError(line: startLine, message: "array is never closed with ']'") }
        throw error("expected ',' or ']' after an array element")
      }
    }
    pos += 1
    return TOMLValue(kind: .array(items), line: startLine)
  }

  /// Checks that `c` may appear raw inside a single-line string.
  func checkStringByte(_ c: UInt8, quote: String) throws(TOMLError) {
    if c == UInt8(ascii: "\n") || c == UInt8(ascii: "\r") {
      throw error("string is not closed with \(quote) before the end of the line")
    }
    if (c < 0x20 && c != 0x09) || c == 0x7F {
      throw error("control character (\(describe(c))) in a string; write it as an escape such as \\u0001")
    }
  }

  mutating func parseBasicString() throws(TOMLError) -> String {
    if peek(1) == UInt8(ascii: "\""), peek(2) == UInt8(ascii: "\"") {
      throw error("multi-line strings (\"\"\"...\"\"\") are not supported; write the string on one line, using \\n for line breaks")
    }
    pos += 1
    var out: [UInt8] = []
    while true {
      guard let c = peek() else { throw error("string is not closed with '\"' before the end of the file") }
      try checkStringByte(c, quote: "'\"'")
      pos += 1
      if c == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
      guard c == UInt8(ascii: "\\") else {
        out.append(c)
        continue
      }
      guard let e = peek() else { throw error("string is not closed with '\"' before the end of the file") }
      pos += 1
      switch e {
      case UInt8(ascii: "b"): out.append(0x08)
      case UInt8(ascii: "t"): out.append(0x09)
      case UInt8(ascii: "n"): out.append(0x0A)
      case UInt8(ascii: "f"): out.append(0x0C)
      case UInt8(ascii: "r"): out.append(0x0D)
      case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(e)
      case UInt8(ascii: "u"), UInt8(ascii: "U"):
        let count = e == UInt8(ascii: "u") ? 4 : 8
        let end = pos + count
        let hex = end <= bytes.count ? String(decoding: bytes[pos..<end], as: UTF8.self) : ""
        guard hex.utf8.count == count, hex.utf8.allSatisfy({ $0 != UInt8(ascii: "+") && $0 != UInt8(ascii: "-") }),
          let code = UInt32(hex, radix: 16)
        else { throw error("\\\(Character(Unicode.Scalar(e))) must be followed by exactly \(count) hex digits") }
        guard let scalar = Unicode.Scalar(code) else {
          throw error("\\\(Character(Unicode.Scalar(e)))\(hex) is not a Unicode scalar value")
        }
        UTF8.encode(scalar) { out.append($0) }
        pos = end
      default:
        let shown = e >= 0x21 && e < 0x7F ? "\\\(Character(Unicode.Scalar(e)))" : "'\\' followed by \(describe(e))"
        throw error("invalid escape \(shown) in a string; valid escapes are \\b \\t \\n \\f \\r \\\" \\\\ \\uXXXX \\UXXXXXXXX")
      }
    }
  }

  mutating func parseLiteralString() throws(TOMLError) -> String {
    if peek(1) == UInt8(ascii: "'"), peek(2) == UInt8(ascii: "'") {
      throw error("multi-line strings ('''...''') are not supported; write the string on one line")
    }
    pos += 1
    let start = pos
    while true {
      guard let c = peek() else { throw error("string is not closed with \"'\" before the end of the file") }
      try checkStringByte(c, quote: "\"'\"")
      if c == UInt8(ascii: "'") { break }
      pos += 1
    }
    pos += 1
    return String(decoding: bytes[start..<(pos - 1)], as: UTF8.self)
  }

  /// Booleans and numbers: the token runs up to whitespace or a delimiter.
  mutating func parseBareValue() throws(TOMLError) -> TOMLValue.Kind {
    let start = pos
    while let c = peek(), !" \t\r\n,[]{}#=\"'".utf8.contains(c) { pos += 1 }
    let token = bytes[start..<pos]
    let text = String(decoding: token, as: UTF8.self)
    switch text {
    case "": throw error("expected a value (a string in quotes, a number, true/false, or an array)")
    case "true": return .boolean(true)
    case "false": return .boolean(false)
    case "inf", "+inf", "-inf", "nan", "+nan", "-nan": throw error("inf and nan are not supported")
    default: break
    }
    let signed = token.first == UInt8(ascii: "+") || token.first == UInt8(ascii: "-")
    let body = signed ? token.dropFirst() : token
    if body.first == UInt8(ascii: ".") { throw error("invalid number '\(text)': write a digit before the decimal point") }
    guard let first = body.first, TOMLParser.isDigit(first) else {
      throw error("invalid value '\(text)'; write strings in quotes: \(TOMLDocument.quoted(text))")
    }
    if first == UInt8(ascii: "0"), let radix = body.dropFirst().first, "xob".utf8.contains(radix) {
      throw error("hexadecimal, octal and binary integers are not supported; write '\(text)' in decimal")
    }
    let isDate =
      body.count > 4 && body[body.startIndex + 4] == UInt8(ascii: "-")
      && body.prefix(4).allSatisfy(TOMLParser.isDigit)
    if isDate || body.contains(UInt8(ascii: ":")) {
      throw error("dates and times are not supported; write '\(text)' as a quoted string")
    }
    guard let digits = TOMLParser.numberDigits(body) else { throw error("invalid number '\(text)'") }
    if digits.hasLeadingZero { throw error("invalid number '\(text)': leading zeros are not allowed") }
    let clean = String(text.filter { $0 != "_" })
    if digits.isFloat { return .float(clean) }
    let negative = token.first == UInt8(ascii: "-")
    guard let magnitude = UInt64(clean.drop { $0 == "+" || $0 == "-" }),
      magnitude <= (negative ? UInt64(Int64.max) + 1 : UInt64(Int64.max))
    else { throw error("integer \(text) is out of range (\(Int64.min) to \(Int64.max))") }
    return .integer(negative ? Int64(truncatingIfNeeded: 0 &- magnitude) : Int64(magnitude))
  }

  /// Validates `int [. frac] [(e|E) [+-] exp]` with `_` only between digits.
  static func numberDigits(_ body: ArraySlice<UInt8>) -> (isFloat: Bool, hasLeadingZero: Bool)? {
    var i = body.startIndex
    func run(_ i: inout Int) -> Int? {  // digit (_? digit)*; returns the digit count
      var count = 0
      var afterUnderscore = false
      while i < body.endIndex {
        if isDigit(body[i]) {
          count += 1
          afterUnderscore = false
        } else if body[i] == UInt8(ascii: "_"), count > 0, !afterUnderscore {
          afterUnderscore = true
        } else {
          break
        }
        i += 1
      }
      return count > 0 && !afterUnderscore ? count : nil
    }
    guard let integerDigits = run(&i) else { return nil }
    let hasLeadingZero = integerDigits > 1 && body.first == UInt8(ascii: "0")
    var isFloat = false
    if i < body.endIndex, body[i] == UInt8(ascii: ".") {
      i += 1
      isFloat = true
      guard run(&i) != nil else { return nil }
    }
    if i < body.endIndex, body[i] == UInt8(ascii: "e") || body[i] == UInt8(ascii: "E") {
      i += 1
      isFloat = true
      if i < body.endIndex, body[i] == UInt8(ascii: "+") || body[i] == UInt8(ascii: "-") { i += 1 }
      guard run(&i) != nil else { return nil }
    }
    return i == body.endIndex ? (isFloat, hasLeadingZero) : nil
  }

  func build(_ index: Int) -> TOMLTable {
    var table = TOMLTable()
    for key in nodes[index].keys {
      switch nodes[index].children[key] {
      case .table(let child)?: table.insert(key, TOMLValue(kind: .table(build(child)), line: nodes[child].line))
      case .value(let value)?: table.insert(key, value)
      case nil: break
      }
    }
    return table
  }
}
