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
  /// Where to add CPU time per step (`--stats-json`); `nil`: not measured.
  public var stats: StageStats?
  /// Take files whose lines are mostly rejected line by line instead of refusing them
  /// (`--accept-mostly-rejected`; CONTRACT §8).
  public var acceptMostlyRejected = false
  /// Ingest content that `--forget` set aside, instead of skipping it (`--take-forgotten`).
  public var takeForgotten = false

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
  /// Files refused whole because most of their lines were rejected.
  public var filesRefused = 0
  /// Events dated more than a day after the run.
  public var futureEvents = 0
  public var linesRead = 0
  public var eventsKept = 0
  public var rejected = 0
  public var duplicates = 0
  public var uncompressedBytes = 0
  /// One message per failed or refused file: path and error.
  public var failures: [String] = []

  /// 0, or 2 when some files could not be read or were refused (CONTRACT §8, §10).
  public var exitCode: Int32 { filesFailed + filesRefused > 0 ? 2 : 0 }
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
/// (ingested or failed) and a `runs` row. Files are parsed in parallel, each in one pass, and
/// written in path order; a file that cannot be read whole (its gzip trailer is checked at its
/// end) has what it staged removed, contributes nothing and is retried by the next run. If the
/// run dies, nothing of it is kept.
public struct IngestRunner {
  public var options: IngestOptions
  public var logger: Logger
  public var progress: (@Sendable (IngestProgress) -> Void)?

  public init(options: IngestOptions, logger: Logger, progress: (@Sendable (IngestProgress) -> Void)? = nil) {
    self.options = options
    self.logger = logger
    self.progress = progress
  }

  /// The steps `--stats-json` reports.
  public static var stepNames: [String] { IngestStep.names }

  public func run() throws(PipelineError) -> IngestResult {
    let startedAt = Clock.isoNow()
    let found = try InputDiscovery.files(for: options.inputPaths)
    for warning in found.warnings { logger.warning("\(warning)") }
    let lock = try RunLock(databasePath: options.databasePath, command: "ingest", wait: options.lockWait) { [logger] in logger.info("\($0)")
    }
    RunRecord.recordUnfinished(of: lock, databasePath: options.databasePath)
    defer { withExtendedLifetime(lock) {} }
    let given = try options.configuration.map { configuration throws(PipelineError) in try EffectiveSettings.given(configuration) }
    let db = try Schema.open(path: options.databasePath, cacheMiB: 48)
    do {
      let settings = try EffectiveSettings.resolve(given: given, db: db, path: options.databasePath, logger: logger)
      return try attempt(
        db: db, settings: settings, files: found.files, refused: found.refused, startedAt: startedAt)
    } catch {
      try? db.execute("ROLLBACK")
      throw PipelineError(error, databasePath: options.databasePath)
    }
  }

