extension DirtyHours {
  /// The other conversions a changed event makes aggregate recompute, found by index searches
  /// (a test checks the plans): every conversion of an order whose copy changed (another copy
  /// may become the kept one, its refunds lose or find their order), and the conversions that
  /// name a changed click by id (they fall back to, or win back, rule 1). Forgetting a file
  /// asks per event; ingest asks in bulk, for a range of newly staged conversion rows and for
  /// the late clicks of a run.
  struct ConversionHours {
    static let ofOrderSQL = "SELECT ts FROM conversions WHERE order_key = ? AND platform = ? AND order_id = ?"
    static let namingClickSQL = "SELECT ts FROM conversions WHERE click_key = ? AND click_key <> 0 AND click_id = ?"
    /// The per-event lookups (``ofOrderSQL``, ``namingClickSQL``).
    static let perEventSQL = [ofOrderSQL, namingClickSQL]

    /// The hours of every conversion of the orders of conversion rows `?1..<?2`, each order
    /// once: joining row to row made N copies of one order cost N². The rows' own hours come
    /// from the rows in place; the other rows of their orders from `conversions_by_order`,
    /// whose entries carry the row number, so a row of the range is passed over without
    /// reading it (most orders have no other row). Matched on the key alone: a key collision
    /// only marks an hour too many.
    static let ordersOfRowsSQL = """
      SELECT ts / 3600000 FROM conversions WHERE conversion_row >= ?1 AND conversion_row < ?2
      UNION
      SELECT c.ts / 3600000 FROM conversions c
      WHERE c.order_key IN (SELECT order_key FROM conversions WHERE conversion_row >= ?1 AND conversion_row < ?2)
        AND (c.conversion_row < ?1 OR c.conversion_row >= ?2)
      """

    /// The hours of the conversions that name the clicks in `temp.late_clicks` (`id`, `key`),
    /// read from the index alone (a test checks the plan).
    static let lateClicksSQL = """
      SELECT DISTINCT c.ts / 3600000 FROM temp.late_clicks l
      JOIN conversions c INDEXED BY conversions_by_click ON c.click_key = l.key AND c.click_key <> 0
      """

    private let db: SQLiteDatabase
    private let ofOrder: Statement
    private let namingClick: Statement
    private let ordersOfRows: Statement

    init(db: SQLiteDatabase) throws(DatabaseError) {
      self.db = db
      ofOrder = try db.prepare(Self.ofOrderSQL)
      namingClick = try db.prepare(Self.namingClickSQL)
      ordersOfRows = try db.prepare(Self.ordersOfRowsSQL)
    }

    /// Marks the hours of every conversion of the orders of conversion rows `rows`.
    func markOrders(ofRows rows: Range<Int64>, in dirty: inout DirtyHours) throws(DatabaseError) {
      try markHours(ordersOfRows, [.int(rows.lowerBound), .int(rows.upperBound)], &dirty)
    }

    /// Marks the hours of the conversions that name a click of `temp.late_clicks`.
    func markConversionsNamingLateClicks(in dirty: inout DirtyHours) throws(DatabaseError) {
      try markHours(try db.prepare(Self.lateClicksSQL), [], &dirty)
    }

    /// Marks the hours of every conversion of the order.
    func markOrder(platform: String, orderID: String, in dirty: inout DirtyHours) throws(DatabaseError) {
      try mark(ofOrder, [.int(ConversionKeys.order(platform: platform, orderID: orderID)), .text(platform), .text(orderID)], &dirty)
    }

    /// Marks the hours of the conversions that name click `id`; returns whether there were any.
    @discardableResult
    func markConversionsNaming(click id: String, in dirty: inout DirtyHours) throws(DatabaseError) -> Bool {
      try mark(namingClick, [.int(ConversionKeys.click(id)), .text(id)], &dirty) > 0
    }

    private func markHours(_ s: Statement, _ values: [SQLValue], _ dirty: inout DirtyHours) throws(DatabaseError) {
      s.reset()
      defer { s.reset() }
      try s.bind(values)
      while try s.step() { dirty.mark(hour: s.int(0), clickBits: 0) }
    }

    @discardableResult
    private func mark(_ s: Statement, _ values: [SQLValue], _ dirty: inout DirtyHours) throws(DatabaseError) -> Int {
      s.reset()
      defer { s.reset() }
      try s.bind(values)
      var found = 0
      while try s.step() {
        dirty.mark(s.int(0))
        found += 1
      }
      return found
    }
  }
}
