import Foundation
import Logging

/// Settings of one `ingest` run.
public struct IngestOptions: Sendable {
  public var databasePath: String
  public var inputPaths: [String]
  /// The configuration given with `--config`; `nil`: the database's stored settings.
  public var configuration: PipelineConfiguration?
  /// Files parsed at once; defaults to the number of cores.
  public var workers: Int = ProcessInfo.processInfo.activeProcessorCount
  /// Seconds to wait for another run's lock (0: fail at once with exit status 75).
  public var lockWait: Double = 0
  public var commandLine: String = ""

  public init(databasePath: String, inputPaths: [String], configuration: PipelineConfiguration?) {
    self.databasePath = databasePath
    self.inputPaths = inputPaths
    self.configuration = configuration
  }
}

/// What an `ingest` run did; also written to the `runs` table.
public struct IngestResult: Sendable, Equatable {
  public var runID: Int64 = 0
  public var filesIngested = 0
  public var filesFailed = 0
  public var filesSkipped = 0
  public var linesRead = 0
  public var eventsKept = 0
  public var rejected = 0
  public var duplicates = 0
  public var uncompressedBytes = 0
  /// One message per failed file: path and error.
  public var failures: [String] = []

  /// 0, or 2 when some files could not be read (CONTRACT §10).
  public var exitCode: Int32 { filesFailed > 0 ? 2 : 0 }
}

/// Progress of a long run, for a person watching a terminal.
public struct IngestProgress: Sendable {
  public var filesDone: Int
  public var filesTotal: Int
  public var bytesDone: Int
  public var bytesTotal: Int
  public var events: Int
  public var seconds: Double
}

/// The `ingest` stage: parse, validate, deduplicate and stage events (CONTRACT §1-§3, §8).
///
/// Input: files and directories of gzip or plain NDJSON/CSV logs. Output, in one transaction:
/// staged events, rejected lines with file/line/reason/raw text, a `files` row per file
/// (ingested or failed) and a `runs` row. Files are parsed in parallel and written in path
/// order; a file that cannot be read whole contributes nothing and is retried by the next run.
/// If the run dies, nothing of it is kept.
public struct IngestRunner {
  public var options: IngestOptions
  public var logger: Logger
  public var progress: (@Sendable (IngestProgress) -> Void)?

  public init(options: IngestOptions, logger: Logger, progress: (@Sendable (IngestProgress) -> Void)? = nil) {
    self.options = options
    self.logger = logger
    self.progress = progress
  }

  public func run() throws(PipelineError) -> IngestResult {
    let startedAt = Clock.isoNow()
    let found = try InputDiscovery.files(for: options.inputPaths)
    let files = found.files
    for warning in found.warnings { logger.warning("\(warning)") }
    let lock = try RunLock(databasePath: options.databasePath, command: "ingest", wait: options.lockWait) { [logger] in logger.info("\($0)") }
    defer { withExtendedLifetime(lock) {} }
    let given = try options.configuration.map { configuration throws(PipelineError) in try EffectiveSettings.given(configuration) }
    let db = try Schema.open(path: options.databasePath, cacheMiB: 32)
    let settings: (settings: EffectiveSettings, needsStoring: Bool)
    do {
      settings = try EffectiveSettings.resolve(given: given, db: db, path: options.databasePath, logger: logger)
    } catch {
      throw PipelineError(error, databasePath: options.databasePath)
    }
    // A file that passes verification but then fails while it is staged (an I/O error, or it
    // changed in between) cannot be taken back alone: the run starts over without it.
    var failedLate: [String: InputError] = [:]
    while true {
      do {
        return try attempt(
          db: db, settings: settings, files: files, refused: found.refused, failedLate: failedLate, startedAt: startedAt)
      } catch let restart as RestartWithout {
        try? db.execute("ROLLBACK")
        logger.warning("\(restart.error.description); starting the run again without it")
        failedLate[restart.path] = restart.error
      } catch {
        try? db.execute("ROLLBACK")
        throw PipelineError(error, databasePath: options.databasePath)
      }
    }
  }

  private struct RestartWithout: Error {
    var path: String
    var error: InputError
  }

