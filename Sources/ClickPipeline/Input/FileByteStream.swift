import CGzip

#if canImport(Glibc)
  import Glibc
  private func sysClose(_ fd: Int32) { _ = Glibc.close(fd) }
  private func sysRead(_ fd: Int32, _ p: UnsafeMutableRawPointer, _ n: Int) -> Int { Glibc.read(fd, p, n) }
#elseif canImport(Darwin)
  import Darwin
  private func sysClose(_ fd: Int32) { _ = Darwin.close(fd) }
  private func sysRead(_ fd: Int32, _ p: UnsafeMutableRawPointer, _ n: Int) -> Int { Darwin.read(fd, p, n) }
#endif

/// Why an input file could not be read whole (CONTRACT §8: such a file contributes nothing
/// and is retried by the next run).
public struct InputError: Error, CustomStringConvertible, Equatable {
  public enum Kind: String, Sendable {
    case notFound, permissionDenied, isDirectory, io, truncatedGzip, corruptGzip, trailingGarbage, unsupportedCompression
  }
  public var kind: Kind
  public var path: String
  /// What went wrong, without the path.
  public var message: String

  public init(kind: Kind, path: String, message: String) {
    self.kind = kind
    self.path = path
    self.message = message
  }

  /// `"<path>: <message>"`, e.g. `logs/x.gz: corrupt gzip data (CRC mismatch in member 1)`.
  public var description: String { "\(path): \(message)" }
}

/// Reads one input file as its decompressed bytes, gzip detected by magic bytes 1f 8b (never
/// by name); plain text passes through.
///
/// - Gzip may have any number of members (`cat a.gz b.gz`); they form one stream. Every
///   member's header (FHCRC included), CRC-32 and length are checked.
/// - A file that ends inside a member — its header or 8-byte trailer included, and a lone
///   `1f` after a member — is ``InputError/Kind-swift.enum/truncatedGzip``. Bytes after a
///   complete member that do not start with `1f 8b` are
///   ``InputError/Kind-swift.enum/trailingGarbage``, zero padding included (a decision:
///   `gzip -d` only warns about it). Anything else wrong is
///   ``InputError/Kind-swift.enum/corruptGzip``.
/// - Detection needs both magic bytes: an empty file is an empty stream, and a file holding
///   the single byte `1f` is plain text (one byte, passed through).
/// - Decoding uses ISA-L when the package was built with it (about 2.6x faster), else zlib.
///   Both give the same bytes and the same errors, with one exception on damaged data: when a
///   member is both corrupt and cut short, ISA-L can notice the corruption
///   (`corruptGzip`) where zlib runs out of input first (`truncatedGzip`); the detail text
///   about invalid deflate data is the backend's own.
/// - Memory is bounded: a 1 MiB read buffer, whatever the file size. Give ``read(into:)``
///   buffers of 256 KiB or more for speed; any non-empty size works.
/// - ``contentHash`` covers every raw (compressed) byte, computed in the same pass: two
///   CRC-64s (XZ and GO-ISO polynomials), 32 hex digits. Same bytes at any path give the
///   same hash, whichever backend the package was built with.
///
/// Not thread-safe: use one instance from one task at a time.
public final class FileByteStream {
  public let path: String
  /// Whether the file starts with 1f 8b; known after the first ``read(into:)``.
  public private(set) var isGzip: Bool = false
  /// Raw (compressed) bytes read from the file so far (read ahead of the decoder by at most
  /// one 1 MiB buffer); equals the file's length once ``read(into:)`` returned 0.
  public private(set) var rawBytesRead: Int = 0
  /// The file's size when it was opened (`fstat`); 0 for pipes.
  public var fileSize: Int { openedSize }

  /// Size of the raw read buffer.
  static let defaultInputBufferSize = 1 << 20

