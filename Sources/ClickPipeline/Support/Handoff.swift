import Synchronization

/// Runs `consume` on its own thread over the batches a producer hands over through a
/// ``BoundedQueue``: the producer waits when `capacity` batches wait, so memory stays bounded.
///
/// The producer calls ``send(_:)`` for each batch, then ``finish()``, which waits for the
/// consumer and returns its result or rethrows its error. If the consumer fails, later
/// ``send(_:)`` calls return `false` at once so the producer can stop early.
final class Handoff<Batch: Sendable, Output: Sendable>: Sendable {
  private let queue: BoundedQueue<Batch>
  private let outcome = Outcome<Output>()
  private let pool: WorkerPool

  /// Starts the consumer thread. `consume` pulls batches with the function it is given,
  /// which returns `nil` once the producer has finished.
  init(name: String, capacity: Int = 4, consume: @escaping @Sendable (() -> Batch?) throws -> Output) {
    let queue = BoundedQueue<Batch>(capacity: capacity)
    let outcome = self.outcome
    self.queue = queue
    pool = WorkerPool(name: name, count: 1) { _ in
      let result = Result { try consume(queue.pop) }
      outcome.set(result)
      // A failed consumer takes no more batches: the producer's sends return false.
      if case .failure = result { queue.cancel() }
    }
  }

  /// Queues a batch; returns `false` (dropping it) if the consumer has already stopped.
  @discardableResult
  func send(_ batch: Batch) -> Bool {
    queue.push(batch)
  }

  /// Tells the consumer no more batches come, waits for it, and returns what it returned.
  func finish() throws -> Output {
    queue.close()
    pool.join()
    return try outcome.get()
  }
}

/// Runs `body` on its own thread; ``value()`` waits for it and returns what it returned.
final class BackgroundTask<Output: Sendable>: Sendable {
  private let outcome = Outcome<Output>()
  private let pool: WorkerPool

  init(name: String, _ body: @escaping @Sendable () throws -> Output) {
    let outcome = self.outcome
    pool = WorkerPool(name: name, count: 1) { _ in
      outcome.set(Result { try body() })
    }
  }

  func value() throws -> Output {
    pool.join()
    return try outcome.get()
  }
}

/// What a worker thread returned or threw, set once and read after the thread was joined.
private final class Outcome<Output: Sendable>: Sendable {
  private let result = Mutex<Result<Output, any Error>?>(nil)

  func set(_ value: Result<Output, any Error>) { result.withLock { $0 = value } }

  func get() throws -> Output { try result.withLock { $0! }.get() }
}
