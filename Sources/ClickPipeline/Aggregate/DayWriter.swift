import CSQLite

/// Writes the rows ``DayComputer/compute(day:passes:into:)`` spooled for a day into
/// `daily_metrics`, and its orders into `orders`, of the staging database (``StagedWrite``).
final class DayWriter {
  private let insertRow: Statement
  private let insertOrder: Statement

  /// Rows per multi-row `INSERT`: a statement stepped per row cost 1.7-3.0 us a row, 16 rows a
  /// statement about 1.3, and 64 a little less again.
  static let rowsPerStatement = 64
  private let insertRows: Statement

  private let databasePath: String
  private let db: SQLiteDatabase

  init(db: SQLiteDatabase, databasePath: String) throws(DatabaseError) {
    self.databasePath = databasePath
    let schema = StagedWrite.schema
    // An order's kind and rule are spellings of its types (``OrderRow``, ``AttributionRule``),
    // so the writer's statements leave out the table's CHECKs on them: SQLite evaluates
    // `rule IN (four values)` through a temporary table it builds for every row. The setting is read
    // when a statement is prepared, and changing it makes SQLite prepare every statement
    // again: it stays on until ``finish()``.
    self.db = db
    try db.execute("PRAGMA ignore_check_constraints = ON")
    insertOrder = try db.prepare(Self.insertOrderSQL)
    let columns = "day, creator_id, placement, platform, store, product_id, \(MetricsRow.columnNames.joined(separator: ", "))"
    // Every row's day is parameter 1, bound once per day; row `slot`'s others follow from 2.
    func values(_ slot: Int) -> String {
      "(?1" + (0..<Self.perRow).map { ",?\(2 + slot * Self.perRow + $0)" }.joined() + ")"
    }
    insertRow = try db.prepare("INSERT INTO \(schema).daily_metrics(\(columns)) VALUES \(values(0))")
    insertRows = try db.prepare(
      "INSERT INTO \(schema).daily_metrics(\(columns)) VALUES "
        + (0..<Self.rowsPerStatement).map(values).joined(separator: ","))
  }

  /// Writes the `daily_metrics` rows and the `orders` of the day `dayText` that the merges
  /// yield: rows in primary-key order, so the B-trees are appended to, a chunk at a time.
  func write(dayText: String, rows: inout SortedRunMerge, orders: inout SortedRunMerge) throws {
    var chunk: [UInt8] = []
    func flush(_ insert: (String, [UInt8]) throws(DatabaseError) -> Void) throws(PipelineError) {
      do {
        try insert(dayText, chunk)
      } catch {
        throw PipelineError(error, databasePath: databasePath)
      }
      chunk.removeAll(keepingCapacity: true)
    }
    try rows.forEach { record in
      chunk.append(contentsOf: record)
      if chunk.count >= Self.chunkBytes { try flush(writeRows) }
    }
    try flush(writeRows)
    try orders.forEach { record in
      chunk.append(contentsOf: record)
      if chunk.count >= Self.chunkBytes { try flush(writeOrders) }
    }
    try flush(writeOrders)
  }

  /// Inserts one `orders` row into the staging database.
  static let insertOrderSQL =
    "INSERT INTO \(StagedWrite.schema).orders(day, \(OrderRow.columns.joined(separator: ", "))) VALUES (?\(String(repeating: ",?", count: OrderRow.columns.count)))"

  /// Ends the writing: the connection checks constraints again.
  func finish() throws(DatabaseError) {
    try db.execute("PRAGMA ignore_check_constraints = OFF")
  }

  /// Bytes of rows bound and inserted at a time.
  static let chunkBytes = 256 << 10

  /// Record `a` comes before `b` in `daily_metrics`' primary key within a day: records are a
  /// key's length, the key (``ByteKeyBuilder`` parts: the five dimensions), then the metrics.
  static func rowPrecedes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    func key(_ r: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
      UnsafeRawBufferPointer(rebasing: r[4..<4 + Int(r.loadUnaligned(as: UInt32.self))])
    }
    return ByteKeyBuilder.precedes(key(a), key(b))
  }

  /// Parameters of a row besides its day: the five dimensions and the metrics.
  private static let perRow = 5 + MetricsRow.columnNames.count

  /// Inserts the serialized `rows` of the day `dayText`.
  private func writeRows(dayText: String, rows: [UInt8]) throws(DatabaseError) {
    var day = dayText
    // Rows come in primary-key order, so the B-tree is appended to.
    let rc: Int32 = day.withUTF8 { day in
      rows.withUnsafeBytes { rows in
        for statement in [insertRow, insertRows] { statement.bindText(1, UnsafeRawBufferPointer(day)) }
        var offset = 0
        var pending = 0
        var statement = insertRows
        /// Binds the row at `offset` as row `slot` of `statement`.
        func bindRow(_ slot: Int) {
          let base = Int32(1 + slot * Self.perRow)
          let n = Int(rows.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
          offset += 4
          var column = base + 1
          ByteKeyBuilder.forEachPart(of: UnsafeRawBufferPointer(rebasing: rows[offset..<offset + n])) { part in
            statement.bindText(column, part)  // the five dimensions
            column += 1
          }
          offset += n
          for metric in 0..<MetricsRow.columnNames.count {
            statement.bind(base + 6 + Int32(metric), Int64(littleEndian: rows.loadUnaligned(fromByteOffset: offset, as: Int64.self)))
            offset += 8
          }
        }
        // Whole statements of `rowsPerStatement` rows, then one row at a time.
        var remaining = Self.count(rows)
        while remaining > 0 {
          statement = remaining >= Self.rowsPerStatement ? insertRows : insertRow
          pending = statement === insertRows ? Self.rowsPerStatement : 1
          statement.reset()
          for slot in 0..<pending { bindRow(slot) }
          let rc = statement.stepCode()
          guard rc == SQLITE_DONE else { return rc }
          remaining -= pending
        }
        return SQLITE_DONE
      }
    }
    insertRow.reset()
    insertRows.reset()
    guard rc == SQLITE_DONE else { throw insertRow.database.error(rc, sql: insertRows.sql) }
  }

  /// The number of serialized rows in `rows`.
  private static func count(_ rows: UnsafeRawBufferPointer) -> Int {
    var offset = 0
    var n = 0
    while offset < rows.count {
      offset += 4 + Int(rows.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) + 8 * MetricsRow.columnNames.count
      n += 1
    }
    return n
  }

  /// Inserts the serialized `orders` (``OrderRow``) of the day `dayText`.
  private func writeOrders(dayText: String, orders: [UInt8]) throws(DatabaseError) {
    let s = insertOrder
    var failure: Int32 = SQLITE_DONE
    var day = dayText
    day.withUTF8 { day in
      orders.withUnsafeBytes { bytes in
        s.bindText(1, UnsafeRawBufferPointer(day))
        OrderRow.decode(
          bytes,
          text: { column, part in
            if column == 0 { s.reset() }
            s.bindText(column + 2, part)
          },
          integer: { column, value in s.bind(column + 2, value) },
          rowDone: {
            if failure == SQLITE_DONE {
              let rc = s.stepCode()
              if rc != SQLITE_DONE { failure = rc }
            }
          })
      }
    }
    s.reset()
    guard failure == SQLITE_DONE else { throw s.database.error(failure, sql: s.sql) }
  }
}
