import CSQLite

#if canImport(Glibc)
  import Glibc
#endif

/// The writer's side of staging: the one thread that writes the run into SQLite, file by file
/// in path order, inside the run's transaction.
///
/// Input: the ``FilePiece``s of each file between ``beginFile(id:)`` and ``commitFile()`` (or
/// ``dropFile()`` when the file turned out unreadable). Output: `segments` and `segment_ids`
/// rows as they come (their keys collected in ``EventKeys``), `conversions` and `rejects`
/// rows, and at ``finish()`` the deduplication of views and clicks, the dropped rows of
/// segments, `click_index`, and the hours `aggregate` must recompute (`dirty_hours`, see
/// ``DirtyHours``).
///
/// Conversions (orders and refunds) are unique by `event_id` across everything (CONTRACT §3):
/// when a file is committed, each of its conversion ids that has another row is reduced to the
/// earliest copy by `ts` (then by arrival).
final class StagingWriter {
  /// What the writer knows of a segment it wrote this run.
  private struct Written {
    var fileID: Int64
    var kind: EventKind
    var day: Int64
    var rows: Int
    var hours: UInt32
    var clickHours: [UInt32]
  }

  /// What ``finish()`` found, per file id: rows dropped as duplicates.
  struct Outcome {
    var droppedByFile: [Int64: Int] = [:]
    var dropped: Int { droppedByFile.values.reduce(0, +) }
  }

  private let db: SQLiteDatabase
  let keys: EventKeys
  private let reader: SegmentReader
  private let segments: SegmentWriter
  private let insertConversion: Statement
  private let insertReject: Statement
  private let conversionCopies: Statement
  private let copiesOfID: Statement
  private let deleteConversion: Statement
  private let conversionHours: DirtyHours.ConversionHours
  private let insertPending: Statement
  private let clickKnown: Statement
  private let namedClicks: Statement

  private let runID: Int64
  private var nextSegmentID: Int64
  private var nextConversionRow: Int64
  private let firstConversionRow: Int64
  private var written: [Int64: Written] = [:]
  private var fileID: Int64 = 0
  private var fileFirstSegment: Int64 = 0
  private var fileFirstConversion: Int64 = 0
  /// Rows of this file that were copies of a conversion already kept.
  private(set) var fileDuplicates = 0
  /// The run's clicks as `click_index` entries, written at ``finish()``, or before a file
  /// when more than ``ClickIndexWriter/entriesInMemory`` wait. Entries of the current file start at
  /// `fileFirstClick`.
  private let clickIndex: ClickIndexWriter
  private var fileFirstClick = 0
  /// New clicks whose id may be pending (``KeyFilter``): checked at ``finish()``.
  private var maybeLate: [EventRef] = []
  /// The keys of click ids named by staged conversions whose click has not arrived
  /// (`pending_click_refs`): most new clicks are ruled out without a query.
  private var pendingClicks: KeyFilter
  private var dirty = DirtyHours()
  /// Segments written so far by this run.
  private(set) var segmentsWritten = 0

  /// The copies of a conversion's event id already staged: an index search (a test checks
  /// the plan, with ``DirtyHours/ConversionHours``' lookups).
  static let copiesOfIDSQL = "SELECT conversion_row, ts FROM conversions WHERE event_key = ? AND event_id = ?"

