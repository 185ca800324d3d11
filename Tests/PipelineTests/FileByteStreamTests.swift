import Foundation
import Testing

@testable import ClickPipeline

#if canImport(Glibc)
  import Glibc
#endif

/// FileByteStream: gzip detection, multi-member streams, strict errors, content hash.
///
/// Every gzip case runs on each compiled-in backend (ISA-L and zlib when libisal-dev is
/// installed; zlib only otherwise), so both are shown to give the same bytes and the same
/// error kinds. Test data is made at test time: `/bin/gzip` for real deflate streams, and a
/// small writer below for hand-made members (stored blocks, every header field).
///
/// Decisions pinned here:
/// - an empty file is an empty stream; a one-byte file `1f` is plain text (the magic is 2 bytes);
/// - zero padding after the last member is trailing garbage (an error, like any other bytes);
/// - a lone `1f`, or `1f 8b` and a partial header, after a member is a truncated member.
@Suite("FileByteStream")
struct FileByteStreamTests {
  typealias Backend = FileByteStream.Backend

  // MARK: Plain text and detection

  @Test func plainTextPassesThroughUnchanged() throws {
    let dir = try TempDir()
    let text = Array("{\"type\":\"view\"}\r\nline two\n\n\u{00e9}t\u{00e9}\n".utf8)
    let path = try dir.write("day1.ndjson.gz", text)  // the name does not matter: no magic, no gzip
    let (out, stream) = try decode(path, backend: .preferred)
    #expect(out == text)
    #expect(!stream.isGzip)
    #expect(stream.rawBytesRead == text.count)
    #expect(stream.fileSize == text.count)
  }

  @Test func emptyFileIsAnEmptyStream() throws {
    let dir = try TempDir()
    let path = try dir.write("empty", [])
    let (out, stream) = try decode(path, backend: .preferred)
    #expect(out.isEmpty)
    #expect(!stream.isGzip)
    #expect(stream.contentHash == String(repeating: "0", count: 32))
  }

  /// The magic needs both bytes: a file holding just `1f` is one byte of plain text.
  @Test func lone1fByteIsPlainText() throws {
    let dir = try TempDir()
    let path = try dir.write("one", [0x1f])
    let (out, stream) = try decode(path, backend: .preferred)
    #expect(out == [0x1f])
    #expect(!stream.isGzip)
  }

  @Test func gzipIsDetectedByMagicNotName() throws {
    let dir = try TempDir()
    let text = sampleLines(count: 50)
    let gz = try dir.gzip(text, name: "input.txt")
    let path = try dir.write("no-extension", gz)
    let (out, stream) = try decode(path, backend: .preferred)
    #expect(out == text)
    #expect(stream.isGzip)
  }

  // MARK: Well-formed gzip

  @Test(arguments: Backend.available)
  func singleMember(backend: Backend) throws {
    let dir = try TempDir()
    let text = sampleLines(count: 2_000)
    for noName in [true, false] {  // with and without the FNAME header field
      let gz = try dir.gzip(text, noName: noName)
      let path = try dir.write("single.gz", gz)
      let (out, stream) = try decode(path, backend: backend)
      #expect(out == text)
      #expect(stream.isGzip)
      #expect(stream.rawBytesRead == gz.count)
      #expect(stream.fileSize == gz.count)
    }
  }

  @Test(arguments: Backend.available)
  func concatenatedMembersAreOneStream(backend: Backend) throws {
    let dir = try TempDir()
    let a = sampleLines(count: 300, seed: 1)
    let b = sampleLines(count: 5, seed: 2)
    let c = sampleLines(count: 700, seed: 3)
    let file = try dir.gzip(a) + dir.gzip([]) + dir.gzip(b, noName: false) + storedMember(c)
    let path = try dir.write("multi.gz", file)
    let (out, _) = try decode(path, backend: backend)
    #expect(out == a + b + c)
  }

  @Test(arguments: Backend.available)
  func emptyMemberAloneIsAnEmptyStream(backend: Backend) throws {
    let dir = try TempDir()
    let gz = try dir.gzip([])
    #expect(gz.count == 20)
    let path = try dir.write("empty.gz", gz)
    let (out, stream) = try decode(path, backend: backend)
    #expect(out.isEmpty)
    #expect(stream.isGzip)
  }

