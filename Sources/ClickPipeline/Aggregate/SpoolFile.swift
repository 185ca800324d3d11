import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// An unlinked temporary file next to the database that holds records in sorted runs: a worker
/// appends each record (framed by its 32-bit length) and closes a run when what it appended is
/// in key order; ``SortedRunMerge`` reads the runs back merged. Nothing is left behind, even by
/// a killed run.
final class SpoolFile {
  /// Where a run's framed records are in the file.
  struct Run: Sendable {
    var offset: Int
    var length: Int
  }

  let fd: Int32
  private let databasePath: String
  private var end = 0
  private var runStart = 0
  private var buffer: [UInt8] = []
  /// Bytes gathered before a write.
  private static let flushBytes = 1 << 20

  init(databasePath: String, name: String) throws(PipelineError) {
    self.databasePath = databasePath
    let folder = (databasePath as NSString).deletingLastPathComponent
    let file = (folder.isEmpty ? "" : folder + "/") + "." + (databasePath as NSString).lastPathComponent + "." + name
    fd = open(file, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw Self.error(databasePath, "cannot create a temporary file in the database's folder", errno) }
    unlink(file)
  }

  deinit { close(fd) }

  /// Appends one record to the run being written.
  func append(_ record: UnsafeRawBufferPointer) throws(PipelineError) {
    var n = UInt32(record.count).littleEndian
    withUnsafeBytes(of: &n) { buffer.append(contentsOf: $0) }
    buffer.append(contentsOf: record)
    if buffer.count >= Self.flushBytes { try flush() }
  }

  /// Ends the run being written; `nil` if it holds no record.
  func endRun() throws(PipelineError) -> Run? {
    try flush()
    defer { runStart = end }
    return end > runStart ? Run(offset: runStart, length: end - runStart) : nil
  }

  private func flush() throws(PipelineError) {
    var done = 0
    while done < buffer.count {
      let n = buffer.withUnsafeBytes { pwrite(fd, $0.baseAddress! + done, $0.count - done, off_t(end + done)) }
      guard n > 0 else { throw Self.error(databasePath, "cannot write aggregate's temporary file", n < 0 ? errno : EIO) }
      done += n
    }
    end += buffer.count
    buffer.removeAll(keepingCapacity: true)
  }

  /// Reads `count` bytes at `offset` into `target`.
  func read(at offset: Int, into target: UnsafeMutableRawBufferPointer) throws(PipelineError) {
    var done = 0
    while done < target.count {
      let n = pread(fd, target.baseAddress! + done, target.count - done, off_t(offset + done))
      guard n > 0 else { throw Self.error(databasePath, "cannot read back aggregate's temporary file", n < 0 ? errno : EIO) }
      done += n
    }
  }

  static func error(_ databasePath: String, _ what: String, _ code: Int32) -> PipelineError {
    let reason = String(cString: strerror(code))
    // SQLITE_FULL (13) for a full disk, so the message says so; SQLITE_IOERR (10) otherwise.
    return PipelineError.database(
      path: databasePath, DatabaseError(code: code == ENOSPC ? 13 : 10, message: "\(what): \(reason)"))
  }
}