  /// `spillKeys`: how many event keys may wait in memory (``EventKeys``).
  init(db: SQLiteDatabase, runID: Int64, spillKeys: Int = EventKeys.defaultSpillKeys) throws(DatabaseError) {
    self.db = db
    self.runID = runID
    keys = try EventKeys(db: db, spillKeys: spillKeys)
    reader = try SegmentReader(db: db, cacheSize: 2)
    segments = try SegmentWriter(db: db)
    clickIndex = try ClickIndexWriter(db: db)
    insertConversion = try db.prepare(ConversionRow.insertSQL)
    insertReject = try db.prepare(
      "INSERT INTO rejects(file_id, run_id, path, line, reason, raw) VALUES (?,?,?,?,?,?)")
    conversionCopies = try db.prepare(
      """
      SELECT DISTINCT n.event_key, n.event_id FROM conversions n
      WHERE n.conversion_row >= ?1 AND n.conversion_row < ?2
        AND EXISTS (SELECT 1 FROM conversions o WHERE o.event_key = n.event_key AND o.event_id = n.event_id
          AND o.conversion_row <> n.conversion_row)
      """)
    copiesOfID = try db.prepare(Self.copiesOfIDSQL)
    deleteConversion = try db.prepare("DELETE FROM conversions WHERE conversion_row = ?")
    conversionHours = try DirtyHours.ConversionHours(db: db)
    insertPending = try db.prepare("INSERT OR IGNORE INTO pending_click_refs(click_id) VALUES (?)")
    clickKnown = try db.prepare("SELECT 1 FROM click_index WHERE key = ? LIMIT 1")
    namedClicks = try db.prepare(
      "SELECT click_id FROM conversions WHERE conversion_row >= ?1 AND conversion_row < ?2 AND click_id <> '' AND refunded = 0")
    nextConversionRow = (try db.scalarInt("SELECT max(conversion_row) FROM conversions") ?? 0) + 1
    firstConversionRow = nextConversionRow
    nextSegmentID = (try db.scalarInt("SELECT max(segment_id) FROM segments") ?? 0) + 1
    let pending = try db.scalarInt("SELECT count(*) FROM pending_click_refs") ?? 0
    pendingClicks = KeyFilter(capacity: Int(pending) * 2 + 4096)
    let refs = try db.prepare("SELECT click_id FROM pending_click_refs")
    while try refs.step() { pendingClicks.insert(EventKeyHash.key(refs.bytes(0))) }
    refs.reset()
  }

  // MARK: - Files

  /// Starts staging the file with this id.
  func beginFile(id: Int64) throws(DatabaseError) {
    if clickIndex.count > ClickIndexWriter.entriesInMemory { try writeClickIndex() }
    fileID = id
    fileFirstSegment = nextSegmentID
    fileFirstConversion = nextConversionRow
    fileDuplicates = 0
    fileFirstClick = clickIndex.count
  }

  /// Files what this file staged so far under `owner` instead, and what it stages from now on.
  func moveFile(to owner: Int64) throws(DatabaseError) {
    for table in ["segments", "conversions", "rejects"] {
      try db.run("UPDATE \(table) SET file_id = ? WHERE file_id = ?", [.int(owner), .int(fileID)])
    }
    for id in fileFirstSegment..<nextSegmentID { written[id]?.fileID = owner }
    fileID = owner
  }

  /// The file was read whole: deduplicates its conversions and marks what they change.
  func commitFile() throws(DatabaseError) {
    let first = fileFirstConversion
    let end = nextConversionRow
    guard end > first else { return }
    // Conversion ids with another row: keep the earliest copy by ts, then by arrival.
    conversionCopies.reset()
    conversionCopies.bind(1, first)
    conversionCopies.bind(2, end)
    var repeated: [(key: Int64, id: String)] = []
    while try conversionCopies.step() { repeated.append((conversionCopies.int(0), conversionCopies.text(1))) }
    conversionCopies.reset()
    for (key, id) in repeated {
      copiesOfID.reset()
      copiesOfID.bind(1, key)
      copiesOfID.bind(2, id)
      var copies: [(row: Int64, ts: Int64)] = []
      while try copiesOfID.step() { copies.append((copiesOfID.int(0), copiesOfID.int(1))) }
      copiesOfID.reset()
      copies.sort { $0.ts != $1.ts ? $0.ts < $1.ts : $0.row < $1.row }
      for copy in copies.dropFirst() {
        try deleteConversion.run([.int(copy.row)])
        dirty.mark(copy.ts)
        fileDuplicates += 1
      }
    }
    // Their hours, and those of every conversion of the same orders (which copy of a retried
    // order is kept, and the refunds, may change).
    try conversionHours.markOrders(ofRows: first..<end, in: &dirty)
  }

