import CGzip

/// The event ids of one segment, stored beside it (`segment_ids.ids`) rather than inside its
/// zstd frame: deduplication and the click search read ids without decoding the segment, and
/// `aggregate` counting views never reads them.
///
/// Layout (little-endian):
///
/// ```
/// format (1 byte) · rows (UInt32) · values · CRC-32 of everything before it (UInt32)
///   format 1 "uuid": rows × 16 bytes, each a lowercase UUID's 128 bits
///   format 2 "text": (rows + 1) × UInt32 offsets, then the ids' bytes back to back
/// ```
///
/// A segment whose ids are all lowercase UUIDs (`8-4-4-4-12` hex digits) stores 16 bytes
/// per id; any other shape keeps the exact bytes. Reading checks the CRC: a damaged column is
/// an error, never another id.
struct EventIDColumn {
  enum Format: UInt8 {
    case uuid = 1
    case text = 2
  }

  let format: Format
  let count: Int
  private let storage: [UInt8]
  /// Offset in `storage` of the values.
  private static let headerSize = 5

  /// Decodes a stored column; throws ``ColumnReader/Corrupt`` if it is damaged.
  init(stored bytes: UnsafeRawBufferPointer) throws(ColumnReader.Corrupt) {
    guard bytes.count >= Self.headerSize + 4, let format = Format(rawValue: bytes[0]) else { throw ColumnReader.Corrupt() }
    let body = bytes.count - 4
    let crc = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: body, as: UInt32.self))
    guard cg_crc32(0, bytes.baseAddress, body) == crc else { throw ColumnReader.Corrupt() }
    let rows = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 1, as: UInt32.self)))
    switch format {
    case .uuid:
      guard body == Self.headerSize + rows * 16 else { throw ColumnReader.Corrupt() }
    case .text:
      let values = Self.headerSize + (rows + 1) * 4
      guard body >= values else { throw ColumnReader.Corrupt() }
      var previous: UInt32 = 0
      for r in 0...rows {
        let end = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: Self.headerSize + r * 4, as: UInt32.self))
        guard end >= previous, r > 0 || end == 0 else { throw ColumnReader.Corrupt() }
        previous = end
      }
      guard values + Int(previous) == body else { throw ColumnReader.Corrupt() }
    }
    self.format = format
    count = rows
    storage = Array(bytes[0..<body])
  }

  /// The id of row `row`.
  func withID<R>(_ row: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    storage.withUnsafeBytes { s in
      switch format {
      case .uuid:
        var text = UUIDText()
        return text.render(UnsafeRawBufferPointer(rebasing: s[(Self.headerSize + row * 16)..<(Self.headerSize + row * 16 + 16)]), body)
      case .text:
        let values = Self.headerSize + (count + 1) * 4
        let start = Int(UInt32(littleEndian: s.loadUnaligned(fromByteOffset: Self.headerSize + row * 4, as: UInt32.self)))
        let end = Int(UInt32(littleEndian: s.loadUnaligned(fromByteOffset: Self.headerSize + row * 4 + 4, as: UInt32.self)))
        return body(UnsafeRawBufferPointer(rebasing: s[(values + start)..<(values + end)]))
      }
    }
  }

  func id(_ row: Int) -> String { withID(row) { String(decoding: $0, as: UTF8.self) } }

  /// The 16 bytes of row `row` of a ``Format/uuid`` column, as two words.
  @inline(__always)
  func words(_ row: Int) -> UUIDText.Words {
    storage.withUnsafeBytes { s in
      UUIDText.Words(
        high: s.loadUnaligned(fromByteOffset: Self.headerSize + row * 16, as: UInt64.self),
        low: s.loadUnaligned(fromByteOffset: Self.headerSize + row * 16 + 8, as: UInt64.self))
    }
  }

  // MARK: - Writing

  /// Collects a segment's ids as they arrive, then writes the column.
  final class Builder {
    private let values = ValueArena(bytes: 1 << 20, values: 4096)
    private var allUUIDs = true

    var count: Int { values.count }

    @inline(__always)
    func append(_ id: UnsafeRawBufferPointer) {
      if allUUIDs && !UUIDText.isLowercaseUUID(id) { allUUIDs = false }
      values.append(id)
    }

    func removeAll() {
      values.removeAll()
      allUUIDs = true
    }

    /// The stored form.
    func encoded() -> [UInt8] {
      let rows = values.count
      let size =
        allUUIDs
        ? EventIDColumn.headerSize + rows * 16 + 4 : EventIDColumn.headerSize + (rows + 1) * 4 + values.byteCount + 4
      return [UInt8](unsafeUninitializedCapacity: size) { out, written in
        let base = UnsafeMutableRawPointer(out.baseAddress!)
        var at = 0
        func put(_ v: UInt32) {
          base.storeBytes(of: v.littleEndian, toByteOffset: at, as: UInt32.self)
          at += 4
        }
        base.storeBytes(of: allUUIDs ? Format.uuid.rawValue : Format.text.rawValue, as: UInt8.self)
        at = 1
        put(UInt32(rows))
        if allUUIDs {
          for row in 0..<rows {
            UUIDText.pack(values.value(row), into: base + at)
            at += 16
          }
        } else {
          put(0)
          for end in values.endOffsets { put(end) }
          if values.byteCount > 0 { (base + at).copyMemory(from: values.allBytes.baseAddress!, byteCount: values.byteCount) }
          at += values.byteCount
        }
        put(cg_crc32(0, base, at))
        written = at
      }
    }
  }
}

