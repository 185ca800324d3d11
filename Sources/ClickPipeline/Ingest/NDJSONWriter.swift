#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Writes flat JSON objects, one per line, to a file descriptor through a 256 KiB buffer.
///
/// Strings are encoded over their bytes (``appendJSONString(_:to:)``): `"`, `\` and control
/// characters are escaped, everything else is copied, so valid UTF-8 stays as it is. Numbers
/// are integers only: money leaves Swift as exact cents, never as a binary double.
///
/// ```swift
/// let w = NDJSONWriter(fd: STDOUT_FILENO)
/// w.begin("reject"); w.field("line", 3); w.field("reason", "malformed"); w.end()
/// // {"kind":"reject","line":3,"reason":"malformed"}
/// ```
final class NDJSONWriter {
  private let fd: Int32
  private var buffer: [UInt8] = []
  private var firstField = true
  /// The first write error (errno), reported by ``finish(path:)``.
  private var writeError: Int32 = 0
  private static let flushBytes = 1 << 18

  init(fd: Int32) {
    self.fd = fd
    buffer.reserveCapacity(Self.flushBytes + 4096)
  }

  /// Starts an object whose first field is `"kind": kind`.
  func begin(_ kind: String) {
    buffer.append(UInt8(ascii: "{"))
    firstField = true
    field("kind", kind)
  }

  /// Ends the object and its line.
  func end() {
    buffer.append(UInt8(ascii: "}"))
    buffer.append(0x0A)
    if buffer.count >= Self.flushBytes { flush() }
  }

  private func key(_ name: String) {
    if !firstField { buffer.append(UInt8(ascii: ",")) }
    firstField = false
    Self.appendJSONString(name.utf8, to: &buffer)
    buffer.append(UInt8(ascii: ":"))
  }

  func field(_ name: String, _ value: String) {
    key(name)
    Self.appendJSONString(value.utf8, to: &buffer)
  }

  func field(_ name: String, _ value: Int64) {
    key(name)
    buffer.append(contentsOf: String(value).utf8)
  }

  func field(_ name: String, _ value: Int64?) {
    if let value {
      field(name, value)
    } else {
      key(name)
      buffer.append(contentsOf: "null".utf8)
    }
  }

  func field(_ name: String, _ value: Bool) {
    key(name)
    buffer.append(contentsOf: (value ? "true" : "false").utf8)
  }

  func reject(file: String, _ reject: RejectedLine) {
    begin("reject")
    field("file", file)
    field("line", Int64(reject.line))
    field("reason", reject.reason.code)
    // JSON text must be UTF-8: a raw prefix that is not (a `malformed` line) has its bad
    // sequences replaced by U+FFFD, as the `rejects` table cannot be matched byte for byte there.
    field("raw", String(decoding: reject.raw, as: UTF8.self))
    end()
  }

  func failed(file: String, error: String) {
    begin("failed")
    field("file", file)
    field("error", error)
    end()
  }

  func fileSummary(file: String, contentHash: String, events: Int, rejected: Int) {
    begin("file")
    field("file", file)
    field("content_hash", contentHash)
    field("events", Int64(events))
    field("rejected", Int64(rejected))
    end()
  }

  /// Writes what is buffered; write errors are kept for ``finish(path:)``.
  func flush() {
    guard writeError == 0 else {
      buffer.removeAll(keepingCapacity: true)
      return
    }
    buffer.withUnsafeBytes { bytes in
      var done = 0
      while done < bytes.count {
        let n = write(fd, bytes.baseAddress! + done, bytes.count - done)
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else {
          writeError = n < 0 ? errno : EIO
          return
        }
        done += n
      }
    }
    buffer.removeAll(keepingCapacity: true)
  }

  /// Flushes; throws if any write failed (a closed pipe, a full disk).
  func finish(path: String) throws(PipelineError) {
    flush()
    if writeError != 0 {
      throw PipelineError.output(path: "standard output", reason: "\(String(cString: strerror(writeError))) while emitting \(path)")
    }
  }

  /// Appends `bytes` as a JSON string: quotes around, `"` `\` and bytes below 0x20 escaped
  /// (`\n`, `\r`, `\t`, `\b`, `\f`, else `\u00XX`), every other byte copied.
  static func appendJSONString(_ bytes: some Sequence<UInt8>, to out: inout [UInt8]) {
    let hex = Array("0123456789abcdef".utf8)
    out.append(UInt8(ascii: "\""))
    for b in bytes {
      switch b {
      case UInt8(ascii: "\""): out.append(contentsOf: [0x5C, 0x22])
      case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
      case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
      case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
      case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
      case 0x08: out.append(contentsOf: [0x5C, UInt8(ascii: "b")])
      case 0x0C: out.append(contentsOf: [0x5C, UInt8(ascii: "f")])
      case 0..<0x20:
        out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 0xF)]])
      default: out.append(b)
      }
    }
    out.append(UInt8(ascii: "\""))
  }
}
