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
///   format 3 "packed": a zstd frame of one entry per row, a shape byte then its value:
///     0 text     varint length, the bytes
///     1 decimal  varint value (`0` or 1-19 digits without a leading zero)
///     2 UUID     16 bytes (uppercase hex digits)
///     3 uuid     16 bytes (lowercase hex digits)
/// ```
///
/// A segment whose ids are all lowercase UUIDs (`8-4-4-4-12` hex digits) is written as format
/// 1; any other segment as format 3, which gives every id back byte for byte: real logs mix
/// UUIDs of either case, integers and prefixed counters (`v-01547640`) in one file, and this
/// halves what their text takes. Format 2 is still read (databases written before format 3).
/// Reading checks the CRC (and zstd its own checksum): a damaged column is an error, never
/// another id.
struct EventIDColumn {
  enum Format: UInt8 {
    case uuid = 1
    case text = 2
    case packed = 3
  }

  /// The stored format; a column of any format gives its ids as text (``withID(_:_:)``), and a
  /// ``Format/uuid`` column also as words (``words(_:)``).
  let format: Format
  let count: Int
  /// ``Format/uuid``: 16 bytes per row. ``Format/text``: the ids' bytes back to back.
  /// ``Format/packed``: the entries, decompressed.
  private let values: [UInt8]
  /// ``Format/text`` and ``Format/packed``: `count + 1` offsets into `values`, where each
  /// row's value or entry starts, then where the last ends.
  private let ends: [UInt32]
  private static let headerSize = 5
  /// The most rows a stored column may claim (a damaged count must not allocate gigabytes).
  private static let maxRows = 1 << 24

