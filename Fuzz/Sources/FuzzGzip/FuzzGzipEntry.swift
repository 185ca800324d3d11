// libFuzzer entry point for the gzip reader (FileByteStream). The input is a whole file.
// Oracles, checked for every input:
//  - no crash, no sanitizer report;
//  - the ISA-L and zlib backends give the same decompressed bytes, or the same error kind,
//    with one exception: on data that is both corrupt and cut short, one backend may notice
//    the corruption (corruptGzip) before the other runs out of input (truncatedGzip). It goes
//    both ways (Fuzz/regressions/gzip-corrupt-and-truncated*.gz), though FileByteStream's
//    documentation names only ISA-L as the one that notices first. Also tolerated, as a known
//    product issue: ISA-L accepts some deflate blocks whose Huffman tables zlib rejects
//    ("invalid literal/lengths set", Fuzz/regressions/gzip-isal-accepts-invalid-huffman-table.gz),
//    so such a file is ingested (ISA-L build) or failed (zlib build);
//  - reading the raw file 1..16 bytes at a time gives the same result as 1 MiB at a time;
//  - on success, contentHash equals the portable hash of the raw bytes; plain text (no 1f 8b
//    magic) passes through unchanged.
#if canImport(Glibc)
import Glibc
#endif

/// The input goes into an unlinked file in /dev/shm, reopened through /proc/self/fd (the
/// parser takes a path): no disk I/O, nothing left behind.
private let memoryFile: Int32 = {
  let name = "/dev/shm/clickpipeline-fuzz-gzip-\(getpid())"
  let fd = open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
  unlink(name)
  return fd
}()
private let memoryPath = "/proc/self/fd/\(memoryFile)"
/// Decompressed bytes kept per decode; more is counted and compared by length and CRC only.
private let outputCap = 1 << 24

private func fail(_ message: String) -> Never {
  let text = "FUZZ INVARIANT VIOLATED: \(message)\n"
  _ = text.withCString { write(2, $0, strlen($0)) }
  abort()
}

private struct Outcome: Equatable {
  /// The error's message (not compared: the backends word deflate errors differently).
  var message = ""
  static func == (a: Outcome, b: Outcome) -> Bool {
    a.length == b.length && a.checksum == b.checksum && a.error == b.error && a.hash == b.hash && a.isGzip == b.isGzip
  }
  var length = 0
  var checksum: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a over the decompressed bytes
  var error: InputError.Kind?
  var hash = ""
  var isGzip = false
}

private func decode(backend: FileByteStream.Backend, rawReadSize: Int, outputChunk: Int) -> Outcome {
  var outcome = Outcome()
  let stream: FileByteStream
  do {
    stream = try FileByteStream(path: memoryPath, inputBufferSize: rawReadSize, backend: backend)
  } catch {
    fail("cannot open the memory file: \(error)")
  }
  let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: outputChunk, alignment: 16)
  defer { buffer.deallocate() }
  do {
    while true {
      let n = try stream.read(into: buffer)
      if n == 0 { break }
      if n < 0 || n > outputChunk { fail("read returned \(n) for a buffer of \(outputChunk)") }
      for k in 0..<n {
        outcome.checksum = (outcome.checksum ^ UInt64(buffer[k])) &* 0x100_0000_01b3
      }
      outcome.length += n
      if outcome.length > outputCap { break }  // a bomb: compare the prefix only
    }
    outcome.hash = outcome.length > outputCap ? "" : stream.contentHash
  } catch {
    outcome.error = error.kind
    outcome.message = error.message
    outcome.length = 0
    outcome.checksum = 0
    // The error must be sticky.
    do {
      _ = try stream.read(into: buffer)
      fail("a read after an error did not throw")
    } catch let again {
      if again != error { fail("a second read threw \(again), not \(error)") }
    }
  }
  outcome.isGzip = stream.isGzip
  return outcome
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGzip(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
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
  let raw = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size)
  let tiny = 1 + (size > 0 ? Int(raw[size - 1]) % 16 : 0)

  var results: [(FileByteStream.Backend, String, Outcome)] = []
  for backend in FileByteStream.Backend.available {
    let large = decode(backend: backend, rawReadSize: 1 << 20, outputChunk: 256 << 10)
    let small = decode(backend: backend, rawReadSize: tiny, outputChunk: 1 + size % 97)
    // One backend must not depend on how the file is read.
    if small != large { fail("\(backend): \(tiny)-byte reads gave \(small), 1 MiB reads gave \(large)") }
    results.append((backend, "\(backend)", large))
  }
  let reference = results[0].2
  for (backend, name, outcome) in results.dropFirst() where outcome != reference {
    let kinds: Set<InputError.Kind?> = [outcome.error, reference.error]
    let corruptAndCutShort = kinds == [.corruptGzip, .truncatedGzip] && outcome.isGzip && reference.isGzip
    let zlib = backend == .zlib ? outcome : reference
    let zlibRejectsHuffmanTable =
      zlib.error == .corruptGzip
      && ["invalid literal/lengths set", "invalid distances set", "invalid code lengths set",
          "invalid bit length repeat", "too many length or distance symbols"].contains { zlib.message.contains($0) }
    if !corruptAndCutShort && !zlibRejectsHuffmanTable {
      fail("\(name) gave \(outcome), \(results[0].1) gave \(reference)")
    }
  }
  if reference.error == nil && reference.length <= outputCap {
    let expected = FileByteStream.contentHash(of: raw, portable: true)
    if reference.hash != expected { fail("contentHash \(reference.hash) != portable \(expected)") }
  }
  let magic = size >= 2 && raw[0] == 0x1F && raw[1] == 0x8B
  if reference.isGzip != magic { fail("isGzip \(reference.isGzip) but magic \(magic)") }
  if !magic {
    if reference.error != nil { fail("plain text threw \(String(describing: reference.error))") }
    var checksum: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in raw { checksum = (checksum ^ UInt64(byte)) &* 0x100_0000_01b3 }
    if reference.length != size || reference.checksum != checksum { fail("plain text did not pass through unchanged") }
  }
  return 0
}