  /// FEXTRA, FNAME, FCOMMENT and a correct FHCRC are parsed and skipped.
  @Test(arguments: Backend.available)
  func everyOptionalHeaderField(backend: Backend) throws {
    let dir = try TempDir()
    let text = sampleLines(count: 40)
    let member = storedMember(
      text, extra: [1, 2, 3, 4, 5], name: "clicks.ndjson",
      comment: "made by hand", headerCRC: true)
    let path = try dir.write("fields.gz", member + member)
    let (out, _) = try decode(path, backend: backend)
    #expect(out == text + text)
  }

  /// Raw read sizes from 1 byte up, and caller buffers from 1 byte up: members, headers,
  /// deflate blocks and trailers cut at every kind of place give the same bytes.
  @Test(arguments: Backend.available)
  func anyReadAndBufferSizesGiveTheSameBytes(backend: Backend) throws {
    let dir = try TempDir()
    let a = sampleLines(count: 400, seed: 4)
    let b = sampleLines(count: 3, seed: 5)
    let file =
      try dir.gzip(a, noName: false) + dir.gzip([]) + storedMember(b, name: "b", headerCRC: true)
      + dir.gzip(b, level: 1)
    let path = try dir.write("splits.gz", file)
    for inputSize in [1, 2, 3, 5, 7, 8, 9, 13, 64, 1000, 1 << 20] {
      for chunk in [1, 7, 100, 65_536] {
        let (out, _) = try decode(path, backend: backend, chunk: chunk, inputBufferSize: inputSize)
        #expect(out == a + b + b, "input \(inputSize), chunk \(chunk)")
      }
    }
  }

