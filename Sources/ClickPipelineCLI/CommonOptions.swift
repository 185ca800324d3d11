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
  @Option(name: .long, help: ArgumentHelp("The SQLite database file (created if missing).", valueName: "file"))
  public var db: String

  @Option(
    name: .long,
    help: ArgumentHelp(
      "A TOML configuration file (time zone, windows, bots, rates, FX, catalog). Defaults apply without it.",
      valueName: "file"))
  public var config: String?

  @Option(
    name: .long,
    help: ArgumentHelp(
      "If another run holds the database, wait up to this many seconds for it instead of exiting with status 75.",
      valueName: "seconds"))
  public var wait: Double = 0

  @Flag(name: .shortAndLong, help: "Print only errors; no progress, no summary.")
  public var quiet = false

  @Flag(name: .shortAndLong, help: "Print what each step does (repeat for debug detail).")
  public var verbose: Int

  @Option(name: .long, help: "Log line format on standard error: text or json (one JSON object per line).")
  public var logFormat: LogFormat = .text

  public init() {}

  public func validate() throws {
    if quiet && verbose > 0 { throw ValidationError("--quiet and --verbose cannot be used together.") }
    if !wait.isFinite || wait < 0 { throw ValidationError("--wait must be zero or more seconds, got \(wait).") }
  }

  /// Whether a person is watching standard error (progress and summaries are shown only then).
  public var interactive: Bool { !quiet && isatty(STDERR_FILENO) == 1 }

  /// The logger the stage's library code uses; only `main` makes one.
  public func makeLogger(label: String) -> Logger {
    let level: Logger.Level =
      quiet ? .error : verbose >= 2 ? .debug : verbose == 1 ? .info : .warning
    let format = logFormat
    var logger = Logger(label: label) { name in StandardErrorLogHandler(label: name, format: format) }
    logger.logLevel = level
    return logger
  }

  public func loadConfiguration() throws -> PipelineConfiguration {
    do {
      return try PipelineConfiguration.load(path: config)
    } catch {
      throw PipelineError.configuration(error)
    }
  }
}

/// Runs a stage body and turns its errors into a message and the contract's exit status.
public func runStage(logger: Logger, _ body: () throws -> Int32) -> Never {
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
