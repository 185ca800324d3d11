/// The staged views or clicks of one input file on one UTC day, column by column.
///
/// Stored as one zstd frame (``Zstd``) in `segments.data`; the frame's checksum makes a
/// damaged segment an error. Layout of the decompressed payload:
///
/// ```
/// "CPS1" · rows · ts (zig-zag deltas, the first from 0) · line (zig-zag deltas)
///        · event ids (a byte column)
///        · per dimension (creator, placement, platform, store, product, viewer, user agent):
///            dictionary size · entries (a byte column) · one code per row
/// ```
///
/// A byte column is every value's length, then all the values' bytes back to back, so that
/// a reader copies each column's bytes at once (varints throughout).
///
/// ```
/// ```
///
/// Rows keep their arrival order: an event's place in the store is (segment, row), which
/// ``EventKeys`` records. Bot user agents are decided when aggregating, from the text, so a
/// change of the patterns needs no re-ingest.
struct EventSegment {
  /// The dimension columns, in stored order.
  enum Dimension: Int, CaseIterable {
    case creator, placement, platform, store, product, viewer, userAgent
  }

  /// At most this many rows per segment, so a row number fits in ``EventRef``'s 16 bits.
  static let maxRows = 1 << 16
  static let magic: [UInt8] = Array("CPS1".utf8)

  let count: Int
  private(set) var ts: [Int64] = []
  private(set) var lines: [Int64] = []
  private(set) var ids: ByteColumn
  /// Per dimension: the dictionary, and each row's code into it.
  private(set) var dictionaries: [ByteColumn] = []
  private(set) var codes: [[UInt32]] = []

  /// The bytes of row `row`'s value of `dimension`.
  @inline(__always)
  func withValue<R>(_ dimension: Dimension, _ row: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    dictionaries[dimension.rawValue].withValue(Int(codes[dimension.rawValue][row]), body)
  }

  func string(_ dimension: Dimension, _ row: Int) -> String {
    withValue(dimension, row) { String(decoding: $0, as: UTF8.self) }
  }

  func eventID(_ row: Int) -> String { ids.withValue(row) { String(decoding: $0, as: UTF8.self) } }

  /// Decodes a stored segment; throws ``ColumnReader/Corrupt`` on any inconsistency.
  init(stored frame: UnsafeRawBufferPointer) throws(ColumnReader.Corrupt) {
    let payload = try Zstd.decompress(frame)
    var decoded: EventSegment?
    var failure: ColumnReader.Corrupt?
    payload.withUnsafeBytes { bytes in
      do throws(ColumnReader.Corrupt) {
        decoded = try EventSegment(payload: bytes)
      } catch {
        failure = error
      }
    }
    if let failure { throw failure }
    self = decoded!
  }

  private init(payload: UnsafeRawBufferPointer) throws(ColumnReader.Corrupt) {
    var r = ColumnReader(payload)
    for byte in Self.magic { guard try r.varint() == UInt64(byte) else { throw ColumnReader.Corrupt() } }
    count = try r.count(limit: Self.maxRows)
    ts.reserveCapacity(count)
    lines.reserveCapacity(count)
    var t: Int64 = 0
    for _ in 0..<count {
      t &+= try r.signed()
      ts.append(t)
    }
    var line: Int64 = 0
    for _ in 0..<count {
      line &+= try r.signed()
      lines.append(line)
    }
    ids = try ByteColumn(reading: &r, count: count)
    for _ in Dimension.allCases {
      let size = try r.count(limit: max(count, 1))
      let dictionary = try ByteColumn(reading: &r, count: size)
      var column: [UInt32] = []
      column.reserveCapacity(count)
      for _ in 0..<count {
        let code = try r.varint()
        guard code < UInt64(size) else { throw ColumnReader.Corrupt() }
        column.append(UInt32(code))
      }
      dictionaries.append(dictionary)
      codes.append(column)
    }
    guard r.isAtEnd else { throw ColumnReader.Corrupt() }
  }
}