  private let openedSize: Int
  private var fd: Int32
  private let inputBuffer: UnsafeMutableRawPointer
  private let inputCapacity: Int
  private let readSize: Int  // bytes asked of each read(2); below capacity only in tests
  private var inputLength = 0  // valid raw bytes in inputBuffer (plain text path)
  private var inputPosition = 0  // next unconsumed byte (plain text path)
  private var sawEOF = false
  private var detected = false
  private var finished = false
  private var failure: InputError?
  private var decoder: OpaquePointer?  // cg_gunzip *, created once the file proves gzip
  private let backend: Int32
  private let hashState: UnsafeMutablePointer<cg_hash128>

  /// Gzip decoders compiled into CGzip.
  enum Backend: String, CaseIterable, Sendable {
    case zlib, isal
    var code: Int32 { self == .zlib ? Int32(CG_BACKEND_ZLIB) : Int32(CG_BACKEND_ISAL) }
    var isAvailable: Bool { cg_backend_available(code) != 0 }
    /// The one ``FileByteStream/init(path:)`` uses.
    static var preferred: Backend { String(cString: cg_backend_name()) == "isa-l" ? .isal : .zlib }
    static var available: [Backend] { allCases.filter(\.isAvailable) }
  }

  /// Opens `path` for reading. Missing, unreadable or directory paths throw.
  public convenience init(path: String) throws(InputError) {
    try self.init(path: path, inputBufferSize: Self.defaultInputBufferSize, backend: .preferred)
  }

  /// For tests: a chosen raw read size (down to 1 byte, to cut members at every offset) and
  /// gzip backend (must be available).
  init(path: String, inputBufferSize: Int, backend: Backend) throws(InputError) {
    self.path = path
    self.backend = backend.code
    var fd: Int32
    repeat {
      fd = open(path, O_RDONLY | O_CLOEXEC)
    } while fd < 0 && errno == EINTR
    if fd < 0 {
      throw Self.openError(path: path, errno: errno)
    }
    var st = stat()
    if fstat(fd, &st) != 0 {
      let e = errno
      sysClose(fd)
      throw InputError(kind: .io, path: path, message: "cannot stat: \(Self.errorText(e))")
    }
    if (st.st_mode & S_IFMT) == S_IFDIR {
      sysClose(fd)
      throw InputError(kind: .isDirectory, path: path, message: "is a directory")
    }
    self.fd = fd
    self.openedSize = (st.st_mode & S_IFMT) == S_IFREG ? Int(st.st_size) : 0
    self.readSize = max(1, inputBufferSize)
    self.inputCapacity = max(2, inputBufferSize)  // detection needs 2 bytes
    self.inputBuffer = UnsafeMutableRawPointer.allocate(byteCount: inputCapacity, alignment: 64)
    self.hashState = UnsafeMutablePointer<cg_hash128>.allocate(capacity: 1)
    self.hashState.initialize(to: cg_hash128(a: 0, b: 0))
  }

  deinit {
    close()
    inputBuffer.deallocate()
    hashState.deallocate()
  }

  /// Hex of the 128-bit hash of every raw byte of the file; valid only after ``read(into:)``
  /// returned 0 (before that it covers the bytes read so far).
  public var contentHash: String {
    Self.hex(hashState.pointee.a) + Self.hex(hashState.pointee.b)
  }

  /// Closes the file and releases the decoder; later reads throw. Called by `deinit`.
  public func close() {
    if fd >= 0 {
      sysClose(fd)
      fd = -1
    }
    if let d = decoder {
      cg_gunzip_free(d)
      decoder = nil
    }
  }

  /// Reads the next decompressed bytes into `buffer`; returns 0 at the end of the stream (and
  /// for an empty `buffer`). Throws on I/O error, truncated or corrupt gzip; once it has
  /// thrown, it throws the same error again.
  public func read(into buffer: UnsafeMutableRawBufferPointer) throws(InputError) -> Int {
    if let failure { throw failure }
    guard let out = buffer.baseAddress, buffer.count > 0, !finished else { return 0 }
    do throws(InputError) {
      if !detected { try detect() }
      return isGzip ? try readGzip(out, buffer.count) : try readPlain(out, buffer.count)
    } catch {
      failure = error
      close()
      throw error
    }
  }

