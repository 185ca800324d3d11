import ArgumentParser
import ClickPipeline
import ClickPipelineCLI
import Foundation
import Logging

@main
struct BackupCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "backup",
    abstract: "Copy the database into a backup file, consistently, while no other run writes to it.",
    discussion: """
      Takes the database's run lock (so the copy never sees half of a run), copies it page by \
      page with SQLite's online backup API into a hidden temporary file next to --out, checks \
      the copy with PRAGMA quick_check, syncs it to the disk and renames it over --out. If \
      anything fails, --out is left as it was. The copy is a complete database: to restore it, \
      see docs/OPERATIONS.md, "Backups".

      EXAMPLES
        backup --db clicks.sqlite --out /backup/clicks-$(date -u +%F).sqlite
        backup --db clicks.sqlite --out /backup/clicks.sqlite --wait 1800

      EXIT STATUS
        0   success: --out is a checked copy of the database
        1   nothing was written: bad arguments, unusable database, or --out cannot be written
        75  another run holds the database (use --wait SECONDS to wait for it)
        130, 143  interrupted by SIGINT or SIGTERM; --out is as it was
      """,
    version: BuildInfo.versionText(command: "backup"))

  @Option(name: .long, help: ArgumentHelp("The SQLite database file to copy (it must exist).", valueName: "file"))
  var db: String

  @Option(name: .long, help: ArgumentHelp("The backup file to write (replaced if it exists; its folder must exist).", valueName: "file"))
  var out: String

  @Option(
    name: .long,
    help: ArgumentHelp(
      "If another run holds the database, wait up to this many seconds for it instead of exiting with status 75.",
      valueName: "seconds"))
  var wait: Double = 0

  @Flag(name: .shortAndLong, help: "No summary line, even on a terminal; warnings and errors are still printed.")
  var quiet = false

  @Flag(name: .shortAndLong, help: "Print what each step does (repeat for debug detail).")
  var verbose: Int

  @Option(name: .long, help: "Log line format on standard error: text or json (one JSON object per line).")
  var logFormat: LogFormat = .text

  static func main() { mainWithContractExitStatus() }

  func validate() throws {
    if quiet && verbose > 0 { throw ValidationError("--quiet and --verbose cannot be used together.") }
    if !wait.isFinite || wait < 0 { throw ValidationError("--wait must be zero or more seconds, got \(wait).") }
  }

  func run() throws {
    let level: Logger.Level = verbose >= 2 ? .debug : verbose == 1 ? .info : .warning
    let format = logFormat
    var logger = Logger(label: "backup") { name in StandardErrorLogHandler(label: name, format: format) }
    logger.logLevel = level
    runStage(logger: logger) {
      var backup = DatabaseBackup(databasePath: db, targetPath: out, logger: logger)
      backup.lockWait = wait
      backup.commandLine = CommandLine.arguments.joined(separator: " ")
      let result = try backup.run()
      if !quiet && isatty(STDERR_FILENO) == 1 {
        FileHandle.standardError.write(Data("backup: \(out): \(grouped(result.bytes)) bytes, quick_check ok\n".utf8))
      }
      return 0
    }
  }
}
