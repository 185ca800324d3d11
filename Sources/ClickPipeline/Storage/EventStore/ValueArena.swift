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
    if n > 0 { Self.copy(value.baseAddress!, n, to: bytes + byteCount) }
    byteCount += n
    ends[count] = UInt32(truncatingIfNeeded: byteCount)
    count += 1
  }

  /// Copies `n` bytes (more than 0) from `source` to `target`. Most values are ids of 4 to 32
  /// bytes, copied here with two or four overlapping word moves inside both ranges; a call of
  /// `memmove` per value cost more than the copy.
  @inline(__always)
  private static func copy(_ source: UnsafeRawPointer, _ n: Int, to target: UnsafeMutableRawPointer) {
    switch n {
    case 8...16:
      let a = source.loadUnaligned(as: UInt64.self)
      let b = source.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
      target.storeBytes(of: a, as: UInt64.self)
      target.storeBytes(of: b, toByteOffset: n - 8, as: UInt64.self)
    case 17...32:
      let a = source.loadUnaligned(as: UInt64.self)
      let b = source.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
      let c = source.loadUnaligned(fromByteOffset: n - 16, as: UInt64.self)
      let d = source.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
      target.storeBytes(of: a, as: UInt64.self)
      target.storeBytes(of: b, toByteOffset: 8, as: UInt64.self)
      target.storeBytes(of: c, toByteOffset: n - 16, as: UInt64.self)
      target.storeBytes(of: d, toByteOffset: n - 8, as: UInt64.self)
    case 4..<8:
      let a = source.loadUnaligned(as: UInt32.self)
      let b = source.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)
      target.storeBytes(of: a, as: UInt32.self)
      target.storeBytes(of: b, toByteOffset: n - 4, as: UInt32.self)
    default:
      target.copyMemory(from: source, byteCount: n)
    }
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