  // MARK: - Private

  /// Other compressed formats, by their magic bytes: named as unsupported rather than read as
  /// one long malformed line.
  static let unsupportedFormats: [(name: String, magic: [UInt8])] = [
    ("bzip2", Array("BZh".utf8)), ("xz", [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]),
    ("zstd", [0x28, 0xB5, 0x2F, 0xFD]), ("zip", [0x50, 0x4B, 0x03, 0x04]), ("lz4", [0x04, 0x22, 0x4D, 0x18]),
  ]

  /// Reads until there are 6 bytes (or EOF) and looks for the gzip magic (and the magic of
  /// compressed formats that are not supported).
  private func detect() throws(InputError) {
    try fill(upTo: 2)
    detected = true
    let bytes = inputBuffer.assumingMemoryBound(to: UInt8.self)
    isGzip = inputLength >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b
    if !isGzip { try fill(upTo: 6) }
    let head = UnsafeBufferPointer(start: bytes, count: inputLength)
    if let format = Self.unsupportedFormats.first(where: { head.starts(with: $0.magic) }) {
      throw InputError(
        kind: .unsupportedCompression, path: path,
        message: "unsupported compression: \(format.name); decompress it, or recompress it with gzip")
    }
    guard isGzip else { return }
    guard let d = cg_gunzip_new_backend(backend) else {
      throw InputError(kind: .io, path: path, message: "cannot create the gzip decoder (out of memory or backend unavailable)")
    }
    decoder = d
    cg_gunzip_input(d, bytes, inputLength, sawEOF ? 1 : 0)
    inputLength = 0
  }

  /// Reads until the input buffer holds `count` bytes or the file ends.
  private func fill(upTo count: Int) throws(InputError) {
    while inputLength < min(count, inputCapacity) && !sawEOF {
      let n = try readRaw(into: inputBuffer + inputLength, count: min(readSize, inputCapacity - inputLength))
      if n == 0 { sawEOF = true }
      inputLength += n
    }
  }

  private func readPlain(_ out: UnsafeMutableRawPointer, _ count: Int) throws(InputError) -> Int {
    if inputPosition == inputLength {
      inputPosition = 0
      inputLength = sawEOF ? 0 : try readRaw(into: inputBuffer, count: readSize)
      if inputLength == 0 {
        sawEOF = true
        finished = true
        close()
        return 0
      }
    }
    let n = min(count, inputLength - inputPosition)
    out.copyMemory(from: inputBuffer + inputPosition, byteCount: n)
    inputPosition += n
    return n
  }

  private func readGzip(_ out: UnsafeMutableRawPointer, _ count: Int) throws(InputError) -> Int {
    guard let d = decoder else { throw closedError() }
    let bytes = out.assumingMemoryBound(to: UInt8.self)
    while true {
      var produced = 0
      let status = cg_gunzip_read(d, bytes, count, &produced)
      if status < 0 { throw gzipError(d, status) }
      if produced > 0 { return produced }
      if status == Int32(CG_END) {
        finished = true
        close()
        return 0
      }
      // CG_NEED_INPUT (CG_OK always comes with output)
      if sawEOF {
        cg_gunzip_input(d, nil, 0, 1)
        continue
      }
      let n = try readRaw(into: inputBuffer, count: readSize)
      if n == 0 {
        sawEOF = true
        cg_gunzip_input(d, nil, 0, 1)
      } else {
        cg_gunzip_input(d, inputBuffer.assumingMemoryBound(to: UInt8.self), n, 0)
      }
    }
  }

  /// One `read(2)`, retried on EINTR; hashes what it got. (The descriptor is blocking, so
  /// EAGAIN cannot happen; it is an I/O error rather than a busy loop.)
  private func readRaw(into dst: UnsafeMutableRawPointer, count: Int) throws(InputError) -> Int {
    guard fd >= 0 else { throw closedError() }
    while true {
      let n = sysRead(fd, dst, count)
      if n >= 0 {
        if n > 0 {
          cg_hash128_update(hashState, dst, n)
          rawBytesRead += n
        }
        return n
      }
      let e = errno
      if e == EINTR { continue }
      if e == EISDIR { throw InputError(kind: .isDirectory, path: path, message: "is a directory") }
      throw InputError(kind: .io, path: path, message: "read error after \(rawBytesRead) bytes: \(Self.errorText(e))")
    }
  }

