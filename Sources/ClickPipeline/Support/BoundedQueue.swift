import Foundation

/// A first-in, first-out queue between threads that holds at most `capacity` elements: the
/// one way work is handed from one thread to another here. ``push(_:)`` waits while the queue
/// is full, so a fast producer cannot run ahead of its consumer by more than `capacity`;
/// ``pop()`` waits while it is empty. ``close()`` ends the stream; ``cancel()`` drops what is
/// queued and makes both sides return at once.
///
/// ```swift
/// let queue = BoundedQueue<Int>(capacity: 4)
/// // producer:  for n in 0..<100 { guard queue.push(n) else { break } }; queue.close()
/// // consumer:  while let n = queue.pop() { use(n) }
/// ```
final class BoundedQueue<Element>: @unchecked Sendable {
  // Every access to the stored state holds `condition`'s lock.
  private let condition = NSCondition()
  private var items: [Element?] = []
  private var head = 0
  private var closed = false
  private var cancelled = false
  let capacity: Int

  init(capacity: Int) {
    precondition(capacity > 0)
    self.capacity = capacity
  }

  private var count: Int { items.count - head }

  /// Queues `element`, waiting for room; `false` (and the element dropped) once cancelled.
  @discardableResult
  func push(_ element: Element) -> Bool {
    condition.lock()
    defer { condition.unlock() }
    while count >= capacity && !cancelled { condition.wait() }
    guard !cancelled else { return false }
    precondition(!closed, "push after close")
    items.append(element)
    condition.broadcast()
    return true
  }

  /// The next element, waiting for one; `nil` once the queue is closed and empty, or cancelled.
  func pop() -> Element? {
    condition.lock()
    defer { condition.unlock() }
    while count == 0 && !closed && !cancelled { condition.wait() }
    guard !cancelled, count > 0 else { return nil }
    let element = items[head]
    items[head] = nil
    head += 1
    if head > 64 && head * 2 > items.count {
      items.removeFirst(head)
      head = 0
    }
    condition.broadcast()
    return element
  }

  /// No more elements will be pushed.
  func close() {
    condition.lock()
    closed = true
    condition.broadcast()
    condition.unlock()
  }

  /// Drops the queued elements; waiting and later calls return at once.
  func cancel() {
    condition.lock()
    cancelled = true
    items.removeAll()
    head = 0
    condition.broadcast()
    condition.unlock()
  }

  var isCancelled: Bool {
    condition.lock()
    defer { condition.unlock() }
    return cancelled
  }
}

/// Threads that run one body each (given its index), and a way to wait for all of them: the
/// one way work is spread over cores here.
final class WorkerPool: Sendable {
  private let group = DispatchGroup()

  /// Starts `count` threads named `name-0`, `name-1`, … running `body(index)`.
  init(name: String, count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    for index in 0..<count {
      group.enter()
      let thread = Thread { [group] in
        body(index)
        group.leave()
      }
      thread.name = "\(name)-\(index)"
      thread.stackSize = 1 << 22
      thread.start()
    }
  }

  /// Waits until every thread has returned.
  func join() {
    group.wait()
  }
}
