/// The fast path for NDJSON lines of the common shape: one flat JSON object whose strings have
/// no escapes, with any spacing. It fills ``FieldSlots`` exactly as ``JSONLineScanner`` would,
/// or *declines* the line (returns `false`), and the strict scanner then decides it. It never
/// calls a line malformed on its own: anything unusual (an escape, a control character, a
/// nested value, a syntax error) is declined.
///
/// Strings are skipped 8 bytes at a time, looking for `"`, `\` and control characters in one
/// word operation; a key is recognised by its length and one or two word compares
/// (``Field/named(_:count:)``). The line must be valid UTF-8 already (bytes of 0x80 and above
/// are string content here).
///
/// ```swift
/// FastJSONScanner.scan(#"{"type": "view", "ts": 1761991200000}"#, into: slots)  // true
/// FastJSONScanner.scan(#"{"type":"vi\u0065w"}"#, into: slots)                    // false: escape
/// ```
enum FastJSONScanner {
  /// Scans `line` into `slots`; `false` means "declined": run ``JSONLineScanner``.
  static func scan(_ line: UnsafeRawBufferPointer, into slots: FieldSlots) -> Bool {
    slots.reset(line: line)
    guard let p = line.baseAddress else { return false }
    let n = line.count
    var i = skipSpace(p, 0, n)
    guard i < n, byte(p, i) == UInt8(ascii: "{") else { return false }
    i = skipSpace(p, i + 1, n)
    guard i < n else { return false }
    if byte(p, i) == UInt8(ascii: "}") { return skipSpace(p, i + 1, n) == n }
    while true {
      // "key"
      guard i < n, byte(p, i) == UInt8(ascii: "\"") else { return false }
      let keyStart = i + 1
      guard let keyEnd = stringEnd(p, keyStart, n) else { return false }
      let field = Field.named(p + keyStart, count: keyEnd - keyStart)
      i = skipSpace(p, keyEnd + 1, n)
      guard i < n, byte(p, i) == UInt8(ascii: ":") else { return false }
      i = skipSpace(p, i + 1, n)
      guard i < n else { return false }
      // value
      let c = byte(p, i)
      switch c {
      case UInt8(ascii: "\""):
        guard let end = stringEnd(p, i + 1, n) else { return false }
        if let field { slots.set(field, .string, start: i + 1, length: end - i - 1) }
        i = end + 1
      case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
        let start = i
        guard let (end, isInteger) = numberEnd(p, i, n) else { return false }
        if let field { slots.set(field, isInteger ? .integer : .number, start: start, length: end - start) }
        i = end
      case UInt8(ascii: "n"):
        guard matches(p, i, n, 0x6C6C_756E, 4) else { return false }  // "null"
        if let field { slots.set(field, .absent, start: 0, length: 0) }
        i += 4
      case UInt8(ascii: "t"):
        guard matches(p, i, n, 0x6575_7274, 4) else { return false }  // "true"
        if let field { slots.set(field, .boolean, start: 0, length: 0) }
        i += 4
      case UInt8(ascii: "f"):
        guard matches(p, i, n, 0x65_736C_6166, 5) else { return false }  // "false"
        if let field { slots.set(field, .boolean, start: 0, length: 0) }
        i += 5
      default:
        return false  // an object, an array, or not JSON: the strict scanner decides
      }
      i = skipSpace(p, i, n)
      guard i < n else { return false }
      let separator = byte(p, i)
      if separator == UInt8(ascii: ",") {
        i = skipSpace(p, i + 1, n)
        continue
      }
      guard separator == UInt8(ascii: "}") else { return false }
      return skipSpace(p, i + 1, n) == n
    }
  }

  @inline(__always)
  private static func byte(_ p: UnsafeRawPointer, _ i: Int) -> UInt8 {
    p.load(fromByteOffset: i, as: UInt8.self)
  }

  @inline(__always)
  private static func skipSpace(_ p: UnsafeRawPointer, _ from: Int, _ n: Int) -> Int {
    var i = from
    while i < n {
      switch byte(p, i) {
      case 0x20, 0x09, 0x0A, 0x0D: i += 1
      default: return i
      }
    }
    return i
  }

  /// Whether the `count` bytes at `i` are the little-endian `word`.
  @inline(__always)
  private static func matches(_ p: UnsafeRawPointer, _ i: Int, _ n: Int, _ word: UInt64, _ count: Int) -> Bool {
    guard n - i >= count else { return false }
    for k in 0..<count where byte(p, i + k) != UInt8(truncatingIfNeeded: word >> (8 * UInt64(k))) { return false }
    return true
  }

  private static let ones: UInt64 = 0x0101_0101_0101_0101
  private static let highs: UInt64 = 0x8080_8080_8080_8080

  /// The index of the closing quote of a string whose content starts at `from`, or `nil` if
  /// the string has an escape or a control character, or does not end on this line.
  @inline(__always)
  private static func stringEnd(_ p: UnsafeRawPointer, _ from: Int, _ n: Int) -> Int? {
    var i = from
    while i + 8 <= n {
      let w = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: i, as: UInt64.self))
      let quote = w ^ (ones &* 0x22)
      let backslash = w ^ (ones &* 0x5C)
      // The lowest set bit of each term marks the first byte that is `"`, `\` or below 0x20;
      // the borrow of a subtraction can only set bits above it.
      let hits =
        ((quote &- ones) & ~quote | (backslash &- ones) & ~backslash | (w &- ones &* 0x20) & ~w) & highs
      if hits != 0 {
        let at = i + hits.trailingZeroBitCount / 8
        return byte(p, at) == UInt8(ascii: "\"") ? at : nil
      }
      i += 8
    }
    while i < n {
      let c = byte(p, i)
      if c == UInt8(ascii: "\"") { return i }
      if c == UInt8(ascii: "\\") || c < 0x20 { return nil }
      i += 1
    }
    return nil
  }

  /// The end of a JSON number (RFC 8259 grammar) starting at `from`, and whether it is an
  /// integer (no fraction, no exponent); `nil` if it is not a valid number.
  @inline(__always)
  private static func numberEnd(_ p: UnsafeRawPointer, _ from: Int, _ n: Int) -> (Int, Bool)? {
    var i = from
    var integer = true
    if byte(p, i) == UInt8(ascii: "-") { i += 1 }
    guard i < n else { return nil }
    if byte(p, i) == UInt8(ascii: "0") {
      i += 1
    } else if byte(p, i) &- 49 < 9 {
      while i < n, byte(p, i) &- 48 < 10 { i += 1 }
    } else {
      return nil
    }
    if i < n, byte(p, i) == UInt8(ascii: ".") {
      integer = false
      i += 1
      let s = i
      while i < n, byte(p, i) &- 48 < 10 { i += 1 }
      guard i > s else { return nil }
    }
    if i < n, byte(p, i) | 0x20 == UInt8(ascii: "e") {
      integer = false
      i += 1
      if i < n, byte(p, i) == UInt8(ascii: "+") || byte(p, i) == UInt8(ascii: "-") { i += 1 }
      let s = i
      while i < n, byte(p, i) &- 48 < 10 { i += 1 }
      guard i > s else { return nil }
    }
    return (i, integer)
  }
}
