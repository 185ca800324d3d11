import Foundation
import Synchronization

/// Parses files on worker threads, each file in one pass, while the caller consumes them one
/// by one in path order.
///
/// Each file has its own ``BoundedQueue`` of ``FilePiece``s: a worker fills it while parsing
/// and waits when it is full (``piecesAhead``), so memory stays bounded whatever the file
/// sizes, and the caller drains the files in order. The last piece says whether the file was read whole (gzip
/// trailers checked): until then nothing of it counts, and the caller drops what it staged
/// if it was not.
///
/// A regular file whose size equals that of a file already ingested is first hashed from its
/// raw bytes (no decompression): if the content is known it is not parsed (``FilePiece/known(_:)``),
/// unless its last line was held back then (`heldBack`), in which case only that line and
/// what follows it is parsed.
final class ParallelParse: Sendable {
  private let files: [String]
  private let parser: FileParser
  private let knownContent: Set<String>
  private let knownSizes: Set<Int>
  private let heldBack: [String: Int]
  private let queues: [BoundedQueue<FilePiece>]
  private let nextFile = Mutex(0)
  private let stats: StageStats?
  private let pool: Mutex<WorkerPool?> = Mutex(nil)
  private let workers: Int
  /// The pieces a file may queue before its worker waits. A worker on the file after the one
  /// the caller drains fills its queue long before the caller gets to it; with too few places
  /// it then waits while the caller waits on the other worker, and a core idles. A piece is a
  /// compressed segment or a batch of conversions or rejects, about 1-2 MB: 8 of them for each
  /// of a few files ahead is the bound on what waits (docs/BENCHMARKS.md has the measurement).
  static let piecesAhead = 8

  /// `knownContent`: hashes already ingested, and `knownSizes` their files' sizes;
  /// `heldBack`: hash → the line held back when it was ingested.
  init(
    files: [String], parser: FileParser, workers: Int, knownContent: Set<String>, knownSizes: Set<Int>,
    heldBack: [String: Int] = [:], stats: StageStats? = nil
  ) {
    self.files = files
    self.parser = parser
    self.workers = min(workers, max(1, files.count))
    self.knownContent = knownContent
    self.knownSizes = knownSizes
    self.heldBack = heldBack
    self.stats = stats
    queues = files.map { _ in BoundedQueue<FilePiece>(capacity: Self.piecesAhead) }
  }

  func start() {
    let pool = WorkerPool(name: "parse", count: workers) { [self] _ in work() }
    self.pool.withLock { $0 = pool }
  }

  /// Stops the workers (at their next piece) and waits for them.
  func cancel() {
    for queue in queues { queue.cancel() }
    pool.withLock { $0 }?.join()
  }

  /// The next piece of file `index`; `nil` only after ``cancel()``.
  func next(_ index: Int) -> FilePiece? {
    queues[index].pop()
  }

  private func work() {
    let threadStart = StepClock.threadCPU()
    let stager = FileStager(clock: StepClock(steps: IngestStep.allCases.count, enabled: stats != nil))
    while true {
      let index = nextFile.withLock { next -> Int? in
        guard next < files.count else { return nil }
        defer { next += 1 }
        return next
      }
      guard let index, !queues[index].isCancelled else { break }
      parse(index, stager)
    }
    if let stats {
      // What the sampled steps and the timed reads do not cover is line splitting and UTF-8
      // checking (and the thread's share of waiting on locks).
      var clock = stager.clock
      let covered = clock.seconds.reduce(0, +)
      clock.addSeconds(IngestStep.split.rawValue, max(0, StepClock.threadCPU() - threadStart - covered))
      stats.add(clock)
    }
  }

  private func parse(_ index: Int, _ stager: FileStager) {
    let path = files[index]
    let queue = queues[index]
    var hash = ""
    if let size = Self.regularFileSize(path), knownSizes.contains(size) {
      do {
        hash = try FileParser.contentHash(path: path)
      } catch {
        queue.push(.finished(.failure(error)))
        return
      }
      if knownContent.contains(hash) && heldBack[hash] == nil {
        queue.push(.known(hash))
        return
      }
    }
    let heldLine = heldBack[hash]
    stager.begin { queue.push($0) }
    do throws(InputError) {
      // A pipe or device is read to its end, so its writer is done: nothing to hold back.
      let summary = try parser.parse(
        path: path, from: heldLine ?? 1, holdingUnterminated: heldLine == nil && Self.regularFileSize(path) != nil,
        into: stager)
      stager.finishFile()
      if !hash.isEmpty && summary.contentHash != hash {
        throw InputError(kind: .io, path: path, message: "the file changed while it was being read; it will be retried next run")
      }
      queue.push(.finished(.success(summary)))
    } catch {
      stager.abandonFile()
      queue.push(.finished(.failure(error)))
    }
  }

  /// The size of a regular file, `nil` for pipes, devices and what cannot be read.
  static func regularFileSize(_ path: String) -> Int? {
    var st = stat()
    guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
    return Int(st.st_size)
  }

  static func isRegularFile(_ path: String) -> Bool { regularFileSize(path) != nil }
}
