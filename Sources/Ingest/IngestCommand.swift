import ArgumentParser
import ClickPipeline
import ClickPipelineCLI
import Foundation
import Logging

/// The formats `ingest --emit` writes.
enum EmitFormat: String, ExpressibleByArgument, CaseIterable {
  case ndjson
}

@main
struct IngestCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ingest",
    abstract: "Read click, view and conversion logs; validate, deduplicate and stage their events.",
    discussion: """
      Each PATH is a log file or a directory (searched recursively; names starting with '.' are \
      skipped). Files may be gzip (also multi-member) or plain text, NDJSON or CSV with a header. \
      Bad lines are stored in the `rejects` table with file, line and reason, and the run goes on. \
      Conversions are unique by event_id across everything ever ingested, views and clicks \
      within the UTC day of their timestamp, so overlapping dumps and reruns change nothing. A file that cannot be read whole (truncated or corrupt gzip) \
      contributes nothing, is recorded as failed, and is retried by the next run. A file of at \
      least 100 data lines of which more than ingest.max_rejected_share (default 0.5) are \
      rejected is refused whole: nothing of it counts, it is recorded as refused with its most \
      frequent reasons, and the same content is refused again until it is taken with \
      --accept-mostly-rejected.

      The whole run is one transaction: if it fails or is killed, the database is as before.

      EXAMPLES
        ingest --db clicks.sqlite logs/2026-11-01/
        ingest --db clicks.sqlite --config clickpipeline.toml logs/*.ndjson.gz
        ingest --db clicks.sqlite --forget logs/2026-11-01/part-0003.ndjson.gz
        ingest --emit ndjson logs/2026-11-01/part-0003.ndjson.gz > part-0003.events.ndjson

      EMIT MODE
        --emit ndjson parses ONE file (or - for standard input) exactly as ingest does and writes \
      to standard output one JSON object per line instead of staging anything: each valid event \
      ("kind":"event", with its local "day", "is_bot", and for conversions "revenue_cents" and \
      "commission_cents" in exact integer cents), each rejected line ("kind":"reject", with \
      "file", "line", "reason", "raw"), then a "kind":"file" line with the content hash. A file \
      that cannot be read whole writes only {"kind":"failed","file":...,"error":...} and exits 2. \
      No database, no lock: this is how the Spark job (docs/SPARK.md) runs the parser on its \
      executors.

      EXIT STATUS
        0   success (rejected lines are not a failure)
        1   nothing was changed: bad arguments, configuration or database
        2   finished, but some input files could not be read (they are retried next run) or were
            refused because most of their lines were rejected
        75  another run holds the database (use --wait SECONDS to wait for it)
        130, 143  interrupted by SIGINT or SIGTERM; nothing of the run was kept
      """,
    version: BuildInfo.versionText(command: "ingest"))

  @Option(
    name: .long,
    help: ArgumentHelp(
      "The SQLite database file (created if missing). Required, except with --emit, which uses none.", valueName: "file"))
  var db: String?

  @OptionGroup var common: StageOptions

  static func main() { mainWithContractExitStatus() }

  @Option(help: ArgumentHelp("Files parsed in parallel (default: the number of cores).", valueName: "n"))
  var workers: Int?

  @Option(
    help: ArgumentHelp(
      "Forget an ingested file, given by its path or content hash, with its events and rejects, so that a corrected dump can be ingested again; later runs skip the forgotten content (see --take-forgotten). A file that failed (a corrupt gzip) is taken off the retry list the same way, by its path. Repeatable.",
      valueName: "path-or-hash"))
  var forget: [String] = []

  @Option(
    help: ArgumentHelp(
      "Parse one file (or - for standard input) and write its events and rejects to standard output as NDJSON, without a database. The only format is ndjson.",
      valueName: "format"))
  var emit: EmitFormat?

  @Flag(
    help: ArgumentHelp(
      "Take files whose lines are mostly rejected line by line, as usual, instead of refusing them whole."))
  var acceptMostlyRejected = false

  @Flag(help: ArgumentHelp("Ingest content that --forget set aside, instead of skipping it."))
  var takeForgotten = false

  @Argument(help: ArgumentHelp("Log files or directories to ingest.", valueName: "path"))
  var paths: [String] = []

  func validate() throws {
    if emit != nil {
      guard paths.count == 1 else {
        throw ValidationError("--emit reads exactly one file (or - for standard input), got \(paths.count).")
      }
      if !forget.isEmpty { throw ValidationError("--emit and --forget cannot be used together.") }
      if db != nil { throw ValidationError("--emit writes to standard output and uses no database: drop --db.") }
      if workers != nil { throw ValidationError("--emit reads one file on one thread: drop --workers.") }
      return
    }
    if db == nil { throw ValidationError("Missing expected argument '--db <file>'") }
    if paths.isEmpty && forget.isEmpty {
      throw ValidationError("Give at least one log file or directory to ingest (or --forget FILE).")
    }
    if !paths.isEmpty && !forget.isEmpty {
      throw ValidationError("--forget runs on its own: run it first, then ingest the corrected files.")
    }
    if let workers, workers < 1 { throw ValidationError("--workers must be at least 1, got \(workers).") }
  }

  func run() throws {
    let logger = common.makeLogger(label: "ingest")
    let interactive = common.interactive
    runStage(logger: logger) { try execute(logger: logger, interactive: interactive) }
  }

  private func execute(logger: Logger, interactive: Bool) throws -> Int32 {
    let configuration = try common.loadConfiguration()
    if emit != nil {
      // No database, so no stored settings: --config, or the defaults.
      let settings = try EffectiveSettings.given(configuration ?? .default)
      let outcome = try EventEmitter(configuration: settings.configuration, catalog: settings.catalog)
        .emit(path: paths[0], to: STDOUT_FILENO)
      guard case .failed(let error) = outcome else { return 0 }
      logger.error("\(error.description)", metadata: ["ingest.file": "\(paths[0])"])
      return 2
    }
    let db = self.db ?? ""
    if !forget.isEmpty {
      let forgotten = try FileForgetter(databasePath: db, lockWait: common.wait, logger: logger)
        .forget(forget, commandLine: CommandLine.arguments.joined(separator: " "))
      if interactive {
        let dismissed = forgotten.dismissed > 0 ? "; dismissed \(forgotten.dismissed) failed file(s)" : ""
        logger.warning(
          "forgot \(forgotten.files) file(s): \(grouped(forgotten.events)) events, \(grouped(forgotten.rejects)) rejects\(dismissed); run aggregate next"
        )
      }
      return 0
    }
    var options = IngestOptions(databasePath: db, inputPaths: paths, configuration: configuration)
    if let workers { options.workers = workers }
    options.acceptMostlyRejected = acceptMostlyRejected
    options.takeForgotten = takeForgotten
    options.lockWait = common.wait
    options.commandLine = CommandLine.arguments.joined(separator: " ")
    options.stats = common.makeStats(stage: "ingest", steps: IngestRunner.stepNames)
    let line = interactive ? ProgressLine(stage: "ingest") : nil
    let started = Clock.monotonic()
    var progress: (@Sendable (IngestProgress) -> Void)?
    if let line { progress = { line.update($0) } }
    let result = try IngestRunner(options: options, logger: logger, progress: progress).run()
    line?.finish()
    common.writeStats(options.stats, wallSeconds: Clock.monotonic() - started, logger: logger)
    if interactive {
      let seconds = Clock.monotonic() - started
      FileHandle.standardError.write(
        Data(
          ("ingest: \(result.filesIngested) file(s) ingested, \(result.filesSkipped) skipped (already ingested), \(result.filesFailed) failed\(result.filesRefused > 0 ? ", \(result.filesRefused) refused" : ""); \(grouped(result.eventsKept)) events kept, \(grouped(result.rejected)) lines rejected, \(grouped(result.duplicates)) duplicates; "
            + String(format: "%.1f s", seconds) + "\n").utf8))
    }
    return result.exitCode
  }
}