  /// One transaction over all files; throws ``RestartWithout`` if a verified file fails later.
  private func attempt(
    db: SQLiteDatabase, settings: (settings: EffectiveSettings, needsStoring: Bool), files: [String], refused: [String],
    failedLate: [String: InputError], startedAt: String
  ) throws -> IngestResult {
    let started = Clock.monotonic()
    let sizes = files.map { (try? FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int) ?? 0 }
    let totalBytes = sizes.reduce(0, +)
    try db.beginWrite()
    StopPoint.reached(.ingestStarted)
    var knownContent = Set(
      try db.rows("SELECT content_hash FROM files WHERE status = 'ingested'").map(\.[0].textValue))
    // Files ingested without their last line (no newline yet): content hash → file and line.
    var heldBack: [String: (fileID: Int64, line: Int)] = [:]
    for row in try db.rows(
      "SELECT content_hash, file_id, held_back_line FROM files WHERE status = 'ingested' AND held_back_line > 0")
    {
      heldBack[row[0].textValue] = (row[1].intValue, Int(row[2].intValue))
    }
    let readable = files.filter { failedLate[$0] == nil }
    let parser = FileParser(currencies: Set(settings.settings.configuration.fxUSDPerUnit.keys))
    let pipeline = ParallelParse(
      files: readable, parser: parser, workers: max(1, options.workers), knownContent: knownContent,
      heldBack: heldBack.mapValues(\.line))
    pipeline.start()
    defer { pipeline.cancel() }

    let store = try EventStore(db: db)
    let runID = (try db.scalarInt("SELECT max(run_id) FROM runs") ?? 0) + 1
    var fileID = (try db.scalarInt("SELECT max(file_id) FROM files") ?? 0) + 1
    var result = IngestResult()
    result.runID = runID
    for message in refused {
      result.filesFailed += 1
      result.failures.append(message)
      logger.error("\(message)")
    }
    let recordFile = try db.prepare(
      """
      INSERT INTO files(file_id, run_id, path, content_hash, size, status, format, error, lines,
        events, rejected, duplicates, recorded_at, held_back_line)
      VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)
      """)
    let completeFile = try db.prepare(
      """
      UPDATE files SET held_back_line = 0, format = ?, lines = lines + ?, events = events + ?,
        rejected = rejected + ?, duplicates = duplicates + ?
      WHERE file_id = ?
      """)
    func recordFailure(_ path: String, size: Int, _ error: InputError) throws {
      try recordFile.run([
        .int(fileID), .int(runID), .text(path), .text(""), .int(Int64(size)), .text("failed"),
        .text(""), .text(error.description), .int(0), .int(0), .int(0), .int(0), .text(Clock.isoNow()), .int(0),
      ])
      result.filesFailed += 1
      result.failures.append(error.description)
      logger.error("\(error.description)", metadata: ["ingest.file": "\(path)"])
    }

    var bytesDone = 0
    var next = 0  // index into `readable`
    for (index, path) in files.enumerated() {
      defer {
        fileID += 1
        bytesDone += sizes[index]
        progress?(
          IngestProgress(
            filesDone: index + 1, filesTotal: files.count, bytesDone: bytesDone, bytesTotal: totalBytes,
            events: result.eventsKept, seconds: Clock.monotonic() - started))
      }
      if let error = failedLate[path] {
        try recordFailure(path, size: sizes[index], error)
        continue
      }
      let slot = next
      next += 1
      let hash: String
      switch pipeline.verified(slot) {
      case .failure(let error):
        _ = try pipeline.consume(slot) { _ in }
        try recordFailure(path, size: sizes[index], error)
        continue
      case .success(let verifiedHash):
        hash = verifiedHash
      }
      // Unchanged since a run that held its last line back: the file is complete, take that line.
      let completing = heldBack.removeValue(forKey: hash)
      if knownContent.contains(hash) && completing == nil {
        pipeline.skip(slot)
        result.filesSkipped += 1
        logger.info("skipped: same content already ingested", metadata: ["ingest.file": "\(path)"])
        continue
      }
      store.beginFile(id: completing?.fileID ?? fileID)
      var kept = 0
      var duplicates = 0
      let outcome = try pipeline.consume(slot) { chunk throws(DatabaseError) in
        // By index: `for event in` would copy each event out of the array (a retain and a
        // release of its strings) on this, the busiest thread.
        for i in chunk.events.indices {
          if try store.write(chunk.events[i]) { kept += 1 } else { duplicates += 1 }
        }
        for reject in chunk.rejects { try store.reject(reject, runID: runID, path: path) }
        StopPoint.reached(.ingestChunkStaged)
      }
      let summary: ParsedFileSummary
      switch outcome {
      case .failure(let error):
        throw RestartWithout(path: path, error: error)
      case .success(let parsed) where !hash.isEmpty && parsed.contentHash != hash:
        throw RestartWithout(
          path: path,
          error: InputError(
            kind: .io, path: path, message: "the file changed while it was being read; it will be retried next run"))
      case .success(let parsed):
        summary = parsed
      }
      if hash.isEmpty && knownContent.contains(summary.contentHash) {
        guard kept > 0 else {
          // A pipe whose content turned out to be ingested already: every event was a duplicate.
          try db.run("DELETE FROM rejects WHERE file_id = ?", [.int(fileID)])
          result.filesSkipped += 1
          continue
        }
        // The same content as an ingested file, yet it brought events that are not staged: that
        // file's held-back last line, or events its run took as duplicates of a file forgotten
        // since. They are staged as that file's; its lines and rejects are not counted twice.
        let owner = try db.rows(
          "SELECT file_id, lines FROM files WHERE status = 'ingested' AND content_hash = ?", [.text(summary.contentHash)])[0]
        try db.run("DELETE FROM rejects WHERE file_id = ? AND line <= ?", [.int(fileID), owner[1]])
        let rejected = try db.scalarInt("SELECT count(*) FROM rejects WHERE file_id = ?", [.int(fileID)]) ?? 0
        try store.moveFile(to: owner[0].intValue)
        try store.commitFile()
        try db.run(
          """
          UPDATE files SET held_back_line = 0, lines = max(lines, ?), events = events + ?, rejected = rejected + ?
          WHERE file_id = ?
          """,
          [.int(Int64(summary.lines)), .int(Int64(kept)), .int(rejected), owner[0]])
        heldBack[summary.contentHash] = nil
        logger.info(
          "same content as an ingested file, with \(kept) event(s) not staged before: counted as that file's",
          metadata: ["ingest.file": "\(path)"])
      } else if let completing {
        try store.commitFile()
        try completeFile.run([
          .text(summary.format.rawValue), .int(Int64(summary.lines)), .int(Int64(kept)),
          .int(Int64(summary.rejected)), .int(Int64(duplicates)), .int(completing.fileID),
        ])
        logger.info(
          "took the held-back last line \(completing.line): the file is unchanged since the last run",
          metadata: ["ingest.file": "\(path)"])
      } else {
        try store.commitFile()
        knownContent.insert(summary.contentHash)
        try recordFile.run([
          .int(fileID), .int(runID), .text(path), .text(summary.contentHash), .int(Int64(summary.fileSize)),
          .text("ingested"), .text(summary.format.rawValue), .text(""), .int(Int64(summary.lines)),
          .int(Int64(kept)), .int(Int64(summary.rejected)), .int(Int64(duplicates)), .text(Clock.isoNow()),
          .int(Int64(summary.heldBackLine)),
        ])
        if summary.heldBackLine > 0 {
          logger.info(
            "held back: last line \(summary.heldBackLine) has no newline; it is taken when the file is complete or unchanged by the next run",
            metadata: ["ingest.file": "\(path)"])
        }
      }
      StopPoint.reached(.ingestFileStaged)
      result.filesIngested += 1
      result.linesRead += summary.lines
      result.eventsKept += kept
      result.rejected += summary.rejected
      result.duplicates += duplicates
      result.uncompressedBytes += summary.uncompressedBytes
      logger.debug(
        "ingested",
        metadata: [
          "ingest.file": "\(path)", "records.kept": "\(kept)", "records.rejected": "\(summary.rejected)",
          "records.duplicates": "\(duplicates)",
        ])
    }
    try store.finish()
    StopPoint.reached(.ingestKeysWritten)
    if settings.needsStoring { try settings.settings.store(in: db) }
    try db.run(
      """
      INSERT INTO runs(run_id, command, arguments, started_at, ended_at, exit_status, host, pid,
        files_ingested, files_failed, files_skipped, lines_read, events_kept, rejected, duplicates, message)
      VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
      """,
      [
        .int(runID), .text("ingest"), .text(options.commandLine), .text(startedAt), .text(Clock.isoNow()),
        .int(Int64(result.exitCode)), .text(ProcessInfo.processInfo.hostName),
        .int(Int64(ProcessInfo.processInfo.processIdentifier)), .int(Int64(result.filesIngested)),
        .int(Int64(result.filesFailed)), .int(Int64(result.filesSkipped)), .int(Int64(result.linesRead)),
        .int(Int64(result.eventsKept)), .int(Int64(result.rejected)), .int(Int64(result.duplicates)),
        .text(result.failures.joined(separator: "\n")),
      ])
    StopPoint.reached(.ingestBeforeCommit)
    try db.execute("COMMIT")
    return result
  }
}
