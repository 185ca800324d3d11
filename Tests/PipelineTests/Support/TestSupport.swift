import Foundation
import Logging
import Testing

@testable import ClickPipeline

/// A fresh temporary folder per test, removed at the end.
final class TemporaryDirectory {
  let path: String

  init() throws {
    let base = FileManager.default.temporaryDirectory.path + "/clickpipeline-tests-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
    path = base
  }

  deinit { try? FileManager.default.removeItem(atPath: path) }

  func file(_ name: String) -> String { path + "/" + name }

  /// Writes text as a file (creating folders); returns its path.
  @discardableResult
  func write(_ name: String, _ text: String) throws -> String {
    try write(name, Data(text.utf8))
  }

  @discardableResult
  func write(_ name: String, _ data: Data) throws -> String {
    let target = file(name)
    try FileManager.default.createDirectory(
      atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try data.write(to: URL(fileURLWithPath: target))
    return target
  }

  /// Writes lines as a real gzip file (made by /bin/gzip -n, so it is byte-reproducible).
  @discardableResult
  func writeGzip(_ name: String, lines: [String]) throws -> String {
    let data = try Gzip.compress(Data((lines.joined(separator: "\n") + "\n").utf8))
    return try write(name, data)
  }
}

enum Gzip {
  /// Compresses with the system's gzip (one member, no name or time stamp).
  static func compress(_ data: Data) throws -> Data {
    let result = try Executables.run("/bin/gzip", ["-c", "-n"], stdin: data)
    guard result.status == 0 else { throw TestFailure("gzip failed: \(result.stderr)") }
    return result.stdoutData
  }
}

struct TestFailure: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}

/// The real `ingest`, `aggregate` and `report` executables, run as processes.
enum Executables {
  struct Result {
    var status: Int32
    var stdoutData: Data
    var stderr: String
    var stdout: String { String(decoding: stdoutData, as: UTF8.self) }
  }

  /// The folder holding the built products (the test bundle lives there too).
  static let productsDirectory: String = {
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    var dir = (exe as NSString).deletingLastPathComponent
    // On Linux the test runner is <products>/<Package>PackageTests.xctest.
    while !dir.isEmpty && dir != "/" && !FileManager.default.fileExists(atPath: dir + "/ingest") {
      dir = (dir as NSString).deletingLastPathComponent
    }
    return dir
  }()

  static func path(_ name: String) -> String { productsDirectory + "/" + name }

  /// Runs a program and waits for it.
  static func run(_ program: String, _ arguments: [String], stdin: Data? = nil, environment: [String: String]? = nil) throws -> Result {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: program)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    let input = Pipe()
    process.standardInput = input
    try process.run()
    if let stdin { input.fileHandleForWriting.write(stdin) }
    try input.fileHandleForWriting.close()
    // Read both pipes fully before waiting, so a chatty process cannot block on a full pipe.
    nonisolated(unsafe) var errData = Data()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
      errData = err.fileHandleForReading.readDataToEndOfFile()
      group.leave()
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return Result(status: process.terminationStatus, stdoutData: outData, stderr: String(decoding: errData, as: UTF8.self))
  }

  /// Runs one of the pipeline's executables.
  static func stage(_ name: String, _ arguments: [String]) throws -> Result {
    try run(path(name), arguments)
  }
}

/// Reads a pipeline database in tests.
struct TestDatabase {
  let db: SQLiteDatabase

  init(_ path: String) throws {
    db = try SQLiteDatabase(path: path, readOnly: true)
  }

  /// Every row as strings, in the given order.
  func rows(_ sql: String) throws -> [[String]] {
    try db.rows(sql).map { $0.map(\.textValue) }
  }

  func int(_ sql: String) throws -> Int64 {
    try db.scalarInt(sql) ?? 0
  }

  /// The whole `daily_metrics` table, sorted by its key, one string per row:
  /// `day|creator|placement|platform|store|product|views|uv|bot_views|clicks|uc|bot_clicks|orders|units|revenue|commission|refunds|refunded|reversed`.
  func dailyMetrics() throws -> [String] {
    try rows(
      """
      SELECT day, creator_id, placement, platform, store, product_id, views, unique_viewers, bot_views,
        clicks, unique_clickers, bot_clicks, orders, units, revenue_cents, commission_cents, refunds,
        refunded_cents, reversed_commission_cents
      FROM daily_metrics ORDER BY day, creator_id, placement, platform, store, product_id
      """
    ).map { $0.joined(separator: "|") }
  }
}

/// Runs ingest then aggregate; fails the test (at the caller) if either exits unexpectedly.
@discardableResult
func runPipeline(
  db: String, config: String? = nil, inputs: [String], expectIngest: Int32 = 0,
  sourceLocation: SourceLocation = #_sourceLocation
) throws -> (ingest: Executables.Result, aggregate: Executables.Result) {
  let configArgs = config.map { ["--config", $0] } ?? []
  let ingest = try Executables.stage("ingest", ["--db", db] + configArgs + inputs)
  #expect(ingest.status == expectIngest, "ingest: \(ingest.stderr)", sourceLocation: sourceLocation)
  let aggregate = try Executables.stage("aggregate", ["--db", db] + configArgs)
  #expect(aggregate.status == 0, "aggregate: \(aggregate.stderr)", sourceLocation: sourceLocation)
  return (ingest, aggregate)
}

/// Every staged view and click, read back from the event store, one row of strings each:
/// kind, event id, ts, creator, placement, viewer, product, platform, store, user agent, file
/// id, line; sorted by kind and event id (the order of ``SchemaMigrationTests/traffic``).
func stagedTraffic(_ db: SQLiteDatabase) throws -> [[String]] {
  let reader = try SegmentReader(db: db)
  var rows: [[String]] = []
  for kind in [EventKind.view, .click] {
    for info in try reader.segments(kind, days: Int64.min...Int64.max) {
      let s = try reader.load(info.segmentID)
      let ids = try reader.ids(info.segmentID)
      let fileID = try db.scalarInt("SELECT file_id FROM segments WHERE segment_id = ?", [.int(info.segmentID)]) ?? -1
      for r in s.liveRows {
        let listing: [String] = s.withListing(r) { platform, store, product in
          [String(decoding: product, as: UTF8.self), platform?.rawValue ?? "", String(decoding: store, as: UTF8.self)]
        }
        let head: [String] = [kind.name, ids.id(r), String(s.ts[r]), s.string(.creator, r), s.placement(r).name]
        let tail: [String] = [s.string(.userAgent, r), String(fileID), String(s.lines[r])]
        rows.append(head + [s.string(.viewer, r)] + listing + tail)
      }
    }
  }
  return rows.sorted { a, b in a[0] != b[0] ? a[0] < b[0] : a[1].utf8.lexicographicallyPrecedes(b[1].utf8) }
}

/// The staged views or clicks (or both) of the database at `path`.
func stagedTraffic(_ path: String, kind: EventKind? = nil) throws -> [[String]] {
  try stagedTraffic(Schema.open(path: path)).filter { kind == nil || $0[0] == kind!.name }
}

/// Ingests `lines` (NDJSON) in-process, on one thread, into a fresh database in `dir`; returns
/// the database's path and the run's result.
func ingestLines(_ lines: [String], into dir: TemporaryDirectory) throws -> (path: String, result: IngestResult) {
  let path = dir.file("db.sqlite")
  let logs = try dir.write("a.ndjson", lines.joined(separator: "\n") + "\n")
  var options = IngestOptions(databasePath: path, inputPaths: [logs], configuration: .default)
  options.workers = 1
  return (path, try IngestRunner(options: options, logger: Logger(label: "test")).run())
}
