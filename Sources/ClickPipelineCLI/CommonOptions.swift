import ArgumentParser
import ClickPipeline
import Foundation
import Logging

/// How log lines are written to standard error.
public enum LogFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
  case text, json
}

/// The options every stage shares: database, configuration, locking and output verbosity.
public struct CommonOptions: ParsableArguments {
  @Option(
    name: .long,
    help: ArgumentHelp("The SQLite database file (ingest creates it if missing; aggregate and report need it to exist).", valueName: "file")
  )
  public var db: String

  @OptionGroup public var stage: StageOptions

  public init() {}

  public var config: String? { stage.config }
  public var wait: Double { stage.wait }
  public var interactive: Bool { stage.interactive }
  public func makeLogger(label: String) -> Logger { stage.makeLogger(label: label) }
  public func loadConfiguration() throws -> PipelineConfiguration? { try stage.loadConfiguration() }
}

/// The shared options other than `--db`: configuration, locking and output verbosity.
///
/// Separate from ``CommonOptions`` so that a mode that needs no database (`ingest --emit`) can
/// make `--db` optional while keeping every other shared option as it is.
public struct StageOptions: ParsableArguments {
  @Option(
    name: .long,
    help: ArgumentHelp(
      "A TOML configuration file (time zone, windows, bots, rates, FX, catalog). Without it, the settings the database remembers from its last run with one (or the defaults) apply.",
      valueName: "file"))
  public var config: String?

  @Option(
    name: .long,
    help: ArgumentHelp(
      "If another run holds the database, wait up to this many seconds for it instead of exiting with status 75.",
      valueName: "seconds"))
  public var wait: Double = 0

  @Flag(
    name: .shortAndLong,
    help: "No progress and no summary, even on a terminal; warnings and errors are still printed (for cron's mail).")
  public var quiet = false

  @Flag(name: .shortAndLong, help: "Print what each step does (repeat for debug detail).")
  public var verbose: Int

  @Option(name: .long, help: "Log line format on standard error: text or json (one JSON object per line).")
  public var logFormat: LogFormat = .text

  @Option(
    name: .long,
    help: ArgumentHelp(
      "When the stage ends, write the CPU seconds of each of its steps to this file as one JSON object (for benchmarks/bench.py --stages).",
      valueName: "file"))
  public var statsJson: String?

  public init() {}

  /// The stage's step timer, when `--stats-json` asks for one.
  public func makeStats(stage: String, steps: [String]) -> StageStats? {
    statsJson == nil ? nil : StageStats(stage: stage, steps: steps)
  }

  /// Writes `stats` to the `--stats-json` file (a failure to write is reported, not fatal).
  public func writeStats(_ stats: StageStats?, wallSeconds: Double, logger: Logger) {
    guard let statsJson, let stats else { return }
    do {
      try stats.json(wallSeconds: wallSeconds).write(toFile: statsJson, atomically: true, encoding: .utf8)
    } catch {
      logger.error("cannot write --stats-json \(statsJson): \(error.localizedDescription)")
    }
  }

  public func validate() throws {
    if quiet && verbose > 0 { throw ValidationError("--quiet and --verbose cannot be used together.") }
    if !wait.isFinite || wait < 0 { throw ValidationError("--wait must be zero or more seconds, got \(wait).") }
  }

  /// Whether a person is watching standard error (progress and summaries are shown only then).
  public var interactive: Bool { !quiet && isatty(STDERR_FILENO) == 1 }

  /// The logger the stage's library code uses; only `main` makes one.
  public func makeLogger(label: String) -> Logger {
    // --quiet silences progress and summaries (see `interactive`), never warnings.
    let level: Logger.Level = verbose >= 2 ? .debug : verbose == 1 ? .info : .warning
    let format = logFormat
    var logger = Logger(label: label) { name in StandardErrorLogHandler(label: name, format: format) }
    logger.logLevel = level
    return logger
  }

  /// The configuration given with `--config`; `nil` without it (the run then uses the settings
  /// the database remembers, or the defaults).
  public func loadConfiguration() throws -> PipelineConfiguration? {
    guard let config else { return nil }
    do {
      return try PipelineConfiguration.load(path: config)
    } catch {
      throw PipelineError.configuration(error)
    }
  }
}

/// Runs a stage body and turns its errors into a message and the contract's exit status.
///
/// SIGINT and SIGTERM end the run with one line on standard error and the shell's status for
/// the signal (130, 143): the run's transaction is not committed, so nothing of it is kept
/// (SQLite rolls the journal back at the next open).
public func runStage(logger: Logger, _ body: () throws -> Int32) -> Never {
  // Initialised before any signal: the handler must not run a global's first initialisation.
  _ = (interruptedBySIGINT.count, interruptedBySIGTERM.count, committedBySIGINT.count, committedBySIGTERM.count)
  RunLock.prepareForSignals()
  // A parent may have blocked them (the mask is inherited across exec): unblock them here,
  // before any thread starts, so that every thread inherits the unblocked mask.
  var unblock = sigset_t()
  sigemptyset(&unblock)
  sigaddset(&unblock, SIGINT)
  sigaddset(&unblock, SIGTERM)
  pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
  for sig in [SIGINT, SIGTERM] {
    signal(sig) { sig in
      RunLock.noteInterruption(signal: sig)
      let text =
        RunLock.committed
        ? (sig == SIGINT ? committedBySIGINT : committedBySIGTERM) : (sig == SIGINT ? interruptedBySIGINT : interruptedBySIGTERM)
      _ = text.withUnsafeBufferPointer { write(STDERR_FILENO, $0.baseAddress, $0.count) }
      _exit(128 + sig)
    }
  }
  do {
    exit(try body())
  } catch let error as PipelineError {
    logger.error("\(error.description)")
    exit(error.exitCode)
  } catch {
    logger.error("\(error)")
    exit(1)
  }
}

private let interruptedBySIGINT = Array("interrupted (SIGINT); nothing of this run was kept\n".utf8)
private let interruptedBySIGTERM = Array("interrupted (SIGTERM); nothing of this run was kept\n".utf8)
private let committedBySIGINT = Array("interrupted (SIGINT) after the run had committed: its work was kept\n".utf8)
private let committedBySIGTERM = Array("interrupted (SIGTERM) after the run had committed: its work was kept\n".utf8)

/// Formats counts with thousands separators: 1234567 → "1,234,567".
public func grouped(_ value: Int) -> String {
  let digits = String(value.magnitude)
  var out = ""
  for (index, c) in digits.enumerated() {
    if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
    out.append(c)
  }
  return value < 0 ? "-" + out : out
}

extension ParsableCommand {
  /// `main()` with the contract's exit statuses: a usage error (unknown option, bad value,
  /// failed validation) prints the parser's message and usage and exits 1, not
  /// swift-argument-parser's 64; `--help` and `--version` exit 0.
  public static func mainWithContractExitStatus() -> Never {
    do {
      var command = try parseAsRoot()
      try command.run()
      Glibc.exit(0)
    } catch {
      let code = exitCode(for: error)
      guard code != .success else { exit(withError: error) }
      FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
      Glibc.exit(1)
    }
  }
}