  /// 50 MB of NDJSON-like lines, several deflate blocks and two members; compared byte for
  /// byte, once with 1 MiB caller buffers and once with 7-byte ones.
  @Test(arguments: Backend.available)
  func largeStream(backend: Backend) throws {
    let dir = try TempDir()
    var text = sampleLines(count: 175_000, seed: 9)  // about 25 MB
    let half = text.count
    text += sampleLines(count: 175_000, seed: 10)
    #expect(text.count > 48_000_000)
    let file = try dir.gzip(Array(text[..<half]), level: 1) + dir.gzip(Array(text[half...]), level: 6)
    let path = try dir.write("large.gz", file)
    for chunk in [1 << 20, 7] {
      let stream = try FileByteStream(path: path, inputBufferSize: 1 << 20, backend: backend)
      let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 16)
      defer { buffer.deallocate() }
      var offset = 0
      var mismatchAt: Int?
      try text.withUnsafeBytes { expected in
        while true {
          let n = try stream.read(into: buffer)
          if n == 0 { break }
          if mismatchAt == nil, let got = buffer.baseAddress, let want = expected.baseAddress {
            if offset + n > expected.count || memcmp(got, want + offset, n) != 0 {
              mismatchAt = offset
            }
          }
          offset += n
        }
      }
      #expect(mismatchAt == nil, "chunk \(chunk)")
      #expect(offset == text.count, "chunk \(chunk)")
      #expect(stream.rawBytesRead == file.count)
      #expect(stream.fileSize == file.count)
    }
  }

  // MARK: Truncation

  @Test(arguments: Backend.available)
  func truncatedAtSeveralPoints(backend: Backend) throws {
    let dir = try TempDir()
    let a = sampleLines(count: 500, seed: 6)
    let named = try dir.gzip(a, noName: false, name: "day1.ndjson")  // header has FNAME
    let plain = try dir.gzip(a)
    var badCRC = plain
    badCRC[plain.count - 8] ^= 0x01
    // (bytes, where the cut is, expected message fragment)
    let cases: [([UInt8], String, String)] = [
      (Array(named[..<2]), "after the magic", "inside the header of member 1 after 2 compressed bytes"),
      (Array(named[..<9]), "inside the fixed header", "inside the header of member 1 after 9 compressed bytes"),
      (Array(named[..<14]), "inside the file name", "inside the header of member 1 after 14 compressed bytes"),
      (Array(plain[..<(plain.count / 2)]), "middle of the deflate data", "inside member 1 after \(plain.count / 2) compressed bytes"),
      (Array(plain[..<(plain.count - 8)]), "just before the trailer", "inside member 1"),
      (Array(plain[..<(plain.count - 5)]), "inside the trailer", "inside member 1"),
      (Array(plain[..<(plain.count - 1)]), "last trailer byte missing", "inside member 1"),
      // Fewer than 8 trailer bytes is truncation even when the CRC already disagrees (zlib
      // alone would say "CRC mismatch" as soon as it had the 4 CRC bytes; ISA-L needs all 8).
      (Array(badCRC[..<(plain.count - 2)]), "bad CRC, cut inside ISIZE", "inside member 1"),
      (plain + Array(named[..<(named.count / 2)]), "middle of member 2", "inside member 2"),
      (plain + [0x1f], "a lone 1f after member 1", "inside the header of member 2"),
      (plain + [0x1f, 0x8b, 8], "a partial second header", "inside the header of member 2"),
    ]
    for (bytes, place, fragment) in cases {
      let path = try dir.write("cut.gz", bytes)
      let error = decodeError(path, backend: backend)
      #expect(error?.kind == .truncatedGzip, "\(place)")
      #expect(error?.path == path)
      #expect(error?.description.hasPrefix("\(path): truncated gzip stream (ended ") == true, "\(place)")
      #expect(error?.message.contains(fragment) == true, "\(place): \(error?.message ?? "no error")")
      #expect(error?.message.hasSuffix("the file may still be being written — it will be retried next run") == true)
    }
  }

  /// Every prefix of a 4-member file: complete at member boundaries, plain text at 1 byte,
  /// truncated everywhere else — read 1 byte at a time and in one go.
  @Test(arguments: Backend.available)
  func truncatedAtEveryOffset(backend: Backend) throws {
    let dir = try TempDir()
    let a = sampleLines(count: 6, seed: 7)
    let b = sampleLines(count: 2, seed: 8)
    let members: [([UInt8], [UInt8])] = [
      (try dir.gzip(a), a),
      (try dir.gzip([]), []),
      (storedMember(b, extra: [9, 9], name: "n", comment: "c", headerCRC: true), b),
      (try dir.gzip(b, noName: false), b),
    ]
    let file = members.flatMap(\.0)
    var complete: [Int: [UInt8]] = [:]
    var end = 0
    var text: [UInt8] = []
    for (gz, payload) in members {
      end += gz.count
      text += payload
      complete[end] = text
    }
    for length in 1..<file.count {
      let path = try dir.write("prefix.gz", Array(file[..<length]))
      for inputSize in [1, 1 << 20] {
        let label = "length \(length), input \(inputSize)"
        if length == 1 {
          let (out, stream) = try decode(path, backend: backend, inputBufferSize: inputSize)
          #expect(out == [0x1f] && !stream.isGzip, "\(label)")
        } else if let expected = complete[length] {
          let (out, _) = try decode(path, backend: backend, inputBufferSize: inputSize)
          #expect(out == expected, "\(label)")
        } else {
          let error = decodeError(path, backend: backend, inputBufferSize: inputSize)
          #expect(error?.kind == .truncatedGzip, "\(label): \(error?.description ?? "no error")")
          #expect(error?.message.contains("after \(length) compressed bytes") == true, "\(label)")
        }
      }
    }
  }

  // MARK: Corruption

  @Test(arguments: Backend.available)
  func flippedCRCByte(backend: Backend) throws {
    let dir = try TempDir()
    let first = try dir.gzip(sampleLines(count: 100, seed: 1))
    var second = try dir.gzip(sampleLines(count: 100, seed: 2))
    second[second.count - 8] ^= 0x01  // first byte of the CRC-32
    let path = try dir.write("crc.gz", first + second)
    let error = decodeError(path, backend: backend)
    #expect(error?.kind == .corruptGzip)
    #expect(error?.description == "\(path): corrupt gzip data (CRC mismatch in member 2)")
  }

  @Test(arguments: Backend.available)
  func flippedLengthByte(backend: Backend) throws {
    let dir = try TempDir()
    var gz = try dir.gzip(sampleLines(count: 100))
    gz[gz.count - 1] ^= 0x40  // last byte of ISIZE
    let path = try dir.write("isize.gz", gz)
    let error = decodeError(path, backend: backend)
    #expect(error?.kind == .corruptGzip)
    #expect(error?.description == "\(path): corrupt gzip data (length mismatch in member 1)")
  }

  @Test(arguments: Backend.available)
  func flippedDataByte(backend: Backend) throws {
    let dir = try TempDir()
    let text = sampleLines(count: 3_000)
    var gz = try dir.gzip(text)
    gz[gz.count / 2] ^= 0xff
    let path = try dir.write("data.gz", gz)
    let error = decodeError(path, backend: backend)
    #expect(error?.kind == .corruptGzip)
    #expect(error?.message.hasPrefix("corrupt gzip data (") == true)
  }

  /// Flipping any byte of the deflate data or trailer is always an error (never silently
  /// different bytes), and both backends name the same kind of error.
  @Test func everyFlippedByteIsAnErrorOfTheSameKindOnEveryBackend() throws {
    let dir = try TempDir()
    let text = sampleLines(count: 60, seed: 11)
    let gz = try dir.gzip(text)  // no FNAME: bytes 10..<count are deflate data and trailer
    var disagreements: [String] = []
    for position in 10..<gz.count {
      var bad = gz
      bad[position] ^= 0xff
      let path = try dir.write("flip.gz", bad)
      var kinds: [Backend: InputError.Kind] = [:]
      for backend in Backend.available {
        let error = decodeError(path, backend: backend)
        #expect(error != nil, "byte \(position), \(backend)")
        kinds[backend] = error?.kind
      }
      if Set(kinds.values).count > 1 { disagreements.append("byte \(position): \(kinds)") }
    }
    #expect(disagreements.isEmpty, "\(disagreements)")
  }

  @Test(arguments: Backend.available)
  func badMemberHeaders(backend: Backend) throws {
    let dir = try TempDir()
    let text = sampleLines(count: 10)
    let good = storedMember(text)
    var method = storedMember(text)
    method[2] = 7
    var reserved = storedMember(text)
    reserved[3] |= 0x20
    var headerCRC = storedMember(text, name: "x", headerCRC: true)
    headerCRC[12] ^= 0x01  // the FHCRC itself: 10 fixed bytes + "x\0", then the CRC-16
    for (bytes, what) in [
      (method, "unknown compression method"), (reserved, "unknown header flags set"),
      (headerCRC, "header crc mismatch"),
    ] {
      let path = try dir.write("hdr.gz", good + bytes)
      let error = decodeError(path, backend: backend)
      #expect(error?.kind == .corruptGzip, "\(what)")
      #expect(error?.message == "corrupt gzip data (bad header in member 2: \(what))")
    }
  }

  // MARK: Trailing bytes

  @Test(arguments: Backend.available)
  func trailingGarbage(backend: Backend) throws {
    let dir = try TempDir()
    let a = try dir.gzip(sampleLines(count: 20, seed: 1))
    let b = try dir.gzip(sampleLines(count: 20, seed: 2))
    for garbage in [Array("hello\n".utf8), [0x1f, 0x00, 0x00], [0x8b], [0x1f, 0x8c]] {
      let path = try dir.write("garbage.gz", a + b + garbage)
      let error = decodeError(path, backend: backend)
      #expect(error?.kind == .trailingGarbage)
      #expect(error?.description == "\(path): trailing garbage after gzip member 2 at byte \(a.count + b.count)")
    }
  }

  /// Decision: zero padding after the last member (as some tape and block writers add) is
  /// trailing garbage, an error, like any other bytes — `gzip -d` only warns about it.
  @Test(arguments: Backend.available)
  func trailingZerosAreGarbage(backend: Backend) throws {
    let dir = try TempDir()
    let a = try dir.gzip(sampleLines(count: 20))
    for zeros in [1, 2, 512] {
      let path = try dir.write("zeros.gz", a + [UInt8](repeating: 0, count: zeros))
      let error = decodeError(path, backend: backend)
      #expect(error?.kind == .trailingGarbage)
      #expect(error?.message == "trailing garbage after gzip member 1 at byte \(a.count)")
    }
  }

  // MARK: Errors are sticky; close

  @Test func errorsRepeatAndCloseEndsReading() throws {
    let dir = try TempDir()
    let gz = try dir.gzip(sampleLines(count: 20))
    let path = try dir.write("cut.gz", Array(gz[..<(gz.count - 3)]))
    let stream = try FileByteStream(path: path)
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
    defer { buffer.deallocate() }
    var first: InputError?
    do {
      while try stream.read(into: buffer) > 0 {}
    } catch { first = error }
    #expect(first?.kind == .truncatedGzip)
    #expect(throws: first ?? InputError(kind: .io, path: "", message: "")) { _ = try stream.read(into: buffer) }

    let okPath = try dir.write("ok.gz", gz)
    let ok = try FileByteStream(path: okPath)
    ok.close()
    #expect(throws: InputError.self) { _ = try ok.read(into: buffer) }
  }

  // MARK: Content hash

  @Test func sameContentAtTwoPathsHasTheSameHash() throws {
    let dir = try TempDir()
    let gz = try dir.gzip(sampleLines(count: 3_000))
    let p1 = try dir.write("a/day1.ndjson.gz", gz)
    let p2 = try dir.write("b/renamed", gz)
    var different = gz
    different[different.count / 3] ^= 0x01
    let p3 = try dir.write("c/day1.ndjson.gz", different)
    var hashes: [String] = []
    for (path, backend) in [(p1, Backend.preferred), (p2, Backend.available[0]), (p1, Backend.available.last ?? .zlib)] {
      let (_, stream) = try decode(path, backend: backend)
      hashes.append(stream.contentHash)
    }
    #expect(Set(hashes).count == 1)
    #expect(hashes[0].count == 32)
    #expect(hashes[0] == gz.withUnsafeBytes { FileByteStream.contentHash(of: $0, portable: true) })
    // The hash covers raw bytes, so it is ready even when the data is corrupt.
    let s3 = try FileByteStream(path: p3, inputBufferSize: 1 << 20, backend: .preferred)
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
    defer { buffer.deallocate() }
    _ = try? s3.read(into: buffer)
    #expect(s3.rawBytesRead == different.count)
    #expect(s3.contentHash != hashes[0])
    #expect(s3.contentHash == different.withUnsafeBytes { FileByteStream.contentHash(of: $0, portable: true) })
  }

  @Test func plainTextHashAndOneByteDifference() throws {
    let dir = try TempDir()
    let text = sampleLines(count: 100)
    var other = text
    other[other.count - 2] ^= 0x01
    let (_, s1) = try decode(try dir.write("x", text), backend: .preferred, inputBufferSize: 3)
    let (_, s2) = try decode(try dir.write("y", text), backend: .preferred)
    let (_, s3) = try decode(try dir.write("z", other), backend: .preferred)
    #expect(s1.contentHash == s2.contentHash)
    #expect(s1.contentHash != s3.contentHash)
  }

  /// The hash is CRC-64/XZ then CRC-64/GO-ISO; the ISA-L and table versions agree.
  @Test func hashIsTwoStandardCRC64sOnEveryImplementation() {
    let check = Array("123456789".utf8)
    for portable in [true, false] {
      let h = check.withUnsafeBytes { FileByteStream.contentHash(of: $0, portable: portable) }
      #expect(h == "995dc9bbdf1939fa" + "b90956c775a41001")
    }
    var rng = SplitMix(seed: 42)
    for length in Array(0...70) + [4095, 1 << 20] {
      let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
      let fast = bytes.withUnsafeBytes { FileByteStream.contentHash(of: $0, portable: false) }
      let slow = bytes.withUnsafeBytes { FileByteStream.contentHash(of: $0, portable: true) }
      #expect(fast == slow, "length \(length)")
    }
  }

  // MARK: Open errors

  @Test func missingFileAndDirectory() throws {
    let dir = try TempDir()
    let missing = dir.path + "/nope.gz"
    #expect(openError(missing)?.kind == .notFound)
    #expect(openError(missing)?.description == "\(missing): no such file")
    #expect(openError(dir.path + "/nope/child")?.kind == .notFound)
    let file = try dir.write("file", [1])
    #expect(openError(file + "/child")?.kind == .notFound)  // ENOTDIR
    #expect(openError(dir.path)?.kind == .isDirectory)
    #expect(openError(dir.path)?.description == "\(dir.path): is a directory")
  }

  /// Root ignores permission bits, so this cannot fail as root (CI containers often run as
  /// root): the test is skipped there rather than faked.
  @Test(.enabled(if: geteuid() != 0, "running as root: permission bits are not enforced"))
  func unreadableFile() throws {
    let dir = try TempDir()
    let path = try dir.write("secret.gz", [1, 2, 3])
    #expect(chmod(path, 0o000) == 0)
    defer { _ = chmod(path, 0o600) }
    #expect(openError(path)?.kind == .permissionDenied)
    #expect(openError(path)?.description == "\(path): permission denied")
  }
}

