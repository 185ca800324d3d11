/// Schema version 7's data step: the staged views and clicks of an older database become
/// segments of today's format (``EventSegment`` with its ids in ``EventIDColumn``), their
/// clicks go into `click_index` (whose hash changed), and conversions become
/// unique by `event_id` across days (CONTRACT §3), keeping the earliest copy by `ts`.
///
/// The rows come from `views` and `clicks` (a database of version 5 or older) or from the
/// version-6 segments (`segments_v6`, format "CPS1"); one segment per file, kind and UTC day,
/// in their stored order, as ingest writes them.
enum EventStoreMigration {
  static func run(_ db: SQLiteDatabase) throws {
    // Where the dropped rows go since version 14; today's readers and writers expect it.
    try db.execute(Schema.createSegmentDropped)
    let segments = try SegmentWriter(db: db)
    let clickIndex = try ClickIndexWriter(db: db)
    let keys = try EventKeys(db: db)
    let compressor = ZstdCompressor()
    var scratch = ColumnWriter()
    var nextSegmentID: Int64 = 1
    var dirty = DirtyHours()
    // The click index is written anew: its hash changed.
    try db.execute("DELETE FROM click_index")

    /// Writes one file's rows of one kind, in order, as segments.
    func stage(kind: EventKind, fileID: Int64, rows: [Row]) throws {
      var open: [Int64: EventSegmentBuilder] = [:]
      func flush(_ day: Int64) throws {
        guard let builder = open.removeValue(forKey: day) else { return }
        let segment = builder.finish(scratch: &scratch, compressor: compressor)
        try segments.write(segment, id: nextSegmentID, fileID: fileID)
        try keys.add(segment.hashes, day: day, segmentID: nextSegmentID)
        if kind == .click {
          for hash in segment.hashes { clickIndex.add(hash: hash, day: day) }
          if clickIndex.count > ClickIndexWriter.entriesInMemory { try clickIndex.flush() }
        }
        nextSegmentID += 1
      }
      for row in rows {
        let day = utcDay(ofMilliseconds: row.ts)
        let builder: EventSegmentBuilder
        if let known = open[day] {
          builder = known
        } else {
          builder = EventSegmentBuilder(kind: kind)
          builder.start(day: day)
          open[day] = builder
        }
        row.withView(kind: kind) { builder.append($0) }
        if builder.isFull { try flush(day) }
      }
      for day in open.keys.sorted() { try flush(day) }
    }

    // A version-5 database: the rows of `views` and `clicks`.
    if try tableExists(db, "views") {
      for (kind, table, rowid) in [(EventKind.view, "views", "view_id"), (.click, "clicks", "click_row")] {
        let select = try db.prepare(
          """
          SELECT t.event_id, t.ts, t.creator_id, t.placement, t.viewer_id, t.product_id, t.platform, t.store,
            coalesce(u.user_agent, ''), t.file_id, t.line
          FROM \(table) t LEFT JOIN user_agents u ON u.ua_id = t.ua_id ORDER BY t.file_id, t.\(rowid)
          """)
        var fileID: Int64 = -1
        var rows: [Row] = []
        while try select.step() {
          if select.int(9) != fileID {
            try stage(kind: kind, fileID: fileID, rows: rows)
            rows.removeAll()
            fileID = select.int(9)
          }
          rows.append(
            Row(
              eventID: select.text(0), ts: select.int(1), line: Int(select.int(10)), creator: select.text(2),
              placement: select.text(3), viewer: select.text(4), product: select.text(5), platform: select.text(6),
              store: select.text(7), userAgent: select.text(8)))
        }
        try stage(kind: kind, fileID: fileID, rows: rows)
      }
    }
    // A version-6 database: its segments, in their order.
    if try tableExists(db, "segments_v6") {
      let select = try db.prepare("SELECT kind, file_id, data FROM segments_v6 ORDER BY segment_id")
      while try select.step() {
        let kind = EventKind(rawValue: Int(select.int(0))) ?? .view
        let old = try SegmentV6(stored: select.blob(2))
        try stage(kind: kind, fileID: select.int(1), rows: old.rows)
      }
    }
    // Every day checked for duplicates as ingest would.
    var dropped: [Int64: [Int]] = [:]
    try clickIndex.flush()
    for ref in try keys.finish(reader: try SegmentReader(db: db)) { dropped[ref.segmentID, default: []].append(ref.row) }
    for (segmentID, rows) in dropped { try DroppedRows.write(rows, of: segmentID, to: db) }
    // Conversions: their integer keys and indexes, then one per event id, the earliest by ts
    // (then the first staged).
    let keyed = try db.prepare("UPDATE conversions SET event_key = ?, order_key = ?, click_key = ? WHERE conversion_row = ?")
    for row in try db.rows("SELECT conversion_row, event_id, platform, order_id, click_id FROM conversions") {
      try keyed.run([
        .int(ConversionKeys.event(row[1].textValue)),
        .int(ConversionKeys.order(platform: row[2].textValue, orderID: row[3].textValue)),
        .int(ConversionKeys.click(row[4].textValue)), row[0],
      ])
    }
    try db.execute(Schema.conversionKeyIndexes)
    let later = try db.rows(
      """
      SELECT c.conversion_row, c.ts, (SELECT min(o.ts) FROM conversions o WHERE o.event_key = c.event_key AND o.event_id = c.event_id)
      FROM conversions c
      WHERE EXISTS (SELECT 1 FROM conversions o WHERE o.event_key = c.event_key AND o.event_id = c.event_id
        AND (o.ts < c.ts OR (o.ts = c.ts AND o.conversion_row < c.conversion_row)))
      """)
    for row in later {
      try db.run("DELETE FROM conversions WHERE conversion_row = ?", [row[0]])
      dirty.mark(row[1].intValue)
      dirty.mark(row[2].intValue)
    }
    try dirty.write(to: db)
  }

