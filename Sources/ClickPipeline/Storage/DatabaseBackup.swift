import CSQLite
import Logging

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// What a backup wrote.
public struct BackupResult: Sendable, Equatable {
  public var pages: Int = 0
  public var bytes: Int = 0
}

/// The `backup` command: a consistent copy of a database, made safely next to a running cron.
///
/// Input: the database and a target file. Output: the target, replaced atomically by a copy
/// that passed `PRAGMA quick_check`. The run lock is held throughout, so no stage writes while
/// the copy is made; the copy goes through SQLite's online backup API (a hot journal left by a
/// killed run is rolled back first, see ``StaleJournal``) into a hidden temporary file next to
/// the target, which is checked, synced and renamed into place. If anything fails, the target
/// is as it was and the temporary file is removed.
public struct DatabaseBackup {
  public var databasePath: String
  public var targetPath: String
  /// Seconds to wait for another run's lock (0: fail at once with exit status 75).
  public var lockWait: Double = 0
  public var logger: Logger
  /// The command line, for the `runs` row.
  public var commandLine = ""

  public init(databasePath: String, targetPath: String, logger: Logger) {
    self.databasePath = databasePath
    self.targetPath = targetPath
    self.logger = logger
  }

  public func run() throws(PipelineError) -> BackupResult {
    let startedAt = Clock.isoNow()
    try Schema.requireExisting(path: databasePath)
    let lock = try RunLock(databasePath: databasePath, command: "backup", wait: lockWait) { [logger] in logger.info("\($0)") }
    RunRecord.recordUnfinished(of: lock, databasePath: databasePath)
    defer { withExtendedLifetime(lock) {} }
    if RunLock.realPath(of: targetPath) == RunLock.realPath(of: databasePath) {
      throw PipelineError.output(path: targetPath, reason: "it is the database itself; name another file")
    }
    var st = stat()
    if stat(targetPath, &st) == 0 && (st.st_mode & S_IFMT) != S_IFREG {
      throw PipelineError.output(path: targetPath, reason: "it exists and is not a regular file")
    }
    if access(targetPath + "-journal", F_OK) == 0 {
      throw PipelineError.output(
        path: targetPath,
        reason:
          "\(targetPath)-journal exists (a transaction on that file did not finish); remove it if \(targetPath) is only an old backup, or name another file"
      )
    }
    let slash = targetPath.lastIndex(of: "/")
    let folder = slash.map { String(targetPath[..<$0]) } ?? "."
    let name = slash.map { String(targetPath[targetPath.index(after: $0)...]) } ?? targetPath
    guard !name.isEmpty else { throw PipelineError.output(path: targetPath, reason: "it names a folder; name the backup file") }
    guard stat(folder.isEmpty ? "/" : folder, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else {
      throw PipelineError.output(path: targetPath, reason: "its folder \(folder) does not exist; create it first")
    }
    try StaleJournal.check(databasePath: databasePath)
    let source: SQLiteDatabase
    do {
      source = try SQLiteDatabase(path: databasePath)
    } catch {
      throw PipelineError.database(path: databasePath, error)
    }

    let temporary = (folder.isEmpty ? "" : folder + "/") + ".\(name).backup-\(getpid())"
    unlink(temporary)
    var published = false
    defer {
      if !published {
        unlink(temporary)
        unlink(temporary + "-journal")
      }
    }
    let result = try copy(from: source, to: temporary)
    try DatabaseBackup.sync(path: temporary)
    guard rename(temporary, targetPath) == 0 else {
      throw PipelineError.output(path: targetPath, reason: String(cString: strerror(errno)))
    }
    published = true
    try DatabaseBackup.sync(path: folder.isEmpty ? "/" : folder)
    logger.info(
      "backup written", metadata: ["backup.file": "\(targetPath)", "backup.pages": "\(result.pages)"])
    var record = RunRecord(command: "backup", arguments: commandLine, startedAt: startedAt)
    record.message = "copied \(result.bytes) bytes to \(targetPath)"
    if let why = RunRecord.recordAfterwards(record, databasePath: databasePath) {
      logger.debug("backup not recorded in runs: \(why)")
    }
    return result
  }

  /// Copies every page of `source` into a new database at `path` and checks the copy.
  private func copy(from source: SQLiteDatabase, to path: String) throws(PipelineError) -> BackupResult {
    let target: SQLiteDatabase
    do {
      target = try SQLiteDatabase(path: path)
    } catch {
      throw PipelineError.output(path: targetPath, reason: error.message)
    }
    guard let backup = sqlite3_backup_init(target.handle, "main", source.handle, "main") else {
      throw PipelineError.output(path: targetPath, reason: String(cString: sqlite3_errmsg(target.handle)))
    }
    var rc: Int32
    repeat {
      rc = sqlite3_backup_step(backup, -1)
    } while rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED
    let pages = Int(sqlite3_backup_pagecount(backup))
    let finish = sqlite3_backup_finish(backup)
    guard rc == SQLITE_DONE, finish == SQLITE_OK else {
      let error = target.error(finish != SQLITE_OK ? finish : rc, sql: nil)
      if error.code & 0xFF == SQLITE_FULL {
        throw PipelineError.output(path: targetPath, reason: "the disk is full (\(error.message)); free space and run again")
      }
      throw PipelineError.output(path: targetPath, reason: error.message)
    }
    let check: String
    do {
      check = try target.scalarText("PRAGMA quick_check") ?? ""
    } catch {
      throw PipelineError.output(path: targetPath, reason: "the copy cannot be checked: \(error.message)")
    }
    guard check == "ok" else {
      throw PipelineError.output(path: targetPath, reason: "the copy fails PRAGMA quick_check (\(check)); nothing was replaced")
    }
    let pageSize = (try? target.scalarInt("PRAGMA page_size")) ?? 0
    return BackupResult(pages: pages, bytes: pages * Int(pageSize))
  }

  /// Flushes a file or a folder (after a rename) to the disk.
  private static func sync(path: String) throws(PipelineError) {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0, fsync(fd) == 0 else {
      let message = String(cString: strerror(errno))
      if fd >= 0 { close(fd) }
      throw PipelineError.output(path: path, reason: "cannot sync it to the disk: \(message)")
    }
    close(fd)
  }
}