  private func gzipError(_ d: OpaquePointer, _ status: Int32) -> InputError {
    let member = cg_gunzip_member(d)
    let offset = cg_gunzip_error_offset(d)
    let inHeader = cg_gunzip_error_in_header(d) != 0
    let detail = String(cString: cg_gunzip_error_detail(d))
    switch status {
    case Int32(CG_ERR_TRUNCATED):
      let place = inHeader ? "the header of member \(member)" : "member \(member)"
      return InputError(
        kind: .truncatedGzip, path: path,
        message:
          "truncated gzip stream (ended inside \(place) after \(offset) compressed bytes); the file may still be being written — it will be retried next run"
      )
    case Int32(CG_ERR_TRAILING_GARBAGE):
      return InputError(
        kind: .trailingGarbage, path: path,
        message: "trailing garbage after gzip member \(member) at byte \(offset)")
    case Int32(CG_ERR_CRC):
      return InputError(kind: .corruptGzip, path: path, message: "corrupt gzip data (CRC mismatch in member \(member))")
    case Int32(CG_ERR_LENGTH):
      return InputError(kind: .corruptGzip, path: path, message: "corrupt gzip data (length mismatch in member \(member))")
    case Int32(CG_ERR_HEADER):
      return InputError(
        kind: .corruptGzip, path: path,
        message: "corrupt gzip data (bad header in member \(member): \(detail))")
    case Int32(CG_ERR_MEMORY):
      return InputError(kind: .io, path: path, message: "out of memory while decompressing")
    default:
      return InputError(
        kind: .corruptGzip, path: path,
        message: "corrupt gzip data (invalid deflate data in member \(member) near compressed byte \(offset): \(detail))")
    }
  }

  private func closedError() -> InputError {
    InputError(kind: .io, path: path, message: "read after close")
  }

  private static func openError(path: String, errno e: Int32) -> InputError {
    switch e {
    case ENOENT, ENOTDIR:
      return InputError(kind: .notFound, path: path, message: "no such file")
    case EACCES, EPERM:
      return InputError(kind: .permissionDenied, path: path, message: "permission denied")
    case EISDIR:
      return InputError(kind: .isDirectory, path: path, message: "is a directory")
    default:
      return InputError(kind: .io, path: path, message: "cannot open: \(errorText(e))")
    }
  }

  private static func errorText(_ e: Int32) -> String {
    guard let s = strerror(e) else { return "errno \(e)" }
    return String(cString: s)
  }

  /// The ``contentHash`` the file at `path` will have once read whole, from its raw bytes
  /// (nothing is decompressed or checked): tells whether a file was ingested before, for the
  /// cost of reading it, without parsing it.
  static func rawContentHash(path: String) throws(InputError) -> String {
    let stream = try FileByteStream(path: path)
    defer { stream.close() }
    while try stream.readRaw(into: stream.inputBuffer, count: stream.inputCapacity) > 0 {}
    return stream.contentHash
  }

  /// The ``contentHash`` of `bytes`; `portable` forces the table CRCs instead of ISA-L's.
  static func contentHash(of bytes: UnsafeRawBufferPointer, portable: Bool) -> String {
    var h = cg_hash128(a: 0, b: 0)
    if let base = bytes.baseAddress {
      if portable {
        cg_hash128_update_portable(&h, base, bytes.count)
      } else {
        cg_hash128_update(&h, base, bytes.count)
      }
    }
    return hex(h.a) + hex(h.b)
  }

  private static func hex(_ v: UInt64) -> String {
    let s = String(v, radix: 16)
    return String(repeating: "0", count: 16 - s.count) + s
  }
}
