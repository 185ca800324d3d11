/// Strict UTF-8 validation (no overlongs, no surrogates, nothing above U+10FFFF).
enum UTF8Validation {
  static func isValid(_ b: UnsafeRawBufferPointer) -> Bool {
    let n = b.count
    var i = 0
    while i < n {
      // ASCII runs (most of a line) 32 and then 8 bytes at a time.
      while i + 32 <= n {
        let words =
          b.loadUnaligned(fromByteOffset: i, as: UInt64.self) | b.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self)
          | b.loadUnaligned(fromByteOffset: i + 16, as: UInt64.self) | b.loadUnaligned(fromByteOffset: i + 24, as: UInt64.self)
        if words & 0x8080_8080_8080_8080 != 0 { break }
        i += 32
      }
      while i + 8 <= n && b.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 { i += 8 }
      guard i < n else { break }
      let c = b[i]
      if c < 0x80 {
        i += 1
        continue
      }
      let need: Int
      var lo: UInt8 = 0x80
      var hi: UInt8 = 0xBF
      switch c {
      case 0xC2...0xDF: need = 1
      case 0xE0:
        need = 2
        lo = 0xA0
      case 0xE1...0xEC, 0xEE...0xEF: need = 2
      case 0xED:
        need = 2
        hi = 0x9F
      case 0xF0:
        need = 3
        lo = 0x90
      case 0xF1...0xF3: need = 3
      case 0xF4:
        need = 3
        hi = 0x8F
      default: return false
      }
      guard i + need < n else { return false }  // the continuation bytes are i+1 ... i+need
      let first = b[i + 1]
      guard first >= lo, first <= hi else { return false }
      var k = 2
      while k <= need {
        guard b[i + k] & 0xC0 == 0x80 else { return false }
        k += 1
      }
      i += need + 1
    }
    return true
  }

  /// The longest prefix of at most `limit` bytes that does not cut a multi-byte sequence.
  static func prefixLength(_ b: UnsafeRawBufferPointer, limit: Int) -> Int {
    guard b.count > limit else { return b.count }
    var end = limit
    while end > 0 && b[end] & 0xC0 == 0x80 && limit - end < 3 { end -= 1 }
    return end
  }
}
