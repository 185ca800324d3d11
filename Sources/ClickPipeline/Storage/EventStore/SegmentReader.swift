import CSQLite

/// Reads staged view and click segments (`segments`, ``EventSegment``) and their ids
/// (`segment_ids`, ``EventIDColumn``) on one connection, keeping the last few decoded.
final class SegmentReader {
  struct Info {
    var segmentID: Int64
    var kind: EventKind
    var day: Int64
    var rows: Int
  }

  private let byDays: Statement
  private let byFile: Statement
  private let data: Statement
  private let idsOf: Statement
  private let droppedOf: Statement
  private let rowsOfDays: Statement
  private var cache: [Int64: EventSegment] = [:]
  private var cacheOrder: [Int64] = []
  private let cacheSize: Int

  init(db: SQLiteDatabase, cacheSize: Int = 8) throws(DatabaseError) {
    self.cacheSize = cacheSize
    byDays = try db.prepare(
      "SELECT segment_id, kind, day, rows FROM segments WHERE day >= ? AND day <= ? AND kind = ? ORDER BY segment_id")
    byFile = try db.prepare("SELECT segment_id, kind, day, rows FROM segments WHERE file_id = ? ORDER BY segment_id")
    data = try db.prepare(
      "SELECT s.data, d.rows FROM segments s LEFT JOIN segment_dropped d USING (segment_id) WHERE s.segment_id = ?")
    idsOf = try db.prepare("SELECT ids FROM segment_ids WHERE segment_id = ?")
    droppedOf = try db.prepare(
      "SELECT s.rows, d.rows FROM segments s LEFT JOIN segment_dropped d USING (segment_id) WHERE s.segment_id = ?")
    rowsOfDays = try db.prepare("SELECT total(rows) FROM segments WHERE day >= ? AND day <= ?")
  }

  /// The segments of `kind` on the UTC days `days`.
  func segments(_ kind: EventKind, days: ClosedRange<Int64>) throws(DatabaseError) -> [Info] {
    let s = byDays
    s.reset()
    s.bind(1, days.lowerBound)
    s.bind(2, days.upperBound)
    s.bind(3, Int64(kind.rawValue))
    return try infos(s)
  }

  /// The segments staged from the file `fileID`.
  func segments(ofFile fileID: Int64) throws(DatabaseError) -> [Info] {
    byFile.reset()
    byFile.bind(1, fileID)
    return try infos(byFile)
  }

  /// Views and clicks staged on the UTC days `days` (duplicates included).
  func rows(days: ClosedRange<Int64>) throws(DatabaseError) -> Int64 {
    let s = rowsOfDays
    s.reset()
    defer { s.reset() }
    s.bind(1, days.lowerBound)
    s.bind(2, days.upperBound)
    _ = try s.step()
    return s.int(0)
  }

  /// The decoded segment, its dropped rows filled in; an error names it if its data is damaged.
  func load(_ segmentID: Int64) throws(DatabaseError) -> EventSegment {
    if let cached = cache[segmentID] { return cached }
    let s = data
    s.reset()
    defer { s.reset() }
    s.bind(1, segmentID)
    guard try s.step() else { throw Self.missing(segmentID) }
    var segment: EventSegment
    do {
      segment = try EventSegment(stored: s.blob(0))
      if !s.isNull(1) { segment.dropped = try DroppedRows.decode(s.blob(1), rows: segment.count) }
    } catch {
      throw Self.damaged(segmentID)
    }
    if cacheOrder.count >= cacheSize { cache[cacheOrder.removeFirst()] = nil }
    cache[segmentID] = segment
    cacheOrder.append(segmentID)
    return segment
  }

  /// The rows of a segment dropped as duplicates.
  func dropped(_ segmentID: Int64) throws(DatabaseError) -> [Int] {
    let s = droppedOf
    s.reset()
    defer { s.reset() }
    s.bind(1, segmentID)
    guard try s.step() else { throw Self.missing(segmentID) }
    guard !s.isNull(1) else { return [] }
    do {
      return try DroppedRows.decode(s.blob(1), rows: Int(s.int(0)))
    } catch {
      throw Self.damaged(segmentID)
    }
  }

  /// The event ids of a segment.
  func ids(_ segmentID: Int64) throws(DatabaseError) -> EventIDColumn {
    let s = idsOf
    s.reset()
    defer { s.reset() }
    s.bind(1, segmentID)
    guard try s.step() else { throw Self.missing(segmentID) }
    return try Self.decodeIDs(s.blob(0), of: segmentID)
  }