  /// The file could not be read whole: removes everything it staged.
  func dropFile() throws(DatabaseError) {
    for table in ["segments", "conversions", "rejects"] {
      try db.run("DELETE FROM \(table) WHERE file_id = ?", [.int(fileID)])
    }
    if nextSegmentID > fileFirstSegment {
      try db.run(
        "DELETE FROM segment_ids WHERE segment_id >= ? AND segment_id < ?", [.int(fileFirstSegment), .int(nextSegmentID)])
      keys.discard(segments: fileFirstSegment...(nextSegmentID - 1))
      for id in fileFirstSegment..<nextSegmentID { written[id] = nil }
      maybeLate.removeAll { $0.segmentID >= fileFirstSegment }
    }
    clickIndex.removeSubrange(from: fileFirstClick)
  }

  // MARK: - Pieces

  func write(_ segment: StagedSegment) throws(DatabaseError) {
    let id = nextSegmentID
    nextSegmentID += 1
    try segments.write(segment, id: id, fileID: fileID)
    try keys.add(segment.hashes, day: segment.day, segmentID: id)
    if segment.kind == .click { indexClicks(segment, id) }
    written[id] = Written(
      fileID: fileID, kind: segment.kind, day: segment.day, rows: segment.rows, hours: segment.hours,
      clickHours: segment.clickHours)
    segmentsWritten += 1
    StopPoint.reached(.ingestSegmentWritten)
  }

  /// Collects a click segment's `click_index` entries (a copy of an event brings the entry
  /// its first copy has, so duplicates found later change nothing there), and notes the clicks
  /// that a staged conversion may be waiting for.
  private func indexClicks(_ segment: StagedSegment, _ id: Int64) {
    for (row, hash) in segment.hashes.enumerated() {
      let key = EventKeys.indexKey(hash)
      clickIndex.add(hash: hash, day: segment.day)
      if pendingClicks.mayContain(key) { maybeLate.append(EventRef(segmentID: id, row: row)) }
    }
  }

  func write(_ conversions: StagedConversions) throws(DatabaseError) {
    let s = insertConversion
    try conversions.insert(into: s, firstRow: nextConversionRow, fileID: fileID) { () throws(DatabaseError) in
      try s.step()
      nextConversionRow += 1
    }
  }

  func write(_ rejects: [RejectedLine], path: String) throws(DatabaseError) {
    let s = insertReject
    for rejected in rejects {
      s.reset()
      s.bind(1, fileID)
      s.bind(2, runID)
      s.bind(3, path)
      s.bind(4, rejected.line)
      s.bind(5, rejected.reason.code)
      if let text = String(validating: rejected.raw, as: UTF8.self) {
        s.bind(6, text)
      } else {
        s.bindBlob(6, rejected.raw)
      }
      try s.step()
    }
    s.reset()
  }

  // MARK: - The run's end

  /// Deduplicates the run's views and clicks, records what aggregate must recompute; call
  /// once, before the run commits. The click index is written while another thread compares
  /// the ids of the deduplication's candidates.
  func finish() throws -> Outcome {
    let dropped = try keys.finish(reader: reader) { try writeClickIndexAndPendingClicks() }
    var result = Outcome()
    // Dropped rows, by segment.
    var droppedRows: [Int64: [Int]] = [:]
    for ref in dropped { droppedRows[ref.segmentID, default: []].append(ref.row) }
    for (segmentID, rows) in droppedRows {
      guard let segment = written[segmentID] else { continue }
      result.droppedByFile[segment.fileID, default: 0] += rows.count
      if rows.count == segment.rows {
        try db.run("DELETE FROM segments WHERE segment_id = ?", [.int(segmentID)])
        try db.run("DELETE FROM segment_ids WHERE segment_id = ?", [.int(segmentID)])
        written[segmentID] = nil
      } else {
        try DroppedRows.write(rows, of: segmentID, to: db)
      }
    }
    // The hours of the segments that keep rows.
    for segment in written.values {
      dirty.mark(day: segment.day, hours: segment.hours, clickHours: segment.clickHours)
    }
    let droppedSet = Set(dropped)
    // Late clicks: conversions that named them by id before they arrived change.
    try markLateClicks(maybeLate.filter { written[$0.segmentID] != nil && !droppedSet.contains($0) })
    try dirty.write(to: db)
    return result
  }

