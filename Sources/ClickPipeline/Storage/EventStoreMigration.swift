/// Schema version 6's data step: the `views` and `clicks` rows of an older database become
/// ``EventSegment``s (one per file, kind and UTC day, as ingest writes them), and every staged
/// event id, conversions' included, goes into the day partitions of ``EventKeys``.
enum EventStoreMigration {
  static func run(_ db: SQLiteDatabase) throws {
    let keys = try EventKeys(db: db)
    let insert = try db.prepare(
      "INSERT INTO segments(segment_id, kind, day, file_id, rows, min_ts, max_ts, data) VALUES (?,?,?,?,?,?,?,?)")
    var nextSegmentID: Int64 = 1
    for (kind, table, rowid) in [(EventKind.view, "views", "view_id"), (.click, "clicks", "click_row")] {
      let rows = try db.prepare(
        """
        SELECT t.event_id, t.ts, t.creator_id, t.placement, t.viewer_id, t.product_id, t.platform, t.store,
          coalesce(u.user_agent, ''), t.file_id, t.line
        FROM \(table) t LEFT JOIN user_agents u ON u.ua_id = t.ua_id ORDER BY t.file_id, t.\(rowid)
        """)
      var open: [Int64: EventSegmentBuilder] = [:]
      var fileID: Int64 = -1
      func flush(_ day: Int64) throws(DatabaseError) {
        guard let builder = open.removeValue(forKey: day) else { return }
        try insert.run([
          .int(builder.segmentID), .int(Int64(kind.rawValue)), .int(day), .int(fileID), .int(Int64(builder.count)),
          .int(builder.ts.min() ?? 0), .int(builder.ts.max() ?? 0), .blob(builder.encoded()),
        ])
      }
      while try rows.step() {
        if rows.int(9) != fileID {
          for day in open.keys.sorted() { try flush(day) }
          fileID = rows.int(9)
        }
        var event = Event(kind: kind, eventID: rows.text(0), ts: rows.int(1))
        event.creatorID = rows.text(2)
        event.placement = rows.text(3)
        event.viewerID = rows.text(4)
        event.productID = rows.text(5)
        event.platform = rows.text(6)
        event.store = rows.text(7)
        event.userAgent = rows.text(8)
        event.line = Int(rows.int(10))
        let day = utcDay(ofMilliseconds: event.ts)
        if open[day] == nil {
          open[day] = EventSegmentBuilder(kind: kind, day: day, segmentID: nextSegmentID)
          nextSegmentID += 1
        }
        let row = open[day]!.append(event)
        keys.add(
          hash: UInt64(bitPattern: event.eventKey), day: day,
          ref: EventRef(kind: kind, segmentID: open[day]!.segmentID, row: row))
        if open[day]!.isFull { try flush(day) }
      }
      for day in open.keys.sorted() { try flush(day) }
      rows.reset()
    }
    let conversions = try db.prepare("SELECT conversion_row, event_id, ts FROM conversions")
    while try conversions.step() {
      keys.add(
        hash: UInt64(bitPattern: EventKeyHash.key(conversions.bytes(1))), day: utcDay(ofMilliseconds: conversions.int(2)),
        ref: EventRef(conversionRow: conversions.int(0)))
    }
    conversions.reset()
    try keys.write()
  }
}