  /// Decodes a stored column; throws ``ColumnReader/Corrupt`` if it is damaged.
  init(stored bytes: UnsafeRawBufferPointer) throws(ColumnReader.Corrupt) {
    guard bytes.count >= Self.headerSize + 4, let format = Format(rawValue: bytes[0]) else { throw ColumnReader.Corrupt() }
    let body = bytes.count - 4
    let crc = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: body, as: UInt32.self))
    guard cg_crc32(0, bytes.baseAddress, body) == crc else { throw ColumnReader.Corrupt() }
    let rows = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 1, as: UInt32.self)))
    guard rows <= Self.maxRows else { throw ColumnReader.Corrupt() }
    count = rows
    switch format {
    case .uuid:
      guard body == Self.headerSize + rows * 16 else { throw ColumnReader.Corrupt() }
      self.format = .uuid
      values = Array(bytes[Self.headerSize..<body])
      ends = []
    case .text:
      let start = Self.headerSize + (rows + 1) * 4
      guard body >= start else { throw ColumnReader.Corrupt() }
      var ends = [UInt32](repeating: 0, count: rows + 1)
      var previous: UInt32 = 0
      for r in 0...rows {
        let end = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: Self.headerSize + r * 4, as: UInt32.self))
        guard end >= previous, r > 0 || end == 0 else { throw ColumnReader.Corrupt() }
        ends[r] = end
        previous = end
      }
      guard start + Int(previous) == body else { throw ColumnReader.Corrupt() }
      self.format = .text
      self.ends = ends
      values = Array(bytes[start..<body])
    case .packed:
      let entries = try Zstd.decompress(UnsafeRawBufferPointer(rebasing: bytes[Self.headerSize..<body]))
      self.format = .packed
      var starts: Result<[UInt32], ColumnReader.Corrupt> = .failure(ColumnReader.Corrupt())
      entries.withUnsafeBytes { e in starts = Result { () throws(ColumnReader.Corrupt) in try Self.entryStarts(e, rows: rows) } }
      ends = try starts.get()
      values = entries
    }
  }

  /// The id of row `row`.
  @inline(__always)
  func withID<R>(_ row: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    values.withUnsafeBytes { s in
      switch format {
      case .uuid:
        var text = UUIDText()
        return text.render(UnsafeRawBufferPointer(rebasing: s[(row * 16)..<(row * 16 + 16)]), uppercase: false, body)
      case .text:
        return body(UnsafeRawBufferPointer(rebasing: s[Int(ends[row])..<Int(ends[row + 1])]))
      case .packed:
        return Self.withUnpacked(UnsafeRawBufferPointer(rebasing: s[Int(ends[row])...]), body)
      }
    }
  }

  func id(_ row: Int) -> String { withID(row) { String(decoding: $0, as: UTF8.self) } }

  // MARK: - The packed form

  private enum Shape: UInt8 {
    case text = 0
    case decimal = 1
    case upperUUID = 2
    case lowerUUID = 3
  }

  /// Appends `id`'s packed entry to `w`.
  @inline(__always)
  private static func pack(_ id: UnsafeRawBufferPointer, into w: inout ColumnWriter) {
    if id.count == 36, let uppercase = UUIDText.uuidCase(id) {
      w.byte(uppercase ? Shape.upperUUID.rawValue : Shape.lowerUUID.rawValue)
      w.reserved(16) { UUIDText.pack(id, into: $0) }
    } else if let value = decimal(id) {
      w.byte(Shape.decimal.rawValue)
      w.varint(value)
    } else {
      w.byte(Shape.text.rawValue)
      w.varint(UInt64(id.count))
      w.raw(id)
    }
  }

  /// The value of a canonical decimal integer (`0`, or 1-19 digits without a leading zero),
  /// which prints back as the same bytes.
  @inline(__always)
  private static func decimal(_ id: UnsafeRawBufferPointer) -> UInt64? {
    guard id.count >= 1, id.count <= 19, id[0] != 0x30 || id.count == 1 else { return nil }
    var value: UInt64 = 0
    for c in id {
      let d = c &- 0x30
      guard d < 10 else { return nil }
      value = value &* 10 &+ UInt64(d)
    }
    return value
  }

  /// Where each of `rows` packed entries starts (a last offset: where they end), checking
  /// that every entry is whole and that nothing follows them.
  private static func entryStarts(_ entries: UnsafeRawBufferPointer, rows: Int) throws(ColumnReader.Corrupt) -> [UInt32] {
    var reader = ColumnReader(entries)
    var starts = [UInt32](repeating: 0, count: rows + 1)
    for r in 0..<rows {
      starts[r] = UInt32(reader.offset)
      switch Shape(rawValue: try reader.bytes(1)[0]) {
      case .text: _ = try reader.bytes(try reader.count(limit: LineReader.maxLineBytes))
      case .decimal: guard try reader.varint() <= 9_999_999_999_999_999_999 else { throw ColumnReader.Corrupt() }
      case .upperUUID, .lowerUUID: _ = try reader.bytes(16)
      case nil: throw ColumnReader.Corrupt()
      }
    }
    starts[rows] = UInt32(reader.offset)
    guard reader.isAtEnd else { throw ColumnReader.Corrupt() }
    return starts
  }

  /// Calls `body` with the text of the packed entry at the start of `entry` (checked by
  /// ``entryStarts(_:rows:)``).
  @inline(__always)
  private static func withUnpacked<R>(_ entry: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    var reader = ColumnReader(UnsafeRawBufferPointer(rebasing: entry[1...]))
    switch Shape(rawValue: entry[0]) {
    case .decimal:
      var value = (try? reader.varint()) ?? 0
      var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
      return withUnsafeMutableBytes(of: &digits) { out in
        var at = 24
        repeat {
          at -= 1
          out[at] = 0x30 + UInt8(value % 10)
          value /= 10
        } while value > 0
        return body(UnsafeRawBufferPointer(rebasing: out[at..<24]))
      }
    case .upperUUID, .lowerUUID:
      var text = UUIDText()
      return text.render(UnsafeRawBufferPointer(rebasing: entry[1..<17]), uppercase: entry[0] == Shape.upperUUID.rawValue, body)
    case .text, nil:
      let n = (try? reader.varint()) ?? 0
      return body(UnsafeRawBufferPointer(rebasing: entry[(1 + reader.offset)..<(1 + reader.offset + Int(n))]))
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
      if allUUIDs && UUIDText.uuidCase(id) != false { allUUIDs = false }
      values.append(id)
    }

    func removeAll() {
      values.removeAll()
      allUUIDs = true
    }

    /// The stored form: format 1 when every id is a lowercase UUID, else format 3 compressed
    /// with `compressor`; `scratch` is working memory.
    func encoded(compressor: ZstdCompressor = ZstdCompressor(), scratch: inout ColumnWriter) -> [UInt8] {
      let rows = values.count
      scratch.removeAll()
      if allUUIDs {
        for row in 0..<rows { scratch.reserved(16) { UUIDText.pack(values.value(row), into: $0) } }
      } else {
        for row in 0..<rows { EventIDColumn.pack(values.value(row), into: &scratch) }
      }
      let body = allUUIDs ? scratch.count : compressor.bound(scratch.count)
      return [UInt8](unsafeUninitializedCapacity: EventIDColumn.headerSize + body + 4) { out, written in
        let base = UnsafeMutableRawPointer(out.baseAddress!)
        base.storeBytes(of: allUUIDs ? Format.uuid.rawValue : Format.packed.rawValue, as: UInt8.self)
        base.storeBytes(of: UInt32(rows).littleEndian, toByteOffset: 1, as: UInt32.self)
        var at = EventIDColumn.headerSize
        if allUUIDs {
          if scratch.count > 0 { (base + at).copyMemory(from: scratch.written.baseAddress!, byteCount: scratch.count) }
          at += scratch.count
        } else {
          at += compressor.compress(scratch.written, into: UnsafeMutableRawBufferPointer(start: base + at, count: body))
        }
        base.storeBytes(of: cg_crc32(0, base, at).littleEndian, toByteOffset: at, as: UInt32.self)
        written = at + 4
      }
    }

    /// The stored form (see ``encoded(compressor:scratch:)``).
    func encoded() -> [UInt8] {
      var scratch = ColumnWriter()
      return encoded(scratch: &scratch)
    }
  }
}

