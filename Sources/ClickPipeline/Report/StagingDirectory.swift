import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A folder of report files built under a temporary name and swapped into place at the end,
/// so that readers (and a killed run) never see a half-written set of statements.
final class StagingDirectory: Sendable {
  let finalPath: String
  let temporaryPath: String

  init(finalPath: String) throws {
    self.finalPath = finalPath
    temporaryPath = StagingDirectory.hiddenSibling(of: finalPath, "tmp")
    StagingDirectory.removeLeftovers(of: finalPath)
    let fm = FileManager.default
    if fm.fileExists(atPath: temporaryPath) { try fm.removeItem(atPath: temporaryPath) }
    try fm.createDirectory(atPath: temporaryPath, withIntermediateDirectories: true)
  }

  func write(_ name: String, _ text: String) throws {
    try StagingDirectory.writeFile(temporaryPath + "/" + name, text)
    StopPoint.reached(.reportFileStaged)
  }

  /// Plain POSIX write (Foundation's `Data.write` costs a sync per file: 45k statements took 25 s).
  static func writeFile(_ path: String, _ text: String) throws {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    defer { close(fd) }
    var text = text
    try text.withUTF8 { buffer in
      var offset = 0
      while offset < buffer.count {
        guard let base = buffer.baseAddress else { return }
        let n = Glibc.write(fd, base + offset, buffer.count - offset)
        guard n > 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        offset += n
      }
    }
  }

  /// Moves the new files into place. With `replacing`, the old folder is swapped out whole
  /// (statements of creators no longer in the period disappear); otherwise files are merged in.
  func commit(replacing: Bool) throws {
    let fm = FileManager.default
    if replacing || !fm.fileExists(atPath: finalPath) {
      // One atomic exchange where the system has it: readers, and a run killed here, see the
      // old folder or the new one, never neither. The old one is then under the temporary
      // name, removed now or, if the run is killed first, by the next run.
      if fm.fileExists(atPath: finalPath) && StagingDirectory.exchange(temporaryPath, finalPath) {
        try fm.removeItem(atPath: temporaryPath)
        return
      }
      let old = StagingDirectory.hiddenSibling(of: finalPath, "old")
      if fm.fileExists(atPath: finalPath) { try fm.moveItem(atPath: finalPath, toPath: old) }
      try fm.moveItem(atPath: temporaryPath, toPath: finalPath)
      if fm.fileExists(atPath: old) { try fm.removeItem(atPath: old) }
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