  /// The stored id columns of these segments, not decoded: read on this connection, to be
  /// decoded on another thread (``idBytes(_:stored:)``).
  func storedIDs(_ segmentIDs: some Sequence<Int64>) throws(DatabaseError) -> [Int64: [UInt8]] {
    let s = idsOf
    defer { s.reset() }
    var result: [Int64: [UInt8]] = [:]
    for segmentID in segmentIDs where result[segmentID] == nil {
      s.reset()
      s.bind(1, segmentID)
      guard try s.step() else { throw Self.missing(segmentID) }
      result[segmentID] = Array(s.blob(0))
    }
    return result
  }

  private static func decodeIDs(_ stored: UnsafeRawBufferPointer, of segmentID: Int64) throws(DatabaseError) -> EventIDColumn {
    do {
      return try EventIDColumn(stored: stored)
    } catch {
      throw damaged(segmentID)
    }
  }

  /// The ids of some rows, one after another in one buffer: ``idBytes(_:)``.
  struct IDBytes {
    var bytes: [UInt8] = []
    /// Per ref, in the order asked: where its id is in `bytes`, or `nil` past its segment's end.
    var ranges: [Range<Int>?] = []

    /// The id of the `index`-th ref, or `nil`.
    func withID<R>(_ index: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R? {
      guard let range = ranges[index] else { return nil }
      return bytes.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[range])) }
    }
  }

  /// The id bytes of each of `refs` (rows of written segments), reading each segment's ids
  /// once, into one buffer: no allocation per id.
  func idBytes(_ refs: [EventRef]) throws(DatabaseError) -> IDBytes {
    try Self.idBytes(refs) { segmentID throws(DatabaseError) in try ids(segmentID) }
  }

  /// ``idBytes(_:)`` from the columns ``storedIDs(_:)`` read, which must hold every segment of
  /// `refs`; touches no database, so it may run on any thread.
  static func idBytes(_ refs: [EventRef], stored: [Int64: [UInt8]]) throws(DatabaseError) -> IDBytes {
    try idBytes(refs) { segmentID throws(DatabaseError) in
      guard let column = stored[segmentID] else { throw missing(segmentID) }
      return try column.withUnsafeBytes { bytes in Result { () throws(DatabaseError) in try decodeIDs(bytes, of: segmentID) } }
        .get()
    }
  }

  private static func idBytes(
    _ refs: [EventRef], column ids: (Int64) throws(DatabaseError) -> EventIDColumn
  ) throws(DatabaseError) -> IDBytes {
    var result = IDBytes()
    result.ranges = Array(repeating: nil, count: refs.count)
    // In segment order, each segment's column decoded once.
    let order = refs.indices.sorted { refs[$0] < refs[$1] }
    var current: (segmentID: Int64, column: EventIDColumn)?
    for index in order {
      let ref = refs[index]
      if current?.segmentID != ref.segmentID { current = (ref.segmentID, try ids(ref.segmentID)) }
      guard let column = current?.column, ref.row < column.count else { continue }
      let start = result.bytes.count
      column.withID(ref.row) { result.bytes.append(contentsOf: $0) }
      result.ranges[index] = start..<result.bytes.count
    }
    return result
  }

  /// Drops decoded segments (after the segments changed under this connection).
  func forgetCache() {
    cache.removeAll()
    cacheOrder.removeAll()
  }

  private static func missing(_ segmentID: Int64) -> DatabaseError {
    DatabaseError(code: SQLITE_CORRUPT, message: "staged segment \(segmentID) is missing; restore the database from a backup")
  }

  static func damaged(_ segmentID: Int64) -> DatabaseError {
    DatabaseError(
      code: SQLITE_CORRUPT,
      message: "staged segment \(segmentID) is damaged (its checksum or layout does not match); restore the database from a backup")
  }

  private func infos(_ s: Statement) throws(DatabaseError) -> [Info] {
    defer { s.reset() }
    var result: [Info] = []
    while try s.step() {
      result.append(
        Info(segmentID: s.int(0), kind: EventKind(rawValue: Int(s.int(1))) ?? .view, day: s.int(2), rows: Int(s.int(3))))
    }
    return result
  }
}