  /// The run, in one transaction over all files.
  private func attempt(
    db: SQLiteDatabase, settings: (settings: EffectiveSettings, needsStoring: Bool), files: [String], refused: [String],
    startedAt: String
  ) throws -> IngestResult {
    let started = Clock.monotonic()
    let sizes = files.map { (try? FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int) ?? 0 }
    let totalBytes = sizes.reduce(0, +)
    try db.beginWrite()
    StopPoint.reached(.ingestStarted)
    var knownContent = Set(
      try db.rows("SELECT content_hash FROM files WHERE status = 'ingested'").map(\.[0].textValue))
    let knownSizes = Set(try db.rows("SELECT size FROM files WHERE status = 'ingested'").map { Int($0[0].intValue) })
    // Content set aside by --forget (a forgotten file, a dismissed unreadable one): skipped
    // by later runs unless taken back on purpose.
    let setAside = options.takeForgotten ? [:] : try FileForgetter.setAside(db)
    // Files ingested without their last line (no newline yet): content hash → file and line.
    var heldBack: [String: (fileID: Int64, line: Int)] = [:]
    for row in try db.rows(
      "SELECT content_hash, file_id, held_back_line FROM files WHERE status = 'ingested' AND held_back_line > 0")
    {
      heldBack[row[0].textValue] = (row[1].intValue, Int(row[2].intValue))
    }
    var parser = FileParser(currencies: Set(settings.settings.configuration.fxUSDPerUnit.keys))
    parser.futureAfter = Clock.nowMilliseconds() + 86_400_000
    let pipeline = ParallelParse(
      files: files, parser: parser, workers: max(1, options.workers), knownContent: knownContent.union(setAside.keys),
      knownSizes: knownSizes.union(setAside.values), heldBack: heldBack.mapValues(\.line), stats: options.stats)
    pipeline.start()
    defer { pipeline.cancel() }

    let runID = try RunRecord.nextID(db)
    let writer = try StagingWriter(db: db, runID: runID)
    var clock = StepClock(steps: IngestStep.allCases.count, enabled: options.stats != nil)
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
        events, rejected, duplicates, recorded_at, held_back_line, future_events)
      VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
      """)
    func recordFailure(_ path: String, size: Int, _ error: InputError) throws {
      try recordFile.run([
        .int(fileID), .int(runID), .text(path), .text(""), .int(Int64(size)), .text("failed"),
        .text(""), .text(error.description), .int(0), .int(0), .int(0), .int(0), .text(Clock.isoNow()), .int(0), .int(0),
      ])
      result.filesFailed += 1
      result.failures.append(error.description)
      logger.error("\(error.description)", metadata: ["ingest.file": "\(path)"])
    }
    /// Pipes whose content was an ingested file's: owner file id, path; told after dedup.
    var copies: [(owner: Int64, path: String, staged: Int)] = []
    var stagedEvents = 0

    var bytesDone = 0
    for (index, path) in files.enumerated() {
      defer {
        fileID += 1
        bytesDone += sizes[index]
        progress?(
          IngestProgress(
            filesDone: index + 1, filesTotal: files.count, bytesDone: bytesDone, bytesTotal: totalBytes,
            events: stagedEvents, seconds: Clock.monotonic() - started))
      }
      try writer.beginFile(id: fileID)
      var outcome: Result<ParsedFileSummary, InputError>?
      var knownHash = ""
      while outcome == nil {
        guard let piece = pipeline.next(index) else { throw CancellationError() }
        let pieceStarted = clock.cpuNow()
        switch piece {
        case .segment(let segment): try writer.write(segment)
        case .conversions(let conversions): try writer.write(conversions)
        case .rejects(let rejects): try writer.write(rejects, path: path)
        case .known(let hash):
          knownHash = hash
          outcome = .success(ParsedFileSummary())
        case .finished(let finished):
          outcome = finished
        }
        clock.addSeconds(IngestStep.write.rawValue, clock.cpuNow() - pieceStarted)
        StopPoint.reached(.ingestChunkStaged)
      }
      let summary: ParsedFileSummary
      switch outcome {
      case .failure(let error):
        try writer.dropFile()
        try recordFailure(path, size: sizes[index], error)
        continue
      case .success(let parsed) where setAside[parsed.contentHash.isEmpty ? knownHash : parsed.contentHash] != nil:
        // Set aside by --forget: a regular file is recognised unparsed, a pipe once read.
        try writer.dropFile()
        result.filesSkipped += 1
        logger.info(
          "skipped: this content was forgotten with ingest --forget; give --take-forgotten to ingest it again",
          metadata: ["ingest.file": "\(path)"])
        continue
      case .success(let parsed) where parsed.contentHash.isEmpty:
        result.filesSkipped += 1
        logger.info("skipped: same content already ingested", metadata: ["ingest.file": "\(path)"])
        continue
      case .success(let parsed):
        summary = parsed
      case nil:
        preconditionFailure("the loop ends with an outcome")
      }
      let hash = summary.contentHash
      if summary.firstLine > 1, let completing = heldBack.removeValue(forKey: hash) {
        // Unchanged since a run that held its last line back: the file is complete.
        try writer.moveFile(to: completing.fileID)
        try writer.commitFile()
        let kept = summary.events - writer.fileDuplicates
        try db.run(
          """
          UPDATE files SET held_back_line = 0, format = ?, lines = lines + ?, events = events + ?,
            rejected = rejected + ?, duplicates = duplicates + ?, future_events = future_events + ?
          WHERE file_id = ?
          """,
          [
            .text(summary.format.rawValue), .int(Int64(summary.lines)), .int(Int64(kept)),
            .int(Int64(summary.rejected)), .int(Int64(writer.fileDuplicates)), .int(Int64(summary.futureEvents)),
            .int(completing.fileID),
          ])
        logger.info(
          "took the held-back last line \(completing.line): the file is unchanged since the last run",
          metadata: ["ingest.file": "\(path)"])
        stagedEvents += kept
      } else if knownContent.contains(hash) {
        let owner = try db.rows(
          "SELECT file_id, lines FROM files WHERE status = 'ingested' AND content_hash = ?", [.text(hash)]
        ).first
        guard let owner, !ParallelParse.isRegularFile(path) else {
          // The same content as a file earlier in this run: nothing of it counts.
          try writer.dropFile()
          result.filesSkipped += 1
          logger.info("skipped: same content already ingested", metadata: ["ingest.file": "\(path)"])
          continue
        }
        // A pipe with an ingested file's content: what it brings that is not staged (that
        // file's held-back last line, or events its run took as duplicates of a file
        // forgotten since) is staged as that file's; its lines and rejects are not counted twice.
        try db.run("DELETE FROM rejects WHERE file_id = ? AND line <= ?", [.int(fileID), owner[1]])
        let rejected = try db.scalarInt("SELECT count(*) FROM rejects WHERE file_id = ?", [.int(fileID)]) ?? 0
        try writer.moveFile(to: owner[0].intValue)
        try writer.commitFile()
        let staged = summary.events - writer.fileDuplicates
        try db.run(
          """
          UPDATE files SET held_back_line = 0, lines = max(lines, ?), events = events + ?, rejected = rejected + ?
          WHERE file_id = ?
          """,
          [.int(Int64(summary.lines)), .int(Int64(staged)), .int(rejected), owner[0]])
        heldBack[hash] = nil
        copies.append((owner[0].intValue, path, staged))
        stagedEvents += staged
        continue
      } else {
        if !options.acceptMostlyRejected,
          let refusal = try refusal(of: summary, share: settings.settings.configuration.maxRejectedShare, fileID: fileID, db: db)
        {
          try writer.dropFile()
          let message = "\(path): \(refusal)"
          if try db.scalarInt("SELECT count(*) FROM files WHERE status = 'refused' AND content_hash = ?", [.text(hash)]) == 0 {
            try recordFile.run([
              .int(fileID), .int(runID), .text(path), .text(hash), .int(Int64(summary.fileSize)), .text("refused"),
              .text(summary.format.rawValue), .text(refusal), .int(Int64(summary.lines)), .int(0),
              .int(Int64(summary.rejected)), .int(0), .text(Clock.isoNow()), .int(0), .int(0),
            ])
          }
          result.filesRefused += 1
          result.failures.append(message)
          logger.error("\(message)")
          continue
        }
        try writer.commitFile()
        knownContent.insert(hash)
        let kept = summary.events - writer.fileDuplicates
        try recordFile.run([
          .int(fileID), .int(runID), .text(path), .text(hash), .int(Int64(summary.fileSize)),
          .text("ingested"), .text(summary.format.rawValue), .text(""), .int(Int64(summary.lines)),
          .int(Int64(kept)), .int(Int64(summary.rejected)), .int(Int64(writer.fileDuplicates)), .text(Clock.isoNow()),
          .int(Int64(summary.heldBackLine)), .int(Int64(summary.futureEvents)),
        ])
        if summary.heldBackLine > 0 {
          logger.info(
            "held back: last line \(summary.heldBackLine) has no newline; it is taken when the file is complete or unchanged by the next run",
            metadata: ["ingest.file": "\(path)"])
        }
        stagedEvents += kept
      }
      StopPoint.reached(.ingestFileStaged)
      if let first = summary.firstFuture {
        logger.warning(
          "\(path): \(summary.futureEvents) event(s) dated more than a day after this run, the first on line \(first.line) (\(Timestamp.civilDate(daysSinceEpoch: Int(utcDay(ofMilliseconds: first.ts))))); they count on their own days: check the clock of the system that wrote them"
        )
      }
      result.futureEvents += summary.futureEvents
      result.filesIngested += 1
      result.linesRead += summary.lines
      result.rejected += summary.rejected
      result.duplicates += writer.fileDuplicates
      result.uncompressedBytes += summary.uncompressedBytes
      logger.debug(
        "staged",
        metadata: [
          "ingest.file": "\(path)", "records.staged": "\(summary.events - writer.fileDuplicates)",
          "records.rejected": "\(summary.rejected)", "records.duplicates": "\(writer.fileDuplicates)",
          "records.strict": "\(summary.strictLines)",
        ])
    }
    if result.filesRefused > 0 {
      logger.error(
        "\(result.filesRefused) file(s) refused: most of their lines were rejected. Nothing of them was counted; fix the exporter and ingest the corrected files, or take them line by line with --accept-mostly-rejected"
      )
    }
    // Views and clicks: duplicates are known once every file is staged.
    let dedupStarted = clock.cpuNow()
    let outcome = try writer.finish()
    clock.addSeconds(IngestStep.dedup.rawValue, clock.cpuNow() - dedupStarted)
    StopPoint.reached(.ingestKeysWritten)
    let owners = Set(copies.map(\.owner))
    for (file, dropped) in outcome.droppedByFile {
      try db.run(
        owners.contains(file)
          ? "UPDATE files SET events = events - ?1 WHERE file_id = ?2"
          : "UPDATE files SET events = events - ?1, duplicates = duplicates + ?1 WHERE file_id = ?2",
        [.int(Int64(dropped)), .int(file)])
    }
    var droppedFromCopies = 0
    for copy in copies {
      // A pipe copy's rows were filed under its owner: what the owner lost this run is the copy's.
      let dropped = min(copy.staged, outcome.droppedByFile[copy.owner] ?? 0)
      droppedFromCopies += dropped
      let kept = copy.staged - dropped
      if kept == 0 {
        result.filesSkipped += 1
        logger.info("skipped: same content already ingested", metadata: ["ingest.file": "\(copy.path)"])
      } else {
        result.filesIngested += 1
        logger.info(
          "same content as an ingested file, with \(kept) event(s) not staged before: counted as that file's",
          metadata: ["ingest.file": "\(copy.path)"])
      }
    }
    result.eventsKept = stagedEvents - outcome.dropped
    result.duplicates += outcome.dropped - droppedFromCopies
    options.stats?.setEvents(result.linesRead)
    if settings.needsStoring { try settings.settings.store(in: db) }
    var record = RunRecord(command: "ingest", arguments: options.commandLine, startedAt: startedAt)
    record.exitStatus = Int64(result.exitCode)
    record.filesIngested = Int64(result.filesIngested)
    record.filesFailed = Int64(result.filesFailed + result.filesRefused)
    record.filesSkipped = Int64(result.filesSkipped)
    record.linesRead = Int64(result.linesRead)
    record.eventsKept = Int64(result.eventsKept)
    record.rejected = Int64(result.rejected)
    record.duplicates = Int64(result.duplicates)
    record.message = result.failures.joined(separator: "\n")
    try record.insert(into: db, id: runID)
    StopPoint.reached(.ingestBeforeCommit)
    let commitStarted = clock.cpuNow()
    try db.execute("COMMIT")
    RunLock.markCommitted()
    clock.addSeconds(IngestStep.commit.rawValue, clock.cpuNow() - commitStarted)
    options.stats?.add(clock)
    return result
  }

  /// Why a file is refused whole (CONTRACT §8), or `nil`: at least
  /// ``PipelineConfiguration/minimumLinesToRefuse`` data lines, more than `share` of them
  /// rejected. Names the three most frequent reasons, from the rejects the file staged.
  private func refusal(of summary: ParsedFileSummary, share: ExactDecimal, fileID: Int64, db: SQLiteDatabase) throws -> String? {
    let data = summary.events + summary.rejected
    guard data >= PipelineConfiguration.minimumLinesToRefuse else { return nil }
    // rejected / data > significand / 10^scale, in integers.
    var scale: Int128 = 1
    for _ in 0..<share.scale { scale *= 10 }
    guard Int128(summary.rejected) * scale > share.significand * Int128(data) else { return nil }
    let reasons = try db.rows(
      "SELECT reason, count(*) FROM rejects WHERE file_id = ? GROUP BY reason ORDER BY count(*) DESC, reason LIMIT 3",
      [.int(fileID)]
    ).map { "\($0[0].textValue) (\($0[1].intValue))" }
    return "refused: \(summary.rejected) of \(data) data lines rejected, more than "
      + "ingest.max_rejected_share \(share); most frequent: \(reasons.joined(separator: ", ")). Nothing of the file was counted"
  }
}
