/// Scans one NDJSON line: a single JSON object whose known keys are recorded in ``FieldSlots``.
///
/// The whole line must be valid JSON (RFC 8259); values of unknown keys are checked and skipped
/// without recursion, nested at most ``maxDepth`` deep. A key given twice keeps its last value.
/// Returns `false` for anything that is not a JSON object (the line is then `malformed`).
struct JSONLineScanner {
  static let maxDepth = 512

  private let b: UnsafeRawBufferPointer
  private var i = 0
  private let slots: FieldSlots

  private init(line: UnsafeRawBufferPointer, slots: FieldSlots) {
    self.b = line
    self.slots = slots
  }

  /// Parses `line` (UTF-8 already validated) into `slots`.
  static func scan(_ line: UnsafeRawBufferPointer, into slots: FieldSlots) -> Bool {
    slots.reset(line: line)
    var scanner = JSONLineScanner(line: line, slots: slots)
    return scanner.object()
  }

  private var atEnd: Bool { i >= b.count }

  private mutating func skipWhitespace() {
    while i < b.count {
      switch b[i] {
      case 0x20, 0x09, 0x0A, 0x0D: i += 1
      default: return
      }
    }
  }

  private mutating func expect(_ byte: UInt8) -> Bool {
    guard i < b.count, b[i] == byte else { return false }
    i += 1
    return true
  }

  private mutating func object() -> Bool {
    skipWhitespace()
    guard expect(UInt8(ascii: "{")) else { return false }
    skipWhitespace()
    if expect(UInt8(ascii: "}")) { return trailingWhitespaceOnly() }
    while true {
      skipWhitespace()
      guard i < b.count, b[i] == UInt8(ascii: "\"") else { return false }
      let keyStart = i + 1
      guard let (keyEnd, keyEscaped) = skipString() else { return false }
      let field: Field? =
        keyEscaped ? nil : Field.named(UnsafeRawBufferPointer(rebasing: b[keyStart..<keyEnd]))
      skipWhitespace()
      guard expect(UInt8(ascii: ":")) else { return false }
      skipWhitespace()
      guard i < b.count else { return false }
      if let field {
        guard knownValue(field) else { return false }
      } else {
        guard skipValue() else { return false }
      }
      skipWhitespace()
      if expect(UInt8(ascii: ",")) { continue }
      guard expect(UInt8(ascii: "}")) else { return false }
      return trailingWhitespaceOnly()
    }
  }

  private mutating func trailingWhitespaceOnly() -> Bool {
    skipWhitespace()
    return atEnd
  }

  /// Reads the value of a known field into the slots.
  private mutating func knownValue(_ field: Field) -> Bool {
    let c = b[i]
    switch c {
    case UInt8(ascii: "\""):
      let start = i + 1
      guard let (end, escaped) = skipString() else { return false }
      if escaped {
        return decodeEscaped(field, from: start, to: end)
      }
      slots.set(field, .string, start: start, length: end - start)
      return true
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
      let start = i
      guard let isInteger = skipNumber() else { return false }
      slots.set(field, isInteger ? .integer : .number, start: start, length: i - start)
      return true
    case UInt8(ascii: "n"):
      guard literal("null") else { return false }
      slots.set(field, .absent, start: 0, length: 0)
      return true
    case UInt8(ascii: "t"), UInt8(ascii: "f"):
      guard literal(c == UInt8(ascii: "t") ? "true" : "false") else { return false }
      slots.set(field, .boolean, start: 0, length: 0)
      return true
    default:
      guard skipValue() else { return false }
      slots.set(field, .composite, start: 0, length: 0)
      return true
    }
  }

  private mutating func literal(_ word: StaticString) -> Bool {
    let n = word.utf8CodeUnitCount
    guard b.count - i >= n else { return false }
    let p = word.utf8Start
    for k in 0..<n where b[i + k] != p[k] { return false }
    i += n
    return true
  }

