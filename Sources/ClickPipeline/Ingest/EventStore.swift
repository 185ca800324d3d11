import CSQLite

#if canImport(Glibc)
  import Glibc
#endif

/// Stages validated events, one file at a time inside the run's transaction.
///
/// Input: ``Event``s and ``RejectedLine``s of one file between ``beginFile(id:)`` and
/// ``commitFile()``. Output: views and clicks as columnar ``EventSegment``s (one per kind and
/// UTC day of the file, up to ``EventSegment/maxRows`` rows each), conversions as rows of
/// `conversions`, every event id in ``EventKeys`` (deduplication, CONTRACT §3), `rejects`,
/// and the hours that `aggregate` must recompute in `dirty_hours` (see docs/DESIGN.md,
/// "Incremental aggregation").
final class EventStore {
  private let db: SQLiteDatabase
  private let keys: EventKeys
  private let segments: SegmentReader
  private let insertSegment: Statement
  private let insertConversion: Statement
  private let conversionID: Statement
  private let conversionsOfOrder: Statement
  private let conversionsOfClick: Statement
  private let insertPending: Statement
  private let deletePending: Statement
  private let insertReject: Statement

  private var nextConversionRow: Int64
  private var nextSegmentID: Int64
  /// The file's open segments: views [0] and clicks [1], by UTC day.
  private var open: [[Int64: EventSegmentBuilder]] = [[:], [:]]
  /// Segment id → the open segments, to read back a row's id.
  private var openIDs: [Int64: EventSegmentBuilder] = [:]
  /// The open segment written last, per kind: events come in runs of the same day.
  private var lastOpen: [EventSegmentBuilder?] = [nil, nil]
  /// The keys (``EventKeyHash``) of the click ids in `pending_click_refs`, named by staged
  /// conversions whose click has not arrived yet: most clicks are ruled out without a query,
  /// at 4 bytes per pending id instead of the id itself (the table grows with the history).
  private var pendingClicks: KeyFilter
  /// What `aggregate` must recompute because of the file being staged.
  private var dirty = DirtyHours()
  private var fileID: Int64 = 0
  /// Orders (platform, order id) whose staged conversions this run has marked already: later
  /// copies only add their own hour, so N retries of one order cost N, not N².
  private var markedOrders = Set<[UInt8]>()
  /// Segments written so far by this run.
  private(set) var segmentsWritten = 0

  /// The per-event lookups into `conversions`: the conversions of an order, and those that
  /// name a click. Each must be an index search (a test checks the plans): `click_id <> ''`
  /// lets SQLite use the partial index `conversions_by_click`; without it, every late click
  /// scanned the whole table.
  static let lookups = [
    "SELECT ts FROM conversions WHERE platform = ? AND order_id = ?",
    "SELECT ts FROM conversions WHERE click_id = ? AND click_id <> ''",
  ]

  init(db: SQLiteDatabase) throws(DatabaseError) {
    self.db = db
    keys = try EventKeys(db: db)
    segments = try SegmentReader(db: db, cacheSize: 4)
    insertSegment = try db.prepare(
      "INSERT INTO segments(segment_id, kind, day, file_id, rows, min_ts, max_ts, data) VALUES (?,?,?,?,?,?,?,?)")
    insertConversion = try db.prepare(
      """
      INSERT INTO conversions(conversion_row, event_id, ts, viewer_id, product_id, platform, store,
        order_id, click_id, quantity, amount, currency, refunded, file_id, line)
      VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
      """)
    conversionID = try db.prepare("SELECT event_id FROM conversions WHERE conversion_row = ?")
    conversionsOfOrder = try db.prepare(Self.lookups[0])
    conversionsOfClick = try db.prepare(Self.lookups[1])
    insertPending = try db.prepare("INSERT OR IGNORE INTO pending_click_refs(click_id) VALUES (?)")
    deletePending = try db.prepare("DELETE FROM pending_click_refs WHERE click_id = ?")
    insertReject = try db.prepare(
      "INSERT INTO rejects(file_id, run_id, path, line, reason, raw) VALUES (?,?,?,?,?,?)")
    nextConversionRow = (try db.scalarInt("SELECT max(conversion_row) FROM conversions") ?? 0) + 1
    nextSegmentID = (try db.scalarInt("SELECT max(segment_id) FROM segments") ?? 0) + 1
    let pending = try db.scalarInt("SELECT count(*) FROM pending_click_refs") ?? 0
    pendingClicks = KeyFilter(capacity: Int(pending) * 2 + 4096)
    let refs = try db.prepare("SELECT click_id FROM pending_click_refs")
    while try refs.step() { pendingClicks.insert(EventKeyHash.key(refs.bytes(0))) }
    refs.reset()
  }

