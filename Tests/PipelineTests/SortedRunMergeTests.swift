import Testing

@testable import ClickPipeline

/// The spool aggregate keeps a day's rows in: records written in sorted runs come back as one
/// sequence in key order, whatever the runs' number and the records' sizes.
@Suite struct SortedRunMergeTests {
  /// A record: a one-part key (``ByteKeyBuilder``) and a payload naming its run and place.
  static func record(_ key: String, _ payload: String) -> [UInt8] {
    var builder = ByteKeyBuilder()
    builder.append(key)
    builder.append(payload)
    return builder.bytes
  }

  static func merged(_ runs: [[[UInt8]]]) throws -> [[String]] {
    let dir = try TemporaryDirectory()
    let file = try SpoolFile(databasePath: dir.file("db.sqlite"), name: "merge-test")
    var spooled: [SpoolFile.Run] = []
    for run in runs {
      for record in run { try record.withUnsafeBytes { try file.append($0) } }
      if let run = try file.endRun() { spooled.append(run) }
    }
    var merge = SortedRunMerge(file: file, runs: spooled) { ByteKeyBuilder.precedes($0, $1, parts: 1) }
    var out: [[String]] = []
    try merge.forEach { out.append(ByteKeyBuilder.split($0)) }
    return out
  }

  struct Case: CustomTestStringConvertible, Sendable {
    var name: String
    /// Each run: its keys, in order.
    var runs: [[String]]
    var payloadBytes = 3
    var testDescription: String { name }
  }

  static let cases: [Case] = [
    Case(name: "no run", runs: []),
    Case(name: "one run", runs: [["a", "b", "c"]]),
    Case(name: "empty runs are skipped", runs: [[], ["b"], [], ["a"]]),
    Case(name: "interleaved runs", runs: [["a", "d", "g"], ["b", "e", "h"], ["c", "f", "i"]]),
    Case(name: "equal keys: the earlier run first", runs: [["k", "k"], ["k"], ["j", "k", "l"]]),
    Case(name: "a prefix sorts first", runs: [["ab", "b"], ["a", "abc"]]),
    Case(name: "bytes, not characters", runs: [["Z", "a"], ["é"], ["e\u{301}"]]),
    // Records larger than a run's 64 KiB buffer, and many runs refilled many times.
    Case(name: "records larger than the buffer", runs: [["a", "c"], ["b", "d"]], payloadBytes: 150_000),
    Case(
      name: "many runs of many records",
      runs: (0..<40).map { run in (0..<300).map { String(format: "%06d", $0 * 40 + (run * 7) % 40) } },
      payloadBytes: 200),
  ]

  @Test(arguments: cases) func recordsComeBackInKeyOrder(_ c: Case) throws {
    let filler = String(repeating: "x", count: c.payloadBytes)
    let runs = c.runs.enumerated().map { run, keys in
      keys.enumerated().map { place, key in Self.record(key, "\(run).\(place).\(filler)") }
    }
    let got = try Self.merged(runs)
    // Expected: every record, stably sorted by key bytes (runs in order, then places).
    let expected = c.runs.enumerated().flatMap { run, keys in
      keys.enumerated().map { place, key in [key, "\(run).\(place).\(filler)"] }
    }.enumerated().sorted { a, b in
      let x = Array(a.element[0].utf8)
      let y = Array(b.element[0].utf8)
      return x != y ? x.lexicographicallyPrecedes(y) : a.offset < b.offset
    }.map(\.element)
    #expect(got == expected)
  }
}
