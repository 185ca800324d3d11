import ArgumentParser
import ClickPipeline
import ClickPipelineCLI
import Foundation
import Logging

@main
struct AggregateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "aggregate",
    abstract: "Attribute conversions to clicks and compute daily_metrics (views, clicks, orders, revenue, commission).",
    discussion: """
      Recomputes only the days that newly ingested events can change: their own days, the \
      attribution windows after new clicks, and the days of other conversions and refunds of \
      the same orders. If the configuration changed since the last run (time zone, windows, \
      bot patterns, rates, FX, catalog categories), every day is recomputed; --rebuild forces that.

      EXAMPLES
        aggregate --db clicks.sqlite
        aggregate --db clicks.sqlite --config clickpipeline.toml
        aggregate --db clicks.sqlite --config new-rates.toml --rebuild

      EXIT STATUS
        0   success
        1   nothing was changed: bad arguments, configuration or database
        75  another run holds the database (use --wait SECONDS to wait for it)
        130, 143  interrupted by SIGINT or SIGTERM; nothing of the run was kept
      """,
    version: BuildInfo.versionText(command: "aggregate"))

  @OptionGroup var common: CommonOptions

  static func main() { mainWithContractExitStatus() }

  @Flag(help: "Recompute every day from the staged events (after a configuration change, say).")
  var rebuild = false

  func run() throws {
    let logger = common.makeLogger(label: "aggregate")
    let interactive = common.interactive
    runStage(logger: logger) { try execute(logger: logger, interactive: interactive) }
  }

  private func execute(logger: Logger, interactive: Bool) throws -> Int32 {
    let configuration = try common.loadConfiguration()
    var options = AggregateOptions(databasePath: common.db, configuration: configuration)
    options.rebuild = rebuild
    options.lockWait = common.wait
    options.commandLine = CommandLine.arguments.joined(separator: " ")
    options.stats = common.stage.makeStats(stage: "aggregate", steps: AggregateRunner.stepNames)
    let started = Clock.monotonic()
    var progress: (@Sendable (Int, Int, Double) -> Void)?
    if interactive {
      let line = ProgressLine(stage: "aggregate")
      progress = { done, total, seconds in line.days(done, total, seconds) }
    }
    let result = try AggregateRunner(options: options, logger: logger, progress: progress).run()
    common.stage.writeStats(options.stats, wallSeconds: Clock.monotonic() - started, logger: logger)
    if interactive {
      FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
      let kind = result.fullRebuild ? "full rebuild" : "incremental"
      FileHandle.standardError.write(
        Data(
          ("aggregate: \(kind), \(result.daysRecomputed) day(s) recomputed, \(grouped(result.rowsWritten)) rows; "
            + String(format: "%.1f s", Clock.monotonic() - started) + "\n").utf8))
    }
    return 0
  }
}
