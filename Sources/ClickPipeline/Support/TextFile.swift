#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// A small text file people and other programs write (the configuration, the product
/// catalog): read whole as bytes, a UTF-8 byte-order mark skipped, lines split on LF with a
/// CR before it dropped, so files from Excel, Python's `csv` module and Windows editors read
/// the same as files from Unix tools.
public struct TextFile: Sendable {
  /// The file's bytes after the byte-order mark, if it had one.
  public let bytes: [UInt8]

  /// One line: its 1-based number and its bytes without the terminator.
  public struct Line {
    public var number: Int
    public var bytes: ArraySlice<UInt8>
  }

  public init(bytes: [UInt8]) {
    self.bytes = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(bytes.dropFirst(3)) : bytes
  }

  /// Reads the file at `path`, at most `limit` bytes; the error is the `strerror` text or
  /// "larger than N bytes".
  public static func load(path: String, limit: Int) -> Result<TextFile, TextFileError> {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return .failure(.system(errno)) }
    defer { close(fd) }
    var st = stat()
    if fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR { return .failure(.system(EISDIR)) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65_536)
    while true {
      let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      if count < 0 {
        let code = errno
        if code == EINTR { continue }
        return .failure(.system(code))
      }
      if count == 0 { break }
      bytes.append(contentsOf: buffer[0..<count])
      guard bytes.count <= limit else { return .failure(.tooLarge(limit: limit)) }
    }
    return .success(TextFile(bytes: bytes))
  }

  /// The lines, numbered from 1; a final terminator does not start another line.
  public var lines: [Line] {
    var result: [Line] = []
    var start = 0
    var number = 1
    while start < bytes.count {
      let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
      var line = bytes[start..<end]
      if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
      result.append(Line(number: number, bytes: line))
      number += 1
      start = end + 1
    }
    return result
  }

  /// The text, when every byte is valid UTF-8; otherwise the number of the first bad line.
  public var text: Result<String, InvalidUTF8> {
    if let text = String(validating: bytes, as: UTF8.self) { return .success(text) }
    let bad = lines.first { String(validating: $0.bytes, as: UTF8.self) == nil }?.number ?? 1
    return .failure(InvalidUTF8(line: bad))
  }

  public struct InvalidUTF8: Error {
    public var line: Int
  }
}

/// Why a ``TextFile`` could not be read.
public enum TextFileError: Error, CustomStringConvertible {
  case system(Int32)
  case tooLarge(limit: Int)

  public var description: String {
    switch self {
    case .system(let code): String(cString: strerror(code))
    case .tooLarge(let limit): "larger than \(limit >> 20) MiB"
    }
  }
}
