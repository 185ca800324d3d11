// libFuzzer entry point for the line parser: the input is a whole log file (plain text; a
// gzip input is fed to the gzip layer as well). Invariant checked for every input (CONTRACT §1-§2):
// no crash, and every non-blank line is exactly one event or one rejected line with a reason
// (a CSV header that is accepted is neither). A violation traps, which libFuzzer reports.
#if canImport(Glibc)
import Glibc
#endif

/// The input goes into an unlinked file in /dev/shm, reopened through /proc/self/fd (the
/// parser takes a path): no disk I/O, nothing left behind.
private let memoryFile: Int32 = {
  let name = "/dev/shm/clickpipeline-fuzz-parser-\(getpid())"
  let fd = open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
  unlink(name)
  return fd
}()
private let memoryPath = "/proc/self/fd/\(memoryFile)"
nonisolated(unsafe) private let parser = FileParser(currencies: ["USD", "EUR", "GBP", "JPY", "IDR", "SGD", "MYR"])

private func fail(_ message: String) -> Never {
  let text = "FUZZ INVARIANT VIOLATED: \(message)\n"
  _ = text.withCString { write(2, $0, strlen($0)) }
  abort()
}

/// Line numbers of the non-blank lines, counted the way CONTRACT §1 describes them.
private func nonBlankLines(_ bytes: UnsafeRawBufferPointer) -> [Int] {
  var result: [Int] = []
  var number = 0
  var start = 0
  var i = 0
  func finish(_ end: Int) {
    number += 1
    var from = start
    var to = end
    if number == 1, to - from >= 3, bytes[from] == 0xEF, bytes[from + 1] == 0xBB, bytes[from + 2] == 0xBF { from += 3 }
    if to > from, bytes[to - 1] == 0x0D { to -= 1 }
    var blank = true
    var k = from
    while k < to {
      if bytes[k] != 0x20 && bytes[k] != 0x09 { blank = false; break }
      k += 1
    }
    if !blank { result.append(number) }
  }
  while i < bytes.count {
    if bytes[i] == 0x0A {
      finish(i)
      start = i + 1
    }
    i += 1
  }
  if start < bytes.count { finish(bytes.count) }
  return result
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzParser(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
  guard memoryFile >= 0 else { fail("cannot create the input file in /dev/shm") }
  _ = ftruncate(memoryFile, 0)
  if let data, size > 0 {
    var written = 0
    while written < size {
      let n = pwrite(memoryFile, data + written, size - written, off_t(written))
      if n <= 0 { fail("pwrite failed") }
      written += n
    }
  }
  let bytes = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size)
  let isGzip = size >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B

  var eventLines: [Int] = []
  var rejectLines: [Int] = []
  let summary: ParsedFileSummary
  do {
    summary = try parser.parse(path: memoryPath) { chunk in
      for event in chunk.events { eventLines.append(event.line) }
      for reject in chunk.rejects {
        if reject.reason.code.isEmpty { fail("reject without a reason at line \(reject.line)") }
        if reject.raw.count > 1024 { fail("reject raw text longer than 1 KiB at line \(reject.line)") }
        rejectLines.append(reject.line)
      }
    }
  } catch {
    // Plain text never fails to read; gzip may be corrupt.
    if !isGzip { fail("plain input threw \(error)") }
    return 0
  }
  if isGzip { return 0 }  // lines are those of the decompressed stream; not recounted here

  if summary.events != eventLines.count || summary.rejected != rejectLines.count {
    fail("summary counts \(summary.events)/\(summary.rejected) differ from chunks \(eventLines.count)/\(rejectLines.count)")
  }
  let expected = nonBlankLines(bytes)
  if summary.lines != expected.count { fail("summary.lines \(summary.lines) != non-blank lines \(expected.count)") }
  var covered = (eventLines + rejectLines).sorted()
  if summary.format == .csv, let first = expected.first, !rejectLines.contains(first) {
    covered.insert(first, at: 0)  // the accepted header row
  }
  if covered != expected {
    fail("lines covered by events+rejects \(covered.prefix(20)) != non-blank lines \(expected.prefix(20))")
  }
  return 0
}
