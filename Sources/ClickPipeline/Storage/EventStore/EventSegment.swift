/// The staged views or clicks of one input file on one UTC day, column by column.
///
/// Stored as one zstd frame (``Zstd``) in `segments.data`; the frame's checksum makes a
/// damaged segment an error. The event ids live beside it (``EventIDColumn``). Layout of the
/// decompressed payload (varints throughout):
///
/// ```
/// "CPS2" · rows · ts (zig-zag deltas, the first from 0) · line (zig-zag deltas)
///        · placement (one byte per row: ``Placement`` raw value)
///        · per column (creator, post, listing, viewer, user agent), coded columns:
///            dictionary size · entry lengths · entry bytes · one code per row
///          plain columns (post, viewer): each row's length · the rows' bytes
/// ```
///
/// Creators, listings and user agents repeat within a segment and are dictionary-coded.
/// Posts and viewers hardly repeat in a segment (a day's 65,536 views come from ~60,000
/// viewers): a dictionary would cost a hash-table probe per row to save nothing, so they are
/// stored plain and zstd takes their common prefixes.
///
/// A *listing* is where a link points: the platform's code (``Platform/code``, 0 for a view
/// without a product), the store, a 0 byte, the product id. Ids never hold a 0 byte (control
/// characters are rejected), so the entry splits back unambiguously.
///
/// Rows keep their arrival order: an event's place in the store is (segment, row), which
/// ``EventKeys`` records. Rows found to be duplicates after the segment was written are listed
/// in `segment_dropped` (``DroppedRows``) and skipped by every reader. Bot user agents are
/// decided when aggregating, from the text, so a change of the patterns needs no re-ingest.
struct EventSegment {
  /// The value columns, in stored order.
  enum Column: Int, CaseIterable {
    case creator, post, listing, viewer, userAgent

    /// Whether the column is dictionary-coded (else each row's value is stored).
    var isCoded: Bool { self == .creator || self == .listing || self == .userAgent }
  }

  /// At most this many rows per segment, so a row number fits in ``EventRef``'s 16 bits.
  static let maxRows = 1 << 16
  static let magic: [UInt8] = Array("CPS2".utf8)

  let count: Int
  private(set) var ts: [Int64] = []
  private(set) var lines: [Int64] = []
  private(set) var placements: [UInt8] = []
  /// Per column: the dictionary (coded) or each row's value (plain).
  private(set) var dictionaries: [ByteColumn] = []
  /// Per coded column: each row's code into its dictionary (empty for plain columns).
  private(set) var codes: [[UInt32]] = []
  /// Rows dropped as duplicates (sorted), which readers skip.
  var dropped: [Int] = []

  /// Whether row `row` counts (it was not dropped as a duplicate).
  var liveRows: [Int] {
    guard !dropped.isEmpty else { return Array(0..<count) }
    var result: [Int] = []
    result.reserveCapacity(count - dropped.count)
    var d = 0
    for r in 0..<count {
      if d < dropped.count && dropped[d] == r {
        d += 1
      } else {
        result.append(r)
      }
    }
    return result
  }

  /// The bytes of row `row`'s value of `column`.
  @inline(__always)
  func withValue<R>(_ column: Column, _ row: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    column.isCoded
      ? dictionaries[column.rawValue].withValue(Int(codes[column.rawValue][row]), body)
      : dictionaries[column.rawValue].withValue(row, body)
  }

  func string(_ column: Column, _ row: Int) -> String {
    withValue(column, row) { String(decoding: $0, as: UTF8.self) }
  }

  func placement(_ row: Int) -> Placement { Placement(rawValue: placements[row]) ?? .bio }

  /// Row `row`'s platform (`nil`: a view without a product), store and product id.
  func withListing<R>(
    _ row: Int, _ body: (_ platform: Platform?, _ store: UnsafeRawBufferPointer, _ product: UnsafeRawBufferPointer) -> R
  ) -> R {
    withValue(.listing, row) { entry in Self.splitListing(entry, body) }
  }

  /// Splits a listing entry (see the type's documentation).
  static func splitListing<R>(
    _ entry: UnsafeRawBufferPointer,
    _ body: (_ platform: Platform?, _ store: UnsafeRawBufferPointer, _ product: UnsafeRawBufferPointer) -> R
  ) -> R {
    guard entry.count >= 2 else {
      return body(nil, UnsafeRawBufferPointer(rebasing: entry[0..<0]), UnsafeRawBufferPointer(rebasing: entry[0..<0]))
    }
    var zero = 1
    while zero < entry.count && entry[zero] != 0 { zero += 1 }
    return body(
      Platform(code: entry[0]), UnsafeRawBufferPointer(rebasing: entry[1..<zero]),
      UnsafeRawBufferPointer(rebasing: entry[min(zero + 1, entry.count)...]))
  }

  /// Appends a listing entry for (platform, store, product) to `out`.
  static func appendListing(
    _ platform: Platform?, _ store: UnsafeRawBufferPointer, _ product: UnsafeRawBufferPointer, to out: inout [UInt8]
  ) {
    out.append(platform?.code ?? 0)
    out.append(contentsOf: store)
    out.append(0)
    out.append(contentsOf: product)
  }

