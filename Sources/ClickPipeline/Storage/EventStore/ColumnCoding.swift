import CZstd

/// Appends integers and byte strings in the compact forms the event store uses: LEB128
/// varints (zig-zag for signed values) and raw bytes, into one growing buffer that can be
/// reused from segment to segment (unsafe storage: no bounds or uniqueness check per byte).
struct ColumnWriter {
  private final class Storage {
    var base: UnsafeMutableRawPointer
    var capacity: Int
    init(capacity: Int) {
      self.capacity = max(64, capacity)
      base = .allocate(byteCount: self.capacity, alignment: 8)
    }
    deinit { base.deallocate() }
  }

  private let storage: Storage
  private(set) var count = 0

  init(reserving capacity: Int = 0) { storage = Storage(capacity: capacity) }

  mutating func removeAll() { count = 0 }

  /// The bytes written so far; valid until the next write.
  var written: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: storage.base, count: count) }

  /// A copy of the bytes written so far.
  var bytes: [UInt8] { Array(written) }

  @inline(__always)
  private mutating func reserve(_ n: Int) {
    guard count + n > storage.capacity else { return }
    var capacity = storage.capacity * 2
    while capacity < count + n { capacity *= 2 }
    let grown = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
    grown.copyMemory(from: storage.base, byteCount: count)
    storage.base.deallocate()
    storage.base = grown
    storage.capacity = capacity
  }

  @inline(__always)
  mutating func varint(_ value: UInt64) {
    reserve(10)
    let p = storage.base
    var v = value
    while v >= 0x80 {
      p.storeBytes(of: UInt8(truncatingIfNeeded: v) | 0x80, toByteOffset: count, as: UInt8.self)
      count += 1
      v >>= 7
    }
    p.storeBytes(of: UInt8(truncatingIfNeeded: v), toByteOffset: count, as: UInt8.self)
    count += 1
  }

  @inline(__always)
  mutating func signed(_ value: Int64) { varint(UInt64(bitPattern: (value << 1) ^ (value >> 63))) }

  @inline(__always)
  mutating func byte(_ value: UInt8) {
    reserve(1)
    storage.base.storeBytes(of: value, toByteOffset: count, as: UInt8.self)
    count += 1
  }

  /// Lets `body` write exactly `n` bytes at the end.
  @inline(__always)
  mutating func reserved(_ n: Int, _ body: (UnsafeMutableRawPointer) -> Void) {
    reserve(n)
    body(storage.base + count)
    count += n
  }

  mutating func raw(_ part: UnsafeRawBufferPointer) {
    guard let source = part.baseAddress, part.count > 0 else { return }
    reserve(part.count)
    (storage.base + count).copyMemory(from: source, byteCount: part.count)
    count += part.count
  }

  mutating func raw(_ part: [UInt8]) { part.withUnsafeBytes { raw($0) } }
}

/// Reads what a ``ColumnWriter`` wrote; every read is bounds-checked and throws
/// ``ColumnReader/Corrupt`` instead of trapping on damaged data.
struct ColumnReader {
  struct Corrupt: Error {}

  let base: UnsafeRawBufferPointer
  private(set) var offset = 0

  init(_ base: UnsafeRawBufferPointer) { self.base = base }

  var isAtEnd: Bool { offset == base.count }

  @inline(__always)
  mutating func varint() throws(Corrupt) -> UInt64 {
    var result: UInt64 = 0
    var shift: UInt64 = 0
    while true {
      guard offset < base.count, shift < 64 else { throw Corrupt() }
      let b = base[offset]
      offset += 1
      result |= UInt64(b & 0x7F) << shift
      if b < 0x80 { return result }
      shift += 7
    }
  }

  @inline(__always)
  mutating func signed() throws(Corrupt) -> Int64 {
    let v = try varint()
    return Int64(bitPattern: v >> 1) ^ -Int64(bitPattern: v & 1)
  }

  mutating func count(limit: Int) throws(Corrupt) -> Int {
    let v = try varint()
    guard v <= UInt64(limit) else { throw Corrupt() }
    return Int(v)
  }

  /// The next `n` bytes.
  mutating func bytes(_ n: Int) throws(Corrupt) -> UnsafeRawBufferPointer {
    guard n >= 0, n <= base.count - offset else { throw Corrupt() }
    defer { offset += n }
    return UnsafeRawBufferPointer(rebasing: base[offset..<offset + n])
  }
}

/// zstd frames with a content checksum: a damaged block is an error, never wrong data.
enum Zstd {
  /// Level 1: segments are written on ingest's critical path; higher levels gained little on
  /// dictionary codes (docs/DESIGN.md, "Event store").
  static func compress(_ input: [UInt8], level: Int32 = 1) -> [UInt8] {
    input.withUnsafeBytes { ZstdCompressor(level: level).compress($0) }
  }

  /// The frame's content; throws if the frame is damaged or its checksum does not match.
  static func decompress(_ frame: UnsafeRawBufferPointer, limit: Int = 1 << 30) throws(ColumnReader.Corrupt) -> [UInt8] {
    guard let base = frame.baseAddress else { throw ColumnReader.Corrupt() }
    let size = ZSTD_getFrameContentSize(base, frame.count)
    guard size != ZSTD_CONTENTSIZE_ERROR, size != ZSTD_CONTENTSIZE_UNKNOWN, size <= UInt64(limit) else {
      throw ColumnReader.Corrupt()
    }
    var n = 0
    // Not zeroed first: zstd writes every byte, and a frame that does not is an error.
    let output = [UInt8](unsafeUninitializedCapacity: Int(size)) { buffer, written in
      n = ZSTD_decompress(buffer.baseAddress, buffer.count, base, frame.count)
      written = ZSTD_isError(n) == 0 && n == Int(size) ? n : 0
    }
    guard ZSTD_isError(n) == 0, n == Int(size) else { throw ColumnReader.Corrupt() }
    return output
  }
}

/// A zstd compression context kept for many frames (one per thread): creating one per frame
/// costs more than compressing a small segment.
final class ZstdCompressor {
  private let context: OpaquePointer

  init(level: Int32 = 1) {
    context = ZSTD_createCCtx()!
    ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level)
    ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1)
  }

  deinit { ZSTD_freeCCtx(context) }

  /// The most bytes a frame of `count` bytes can take.
  func bound(_ count: Int) -> Int { ZSTD_compressBound(count) }

  /// Writes a checksummed frame of `input` into `output` (at least ``bound(_:)`` bytes) and
  /// returns its size.
  func compress(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int {
    let n = ZSTD_compress2(context, output.baseAddress, output.count, input.baseAddress, input.count)
    precondition(ZSTD_isError(n) == 0, "zstd cannot fail on a buffer of compressBound size")
    return n
  }

  /// A checksummed frame of `input`.
  func compress(_ input: UnsafeRawBufferPointer) -> [UInt8] {
    [UInt8](unsafeUninitializedCapacity: bound(input.count)) { out, written in
      written = compress(input, into: UnsafeMutableRawBufferPointer(out))
    }
  }
}
