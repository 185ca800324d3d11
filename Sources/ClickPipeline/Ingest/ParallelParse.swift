import Foundation

/// Reads files on worker threads while the caller consumes them one by one, in path order.
///
/// Each file is read twice by its worker: first whole, without parsing, to check that it can be
/// read (gzip integrity) and to hash its content (``FileParser/verify(path:)``); then parsed,
/// its chunks going through a small bounded queue, so memory stays bounded whatever the file
/// sizes. (Pipes and devices cannot be read twice: they get the second pass only.) The caller learns the first pass's verdict before any chunk, so it never writes a
/// file that cannot be read whole, and needs no savepoint to take a file back.
final class ParallelParse: @unchecked Sendable {
  private final class Slot {
    /// The verification pass: the content hash, or why the file cannot be read.
    var verified: Result<String, InputError>?
    var chunks: [ParsedChunk] = []
    var outcome: Result<ParsedFileSummary, InputError>?
    /// Set by the consumer: drop this file's chunks (its content was already ingested).
    var skip = false
  }

  private let files: [String]
  private let parser: FileParser
  private let workers: Int
  private let knownContent: Set<String>
  private let heldBack: [String: Int]
  private let condition = NSCondition()
  private var slots: [Slot]
  private var nextFile = 0
  private var cancelled = false
  private let maxQueuedChunks = 4
  private let group = DispatchGroup()

  /// `knownContent`: hashes already ingested; such files are verified but not parsed, except
  /// those in `heldBack` (hash → the line held back when it was ingested), which are parsed
  /// from that line on: unchanged since, the file is complete, and that line is taken now.
  /// Other regular files are parsed holding back a last line without a newline.
  init(files: [String], parser: FileParser, workers: Int, knownContent: Set<String>, heldBack: [String: Int] = [:]) {
    self.files = files
    self.parser = parser
    self.workers = min(workers, max(1, files.count))
    self.knownContent = knownContent
    self.heldBack = heldBack
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

  private func publish(_ change: () -> Void) {
    condition.lock()
    change()
    condition.broadcast()
    condition.unlock()
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

      // A pipe or device cannot be read twice: it is parsed in one pass, unverified ("" hash).
      let verdict: Result<String, InputError>
      do {
        verdict = .success(ParallelParse.isRegularFile(files[index]) ? try FileParser.verify(path: files[index]) : "")
      } catch {
        verdict = .failure(error)
      }
      publish { slot.verified = verdict }
      guard case .success(let hash) = verdict else {
        if case .failure(let error) = verdict { publish { slot.outcome = .failure(error) } }
        continue
      }
      let heldLine = heldBack[hash]
      if knownContent.contains(hash) && heldLine == nil {
        var summary = ParsedFileSummary()
        summary.contentHash = hash
        publish { slot.outcome = .success(summary) }
        continue
      }
      let outcome: Result<ParsedFileSummary, InputError>
      do {
        // A pipe or device is read to its end, so its writer is done: nothing to hold back.
        let summary = try parser.parse(
          path: files[index], from: heldLine ?? 1, holdingUnterminated: heldLine == nil && !hash.isEmpty
        ) { chunk in
          condition.lock()
          while slot.chunks.count >= maxQueuedChunks && !cancelled && !slot.skip { condition.wait() }
          if !slot.skip { slot.chunks.append(chunk) }
          condition.broadcast()
          condition.unlock()
        }
        outcome = .success(summary)
      } catch {
        outcome = .failure(error)
      }
      publish { slot.outcome = outcome }
    }
  }

  static func isRegularFile(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
  }

  /// Waits for the verification pass of file `index`: its content hash, or why it cannot be read.
  func verified(_ index: Int) -> Result<String, InputError> {
    condition.lock()
    defer { condition.unlock() }
    let slot = slots[index]
    while slot.verified == nil { condition.wait() }
    return slot.verified ?? .failure(InputError(kind: .io, path: files[index], message: "not verified"))
  }

  /// Drops file `index` (already ingested) and waits until its worker is done with it.
  func skip(_ index: Int) {
    condition.lock()
    let slot = slots[index]
    slot.skip = true
    slot.chunks.removeAll()
    condition.broadcast()
    while slot.outcome == nil { condition.wait() }
    slots[index] = Slot()
    condition.unlock()
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
