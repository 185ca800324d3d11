import ArgumentParser
import ClickPipeline
import ClickPipelineCLI
import Foundation
import Logging

@main
struct ReportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "report",
    abstract: "Write the run summary and per-creator earnings statements (Markdown and CSV).",
    discussion: """
      Writes into --out: summary.md (totals, funnel, daily trend, platforms, placements, top \
      creators and products, data quality), creators/<creator_id>.md (an earnings statement \
      for every creator active in the period, with payout status against \
      payout.threshold_cents), creator_earnings.csv (one row per creator, in cents), \
      payouts.csv (each creator's monthly payout balances) and orders.csv (every counted order \
      and refund with its money and the click and rule that attributed it). The database keeps \
      the views creator_earnings, product_funnel and platform_summary for SQL. The same \
      database gives byte-identical files. The creators/ folder a report replaces is kept as \
      the hidden .creators.previous/ and the next report writes into it (overwriting files is \
      cheaper for the file system than deleting and creating them); deleting it is safe.

      EXAMPLES
        report --db clicks.sqlite --out reports/
        report --db clicks.sqlite --out reports/2026-11 --from 2026-11-01 --to 2026-11-30
        report --db clicks.sqlite --out statements/ --creator c_1042 --config clickpipeline.toml
        report --db clicks.sqlite --status
        report --db clicks.sqlite --status --json
        report --db clicks.sqlite --close-month 2026-11

      CLOSING A MONTH
        --close-month YYYY-MM stores every creator's month of the payout ledger as it is now \
      and closes it: statements and payouts.csv then show it as closed, with the same figures \
      forever. A late order or refund dated in a closed month, a forgotten file or a rate change \
      shows as an adjustment line in the first open month, naming the closed month and its \
      orders. Open months are labelled "open (not closed)": their figures can still change. \
      This is the report command's only write to the database; it prints one line per month closed.

      EXIT STATUS
        0   success
        1   nothing was written: bad arguments, configuration, database or output folder
        75  another run holds the database (use --wait SECONDS to wait for it)
        130, 143  interrupted by SIGINT or SIGTERM; nothing of the run was kept
      """,
    version: BuildInfo.versionText(command: "report"))

  @OptionGroup var common: CommonOptions

  static func main() { mainWithContractExitStatus() }

  @Option(
    help: ArgumentHelp(
      "Folder for summary.md, creators/, creator_earnings.csv, payouts.csv and orders.csv (created if missing).", valueName: "dir"))
  var out: String?

  @Flag(
    help:
      "Print the operator's view instead of writing reports: the lock, last runs (and interrupted ones), last report and backup, failed and refused files, what waits for aggregate, closed months, settings in force, database size."
  )
  var status = false

  @Flag(help: "With --status: print it as one JSON object (snake_case keys), for monitoring.")
  var json = false

  @Option(help: ArgumentHelp("First day of the period, YYYY-MM-DD (default: the first day with data).", valueName: "day"))
  var from: String?

  @Option(help: ArgumentHelp("Last day of the period, YYYY-MM-DD, inclusive (default: the last day with data).", valueName: "day"))
  var to: String?

  @Option(help: ArgumentHelp("Write only this creator's statement (summary.md and the CSV are left as they are).", valueName: "id"))
  var creator: String?

  @Flag(help: "Report even when new data waits for aggregate; the summary says so at the top.")
  var allowPending = false

  @Option(
    help: ArgumentHelp(
      "Close the payout ledger's month YYYY-MM (and every open month before it) for all creators, irreversibly: its figures never change again, and later differences appear as adjustments in the first open month. Refused while data waits for aggregate or before the month is over in the configured time zone.",
      valueName: "month"))
  var closeMonth: String?

  func validate() throws {
    if closeMonth != nil {
      if status || out != nil || from != nil || to != nil || creator != nil || allowPending {
        throw ValidationError("--close-month runs on its own: leave out --out, --status, --from, --to, --creator and --allow-pending.")
      }
      return
    }
    if json && !status { throw ValidationError("--json goes with --status.") }
    if status && out != nil { throw ValidationError("--status prints to standard output; leave out --out.") }
    if !status && out == nil { throw ValidationError("Missing expected argument '--out <dir>' (or pass --status or --close-month).") }
    if let from, let to, from > to { throw ValidationError("--from \(from) is after --to \(to).") }
  }

  func run() throws {
    let logger = common.makeLogger(label: "report")
    let interactive = common.interactive
    runStage(logger: logger) { try execute(logger: logger, interactive: interactive) }
  }

  private func execute(logger: Logger, interactive: Bool) throws -> Int32 {
    if status {
      let text = json ? try StatusReport.renderJSON(databasePath: common.db) : try StatusReport.render(databasePath: common.db)
      FileHandle.standardOutput.write(Data(text.utf8))
      return 0
    }
    let configuration = try common.loadConfiguration()
    if let closeMonth {
      var closer = MonthCloser(databasePath: common.db, configuration: configuration, logger: logger)
      closer.lockWait = common.wait
      let closed = try closer.close(month: closeMonth)
      FileHandle.standardOutput.write(Data((closed.description + "\n").utf8))
      return 0
    }
    guard let out else { return 1 }
    var options = ReportOptions(databasePath: common.db, outputDirectory: out, configuration: configuration)
    options.from = from
    options.to = to
    options.creator = creator
    options.allowPending = allowPending
    options.lockWait = common.wait
    options.commandLine = CommandLine.arguments.joined(separator: " ")
    options.stats = common.stage.makeStats(stage: "report", steps: ReportRunner.stepNames)
    let started = Clock.monotonic()
    let result = try ReportRunner(options: options, logger: logger).run()
    common.stage.writeStats(options.stats, wallSeconds: Clock.monotonic() - started, logger: logger)
    if interactive {
      FileHandle.standardError.write(
        Data(
          "report: \(result.from) to \(result.to): \(out)/summary.md, \(result.statements) statement(s) in \(out)/creators/, \(out)/creator_earnings.csv\n"
            .utf8))
    }
    return 0
  }
}
