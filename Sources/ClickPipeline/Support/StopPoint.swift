import Foundation

/// Named moments of a run at which a test can stop the process dead (SIGKILL), so that "killed
/// while X" is the same moment on every machine, however loaded, instead of a guess in seconds.
///
/// The environment variable `CLICKPIPELINE_TEST_STOP_AT=NAME` (or `NAME@N`: the N-th time the
/// moment is reached) arms one moment. Unset, as in every real run, ``reached(_:)`` costs one
/// comparison against `nil`. The moments are the cases of ``Moment``.
public enum StopPoint {
  /// A moment a run passes through. The raw value is the name used in the environment variable.
  public enum Moment: String, CaseIterable, Sendable {
    /// `ingest` holds the run lock and has opened its transaction; nothing written yet.
    case ingestStarted = "ingest.started"
    /// `ingest` has staged one chunk of parsed events (many per file).
    case ingestChunkStaged = "ingest.chunk-staged"
    /// `ingest` has written one view or click segment into `segments` (see ``EventSegment``).
    case ingestSegmentWritten = "ingest.segment-written"
    /// `ingest` has staged a whole file and recorded it in `files`.
    case ingestFileStaged = "ingest.file-staged"
    /// `ingest` has written the run's event key partitions and click index (``EventKeys``).
    case ingestKeysWritten = "ingest.keys-written"
    /// `ingest` has written everything, including its `runs` row, and is about to commit.
    case ingestBeforeCommit = "ingest.before-commit"
    /// `aggregate` has computed one day (in a worker, before anything is written).
    case aggregateDayComputed = "aggregate.day-computed"
    /// `aggregate` has written one day's rows inside its transaction.
    case aggregateDayWritten = "aggregate.day-written"
    /// `aggregate` has written everything and is about to commit.
    case aggregateBeforeCommit = "aggregate.before-commit"
    /// `report` has written one file into its staging folder.
    case reportFileStaged = "report.file-staged"
    /// `report` has staged every statement and is about to put the folder in place.
    case reportBeforePublish = "report.before-publish"
    /// `report` has put the statements in place; `summary.md` and the CSV come next.
    case reportStatementsPublished = "report.statements-published"
  }

  /// The environment variable that arms a moment.
  public static let environmentVariable = "CLICKPIPELINE_TEST_STOP_AT"

  private static let armed: (moment: Moment, count: Int)? = {
    guard let value = ProcessInfo.processInfo.environment[environmentVariable], !value.isEmpty else { return nil }
    let parts = value.split(separator: "@", maxSplits: 1)
    guard let moment = Moment(rawValue: String(parts[0])) else {
      FileHandle.standardError.write(
        Data("\(environmentVariable)=\(value): unknown moment; known: \(Moment.allCases.map(\.rawValue).joined(separator: ", "))\n".utf8))
      exit(70)
    }
    let count = parts.count == 2 ? Int(parts[1]) ?? 1 : 1
    return (moment, max(1, count))
  }()

  private static let counter = Counter()

  /// `CLICKPIPELINE_TEST_STOP_SIGNAL=TERM` (or `INT`) stops the run with that signal instead,
  /// as an operator's `kill` or Ctrl-C would: the handler's path, not a crash.
  public static let signalVariable = "CLICKPIPELINE_TEST_STOP_SIGNAL"

  /// Stops the process if `moment` is the armed one and this is its N-th passage: with SIGKILL,
  /// or the signal `CLICKPIPELINE_TEST_STOP_SIGNAL` names, whose handler ends the process
  /// while this thread waits.
  @inline(__always)
  public static func reached(_ moment: Moment) {
    guard let armed, armed.moment == moment else { return }
    guard counter.increment() == armed.count else { return }
    switch ProcessInfo.processInfo.environment[signalVariable] {
    case "TERM": kill(getpid(), SIGTERM)
    case "INT": kill(getpid(), SIGINT)
    default: kill(getpid(), SIGKILL)
    }
    while true { pause() }
  }

  private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func increment() -> Int {
      lock.lock()
      defer { lock.unlock() }
      value += 1
      return value
    }
  }
}
