import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// A folder of report files built under a temporary name and swapped into place at the end,
/// so that readers (and a killed run) never see a half-written set of statements.
///
/// A full report keeps the folder it replaces as `.NAME.previous` and builds the next report
/// in it: each statement overwrites the file of the same name, and the files not written again
/// are removed before the swap. Deleting tens of thousands of files and creating as many again
/// costs the file system more than the report's own work: ext4 avoids reusing an inode freed
/// moments ago, and creating 5,000 files right after deleting 5,000 took 3-5 s of kernel time
/// (`find_inode_bit`, `recently_deleted`), against 0.1-0.3 s in a fresh folder.
final class StagingDirectory: Sendable {
  let finalPath: String
  let temporaryPath: String
  /// The previous report's folder, kept for the next one to write into.
  let previousPath: String
  /// Files of a reused folder not written again yet (removed before the swap).
  private let stale: Mutex<Set<String>>

  /// `reusing`: build in the previous report's folder (a full report); otherwise start empty.
  init(finalPath: String, reusing: Bool = true) throws {
    self.finalPath = finalPath
    temporaryPath = StagingDirectory.hiddenSibling(of: finalPath, "tmp")
    previousPath = StagingDirectory.previousFolder(of: finalPath)
    StagingDirectory.removeLeftovers(of: finalPath)
    let fm = FileManager.default
    if fm.fileExists(atPath: temporaryPath) { try fm.removeItem(atPath: temporaryPath) }
    var isFolder: ObjCBool = false
    if reusing && fm.fileExists(atPath: previousPath, isDirectory: &isFolder) && isFolder.boolValue {
      try fm.moveItem(atPath: previousPath, toPath: temporaryPath)
      stale = Mutex(Set(try fm.contentsOfDirectory(atPath: temporaryPath)))
    } else {
      try fm.createDirectory(atPath: temporaryPath, withIntermediateDirectories: true)
      stale = Mutex([])
    }
  }

  /// `dir/.name.previous` for `dir/name`.
  static func previousFolder(of path: String) -> String {
    let folder = (path as NSString).deletingLastPathComponent
    let name = (path as NSString).lastPathComponent
    return (folder.isEmpty ? "" : folder + "/") + "." + name + ".previous"
  }

  func write(_ name: String, _ bytes: [UInt8]) throws {
    try bytes.withUnsafeBytes { try StagingDirectory.writeFile(temporaryPath + "/" + name, $0) }
    stale.withLock { _ = $0.remove(name) }
    StopPoint.reached(.reportFileStaged)
  }

  static func writeFile(_ path: String, _ text: String) throws {
    var text = text
    try text.withUTF8 { try writeFile(path, UnsafeRawBufferPointer($0)) }
  }

  /// Plain POSIX write (Foundation's `Data.write` costs a sync per file: 45k statements took 25 s).
  ///
  /// An existing file is overwritten in place and then cut to the new length, not truncated
  /// first: truncating gives the file's blocks back to ext4 and the write allocates new ones,
  /// which for a folder of statements written again cost several times the writing itself.
  /// Only staging folders and hidden temporary files are written this way, never a file a
  /// reader may have open under its final name.
  static func writeFile(_ path: String, _ bytes: UnsafeRawBufferPointer) throws {
    let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    defer { close(fd) }
    var offset = 0
    while offset < bytes.count, let base = bytes.baseAddress {
      let n = Glibc.write(fd, base + offset, bytes.count - offset)
      if n < 0 && errno == EINTR { continue }
      guard n > 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
      offset += n
    }
    guard ftruncate(fd, off_t(bytes.count)) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
  }

