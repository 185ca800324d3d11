/// A binary min-heap of stream numbers (spooled runs, day cursors) ordered by the caller's
/// comparison of the streams' current records: the one way a merge here picks its next
/// stream.
///
/// Hand-written rather than swift-collections' `Heap`: the order is of records that live in
/// the streams' own buffers or statements, compared in place, with no element to allocate per
/// record. `before(a, b)` must break ties (by stream number) so that equal keys come out in
/// stream order.
struct IndexHeap {
  private var items: [Int] = []

  /// The stream whose record comes first.
  var first: Int? { items.first }

  mutating func push(_ stream: Int, by before: (Int, Int) -> Bool) {
    items.append(stream)
    var child = items.count - 1
    while child > 0 {
      let parent = (child - 1) / 2
      guard before(items[child], items[parent]) else { break }
      items.swapAt(child, parent)
      child = parent
    }
  }

  /// Puts the first stream back in its place after it moved to its next record.
  mutating func firstMoved(by before: (Int, Int) -> Bool) {
    siftDown(by: before)
  }

  /// Drops the first stream (at its end).
  mutating func removeFirst(by before: (Int, Int) -> Bool) {
    items.swapAt(0, items.count - 1)
    items.removeLast()
    siftDown(by: before)
  }

  private mutating func siftDown(by before: (Int, Int) -> Bool) {
    var parent = 0
    while true {
      let left = 2 * parent + 1
      guard left < items.count else { return }
      var least = left
      if left + 1 < items.count && before(items[left + 1], items[left]) { least = left + 1 }
      guard before(items[least], items[parent]) else { return }
      items.swapAt(least, parent)
      parent = least
    }
  }
}
