import CZstd

/// Appends integers and byte strings in the compact forms the event store uses: LEB128
/// varints (zig-zag for signed values) and raw bytes, into one growing buffer that can be
/// reused from segment to segment.
struct ColumnWriter {
  private(set) var bytes: [UInt8] = []

  init(reserving capacity: Int = 0) { bytes.reserveCapacity(capacity) }

  mutating func removeAll() { bytes.removeAll(keepingCapacity: true) }

  @inline(__always)
  mutating func varint(_ value: UInt64) {
    var v = value
    while v >= 0x80 {
      bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
      v >>= 7
    }
    bytes.append(UInt8(truncatingIfNeeded: v))
  }

  @inline(__always)
  mutating func signed(_ value: Int64) { varint(UInt64(bitPattern: (value << 1) ^ (value >> 63))) }

  mutating func raw(_ part: UnsafeRawBufferPointer) { bytes.append(contentsOf: part) }
  mutating func raw(_ part: [UInt8]) { bytes.append(contentsOf: part) }
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
    ZstdCompressor(level: level).compress(input)
  }

  /// The frame's content; throws if the frame is damaged or its checksum does not match.
  static func decompress(_ frame: UnsafeRawBufferPointer, limit: Int = 1 << 30) throws(ColumnReader.Corrupt) -> [UInt8] {
    guard let base = frame.baseAddress else { throw ColumnReader.Corrupt() }
    let size = ZSTD_getFrameContentSize(base, frame.count)
    guard size != ZSTD_CONTENTSIZE_ERROR, size != ZSTD_CONTENTSIZE_UNKNOWN, size <= UInt64(limit) else {
      throw ColumnReader.Corrupt()
    }
    var output = [UInt8](repeating: 0, count: Int(size))
    let n = output.withUnsafeMutableBytes { ZSTD_decompress($0.baseAddress, $0.count, base, frame.count) }
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

  /// A checksummed frame of `input`.
  func compress(_ input: [UInt8]) -> [UInt8] {
    var output = [UInt8](repeating: 0, count: ZSTD_compressBound(input.count))
    let n = output.withUnsafeMutableBytes { out in
      input.withUnsafeBytes { inp in
        ZSTD_compress2(context, out.baseAddress, out.count, inp.baseAddress, inp.count)
      }
    }
    precondition(ZSTD_isError(n) == 0, "zstd cannot fail on a buffer of compressBound size")
    output.removeSubrange(n...)
    return output
  }
}
