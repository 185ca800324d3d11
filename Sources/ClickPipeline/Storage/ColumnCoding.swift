import CZstd

/// Appends integers and byte strings in the compact forms the event store uses: LEB128
/// varints (zig-zag for signed values) and raw bytes.
struct ColumnWriter {
  private(set) var bytes: [UInt8] = []

  init(reserving capacity: Int = 0) { bytes.reserveCapacity(capacity) }

  mutating func varint(_ value: UInt64) {
    var v = value
    while v >= 0x80 {
      bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
      v >>= 7
    }
    bytes.append(UInt8(v))
  }

  mutating func signed(_ value: Int64) { varint(UInt64(bitPattern: (value << 1) ^ (value >> 63))) }

  mutating func fixed(_ value: UInt64) {
    var v = value.littleEndian
    withUnsafeBytes(of: &v) { bytes.append(contentsOf: $0) }
  }

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

  mutating func signed() throws(Corrupt) -> Int64 {
    let v = try varint()
    return Int64(bitPattern: v >> 1) ^ -Int64(bitPattern: v & 1)
  }

  mutating func count(limit: Int) throws(Corrupt) -> Int {
    let v = try varint()
    guard v <= UInt64(limit) else { throw Corrupt() }
    return Int(v)
  }

  mutating func fixed() throws(Corrupt) -> UInt64 {
    guard offset + 8 <= base.count else { throw Corrupt() }
    let v = base.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
    offset += 8
    return UInt64(littleEndian: v)
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
  /// Level 1: the segments are written on ingest's critical path; higher levels gained little
  /// on ids and dictionary codes (docs/DESIGN.md, "Event store").
  static func compress(_ input: [UInt8], level: Int32 = 1) -> [UInt8] {
    let context = ZSTD_createCCtx()!
    defer { ZSTD_freeCCtx(context) }
    ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level)
    ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1)
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