  // MARK: - Reading

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
    guard try r.bytes(4).elementsEqual(Self.magic) else { throw ColumnReader.Corrupt() }
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
    placements = Array(try r.bytes(count))
    for column in Column.allCases {
      guard column.isCoded else {
        dictionaries.append(try ByteColumn(reading: &r, count: count))
        codes.append([])
        continue
      }
      let size = try r.count(limit: max(count, 1))
      let dictionary = try ByteColumn(reading: &r, count: size)
      var codes: [UInt32] = []
      codes.reserveCapacity(count)
      for _ in 0..<count {
        let code = try r.varint()
        guard code < UInt64(size) else { throw ColumnReader.Corrupt() }
        codes.append(UInt32(code))
      }
      dictionaries.append(dictionary)
      self.codes.append(codes)
    }
    guard r.isAtEnd else { throw ColumnReader.Corrupt() }
  }

  // MARK: - Writing

  /// Writes the payload of a segment (before compression) into `w`. `dictionaries` and
  /// `codes` are those of the coded columns, `plain` the values of the others, in
  /// ``Column`` order.
  static func encode(
    ts: UnsafeBufferPointer<Int64>, lines: UnsafeBufferPointer<UInt32>, placements: UnsafeRawBufferPointer,
    dictionaries: [ByteDictionary], codes: [UnsafeBufferPointer<UInt32>], plain: [ValueArena], into w: inout ColumnWriter
  ) {
    w.raw(magic)
    w.varint(UInt64(ts.count))
    var previous: Int64 = 0
    for t in ts {
      w.signed(t &- previous)
      previous = t
    }
    previous = 0
    for line in lines {
      w.signed(Int64(line) &- previous)
      previous = Int64(line)
    }
    w.raw(placements)
    var coded = 0
    var plainIndex = 0
    for column in Column.allCases {
      guard column.isCoded else {
        plain[plainIndex].write(to: &w)
        plainIndex += 1
        continue
      }
      let dictionary = dictionaries[coded]
      w.varint(UInt64(dictionary.count))
      var start: UInt32 = 0
      for end in dictionary.ends {
        w.varint(UInt64(end - start))
        start = end
      }
      w.raw(dictionary.values)
      for code in codes[coded] { w.varint(UInt64(code)) }
      coded += 1
    }
  }
}

/// Byte strings one after another, with their end offsets.
struct ByteColumn {
  private(set) var bytes: [UInt8] = []
  private(set) var ends: [Int] = []

  var count: Int { ends.count }

  init() {}

  /// Reads `count` values: their lengths, then their bytes.
  init(reading r: inout ColumnReader, count: Int) throws(ColumnReader.Corrupt) {
    ends.reserveCapacity(count)
    var end = 0
    for _ in 0..<count {
      end += try r.count(limit: 1 << 30)
      ends.append(end)
    }
    bytes = Array(try r.bytes(end))
  }

  @inline(__always)
  func withValue<R>(_ index: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    let start = index == 0 ? 0 : ends[index - 1]
    return bytes.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[start..<ends[index]])) }
  }

  /// Lets `body` read the values by index without a closure per value.
  func withValues<R>(_ body: (Values) -> R) -> R {
    bytes.withUnsafeBytes { bytes in ends.withUnsafeBufferPointer { ends in body(Values(bytes: bytes, ends: ends)) } }
  }

  /// A ``ByteColumn``'s values, valid inside ``withValues(_:)``.
  struct Values: IndexedValues {
    let bytes: UnsafeRawBufferPointer
    let ends: UnsafeBufferPointer<Int>

    var count: Int { ends.count }

    @inline(__always)
    func value(_ index: Int) -> UnsafeRawBufferPointer {
      let start = index == 0 ? 0 : ends[index - 1]
      return UnsafeRawBufferPointer(rebasing: bytes[start..<ends[index]])
    }
  }
}

/// The rows of a segment dropped as duplicates after it was written (`segment_dropped.rows`):
/// sorted row numbers as varint deltas in a checksummed zstd frame. A table of their own, not a
/// column of `segments`: changing a column of a row rewrites the whole row, payload included.
enum DroppedRows {
  /// Records `rows` as the dropped rows of segment `segmentID`.
  static func write(_ rows: [Int], of segmentID: Int64, to db: SQLiteDatabase) throws(DatabaseError) {
    try db.run(
      "INSERT OR REPLACE INTO segment_dropped(segment_id, rows) VALUES (?, ?)", [.int(segmentID), .blob(encode(rows))])
  }

  static func encode(_ rows: [Int]) -> [UInt8] {
    var w = ColumnWriter(reserving: rows.count * 2 + 4)
    w.varint(UInt64(rows.count))
    var previous = -1
    for row in rows.sorted() {
      w.varint(UInt64(row - previous - 1))
      previous = row
    }
    return Zstd.compress(w.bytes)
  }

  static func decode(_ stored: UnsafeRawBufferPointer, rows: Int) throws(ColumnReader.Corrupt) -> [Int] {
    let payload = try Zstd.decompress(stored)
    var failure: ColumnReader.Corrupt?
    var result: [Int] = []
    payload.withUnsafeBytes { bytes in
      do throws(ColumnReader.Corrupt) {
        var r = ColumnReader(bytes)
        let n = try r.count(limit: rows)
        var previous = -1
        for _ in 0..<n {
          let row = previous + 1 + (try r.count(limit: rows))
          guard row < rows else { throw ColumnReader.Corrupt() }
          result.append(row)
          previous = row
        }
        guard r.isAtEnd else { throw ColumnReader.Corrupt() }
      } catch {
        failure = error
      }
    }
    if let failure { throw failure }
    return result
  }
}
