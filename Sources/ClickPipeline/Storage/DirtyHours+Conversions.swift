extension DirtyHours {
  /// The other conversions a changed event makes aggregate recompute, found by index searches
  /// (``sql``; a test checks the plans): every conversion of an order whose copy changed (another
  /// copy may become the kept one, its refunds lose or find their order), and the conversions
  /// that name a changed click by id (they fall back to, or win back, rule 1).
  struct ConversionHours {
    /// The lookups, in the order ``init(db:)`` prepares them.
    static let sql = [
      "SELECT ts FROM conversions WHERE order_key = ? AND platform = ? AND order_id = ?",
      "SELECT ts FROM conversions WHERE click_key = ? AND click_key <> 0 AND click_id = ?",
    ]

    private let ofOrder: Statement
    private let namingClick: Statement

    init(db: SQLiteDatabase) throws(DatabaseError) {
      ofOrder = try db.prepare(Self.sql[0])
      namingClick = try db.prepare(Self.sql[1])
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