  /// Moves the new files into place. With `replacing`, the old folder is swapped out whole
  /// (statements of creators no longer in the period disappear) and kept as the next run's
  /// staging folder; otherwise files are merged in.
  func commit(replacing: Bool) throws {
    let fm = FileManager.default
    for name in stale.withLock({ $0 }) { try fm.removeItem(atPath: temporaryPath + "/" + name) }
    stale.withLock { $0.removeAll() }
    if replacing || !fm.fileExists(atPath: finalPath) {
      // One atomic exchange where the system has it: readers, and a run killed here, see the
      // old folder or the new one, never neither. The old one is then under the temporary
      // name, and becomes the previous folder (a run killed first leaves it to the next run).
      if fm.fileExists(atPath: finalPath) && StagingDirectory.exchange(temporaryPath, finalPath) {
        try fm.moveItem(atPath: temporaryPath, toPath: previousPath)
        return
      }
      let old = StagingDirectory.hiddenSibling(of: finalPath, "old")
      if fm.fileExists(atPath: finalPath) { try fm.moveItem(atPath: finalPath, toPath: old) }
      try fm.moveItem(atPath: temporaryPath, toPath: finalPath)
      if fm.fileExists(atPath: old) { try fm.moveItem(atPath: old, toPath: previousPath) }
    } else {
      for name in try fm.contentsOfDirectory(atPath: temporaryPath) {
        try StagingDirectory.replace(finalPath + "/" + name, with: temporaryPath + "/" + name)
      }
      try fm.removeItem(atPath: temporaryPath)
    }
  }

  /// Swaps two paths in one step with Linux's `renameat2(RENAME_EXCHANGE)`. Returns `false`
  /// where the C library or the file system lacks it; the caller then renames twice.
  static func exchange(_ a: String, _ b: String) -> Bool {
    #if os(Linux)
      typealias Renameat2 = @convention(c) (Int32, UnsafePointer<CChar>?, Int32, UnsafePointer<CChar>?, UInt32) -> Int32
      // Looked up at run time: Swift's Glibc module does not declare it (it needs _GNU_SOURCE).
      guard let symbol = dlsym(nil, "renameat2") else { return false }
      let renameat2 = unsafeBitCast(symbol, to: Renameat2.self)
      let renameExchange: UInt32 = 1 << 1  // RENAME_EXCHANGE, <linux/fs.h>
      return renameat2(AT_FDCWD, a, AT_FDCWD, b, renameExchange) == 0
    #else
      return false
    #endif
  }

  /// Removes the staging folder of a run that failed (a full disk should not stay full).
  func discard() {
    try? FileManager.default.removeItem(atPath: temporaryPath)
  }

  /// Writes `text` next to `path` and renames it over `path` (atomic on one file system).
  static func writeAtomically(_ text: String, to path: String) throws {
    removeLeftovers(of: path)
    let temporary = hiddenSibling(of: path, "tmp")
    try writeFile(temporary, text)
    try replace(path, with: temporary)
  }

  /// `dir/.name.kind-PID` for `dir/name`: hidden from readers of the folder, unique per run.
  static func hiddenSibling(of path: String, _ kind: String) -> String {
    let folder = (path as NSString).deletingLastPathComponent
    let name = (path as NSString).lastPathComponent
    return (folder.isEmpty ? "" : folder + "/") + "." + name + "." + kind + "-\(getpid())"
  }

  /// Removes what runs killed while writing left next to `path` (`.name.tmp-PID`,
  /// `.name.old-PID`, and the visible `name.tmp-PID` / `name.old-PID` of earlier versions),
  /// when process PID no longer exists.
  static func removeLeftovers(of path: String) {
    let fm = FileManager.default
    let folder = (path as NSString).deletingLastPathComponent
    let name = (path as NSString).lastPathComponent
    guard let entries = try? fm.contentsOfDirectory(atPath: folder.isEmpty ? "." : folder) else { return }
    for entry in entries {
      for prefix in ["." + name + ".tmp-", "." + name + ".old-", name + ".tmp-", name + ".old-"] where entry.hasPrefix(prefix) {
        guard let pid = Int32(entry.dropFirst(prefix.count)), pid != getpid() else { continue }
        if kill(pid, 0) != 0 && errno == ESRCH {
          try? fm.removeItem(atPath: (folder.isEmpty ? "" : folder + "/") + entry)
        }
      }
    }
  }

  static func replace(_ path: String, with temporary: String) throws {
    guard rename(temporary, path) == 0 else {
      throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
    }
  }
}