  /// Skips a string starting at the opening quote; returns the index of the closing quote and
  /// whether it contained escapes. Control characters are not allowed inside strings.
  private mutating func skipString() -> (Int, Bool)? {
    i += 1
    var escaped = false
    while i < b.count {
      let c = b[i]
      if c == UInt8(ascii: "\"") {
        let end = i
        i += 1
        return (end, escaped)
      }
      if c < 0x20 { return nil }
      if c == UInt8(ascii: "\\") {
        escaped = true
        guard i + 1 < b.count else { return nil }
        switch b[i + 1] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
          UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
          i += 2
        case UInt8(ascii: "u"):
          guard i + 5 < b.count, hex4(at: i + 2) != nil else { return nil }
          i += 6
        default:
          return nil
        }
        continue
      }
      i += 1
    }
    return nil
  }

  private func hex4(at p: Int) -> UInt32? {
    var v: UInt32 = 0
    for k in 0..<4 {
      let c = b[p + k]
      let d: UInt8
      switch c {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - 48
      case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - 87
      case UInt8(ascii: "A")...UInt8(ascii: "F"): d = c - 55
      default: return nil
      }
      v = v << 4 | UInt32(d)
    }
    return v
  }

  /// Decodes an escaped string (already checked by `skipString`) into the scratch buffer.
  private func decodeEscaped(_ field: Field, from start: Int, to end: Int) -> Bool {
    let out = slots.beginScratch()
    var p = start
    while p < end {
      let c = b[p]
      guard c == UInt8(ascii: "\\") else {
        slots.appendScratch(c)
        p += 1
        continue
      }
      let e = b[p + 1]
      p += 2
      switch e {
      case UInt8(ascii: "b"): slots.appendScratch(0x08)
      case UInt8(ascii: "f"): slots.appendScratch(0x0C)
      case UInt8(ascii: "n"): slots.appendScratch(0x0A)
      case UInt8(ascii: "r"): slots.appendScratch(0x0D)
      case UInt8(ascii: "t"): slots.appendScratch(0x09)
      case UInt8(ascii: "u"):
        guard var scalar = hex4(at: p) else { return false }
        p += 4
        if scalar >= 0xD800 && scalar < 0xDC00 {
          // A high surrogate must be followed by an escaped low surrogate.
          guard p + 6 <= end, b[p] == UInt8(ascii: "\\"), b[p + 1] == UInt8(ascii: "u"),
            let low = hex4(at: p + 2), low >= 0xDC00, low < 0xE000
          else { return false }
          scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
          p += 6
        } else if scalar >= 0xDC00 && scalar < 0xE000 {
          return false
        }
        guard let unicode = Unicode.Scalar(scalar), let encoded = UTF8.encode(unicode) else {
          return false
        }
        for unit in encoded { slots.appendScratch(unit) }
      default: slots.appendScratch(e)  // \" \\ \/
      }
    }
    slots.setScratch(field, start: out)
    return true
  }

  /// Skips a JSON number; returns whether it is an integer (no fraction, no exponent).
  private mutating func skipNumber() -> Bool? {
    var integer = true
    if b[i] == UInt8(ascii: "-") { i += 1 }
    guard i < b.count else { return nil }
    if b[i] == UInt8(ascii: "0") {
      i += 1
    } else if b[i] &- 49 < 9 {
      while i < b.count, b[i] &- 48 < 10 { i += 1 }
    } else {
      return nil
    }
    if i < b.count, b[i] == UInt8(ascii: ".") {
      integer = false
      i += 1
      let s = i
      while i < b.count, b[i] &- 48 < 10 { i += 1 }
      guard i > s else { return nil }
    }
    if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
      integer = false
      i += 1
      if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
      let s = i
      while i < b.count, b[i] &- 48 < 10 { i += 1 }
      guard i > s else { return nil }
    }
    return integer
  }

  /// Skips any JSON value iteratively (no recursion, so deep nesting cannot overflow the stack).
  private mutating func skipValue() -> Bool {
    var stack: [UInt8] = []  // "{" or "["
    while true {
      // Expecting a value.
      skipWhitespace()
      guard i < b.count else { return false }
      let c = b[i]
      switch c {
      case UInt8(ascii: "{"), UInt8(ascii: "["):
        guard stack.count < JSONLineScanner.maxDepth else { return false }
        stack.append(c)
        i += 1
        skipWhitespace()
        if expect(c == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
          stack.removeLast()
        } else if c == UInt8(ascii: "{") {
          guard objectKey() else { return false }
          continue
        } else {
          continue
        }
      case UInt8(ascii: "\""):
        guard skipString() != nil else { return false }
      case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
        guard skipNumber() != nil else { return false }
      case UInt8(ascii: "t"):
        guard literal("true") else { return false }
      case UInt8(ascii: "f"):
        guard literal("false") else { return false }
      case UInt8(ascii: "n"):
        guard literal("null") else { return false }
      default:
        return false
      }
      // After a value: close containers or move to the next element.
      while true {
        guard let top = stack.last else { return true }
        skipWhitespace()
        if expect(UInt8(ascii: ",")) {
          if top == UInt8(ascii: "{") {
            skipWhitespace()
            guard objectKey() else { return false }
          }
          break
        }
        guard expect(top == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")) else {
          return false
        }
        stack.removeLast()
      }
    }
  }

  /// Reads `"key" :` inside an object being skipped.
  private mutating func objectKey() -> Bool {
    guard i < b.count, b[i] == UInt8(ascii: "\""), skipString() != nil else { return false }
    skipWhitespace()
    return expect(UInt8(ascii: ":"))
  }
}
