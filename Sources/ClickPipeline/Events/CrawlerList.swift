import Foundation

/// The crawler-user-agents list (``release``, MIT licence, `data/crawler-user-agents/`) as a
/// matcher: `bots.known_crawlers = true` (CONTRACT §3). Built once per process and shared by
/// every thread; deciding a user agent costs one pass over its bytes.
///
/// The list's 1,504 `pattern`s are regular expressions in the common subset of PCRE, RE2 and
/// ECMAScript, matched case-sensitively as written. Most are literal text (`Googlebot\/`):
/// those are matched as text. The rest are compiled once with ICU (`NSRegularExpression`),
/// after the constructs that ICU reads differently from the others are rewritten to their
/// common meaning: `\d` `\s` `\w` (and their negations) are ASCII classes (ICU's are Unicode),
/// `$` is the very end (ICU's also matches before a final line break), `.` is any character
/// but a line feed (ICU's also excludes `\r`, U+0085, U+2028 and U+2029).
///
/// A literal prefilter keeps the expressions off most user agents: every pattern has a
/// required literal in each of its top-level alternatives (`[wW]get` needs `get`). One pass
/// over the user agent looks its 3-byte windows up in a bit set and a table of those literals;
/// only patterns whose literal is present are tried. Trying all 1,504 expressions on each of
/// 200k distinct agents would cost about 40 s.
final class CrawlerList: @unchecked Sendable {
  /// Patterns that are plain text once unescaped: a contained literal is a match.
  private var plain: [[UInt8]: Int] = [:]
  /// Compiled expressions, by pattern index.
  private var expressions: [Int: NSRegularExpression] = [:]
  /// Literal → patterns it admits (plain: decides; expression: makes a candidate).
  private var literals: [[UInt8]] = []
  private var literalPatterns: [[Int]] = []
  /// 3-byte prefix of each literal → literal indexes.
  private var byPrefix: [UInt32: [Int]] = [:]
  /// Bit set of the prefixes' hashes, so most windows cost one bit test.
  private var prefixBits = [UInt64](repeating: 0, count: 1 << 10)
  /// Expressions with no literal of 3 bytes or more: tried on every user agent.
  private var alwaysTried: [Int] = []

  /// How many patterns are matched (plain text or compiled): all of them, unless one would not
  /// compile (a test checks the shipped list).
  var patternCount: Int { plain.count + expressions.count }

  /// The list of this build, compiled once.
  static let shipped = CrawlerList(patterns: CrawlerList.patterns)

  /// `crawler-user-agents 1.67.0 (1504 patterns)`: what `--version` and `--status` name.
  static var description: String { "crawler-user-agents \(release) (\(patterns.count) patterns)" }

  init(patterns: [String]) {
    for (index, pattern) in patterns.enumerated() {
      let parsed = PatternShape(pattern)
      if let text = parsed.plainText {
        plain[Array(text.utf8)] = index
        add(literal: Array(text.utf8), pattern: index)
        continue
      }
      // Every pattern of the list compiles; one that does not (a later release) is left out
      // rather than stopping every run.
      guard let expression = try? NSRegularExpression(pattern: parsed.translated) else { continue }
      expressions[index] = expression
      if parsed.branchLiterals.contains(where: { $0.utf8.count < 3 }) {
        alwaysTried.append(index)
      } else {
        for literal in parsed.branchLiterals { add(literal: Array(literal.utf8), pattern: index) }
      }
    }
  }

  private func add(literal: [UInt8], pattern: Int) {
    if let i = literals.firstIndex(of: literal) {
      literalPatterns[i].append(pattern)
      return
    }
    let key = Self.prefix(literal, 0)
    byPrefix[key, default: []].append(literals.count)
    prefixBits[Int(Self.bit(key) >> 6)] |= 1 << (Self.bit(key) & 63)
    literals.append(literal)
    literalPatterns.append([pattern])
  }

  private static func prefix(_ bytes: some RandomAccessCollection<UInt8>, _ at: Int) -> UInt32 {
    let start = bytes.index(bytes.startIndex, offsetBy: at)
    return UInt32(bytes[start]) | UInt32(bytes[bytes.index(after: start)]) << 8
      | UInt32(bytes[bytes.index(start, offsetBy: 2)]) << 16
  }

  private static func bit(_ key: UInt32) -> UInt32 { (key &* 0x9E37_79B1) >> 16 }

  /// Whether `userAgent` matches a pattern of the list.
  func matches(_ userAgent: String) -> Bool {
    var agent = userAgent
    return agent.withUTF8 { bytes -> Bool in
      var candidates: [Int] = alwaysTried
      if bytes.count >= 3 {
        for i in 0...(bytes.count - 3) {
          let key = UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16
          let b = Self.bit(key)
          guard prefixBits[Int(b >> 6)] & (1 << (b & 63)) != 0, let found = byPrefix[key] else { continue }
          for l in found {
            let literal = literals[l]
            guard literal.count <= bytes.count - i,
              literal.withUnsafeBytes({ memcmp($0.baseAddress!, bytes.baseAddress! + i, literal.count) }) == 0
            else { continue }
            for pattern in literalPatterns[l] {
              if expressions[pattern] == nil { return true }  // a plain pattern: found
              candidates.append(pattern)
            }
          }
        }
      }
      guard !candidates.isEmpty else { return false }
      let text = userAgent as NSString
      let range = NSRange(location: 0, length: text.length)
      return candidates.contains { expressions[$0]?.firstMatch(in: userAgent, range: range) != nil }
    }
  }
}