  /// Writes the collected `click_index` entries, and remembers this run's orders that name a
  /// click not staged (yet) in `pending_click_refs`, so that the click marks them when it
  /// comes. Most name a click of this run, found among the collected entries; the others are
  /// looked up in key order, which keeps the index's pages at hand. A copy of a click dropped
  /// as a duplicate has the same id as the click kept, so the dropped rows change neither.
  private func writeClickIndexAndPendingClicks() throws {
    var named: [(key: Int64, id: [UInt8])] = []
    namedClicks.reset()
    namedClicks.bind(1, firstConversionRow)
    namedClicks.bind(2, nextConversionRow)
    while try namedClicks.step() {
      let bytes = namedClicks.bytes(0)
      named.append((EventKeyHash.key(bytes), Array(bytes)))
    }
    namedClicks.reset()
    named.sort { $0.key < $1.key }
    clickIndex.removeCollected(from: &named)
    try writeClickIndex()
    for (key, id) in named {
      clickKnown.reset()
      clickKnown.bind(1, key)
      let known = try clickKnown.step()
      clickKnown.reset()
      guard !known else { continue }
      try insertPending.run([.text(String(decoding: id, as: UTF8.self))])
    }
  }

  /// The new clicks that staged conversions named before they arrived (`pending_click_refs`):
  /// those conversions' hours are marked and the clicks are no longer pending. In bulk, each
  /// B-tree walked in order or from an index alone: the candidate ids, sorted, against
  /// `pending_click_refs`; the hours from `conversions_by_click` (key and timestamp), without
  /// the conversions' rows. One statement per click searched each B-tree at random and
  /// fetched every row: at 1M late clicks, 8-10 s of pages read back one by one. A conversion
  /// whose click id only shares the 64-bit key gets its hour recomputed for nothing, which
  /// changes no result.
  private func markLateClicks(_ late: [EventRef]) throws {
    guard !late.isEmpty else { return }
    let ids = try reader.idBytes(late)
    var rows = late.indices.compactMap { index in
      ids.withID(index) { id in (key: ConversionKeys.click(String(decoding: id, as: UTF8.self)), id: Array(id)) }
    }
    rows.sort { a, b in
      a.id.withUnsafeBytes { x in
        b.id.withUnsafeBytes { y in
          let c = x.isEmpty || y.isEmpty ? 0 : memcmp(x.baseAddress!, y.baseAddress!, min(x.count, y.count))
          return c != 0 ? c < 0 : x.count < y.count
        }
      }
    }
    try db.execute(
      """
      CREATE TEMP TABLE IF NOT EXISTS late_clicks(id TEXT PRIMARY KEY, key INTEGER NOT NULL) WITHOUT ROWID;
      DELETE FROM temp.late_clicks;
      """)
    let insert = try db.prepare("INSERT OR IGNORE INTO temp.late_clicks(id, key) VALUES (?, ?)")
    for row in rows {
      insert.reset()
      row.id.withUnsafeBytes { insert.bindText(1, $0) }
      insert.bind(2, row.key)
      try insert.step()
    }
    insert.reset()
    // Only the ids a staged conversion is waiting for (the key filter let others through).
    try db.execute(
      """
      DELETE FROM temp.late_clicks
      WHERE NOT EXISTS (SELECT 1 FROM pending_click_refs p WHERE p.click_id = late_clicks.id)
      """)
    try conversionHours.markConversionsNamingLateClicks(in: &dirty)
    try db.execute(
      "DELETE FROM pending_click_refs WHERE click_id IN (SELECT id FROM temp.late_clicks); DROP TABLE temp.late_clicks;")
  }

  /// Writes the collected `click_index` entries.
  private func writeClickIndex() throws(DatabaseError) {
    try clickIndex.flush()
    fileFirstClick = 0
  }

}
