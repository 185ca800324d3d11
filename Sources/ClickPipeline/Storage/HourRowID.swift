/// Rowids of `views` and `clicks` (schema version 3): the event's hour since the epoch in the
/// high bits, its arrival order within that hour in the low 32.
///
/// An hour is a rowid range, so `aggregate` reads a day as a range (plus a `ts` filter for the
/// edge hours of time zones whose offset is not whole hours). And a run appends at the end of
/// each hour it touches: log files that each span the same week no longer interleave their
/// rows across the whole table. With the earlier `ts << 12` rowids every file of such a set
/// rewrote every page of `views`, and each file cost more than the one before (measured in
/// docs/BENCHMARKS.md, "Rows by hour").
enum HourRowID {
  static let millisecondsPerHour: Int64 = 3_600_000
  /// Rows one hour can hold (per table).
  static let rowsPerHour: Int64 = 1 << 32

  /// The hour of a Unix-epoch millisecond, rounded down (also before 1970).
  static func hour(ofMilliseconds ts: Int64) -> Int64 {
    ts >= 0 ? ts / millisecondsPerHour : (ts + 1) / millisecondsPerHour - 1
  }

  /// The first rowid of `hour`.
  static func first(ofHour hour: Int64) -> Int64 { hour << 32 }

  /// The rowids that hold every event with `start <= ts < end` (and other events of the two
  /// edge hours, which a reader filters out by `ts`): `low ..< high`.
  static func range(from start: Int64, to end: Int64) -> (low: Int64, high: Int64) {
    (first(ofHour: hour(ofMilliseconds: start)), first(ofHour: hour(ofMilliseconds: end - 1) + 1))
  }

  /// For `views` [0] and `clicks` [1]: the rows of an hour stored so far (see ``rowsStored(in:_:)``).
  static func prepareRowCounts(_ db: SQLiteDatabase) throws(DatabaseError) -> [Statement] {
    [
      try db.prepare("SELECT max(view_id) FROM views WHERE view_id >= ?1 AND view_id < ?2"),
      try db.prepare("SELECT max(click_row) FROM clicks WHERE click_row >= ?1 AND click_row < ?2"),
    ]
  }

  /// The row numbers used in `hour` (its last row's number + 1), from one of
  /// ``prepareRowCounts(_:)``: the next free rowid's offset, or an upper bound of the hour's
  /// rows (a forgotten file's rows leave gaps).
  static func rowsStored(in hour: Int64, _ s: Statement) throws(DatabaseError) -> Int64 {
    s.reset()
    defer { s.reset() }
    s.bind(1, first(ofHour: hour))
    s.bind(2, first(ofHour: hour + 1))
    guard try s.step(), !s.isNull(0) else { return 0 }
    return s.int(0) - first(ofHour: hour) + 1
  }

  /// SQL for the hour of the integer column `ts`, rounded down like ``hour(ofMilliseconds:)``.
  static func sqlHour(_ ts: String) -> String {
    "(CASE WHEN \(ts) >= 0 THEN \(ts) / 3600000 ELSE (\(ts) + 1) / 3600000 - 1 END)"
  }
}
