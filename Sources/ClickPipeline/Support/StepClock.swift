import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// CPU seconds per named step of a stage, for `--stats-json` (`benchmarks/bench.py --stages`).
///
/// Each thread times its own steps with a ``StepClock`` and adds them to the stage's
/// ``StageStats`` when it is done. Off (the default), a clock costs one branch per step.
///
/// Steps that take milliseconds (a read of 1 MiB, a segment's compression, a writer's batch)
/// are timed on the thread's CPU clock (``cpuNow()``), so time spent waiting is not counted.
/// Per-line steps take a few hundred nanoseconds, less than a CPU-clock read costs: they are
/// timed with the monotonic clock (``now()``, read in user space) on a sample of lines (one in
/// ``StepClock/sampleEvery``), less the clock's own cost, and scaled; waits inside them are
/// noted with ``exclude(since:)`` and taken out.
struct StepClock {
  static let sampleEvery = 16

  let enabled: Bool
  private(set) var seconds: [Double]
  /// Monotonic seconds spent inside sampled steps that belong elsewhere (see ``exclude(since:)``).
  private(set) var excluded = 0.0
  private var sampleCounter = 0
  /// The cost of one ``now()``, measured when the clock is made.
  let overhead: Double

  init(steps: Int, enabled: Bool) {
    self.enabled = enabled
    seconds = Array(repeating: 0, count: steps)
    var cheapest = Double.infinity
    if enabled {
      for _ in 0..<64 {
        let a = Self.monotonic()
        cheapest = min(cheapest, Self.monotonic() - a)
      }
    }
    overhead = enabled ? cheapest : 0
  }

  /// Monotonic seconds, or 0 when off (for sampled per-line steps).
  @inline(__always)
  func now() -> Double {
    guard enabled else { return 0 }
    return Self.monotonic()
  }

  /// This thread's CPU seconds, or 0 when off (for steps of a millisecond or more).
  @inline(__always)
  func cpuNow() -> Double {
    guard enabled else { return 0 }
    return StepClock.threadCPU()
  }

  /// Notes that the monotonic time since `start` belongs to no sampled step (a wait, or a
  /// step timed on its own).
  @inline(__always)
  mutating func exclude(since start: Double) {
    guard enabled else { return }
    excluded += Self.monotonic() - start
  }

  private static func monotonic() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
  }

  /// Adds `value` seconds to `step`.
  @inline(__always)
  mutating func addSeconds(_ step: Int, _ value: Double) {
    guard enabled else { return }
    seconds[step] += value
  }

  /// Whether this line is one of the sampled ones.
  @inline(__always)
  mutating func sampling() -> Bool {
    guard enabled else { return false }
    sampleCounter &+= 1
    return sampleCounter % StepClock.sampleEvery == 0
  }

  /// This thread's CPU time so far, in seconds.
  static func threadCPU() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
  }
}

/// The steps of one stage and their CPU seconds, summed over threads; written as JSON by the
/// commands' `--stats-json`.
public final class StageStats: Sendable {
  public let stage: String
  public let stepNames: [String]
  private let totals: Mutex<(seconds: [Double], events: Int)>

  public init(stage: String, steps: [String]) {
    self.stage = stage
    stepNames = steps
    totals = Mutex((Array(repeating: 0, count: steps.count), 0))
  }

  func add(_ clock: StepClock) {
    totals.withLock { totals in
      for (i, s) in clock.seconds.enumerated() { totals.seconds[i] += s }
    }
  }

  func add(step: Int, seconds: Double) {
    totals.withLock { $0.seconds[step] += seconds }
  }

  func setEvents(_ events: Int) {
    totals.withLock { $0.events = events }
  }

  func addEvents(_ events: Int) {
    totals.withLock { $0.events += events }
  }

  /// The JSON object `bench.py --stages` reads.
  public func json(wallSeconds: Double) -> String {
    let (seconds, events) = totals.withLock { ($0.seconds, $0.events) }
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    let cpu =
      Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) * 1e-6 + Double(usage.ru_stime.tv_sec)
      + Double(usage.ru_stime.tv_usec) * 1e-6
    let steps = zip(stepNames, seconds).map { #"{"name": "\#($0)", "cpu_seconds": \#(Self.number($1))}"# }
    return
      #"{"stage": "\#(stage)", "events": \#(events), "wall_seconds": \#(Self.number(wallSeconds)), "cpu_seconds": \#(Self.number(cpu)), "steps": [\#(steps.joined(separator: ", "))]}"#
      + "\n"
  }

  private static func number(_ v: Double) -> String {
    String(Double(Int((v * 1e6).rounded())) / 1e6)
  }
}
