import Foundation

/// Runs `consume` on its own thread over the batches a producer hands over, a few at a time:
/// the producer blocks when `capacity` batches wait, so memory stays bounded.
///
/// The producer calls ``send(_:)`` for each batch, then ``finish()``, which waits for the
/// consumer and returns its result or rethrows its error. If the consumer fails, later
/// ``send(_:)`` calls return `false` at once so the producer can stop early.
final class Handoff<Batch: Sendable, Output: Sendable>: @unchecked Sendable {
  private let condition = NSCondition()
  private var queue: [Batch] = []
  private var closed = false
  private var outcome: Result<Output, any Error>?
  private let capacity: Int

  /// Starts the consumer thread. `consume` pulls batches with the function it is given,
  /// which returns `nil` once the producer has finished.
  init(name: String, capacity: Int = 4, consume: @escaping @Sendable (() -> Batch?) throws -> Output) {
    self.capacity = capacity
    let thread = Thread { [self] in
      let result = Result { try consume(self.next) }
      condition.lock()
      outcome = result
      queue.removeAll()
      condition.broadcast()
      condition.unlock()
    }
    thread.name = name
    thread.stackSize = 1 << 22
    thread.start()
  }

  /// Queues a batch; returns `false` (dropping it) if the consumer has already stopped.
  @discardableResult
  func send(_ batch: Batch) -> Bool {
    condition.lock()
    defer { condition.unlock() }
    while queue.count >= capacity && outcome == nil { condition.wait() }
    guard outcome == nil else { return false }
    queue.append(batch)
    condition.broadcast()
    return true
  }

  /// Tells the consumer no more batches come, waits for it, and returns what it returned.
  func finish() throws -> Output {
    condition.lock()
    closed = true
    condition.broadcast()
    while outcome == nil { condition.wait() }
    let result = outcome!
    condition.unlock()
    return try result.get()
  }

  private func next() -> Batch? {
    condition.lock()
    defer { condition.unlock() }
    while queue.isEmpty && !closed { condition.wait() }
    guard !queue.isEmpty else { return nil }
    let batch = queue.removeFirst()
    condition.broadcast()
    return batch
  }
}

/// Runs `body` on its own thread; ``value()`` waits for it and returns what it returned.
final class BackgroundTask<Output: Sendable>: @unchecked Sendable {
  private let condition = NSCondition()
  private var outcome: Result<Output, any Error>?

  init(name: String, _ body: @escaping @Sendable () throws -> Output) {
    let thread = Thread { [self] in
      let result = Result { try body() }
      condition.lock()
      outcome = result
      condition.broadcast()
      condition.unlock()
    }
    thread.name = name
    thread.stackSize = 1 << 22
    thread.start()
  }

  func value() throws -> Output {
    condition.lock()
    while outcome == nil { condition.wait() }
    let result = outcome!
    condition.unlock()
    return try result.get()
  }
}
