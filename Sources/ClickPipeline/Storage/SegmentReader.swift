import CSQLite

/// Reads staged view and click segments (`segments`, ``EventSegment``) on one connection,
/// keeping the last few decoded.
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
  private let rowsOfDays: Statement
  private var cache: [Int64: EventSegment] = [:]
  private var cacheOrder: [Int64] = []
  private let cacheSize: Int

  init(db: SQLiteDatabase, cacheSize: Int = 8) throws(DatabaseError) {
    self.cacheSize = cacheSize
    byDays = try db.prepare(
      "SELECT segment_id, kind, day, rows FROM segments WHERE day >= ? AND day <= ? AND kind = ? ORDER BY segment_id")
    byFile = try db.prepare("SELECT segment_id, kind, day, rows FROM segments WHERE file_id = ? ORDER BY segment_id")
    data = try db.prepare("SELECT data FROM segments WHERE segment_id = ?")
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

  /// Views and clicks staged on the UTC days `days`.
  func rows(days: ClosedRange<Int64>) throws(DatabaseError) -> Int64 {
    let s = rowsOfDays
    s.reset()
    defer { s.reset() }
    s.bind(1, days.lowerBound)
    s.bind(2, days.upperBound)
    _ = try s.step()
    return s.int(0)
  }

  /// The decoded segment; an error names it if its data is damaged.
  func load(_ segmentID: Int64) throws(DatabaseError) -> EventSegment {
    if let cached = cache[segmentID] { return cached }
    let s = data
    s.reset()
    defer { s.reset() }
    s.bind(1, segmentID)
    guard try s.step() else {
      throw DatabaseError(code: SQLITE_CORRUPT, message: "staged segment \(segmentID) is missing; restore the database from a backup")
    }
    let segment: EventSegment
    do {
      segment = try EventSegment(stored: s.blob(0))
    } catch {
      throw DatabaseError(
        code: SQLITE_CORRUPT,
        message: "staged segment \(segmentID) is damaged (its checksum or layout does not match); restore the database from a backup")
    }
    if cacheOrder.count >= cacheSize { cache[cacheOrder.removeFirst()] = nil }
    cache[segmentID] = segment
    cacheOrder.append(segmentID)
    return segment
  }

  /// Drops decoded segments (after the segments changed under this connection).
  func forgetCache() {
    cache.removeAll()
    cacheOrder.removeAll()
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
