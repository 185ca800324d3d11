import CSQLite

/// Writes the rows ``DayComputer/compute(day:passes:emit:)`` produced for a day into `daily_metrics`,
/// and its orders into `orders`.
final class DayWriter {
  private let deleteDay: Statement
  private let insertRow: Statement
  private let deleteOrders: Statement
  private let insertOrder: Statement

  init(db: SQLiteDatabase) throws(DatabaseError) {
    deleteOrders = try db.prepare("DELETE FROM orders WHERE day = ?")
    insertOrder = try db.prepare(
      "INSERT INTO orders(day, \(OrderRow.columns.joined(separator: ", "))) VALUES (?\(String(repeating: ",?", count: OrderRow.columns.count)))")
    deleteDay = try db.prepare("DELETE FROM daily_metrics WHERE day = ?")
    insertRow = try db.prepare(
      """
      INSERT INTO daily_metrics(day, creator_id, placement, platform, store, product_id,
        \(MetricsRow.columnNames.joined(separator: ", ")))
      VALUES (?,?,?,?,?,?\(String(repeating: ",?", count: MetricsRow.columnNames.count)))
      """)
  }

  /// Replaces the rows of the day `dayText` by the serialized `rows`.
  func replace(dayText: String, rows: [UInt8]) throws(DatabaseError) {
    try deleteDay.run([.text(dayText)])
    let s = insertRow
    // Rows come in primary-key order (sorted by the workers), so the B-tree is appended to.
    let rc: Int32 = rows.withUnsafeBytes { rows in
      var offset = 0
      while offset < rows.count {
        let n = Int(rows.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
        offset += 4
        s.reset()
        s.bind(1, dayText)
        var column: Int32 = 2
        ByteKeyBuilder.forEachPart(of: UnsafeRawBufferPointer(rebasing: rows[offset..<offset + n])) { part in
          s.bindText(column, part)  // the five dimensions
          column += 1
        }
        offset += n
        for column in 0..<MetricsRow.columnNames.count {
          s.bind(Int32(7 + column), Int64(littleEndian: rows.loadUnaligned(fromByteOffset: offset, as: Int64.self)))
          offset += 8
        }
        let rc = s.stepCode()
        guard rc == SQLITE_DONE else { return rc }
      }
      return SQLITE_DONE
    }
    s.reset()
    guard rc == SQLITE_DONE else { throw s.database.error(rc, sql: s.sql) }
  }

  /// Replaces the orders of the day `dayText` by the serialized `orders` (``OrderRow``).
  func replaceOrders(dayText: String, orders: [UInt8]) throws(DatabaseError) {
    try deleteOrders.run([.text(dayText)])
    let s = insertOrder
    var failure: Int32 = SQLITE_DONE
    orders.withUnsafeBytes { bytes in
      OrderRow.decode(
        bytes,
        text: { column, part in
          if column == 0 { s.reset(); s.bind(1, dayText) }
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
    s.reset()
    guard failure == SQLITE_DONE else { throw s.database.error(failure, sql: s.sql) }
  }
}
