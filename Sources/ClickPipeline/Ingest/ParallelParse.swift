import Foundation

/// Parses files on worker threads while the caller consumes them one by one, in order.
///
/// Each file has a small bounded queue of chunks, so memory stays bounded whatever the file
/// sizes: a worker that gets ahead of the writer waits.
final class ParallelParse: @unchecked Sendable {
  private final class Slot {
    var chunks: [ParsedChunk] = []
    var outcome: Result<ParsedFileSummary, InputError>?
  }

  private let files: [String]
  private let parser: FileParser
  private let workers: Int
  private let condition = NSCondition()
  private var slots: [Slot]
  private var nextFile = 0
  private var cancelled = false
  private let maxQueuedChunks = 4
  private let group = DispatchGroup()

  init(files: [String], parser: FileParser, workers: Int) {
    self.files = files
    self.parser = parser
    self.workers = min(workers, max(1, files.count))
    slots = files.map { _ in Slot() }
  }

  func start() {
    for index in 0..<workers {
      group.enter()
      let thread = Thread { [self] in
        work()
        group.leave()
      }
      thread.name = "parse-\(index)"
      thread.stackSize = 1 << 22
      thread.start()
    }
  }

  /// Stops the workers (after the current chunk) and waits for them.
  func cancel() {
    condition.lock()
    cancelled = true
    condition.broadcast()
    condition.unlock()
    group.wait()
  }

  private func work() {
    while true {
      condition.lock()
      guard !cancelled, nextFile < files.count else {
        condition.unlock()
        return
      }
      let index = nextFile
      nextFile += 1
      let slot = slots[index]
      condition.unlock()
      let outcome: Result<ParsedFileSummary, InputError>
      do {
        let summary = try parser.parse(path: files[index]) { chunk in
          condition.lock()
          while slot.chunks.count >= maxQueuedChunks && !cancelled { condition.wait() }
          slot.chunks.append(chunk)
          condition.broadcast()
          condition.unlock()
        }
        outcome = .success(summary)
      } catch {
        outcome = .failure(error)
      }
      condition.lock()
      slot.outcome = outcome
      condition.broadcast()
      condition.unlock()
    }
  }

  /// Hands every chunk of file `index` to `body`, in order, then returns how the file ended.
  func consume(
    _ index: Int, _ body: (ParsedChunk) throws(DatabaseError) -> Void
  ) throws(DatabaseError) -> Result<ParsedFileSummary, InputError> {
    condition.lock()
    let slot = slots[index]
    condition.unlock()
    while true {
      condition.lock()
      while slot.chunks.isEmpty && slot.outcome == nil { condition.wait() }
      if slot.chunks.isEmpty, let outcome = slot.outcome {
        slots[index] = Slot()
        condition.unlock()
        return outcome
      }
      let chunk = slot.chunks.removeFirst()
      condition.broadcast()
      condition.unlock()
      try body(chunk)
    }
  }
}
