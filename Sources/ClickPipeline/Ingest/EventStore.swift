import CSQLite

/// Stages validated events in SQLite, one file at a time inside the run's transaction.
///
/// Input: ``Event``s and ``RejectedLine``s of one file between ``beginFile(id:)`` and
/// ``commitFile()``. Output: rows in `views`, `clicks`, `conversions`,
/// `event_keys` (global deduplication by event id, CONTRACT §3), `rejects`, and the hours that
/// `aggregate` must recompute in `dirty_hours` (see docs/DESIGN.md, "Incremental aggregation").
final class EventStore {
  private let db: SQLiteDatabase
  private let keys: EventKeyIndex
  private let insertView: Statement
  private let insertClick: Statement
  private let insertConversion: Statement
  private let findUserAgent: Statement
  private let insertUserAgent: Statement
  private let conversionsOfOrder: Statement
  private let conversionsOfClick: Statement
  private let insertPending: Statement
  private let deletePending: Statement
  private let markDirty: Statement
  private let insertReject: Statement

  private var nextRow: [Int64]
  private let arena = BindArena()
  /// Views [0] and clicks [1]: the hour written last and its next free rowid (``HourRowID``).
  private var hourRows: [(hour: Int64, next: Int64)] = [(.min, 0), (.min, 0)]
  /// Views [0] and clicks [1]: the next free rowid of other hours this run wrote to.
  private var nextInHour: [[Int64: Int64]] = [[:], [:]]
  /// Rows stored so far in an hour of views [0] and clicks [1] (``HourRowID``).
  private let rowCounts: [Statement]
  private var userAgents: [String: Int64] = [:]
  /// The keys (``EventKeyHash``) of the click ids in `pending_click_refs`, named by staged
  /// conversions whose click has not arrived yet: most clicks are ruled out without a query,
  /// at 4 bytes per pending id instead of the id itself (the table grows with the history).
  private var pendingClicks: KeyFilter
  /// Hour (ts / 3,600,000) → bit set of click platforms (1 amazon, 2 brand_store) seen in it.
  private var dirtyHours: [Int64: Int64] = [:]
  /// The last hour marked and its bits, to skip the dictionary for the next event.
  private var lastMarked: (hour: Int64, bits: Int64) = (-1, 0)
  private var fileID: Int64 = 0

  init(db: SQLiteDatabase) throws(DatabaseError) {
    self.db = db
    keys = try EventKeyIndex(db: db)
    let columns = "event_id, ts, creator_id, placement, viewer_id, product_id, platform, store, ua_id, file_id, line"
    insertView = try db.prepare("INSERT INTO views(view_id, \(columns)) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)")
    insertClick = try db.prepare("INSERT INTO clicks(click_row, \(columns)) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)")
    insertConversion = try db.prepare(
      """
      INSERT INTO conversions(conversion_row, event_id, ts, viewer_id, product_id, platform, store,
        order_id, click_id, quantity, amount, currency, refunded, file_id, line)
      VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
      """)
    rowCounts = try HourRowID.prepareRowCounts(db)
    findUserAgent = try db.prepare("SELECT ua_id FROM user_agents WHERE user_agent = ?")
    insertUserAgent = try db.prepare("INSERT INTO user_agents(user_agent) VALUES (?)")
    conversionsOfOrder = try db.prepare("SELECT ts FROM conversions WHERE platform = ? AND order_id = ?")
    conversionsOfClick = try db.prepare("SELECT ts FROM conversions WHERE click_id = ?")
    insertPending = try db.prepare("INSERT OR IGNORE INTO pending_click_refs(click_id) VALUES (?)")
    deletePending = try db.prepare("DELETE FROM pending_click_refs WHERE click_id = ?")
    markDirty = try db.prepare(
      """
      INSERT INTO dirty_hours(hour, click_platforms) VALUES (?, ?)
      ON CONFLICT(hour) DO UPDATE SET click_platforms = click_platforms | excluded.click_platforms
      """)
    insertReject = try db.prepare(
      "INSERT INTO rejects(file_id, run_id, path, line, reason, raw) VALUES (?,?,?,?,?,?)")
    nextRow = [
      (try db.scalarInt("SELECT max(view_id) FROM views") ?? 0) + 1,
      (try db.scalarInt("SELECT max(click_row) FROM clicks") ?? 0) + 1,
      (try db.scalarInt("SELECT max(conversion_row) FROM conversions") ?? 0) + 1,
    ]
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
    dirtyHours.removeAll(keepingCapacity: true)
    lastMarked = (-1, 0)
  }

  /// Records the hours the file's events touched, for `aggregate`.
  func commitFile() throws(DatabaseError) {
    for (hour, platforms) in dirtyHours {
      markDirty.reset()
      markDirty.bind(1, hour)
      markDirty.bind(2, platforms)
      try markDirty.step()
    }
    markDirty.reset()
    dirtyHours.removeAll(keepingCapacity: true)
    lastMarked = (-1, 0)
  }