/// The text form of a lowercase UUID and its 16 bytes.
struct UUIDText {
  /// A UUID's 16 bytes as two words (as they lie in a ``EventIDColumn/Format/uuid`` column).
  struct Words: Hashable {
    var high: UInt64
    var low: UInt64
  }

  /// The words of `id` if it is a lowercase UUID.
  static func words(_ id: String) -> Words? {
    var id = id
    return id.withUTF8 { utf8 -> Words? in
      let text = UnsafeRawBufferPointer(utf8)
      guard isLowercaseUUID(text) else { return nil }
      var words = Words(high: 0, low: 0)
      withUnsafeMutableBytes(of: &words) { pack(text, into: $0.baseAddress!) }
      return words
    }
  }

  private var text: (UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0)

  /// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, lowercase hex digits: the dashes checked in
  /// place, the digits eight bytes at a time.
  @inline(__always)
  static func isLowercaseUUID(_ b: UnsafeRawBufferPointer) -> Bool {
    guard b.count == 36, let p = b.baseAddress else { return false }
    guard b[8] == 0x2D, b[13] == 0x2D, b[18] == 0x2D, b[23] == 0x2D else { return false }
    // The 32 digits, as four words: bytes 0-7, 9-12+14-17, 19-22+24-27, 28-35.
    func word(_ at: Int) -> UInt64 { UInt64(littleEndian: p.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
    func half(_ at: Int) -> UInt64 { UInt64(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: at, as: UInt32.self))) }
    return isLowercaseHex(word(0)) && isLowercaseHex(half(9) | half(14) << 32)
      && isLowercaseHex(half(19) | half(24) << 32) && isLowercaseHex(word(28))
  }

  /// Whether each of the 8 bytes of `w` is `0`-`9` or `a`-`f`.
  @inline(__always)
  private static func isLowercaseHex(_ w: UInt64) -> Bool {
    let ones: UInt64 = 0x0101_0101_0101_0101
    let high: UInt64 = 0x8080_8080_8080_8080
    guard w & high == 0 else { return false }
    // For bytes below 0x80: x + (0x80 - lo) has bit 7 set iff x >= lo; x + (0x7F - hi) iff x > hi.
    let digit = (w &+ ones &* (0x80 - 0x30)) & ~(w &+ ones &* (0x7F - 0x39)) & high
    let letter = (w &+ ones &* (0x80 - 0x61)) & ~(w &+ ones &* (0x7F - 0x66)) & high
    return digit | letter == high
  }

  /// Writes the 16 bytes of a lowercase UUID's text at `out`.
  @inline(__always)
  static func pack(_ b: UnsafeRawBufferPointer, into out: UnsafeMutableRawPointer) {
    var o = 0
    var i = 0
    while i < 36 {
      if i == 8 || i == 13 || i == 18 || i == 23 { i += 1 }
      out.storeBytes(of: nibble(b[i]) << 4 | nibble(b[i + 1]), toByteOffset: o, as: UInt8.self)
      o += 1
      i += 2
    }
  }

  @inline(__always)
  private static func nibble(_ c: UInt8) -> UInt8 { c <= 57 ? c &- 48 : c &- 87 }

  private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

  /// Calls `body` with the text of the 16 bytes `raw`.
  mutating func render<R>(_ raw: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    withUnsafeMutableBytes(of: &text) { out in
      var o = 0
      for k in 0..<16 {
        if k == 4 || k == 6 || k == 8 || k == 10 {
          out[o] = 0x2D
          o += 1
        }
        out[o] = Self.digits[Int(raw[k] >> 4)]
        out[o + 1] = Self.digits[Int(raw[k] & 15)]
        o += 2
      }
      return body(UnsafeRawBufferPointer(rebasing: out[0..<36]))
    }
  }
}