// MARK: - Helpers

/// Reads the whole stream in `chunk`-byte calls.
private func decode(
  _ path: String, backend: FileByteStream.Backend, chunk: Int = 64 << 10, inputBufferSize: Int = 1 << 20
) throws(InputError) -> ([UInt8], FileByteStream) {
  let stream = try FileByteStream(path: path, inputBufferSize: inputBufferSize, backend: backend)
  let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 16)
  defer { buffer.deallocate() }
  var out: [UInt8] = []
  while true {
    let n = try stream.read(into: buffer)
    if n == 0 { break }
    out.append(contentsOf: buffer[..<n])
  }
  let again = try stream.read(into: buffer)
  #expect(again == 0)  // the end stays the end
  return (out, stream)
}

/// The error reading `path` throws, or nil if it reads cleanly.
private func decodeError(_ path: String, backend: FileByteStream.Backend, inputBufferSize: Int = 1 << 20) -> InputError? {
  do {
    _ = try decode(path, backend: backend, inputBufferSize: inputBufferSize)
    return nil
  } catch {
    return error
  }
}

private func openError(_ path: String) -> InputError? {
  do {
    _ = try FileByteStream(path: path)
    return nil
  } catch {
    return error
  }
}

/// A fresh directory under the system temp dir, removed when the value goes away.
private final class TempDir {
  let path: String
  init() throws {
    path = FileManager.default.temporaryDirectory.path + "/fbs-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  }
  deinit { try? FileManager.default.removeItem(atPath: path) }

  @discardableResult
  func write(_ name: String, _ bytes: [UInt8]) throws -> String {
    let full = path + "/" + name
    let parent = (full as NSString).deletingLastPathComponent
    try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
    try Data(bytes).write(to: URL(fileURLWithPath: full))
    return full
  }

  private var counter = 0

  /// `bytes` compressed by /bin/gzip as one member (`-n`: no name or time in the header).
  func gzip(_ bytes: [UInt8], noName: Bool = true, name: String = "input.txt", level: Int = 6) throws -> [UInt8] {
    counter += 1
    let work = path + "/gzip-work-\(counter)"
    try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: work) }
    let input = try write("gzip-work-\(counter)/\(name)", bytes)
    let output = work + "/out.gz"
    _ = FileManager.default.createFile(atPath: output, contents: nil)
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/gzip")
    process.arguments = ["-c", "-\(level)"] + (noName ? ["-n"] : ["-N"]) + [input]
    process.standardOutput = handle
    try process.run()
    process.waitUntilExit()
    try handle.close()
    #expect(process.terminationStatus == 0)
    return Array(try Data(contentsOf: URL(fileURLWithPath: output)))
  }
}