/// Byte strings one after another, with their end offsets.
struct ByteColumn {
  private(set) var bytes: [UInt8] = []
  private(set) var ends: [Int] = []

  var count: Int { ends.count }

  init() {}

  /// Reads `count` values written by ``write(to:)``.
  init(reading r: inout ColumnReader, count: Int) throws(ColumnReader.Corrupt) {
    ends.reserveCapacity(count)
    var end = 0
    for _ in 0..<count {
      end += try r.count(limit: 1 << 30)
      ends.append(end)
    }
    bytes = Array(try r.bytes(end))
  }

  /// Writes the lengths, then the bytes.
  func write(to w: inout ColumnWriter) {
    var start = 0
    for end in ends {
      w.varint(UInt64(end - start))
      start = end
    }
    w.raw(bytes)
  }

  mutating func append(_ value: UnsafeRawBufferPointer) {
    bytes.append(contentsOf: value)
    ends.append(bytes.count)
  }

  mutating func append(_ value: String) {
    var value = value
    value.withUTF8 { append(UnsafeRawBufferPointer($0)) }
  }

  @inline(__always)
  func withValue<R>(_ index: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    let start = index == 0 ? 0 : ends[index - 1]
    return bytes.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[start..<ends[index]])) }
  }

  mutating func removeAll() {
    bytes.removeAll(keepingCapacity: true)
    ends.removeAll(keepingCapacity: true)
  }
}

/// Collects the rows of one ``EventSegment`` while a file is staged.
final class EventSegmentBuilder {
  let kind: EventKind
  let day: Int64
  let segmentID: Int64
  private(set) var ts: [Int64] = []
  private(set) var lines: [Int64] = []
  private(set) var ids = ByteColumn()
  private var dictionaries = [ByteKeyTable](repeating: ByteKeyTable(), count: EventSegment.Dimension.allCases.count)
  private var codes = [[UInt32]](repeating: [], count: EventSegment.Dimension.allCases.count)

  init(kind: EventKind, day: Int64, segmentID: Int64) {
    self.kind = kind
    self.day = day
    self.segmentID = segmentID
  }

  var count: Int { ts.count }
  var isFull: Bool { ts.count >= EventSegment.maxRows }

  /// Appends `event`; returns its row number.
  func append(_ event: Event) -> Int {
    let row = ts.count
    ts.append(event.ts)
    lines.append(Int64(event.line))
    ids.append(event.eventID)
    add(.creator, event.creatorID)
    add(.placement, event.placement)
    add(.platform, event.platform)
    add(.store, event.store)
    add(.product, event.productID)
    add(.viewer, event.viewerID)
    add(.userAgent, event.userAgent)
    return row
  }

  @inline(__always)
  private func add(_ dimension: EventSegment.Dimension, _ value: String) {
    var value = value
    let code = value.withUTF8 { dictionaries[dimension.rawValue].insert(UnsafeRawBufferPointer($0)).index }
    codes[dimension.rawValue].append(UInt32(code))
  }

  /// The stored form: a checksummed zstd frame of the payload described in ``EventSegment``.
  func encoded() -> [UInt8] {
    var w = ColumnWriter(reserving: ts.count * 48)
    for byte in EventSegment.magic { w.varint(UInt64(byte)) }
    w.varint(UInt64(ts.count))
    var previous: Int64 = 0
    for t in ts {
      w.signed(t &- previous)
      previous = t
    }
    previous = 0
    for line in lines {
      w.signed(line &- previous)
      previous = line
    }
    ids.write(to: &w)
    for dimension in EventSegment.Dimension.allCases {
      let dictionary = dictionaries[dimension.rawValue]
      w.varint(UInt64(dictionary.count))
      var entries = ByteColumn()
      for code in 0..<dictionary.count { dictionary.withKey(code) { entries.append($0) } }
      entries.write(to: &w)
      for code in codes[dimension.rawValue] { w.varint(UInt64(code)) }
    }
    return Zstd.compress(w.bytes)
  }
}