  /// Writes what is still held in memory; call before committing the run.
  func finish() throws(DatabaseError) {
    try keys.flush()
    try keys.settle()
    try keys.persistFilter()
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
    let kind = event.kind.rawValue
    if event.kind == .conversion {
      let row = nextRow[kind]
      guard try keys.claim(event.eventID, key: event.eventKey, kind: kind, row: row) != nil else { return false }
      nextRow[kind] += 1
      markHour(event.ts, clickPlatform: nil)
      try writeConversion(event, row: row)
      return true
    }
    // Views and clicks: rowid = hour << 32 | arrival order within the hour (HourRowID).
    let row = try nextRowInHour(of: event.ts, kind: kind)
    guard try keys.claim(event.eventID, key: event.eventKey, kind: kind, row: row) != nil else { return false }
    hourRows[kind].next += 1
    markHour(event.ts, clickPlatform: event.kind == .click ? event.platform : nil)
    let s = event.kind == .view ? insertView : insertClick
    let userAgent = try userAgentID(event.userAgent)
    s.reset()
    arena.startRow(
      reserving: event.eventID.utf8.count + event.creatorID.utf8.count + event.placement.utf8.count
        + event.viewerID.utf8.count + event.productID.utf8.count + event.platform.utf8.count
        + event.store.utf8.count)
    s.bind(1, row)
    arena.bind(s, 2, event.eventID)
    s.bind(3, event.ts)
    arena.bind(s, 4, event.creatorID)
    arena.bind(s, 5, event.placement)
    arena.bind(s, 6, event.viewerID)
    arena.bind(s, 7, event.productID)
    arena.bind(s, 8, event.platform)
    arena.bind(s, 9, event.store)
    s.bind(10, userAgent)
    s.bind(11, fileID)
    s.bind(12, event.line)
    try s.step()
    s.reset()
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
      try markConversions(conversionsOfOrder, [.text(event.platform), .text(event.orderID)])
      if !event.clickID.isEmpty, try !isStagedClick(event.clickID) {
        pendingClicks.insert(EventKeyHash.key(event.clickID))
        try insertPending.run([.text(event.clickID)])
      }
  }

  // MARK: - Helpers

  /// Whether a click with this event id is staged.
  private func isStagedClick(_ id: String) throws(DatabaseError) -> Bool {
    try keys.find(id)?.kind == EventKind.click.rawValue
  }

  /// The rowid for the next view (`kind` 0) or click (1) at `ts`: after the last row of its hour.
  private func nextRowInHour(of ts: Int64, kind: Int) throws(DatabaseError) -> Int64 {
    let hour = HourRowID.hour(ofMilliseconds: ts)
    if hourRows[kind].hour != hour {
      if hourRows[kind].hour != .min { nextInHour[kind][hourRows[kind].hour] = hourRows[kind].next }
      var next = HourRowID.first(ofHour: hour)
      if let known = nextInHour[kind][hour] {
        next = known
      } else {
        next += try HourRowID.rowsStored(in: hour, rowCounts[kind])
      }
      hourRows[kind] = (hour, next)
    }
    let row = hourRows[kind].next
    guard row < HourRowID.first(ofHour: hour + 1) else {
      throw DatabaseError(
        code: SQLITE_FULL,
        message: "more than \(HourRowID.rowsPerHour) \(kind == 0 ? "views" : "clicks") in the hour at \(hour * HourRowID.millisecondsPerHour) ms; no database can take them")
    }
    return row
  }

  private func markConversions(_ statement: Statement, _ arguments: [SQLValue]) throws(DatabaseError) {
    statement.reset()
    try statement.bind(arguments)
    while try statement.step() { markHour(statement.int(0), clickPlatform: nil) }
    statement.reset()
  }

  private func markHour(_ ts: Int64, clickPlatform: String?) {
    let hour = ts / 3_600_000
    var bits: Int64 = 0
    if let clickPlatform { bits = clickPlatform == "amazon" ? 1 : 2 }
    // Logs come roughly in time order: most events repeat the last hour and its bits.
    if hour == lastMarked.hour && bits & ~lastMarked.bits == 0 { return }
    dirtyHours[hour, default: 0] |= bits
    lastMarked = (hour, dirtyHours[hour] ?? bits)
  }

  private func userAgentID(_ ua: String) throws(DatabaseError) -> Int64 {
    if ua.isEmpty { return 0 }
    if let id = userAgents[ua] { return id }
    findUserAgent.reset()
    findUserAgent.bind(1, ua)
    let id: Int64
    if try findUserAgent.step() {
      id = findUserAgent.int(0)
    } else {
      findUserAgent.reset()
      try insertUserAgent.run([.text(ua)])
      id = db.lastInsertRowID
    }
    findUserAgent.reset()
    if userAgents.count > 100_000 { userAgents.removeAll() }
    userAgents[ua] = id
    return id
  }
}