/// What the matcher needs to know of one pattern of the list: whether it is plain text, its
/// ICU form with the common-subset meanings, and a literal each top-level alternative needs.
struct PatternShape {
  /// The text a plain pattern matches (escapes removed), or `nil` for an expression.
  var plainText: String?
  /// The pattern for `NSRegularExpression`, with ASCII classes, `$` as the very end and `.`
  /// as anything but a line feed.
  var translated = ""
  /// Per top-level alternative, its longest run of required literal characters.
  var branchLiterals: [String] = []

  init(_ pattern: String) {
    let chars = Array(pattern)
    var i = 0
    var depth = 0
    var run = ""  // the current run of literal characters
    var best = ""  // the branch's longest run
    var isPlain = true
    var plain = ""
    func endRun() {
      if run.count > best.count { best = run }
      run = ""
    }
    func endBranch() {
      endRun()
      branchLiterals.append(best)
      best = ""
    }
    while i < chars.count {
      let c = chars[i]
      switch c {
      case "\\" where i + 1 < chars.count:
        let e = chars[i + 1]
        i += 2
        if let ascii = Self.asciiClass(e, inClass: false) {
          translated += ascii
          isPlain = false
          if depth == 0 { endRun() }
        } else if e.isLetter || e.isNumber {
          // Other letter escapes (\b, \B, \n, \t, \xHH …) are passed on and end the run; the
          // hex digits of \xHH belong to the escape, not to the text.
          translated += "\\" + String(e)
          if e == "x" {
            for _ in 0..<2 where i < chars.count && chars[i].isHexDigit {
              translated.append(chars[i])
              i += 1
            }
          }
          isPlain = false
          if depth == 0 { endRun() }
        } else {
          translated += "\\" + String(e)
          plain.append(e)
          if depth == 0 { run.append(e) }
        }
        continue
      case "[":
        // A class: copied with its shorthand classes made ASCII.
        isPlain = false
        if depth == 0 { endRun() }
        translated += "["
        i += 1
        if i < chars.count && chars[i] == "^" {
          translated += "^"
          i += 1
        }
        if i < chars.count && chars[i] == "]" {
          translated += "\\]"
          i += 1
        }
        while i < chars.count && chars[i] != "]" {
          if chars[i] == "\\" && i + 1 < chars.count {
            translated += Self.asciiClass(chars[i + 1], inClass: true) ?? "\\" + String(chars[i + 1])
            i += 2
          } else if chars[i] == "[" {
            translated += "\\["  // a literal [ inside a class (ICU would read a nested set)
            i += 1
          } else {
            translated.append(chars[i])
            i += 1
          }
        }
        translated += "]"
        i += 1
        continue
      case "(":
        isPlain = false
        if depth == 0 { endRun() }
        depth += 1
        translated += "("
      case ")":
        depth = max(0, depth - 1)
        translated += ")"
      case "|":
        isPlain = false
        translated += "|"
        if depth == 0 { endBranch() }
      case "^":
        isPlain = false
        if depth == 0 { endRun() }
        translated += "^"
      case "$":
        isPlain = false
        if depth == 0 { endRun() }
        translated += "\\z"
      case ".":
        isPlain = false
        if depth == 0 { endRun() }
        translated += "[^\\n]"
      case "{" where !Self.isQuantifier(chars, at: i):
        // A brace that does not start {n}, {n,} or {n,m} is text in every engine of the subset.
        translated += "\\{"
        plain.append(c)
        if depth == 0 { run.append(c) }
      case "*", "?", "+", "{":
        isPlain = false
        // The quantified character is optional (or repeated): the run ends before it,
        // except for `+`, which needs it once.
        if depth == 0 {
          if c != "+" && !run.isEmpty { run.removeLast() }
          endRun()
        }
        if c == "{" {
          while i < chars.count && chars[i] != "}" {
            translated.append(chars[i])
            i += 1
          }
          translated += "}"
        } else {
          translated.append(c)
        }
      default:
        translated.append(c)
        plain.append(c)
        if depth == 0 { run.append(c) }
      }
      i += 1
    }
    endBranch()
    if isPlain { plainText = plain }
  }

  /// Whether `chars[at...]` starts a counted quantifier: `{n}`, `{n,}` or `{n,m}`.
  static func isQuantifier(_ chars: [Character], at start: Int) -> Bool {
    var i = start + 1
    var digits = 0
    while i < chars.count && chars[i].isASCII && chars[i].isNumber {
      digits += 1
      i += 1
    }
    guard digits > 0, i < chars.count else { return false }
    if chars[i] == "}" { return true }
    guard chars[i] == "," else { return false }
    i += 1
    while i < chars.count && chars[i].isASCII && chars[i].isNumber { i += 1 }
    return i < chars.count && chars[i] == "}"
  }

  /// The common (ASCII) meaning of `\d \D \s \S \w \W`, for ICU; `nil` for other escapes.
  static func asciiClass(_ e: Character, inClass: Bool) -> String? {
    let space = "\\t\\n\\x{0B}\\f\\r "
    switch e {
    case "d": return inClass ? "0-9" : "[0-9]"
    case "D": return "[^0-9]"
    case "s": return inClass ? space : "[\(space)]"
    case "S": return "[^\(space)]"
    case "w": return inClass ? "A-Za-z0-9_" : "[A-Za-z0-9_]"
    case "W": return "[^A-Za-z0-9_]"
    default: return nil
    }
  }
}
