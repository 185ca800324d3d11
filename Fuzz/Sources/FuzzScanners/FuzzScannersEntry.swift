// libFuzzer entry point for the two NDJSON scanners, against each other. The input is cut into
// lines at "\n" (a "\r" before it stays in the line: it is JSON whitespace, and lines come both
// ways). Oracle, for every line that is valid UTF-8 (FileParser checks that before scanning):
// FastJSONScanner either declines the line, or JSONLineScanner accepts it too and both record,
// for every known field, the same ValueKind and (for a present field) the same value bytes.
// The fast scanner must never accept a line the strict one calls malformed, nor read it
// differently. A violation traps, which libFuzzer reports.
//
// Each line is copied into an allocation of exactly its size, so that AddressSanitizer sees a
// scanner reading past the line's end (the fast one reads 8 bytes at a time).
#if canImport(Glibc)
import Glibc
#endif

nonisolated(unsafe) private let fastSlots = FieldSlots()
nonisolated(unsafe) private let strictSlots = FieldSlots()

private func fail(_ message: String) -> Never {
  let text = "FUZZ INVARIANT VIOLATED: \(message)\n"
  _ = text.withCString { write(2, $0, strlen($0)) }
  abort()
}

/// Printable ASCII as is, anything else as \xNN (at most the first 300 bytes).
private func show(_ bytes: UnsafeRawBufferPointer) -> String {
  var s = ""
  for c in bytes.prefix(300) {
    if c >= 0x20 && c < 0x7F && c != UInt8(ascii: "\\") {
      s.unicodeScalars.append(Unicode.Scalar(c))
    } else {
      let hex = String(c, radix: 16)
      s += "\\x" + (hex.count == 1 ? "0" + hex : hex)
    }
  }
  return bytes.count > 300 ? s + "... (\(bytes.count) bytes)" : s
}

private func check(_ line: UnsafeRawBufferPointer) {
  guard line.count <= LineReader.maxLineBytes, UTF8Validation.isValid(line) else { return }
  guard FastJSONScanner.scan(line, into: fastSlots) else { return }  // declined: always fine
  guard JSONLineScanner.scan(line, into: strictSlots) else {
    fail("the fast scanner accepted a line the strict one calls malformed: \(show(line))")
  }
  for field in Field.allCases {
    let fastKind = fastSlots[field]
    let strictKind = strictSlots[field]
    if fastKind != strictKind {
      fail("\(field.name): fast kind \(fastKind), strict kind \(strictKind) in line: \(show(line))")
    }
    // An absent field has no bytes: `reset` only marks it absent and leaves the range of an
    // earlier line behind, which nothing reads (EventValidator reads bytes of present fields).
    if fastKind == .absent { continue }
    let fast = fastSlots.bytes(field)
    let strict = strictSlots.bytes(field)
    if !fast.elementsEqual(strict) {
      fail("\(field.name): fast bytes \"\(show(fast))\", strict bytes \"\(show(strict))\" in line: \(show(line))")
    }
  }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzScanners(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
  guard let data, size > 0 else { return 0 }
  let input = UnsafeRawBufferPointer(start: data, count: size)
  var start = 0
  while start <= size {
    var end = start
    while end < size && input[end] != 0x0A { end += 1 }
    let length = end - start
    let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(length, 1), alignment: 1)
    copy.copyMemory(from: UnsafeRawBufferPointer(rebasing: input[start..<end]))
    check(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(copy)[0..<length]))
    copy.deallocate()
    if end == size { break }
    start = end + 1
  }
  return 0
}