/// The text form of a UUID and its 16 bytes.
struct UUIDText {
  private var text: (UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0)

  /// Whether `b` is a UUID (`xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, hex digits) written in
  /// uppercase (`true`) or lowercase (`false`, also when it has no letter); `nil` when it is
  /// not a UUID or mixes the cases (its 16 bytes would not give its text back). The dashes
  /// are checked in place, the digits eight bytes at a time.
  @inline(__always)
  static func uuidCase(_ b: UnsafeRawBufferPointer) -> Bool? {
    guard b.count == 36, let p = b.baseAddress else { return nil }
    guard b[8] == 0x2D, b[13] == 0x2D, b[18] == 0x2D, b[23] == 0x2D else { return nil }
    // The 32 digits, as four words: bytes 0-7, 9-12+14-17, 19-22+24-27, 28-35.
    func word(_ at: Int) -> UInt64 { UInt64(littleEndian: p.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
    func half(_ at: Int) -> UInt64 { UInt64(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: at, as: UInt32.self))) }
    guard let a = hexLetters(word(0)), let b = hexLetters(half(9) | half(14) << 32),
      let c = hexLetters(half(19) | half(24) << 32), let d = hexLetters(word(28))
    else { return nil }
    let lower = a.lower | b.lower | c.lower | d.lower
    let upper = a.upper | b.upper | c.upper | d.upper
    if lower != 0 && upper != 0 { return nil }
    return upper != 0
  }

  /// For a word whose 8 bytes are all hex digits, the bytes that are lowercase and uppercase
  /// letters (bit 7 of each byte); `nil` if any byte is not a hex digit.
  @inline(__always)
  private static func hexLetters(_ w: UInt64) -> (lower: UInt64, upper: UInt64)? {
    let ones: UInt64 = 0x0101_0101_0101_0101
    let high: UInt64 = 0x8080_8080_8080_8080
    guard w & high == 0 else { return nil }
    // For bytes below 0x80: x + (0x80 - lo) has bit 7 set iff x >= lo; x + (0x7F - hi) iff x > hi.
    func within(_ lo: UInt64, _ hi: UInt64) -> UInt64 { (w &+ ones &* (0x80 - lo)) & ~(w &+ ones &* (0x7F - hi)) & high }
    let digit = within(0x30, 0x39)
    let lower = within(0x61, 0x66)
    let upper = within(0x41, 0x46)
    guard digit | lower | upper == high else { return nil }
    return (lower, upper)
  }

  /// Writes the 16 bytes of a UUID's text (either case) at `out`.
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

  /// `0`-`9` → 0-9, `a`-`f` and `A`-`F` → 10-15.
  @inline(__always)
  private static func nibble(_ c: UInt8) -> UInt8 { (c & 0x0F) &+ (c >> 6) &* 9 }

  private static let lowerDigits: [UInt8] = Array("0123456789abcdef".utf8)
  private static let upperDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

  /// Calls `body` with the text of the 16 bytes `raw`, in the case asked for.
  mutating func render<R>(_ raw: UnsafeRawBufferPointer, uppercase: Bool, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    let digits = uppercase ? Self.upperDigits : Self.lowerDigits
    return withUnsafeMutableBytes(of: &text) { out in
      var o = 0
      for k in 0..<16 {
        if k == 4 || k == 6 || k == 8 || k == 10 {
          out[o] = 0x2D
          o += 1
        }
        out[o] = digits[Int(raw[k] >> 4)]
        out[o + 1] = digits[Int(raw[k] & 15)]
        o += 2
      }
      return body(UnsafeRawBufferPointer(rebasing: out[0..<36]))
    }
  }
}