  private static func tableExists(_ db: SQLiteDatabase, _ name: String) throws -> Bool {
    try db.scalarInt("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", [.text(name)]) == 1
  }

  /// One view or click as an older version stored it.
  struct Row {
    var eventID: String
    var ts: Int64
    var line: Int
    var creator: String
    var placement: String
    var viewer: String
    var product: String
    var platform: String
    var store: String
    var userAgent: String
    var post = ""

    /// Calls `body` with the row as a validated event.
    func withView(kind: EventKind, _ body: (EventView) -> Void) {
      // One buffer holds every value; the view's fields point into it.
      let values = [eventID, creator, viewer, product, store, userAgent, post]
      var bytes: [UInt8] = []
      var ranges: [Range<Int>] = []
      for value in values {
        let start = bytes.count
        bytes.append(contentsOf: value.utf8)
        ranges.append(start..<bytes.count)
      }
      bytes.withUnsafeBytes { all in
        func part(_ index: Int) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: all[ranges[index]]) }
        var view = EventView(kind: kind, eventID: part(0), ts: ts, line: line)
        view.creatorID = part(1)
        view.placement = placement == "post" ? .post : .bio
        view.viewerID = part(2)
        view.productID = part(3)
        view.platform = Platform(platform)
        view.store = part(4)
        view.userAgent = part(5)
        view.postID = part(6)
        body(view)
      }
    }
  }

  /// A segment of schema version 6 ("CPS1"), read to be rewritten: the magic as four varints,
  /// rows, ts and line as zig-zag deltas, the ids, then seven dictionary columns (creator,
  /// placement, platform, store, product, viewer, user agent).
  struct SegmentV6 {
    private(set) var rows: [Row] = []

    init(stored frame: UnsafeRawBufferPointer) throws {
      let payload = try Zstd.decompress(frame)
      var decoded: [Row] = []
      var failure: (any Error)?
      payload.withUnsafeBytes { bytes in
        do {
          var r = ColumnReader(bytes)
          for byte in Array("CPS1".utf8) { guard try r.varint() == UInt64(byte) else { throw ColumnReader.Corrupt() } }
          let count = try r.count(limit: EventSegment.maxRows)
          var ts: [Int64] = []
          var t: Int64 = 0
          for _ in 0..<count {
            t &+= try r.signed()
            ts.append(t)
          }
          var lines: [Int64] = []
          var line: Int64 = 0
          for _ in 0..<count {
            line &+= try r.signed()
            lines.append(line)
          }
          let ids = try ByteColumn(reading: &r, count: count)
          var columns: [[String]] = []
          for _ in 0..<7 {
            let size = try r.count(limit: max(count, 1))
            let dictionary = try ByteColumn(reading: &r, count: size)
            var values: [String] = []
            for _ in 0..<count {
              let code = try r.varint()
              guard code < UInt64(size) else { throw ColumnReader.Corrupt() }
              values.append(dictionary.withValue(Int(code)) { String(decoding: $0, as: UTF8.self) })
            }
            columns.append(values)
          }
          guard r.isAtEnd else { throw ColumnReader.Corrupt() }
          for k in 0..<count {
            decoded.append(
              Row(
                eventID: ids.withValue(k) { String(decoding: $0, as: UTF8.self) }, ts: ts[k], line: Int(lines[k]),
                creator: columns[0][k], placement: columns[1][k], viewer: columns[5][k], product: columns[4][k],
                platform: columns[2][k], store: columns[3][k], userAgent: columns[6][k]))
          }
        } catch {
          failure = error
        }
      }
      if let failure { throw failure }
      rows = decoded
    }
  }
}
