/// Writes a built segment into the event store: its row in `segments` and its ids in
/// `segment_ids` (``EventSegment``, ``EventIDColumn``). The one place that knows those tables'
/// columns on the writing side; ingest and the schema-7 migration both write through it.
final class SegmentWriter {
  private let insertSegment: Statement
  private let insertIDs: Statement

  init(db: SQLiteDatabase) throws(DatabaseError) {
    insertSegment = try db.prepare(
      "INSERT INTO segments(segment_id, kind, day, file_id, rows, min_ts, max_ts, data) VALUES (?,?,?,?,?,?,?,?)")
    insertIDs = try db.prepare("INSERT INTO segment_ids(segment_id, ids) VALUES (?, ?)")
  }

  /// Writes `segment` as segment `id` of file `fileID`.
  func write(_ segment: StagedSegment, id: Int64, fileID: Int64) throws(DatabaseError) {
    let s = insertSegment
    s.reset()
    s.bind(1, id)
    s.bind(2, Int64(segment.kind.rawValue))
    s.bind(3, segment.day)
    s.bind(4, fileID)
    s.bind(5, Int64(segment.rows))
    s.bind(6, segment.minTs)
    s.bind(7, segment.maxTs)
    segment.data.withUnsafeBytes { s.bindBlob(8, $0) }
    try s.step()
    s.reset()
    insertIDs.reset()
    insertIDs.bind(1, id)
    segment.ids.withUnsafeBytes { insertIDs.bindBlob(2, $0) }
    try insertIDs.step()
    insertIDs.reset()
  }
}