/// Deterministic NDJSON-like lines (about 170 bytes each).
private func sampleLines(count: Int, seed: UInt64 = 0) -> [UInt8] {
  var rng = SplitMix(seed: seed)
  var out: [UInt8] = []
  out.reserveCapacity(count * 180)
  let types = ["view", "click", "conversion"]
  for i in 0..<count {
    let r = rng.next()
    let line =
      "{\"type\":\"\(types[Int(r % 3)])\",\"event_id\":\"e\(seed)-\(i)\",\"ts\":\(1_700_000_000_000 + Int(r % 86_400_000)),"
      + "\"creator_id\":\"c\(r % 997)\",\"product_id\":\"p\(r % 5003)\",\"platform\":\"amazon\",\"viewer_id\":\"v\(r >> 40)\"}\n"
    out.append(contentsOf: line.utf8)
  }
  return out
}

private struct SplitMix {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

/// One gzip member written by hand with stored (uncompressed) deflate blocks, so every header
/// field can be exercised.
private func storedMember(
  _ payload: [UInt8], extra: [UInt8]? = nil, name: String? = nil, comment: String? = nil,
  headerCRC: Bool = false
) -> [UInt8] {
  var flags: UInt8 = 0
  if headerCRC { flags |= 0x02 }
  if extra != nil { flags |= 0x04 }
  if name != nil { flags |= 0x08 }
  if comment != nil { flags |= 0x10 }
  var out: [UInt8] = [0x1f, 0x8b, 8, flags, 0, 0, 0, 0, 0, 255]
  if let extra {
    out += le16(extra.count) + extra
  }
  if let name { out += Array(name.utf8) + [0] }
  if let comment { out += Array(comment.utf8) + [0] }
  if headerCRC { out += le16(Int(crc32(out) & 0xffff)) }
  var rest = payload[...]
  repeat {
    let block = rest.prefix(65_535)
    rest = rest.dropFirst(block.count)
    out.append(rest.isEmpty ? 1 : 0)  // BFINAL, BTYPE = 00 (stored)
    out += le16(block.count) + le16(~block.count & 0xffff)
    out += block
  } while !rest.isEmpty
  out += le32(crc32(payload)) + le32(UInt32(truncatingIfNeeded: payload.count))
  return out
}

private func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xff), UInt8((v >> 8) & 0xff)] }
private func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }

private func crc32(_ bytes: [UInt8]) -> UInt32 {
  var crc: UInt32 = 0xffff_ffff
  for b in bytes {
    crc ^= UInt32(b)
    for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
  }
  return ~crc
}
