/// Byte strings appended one after another, with their end offsets: a column of values being
/// built on a parse thread. Unsafe storage that grows by doubling and keeps its memory when
/// emptied, so appending a value is two copies and no reference counting.
final class ValueArena {
  private var bytes: UnsafeMutableRawPointer
  private var byteCapacity: Int
  private(set) var byteCount = 0
  private var ends: UnsafeMutablePointer<UInt32>
  private var endCapacity: Int
  private(set) var count = 0

  init(bytes: Int = 1 << 16, values: Int = 1024) {
    byteCapacity = bytes
    self.bytes = .allocate(byteCount: bytes, alignment: 8)
    endCapacity = values
    ends = .allocate(capacity: values)
  }

  deinit {
    bytes.deallocate()
    ends.deallocate()
  }

  @inline(__always)
  func append(_ value: UnsafeRawBufferPointer) {
    let n = value.count
    if byteCount + n > byteCapacity { growBytes(byteCount + n) }
    if count == endCapacity { growEnds() }
    if n > 0 { (bytes + byteCount).copyMemory(from: value.baseAddress!, byteCount: n) }
    byteCount += n
    ends[count] = UInt32(truncatingIfNeeded: byteCount)
    count += 1
  }

  /// The bytes of value `index`.
  @inline(__always)
  func value(_ index: Int) -> UnsafeRawBufferPointer {
    let start = index == 0 ? 0 : Int(ends[index - 1])
    return UnsafeRawBufferPointer(start: bytes + start, count: Int(ends[index]) - start)
  }

  /// Every value's bytes, one after another.
  var allBytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: bytes, count: byteCount) }

  /// The end offsets.
  var endOffsets: UnsafeBufferPointer<UInt32> { UnsafeBufferPointer(start: ends, count: count) }

  /// Writes the values' lengths, then their bytes (what ``ByteColumn/init(reading:count:)`` reads).
  func write(to w: inout ColumnWriter) {
    var start: UInt32 = 0
    for end in endOffsets {
      w.varint(UInt64(end - start))
      start = end
    }
    w.raw(allBytes)
  }

  func removeAll() {
    byteCount = 0
    count = 0
  }

  private func growBytes(_ needed: Int) {
    var capacity = byteCapacity * 2
    while capacity < needed { capacity *= 2 }
    let grown = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
    grown.copyMemory(from: bytes, byteCount: byteCount)
    bytes.deallocate()
    bytes = grown
    byteCapacity = capacity
  }

  private func growEnds() {
    let grown = UnsafeMutablePointer<UInt32>.allocate(capacity: endCapacity * 2)
    grown.update(from: ends, count: count)
    ends.deallocate()
    ends = grown
    endCapacity *= 2
  }
}