  // MARK: - Files

  /// Starts staging the file with this id. Files are only staged once they are known to be
  /// readable whole (see ``ParallelParse``), so there is nothing to take back per file.
  func beginFile(id: Int64) {
    fileID = id
    dirty = DirtyHours()
  }

  /// Files what this file staged so far (segments, conversions, rejects) under `owner`
  /// instead, and what it stages from now on.
  func moveFile(to owner: Int64) throws(DatabaseError) {
    for table in ["segments", "conversions", "rejects"] {
      try db.run("UPDATE \(table) SET file_id = ? WHERE file_id = ?", [.int(owner), .int(fileID)])
    }
    fileID = owner
  }

  /// Writes the file's open segments and records the hours its events touched, for `aggregate`.
  func commitFile() throws(DatabaseError) {
    for kind in open.indices {
      for day in open[kind].keys.sorted() { try flush(kind: kind, day: day) }
    }
    try dirty.write(to: db)
  }

  /// Writes the run's event keys; call before committing the run.
  func finish() throws(DatabaseError) {
    try keys.write()
  }

  // MARK: - Rows

  func reject(_ rejected: RejectedLine, runID: Int64, path: String) throws(DatabaseError) {
    let s = insertReject
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

  /// Stages `event` unless its id was seen before; returns `false` for a duplicate.
  func write(_ event: Event) throws(DatabaseError) -> Bool {
    let hash = UInt64(bitPattern: event.eventKey)
    let day = utcDay(ofMilliseconds: event.ts)
    // The closure captures the id alone: capturing `event` copied the whole struct per event.
    let id = event.eventID
    guard try keys.find(hash: hash, day: day, verify: { ref throws(DatabaseError) in try isEvent(ref, id) }) == nil
    else { return false }
    if event.kind == .conversion {
      let row = nextConversionRow
      nextConversionRow += 1
      keys.add(hash: hash, day: day, ref: EventRef(conversionRow: row))
      dirty.mark(event.ts)
      try writeConversion(event, row: row)
      return true
    }
    let kind = event.kind.rawValue
    let builder = openSegment(kind: kind, day: day)
    let row = builder.append(event)
    keys.add(hash: hash, day: day, ref: EventRef(kind: event.kind, segmentID: builder.segmentID, row: row))
    if builder.isFull { try flush(kind: kind, day: day) }
    dirty.mark(event.ts, click: event.kind == .click ? Platform(event.platform) : nil)
    if event.kind == .click, pendingClicks.mayContain(event.eventKey) {
      try deletePending.run([.text(event.eventID)])
      if sqlite3_changes(db.handle) > 0 { try markConversions(conversionsOfClick, [.text(event.eventID)]) }
    }
    return true
  }

  private func writeConversion(_ event: Event, row: Int64) throws(DatabaseError) {
      let s = insertConversion
      s.reset()
      s.bind(1, row)
      s.bind(2, event.eventID)
      s.bind(3, event.ts)
      s.bind(4, event.viewerID)
      s.bind(5, event.productID)
      s.bind(6, event.platform)
      s.bind(7, event.store)
      s.bind(8, event.orderID)
      s.bind(9, event.clickID)
      s.bind(10, event.quantity)
      s.bind(11, event.amount.description)
      s.bind(12, event.currency)
      s.bind(13, event.isRefund ? 1 : 0)
      s.bind(14, fileID)
      s.bind(15, event.line)
      try s.step()
      // Orders and refunds of the same order share attribution and deduplication: recompute them all.
      var order = ByteKeyBuilder()
      order.append(event.platform)
      order.append(event.orderID)
      if markedOrders.insert(order.bytes).inserted {
        try markConversions(conversionsOfOrder, [.text(event.platform), .text(event.orderID)])
      }
      if !event.clickID.isEmpty, try !isStagedClick(event.clickID) {
        pendingClicks.insert(EventKeyHash.key(event.clickID))
        try insertPending.run([.text(event.clickID)])
      }
  }

  // MARK: - Helpers

  /// The open segment of `kind` (0 views, 1 clicks) on `day`, made if there is none.
  private func openSegment(kind: Int, day: Int64) -> EventSegmentBuilder {
    if let last = lastOpen[kind], last.day == day { return last }
    let builder: EventSegmentBuilder
    if let known = open[kind][day] {
      builder = known
    } else {
      builder = EventSegmentBuilder(kind: EventKind(rawValue: kind)!, day: day, segmentID: nextSegmentID)
      nextSegmentID += 1
      open[kind][day] = builder
      openIDs[builder.segmentID] = builder
    }
    lastOpen[kind] = builder
    return builder
  }

  /// Writes the open segment of `kind` (0 views, 1 clicks) on `day`.
  private func flush(kind: Int, day: Int64) throws(DatabaseError) {
    guard let builder = open[kind].removeValue(forKey: day) else { return }
    openIDs[builder.segmentID] = nil
    if lastOpen[kind] === builder { lastOpen[kind] = nil }
    let s = insertSegment
    s.reset()
    s.bind(1, builder.segmentID)
    s.bind(2, Int64(kind))
    s.bind(3, day)
    s.bind(4, fileID)
    s.bind(5, Int64(builder.count))
    s.bind(6, builder.ts.min() ?? 0)
    s.bind(7, builder.ts.max() ?? 0)
    s.bindBlob(8, builder.encoded())
    try s.step()
    s.reset()
    segmentsWritten += 1
    StopPoint.reached(.ingestSegmentWritten)
  }

  /// Whether the staged event at `ref` has the id `id`.
  private func isEvent(_ ref: EventRef, _ id: String) throws(DatabaseError) -> Bool {
    if ref.kind == .conversion {
      conversionID.reset()
      defer { conversionID.reset() }
      conversionID.bind(1, ref.conversionRow)
      guard try conversionID.step() else { return false }
      return Self.sameBytes(conversionID.bytes(0), id)
    }
    if let builder = openIDs[ref.segmentID] {
      guard ref.row < builder.count else { return false }
      return builder.ids.withValue(ref.row) { Self.sameBytes($0, id) }
    }
    let segment = try segments.load(ref.segmentID)
    guard ref.row < segment.count else { return false }
    return segment.ids.withValue(ref.row) { Self.sameBytes($0, id) }
  }

  static func sameBytes(_ bytes: UnsafeRawBufferPointer, _ id: String) -> Bool {
    var id = id
    return id.withUTF8 { $0.count == bytes.count && (bytes.isEmpty || memcmp($0.baseAddress!, bytes.baseAddress!, bytes.count) == 0) }
  }

  /// Whether a click with this event id is staged.
  private func isStagedClick(_ id: String) throws(DatabaseError) -> Bool {
    try keys.findClick(hash: UInt64(bitPattern: EventKeyHash.key(id))) { ref throws(DatabaseError) in try isEvent(ref, id) } != nil
  }

  private func markConversions(_ statement: Statement, _ arguments: [SQLValue]) throws(DatabaseError) {
    statement.reset()
    try statement.bind(arguments)
    while try statement.step() { dirty.mark(statement.int(0)) }
    statement.reset()
  }

}
