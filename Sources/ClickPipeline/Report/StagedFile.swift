import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A report file written as it is produced, under a hidden temporary name next to its final
/// path, and renamed into place by ``commit()``: readers, and a run killed midway, see the old
/// complete file or the new one. Large files (a million creators' CSV rows) never sit in memory
/// whole; writes are buffered in 1 MiB.
final class StagedFile {
  let finalPath: String
  private let temporaryPath: String
  private var fd: Int32
  private var buffer: [UInt8] = []
  private var done = false

  init(finalPath: String) throws {
    self.finalPath = finalPath
    StagingDirectory.removeLeftovers(of: finalPath)
    temporaryPath = StagingDirectory.hiddenSibling(of: finalPath, "tmp")
    fd = open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    buffer.reserveCapacity(1 << 20)
  }

  deinit { discard() }

  func append(_ text: String) throws {
    buffer.append(contentsOf: text.utf8)
    if buffer.count >= 1 << 20 { try flush() }
  }

  func append(_ line: CSVLine) throws {
    buffer.append(contentsOf: line.bytes)
    if buffer.count >= 1 << 20 { try flush() }
  }

  private func flush() throws {
    var offset = 0
    while offset < buffer.count {
      let n = buffer.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
      if n < 0 {
        if errno == EINTR { continue }
        throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
      }
      offset += n
    }
    buffer.removeAll(keepingCapacity: true)
  }

  /// Writes what is buffered and renames the file into place.
  func commit() throws {
    try flush()
    close(fd)
    fd = -1
    try StagingDirectory.replace(finalPath, with: temporaryPath)
    done = true
  }

  /// Removes the temporary file (nothing of it reaches the final path).
  func discard() {
    guard !done else { return }
    done = true
    if fd >= 0 { close(fd) }
    unlink(temporaryPath)
  }
}
