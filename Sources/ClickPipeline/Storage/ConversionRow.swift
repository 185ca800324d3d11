import CSQLite

/// One row of `conversions`: an ordered conversion or a refund as ingest validated it. The
/// one type that knows the table's columns: ingest binds rows with ``insertSQL`` and
/// ``bind(_:row:ts:platform:quantity:refunded:fileID:line:keys:text:)``, aggregate and
/// attribution read them with ``columns`` and ``init(_:from:)``, by name, never by a position
/// spelled elsewhere.
struct ConversionRow: Equatable {
  var eventID: String
  var ts: Int64
  var viewerID: String
  var productID: String
  var platform: Platform
  var store: String
  var orderID: String
  var clickID: String
  var quantity: Int64
  /// The exact decimal amount, as stored (trailing zeros dropped).
  var amount: String
  var currency: String
  var refunded: Bool
  /// Where it came from.
  var fileID: Int64 = 0
  var line: Int64 = 0

  /// The columns a reader selects, in the order ``init(_:from:)`` reads them.
  static let columns = [
    "event_id", "ts", "viewer_id", "product_id", "platform", "store", "order_id", "click_id", "quantity", "amount",
    "currency", "refunded",
  ]

  /// Where `event_id` and `ts` are among ``columns``.
  static let eventIDColumn = Int32(columns.firstIndex(of: "event_id")!)
  static let tsColumn = Int32(columns.firstIndex(of: "ts")!)

  /// Every stored column: ``columns``, the source, the row number and the integer keys
  /// (``ConversionKeys``).
  static let insertSQL = """
    INSERT INTO conversions(conversion_row, \(columns.joined(separator: ", ")), file_id, line, event_key, order_key, click_key)
    VALUES (?\(String(repeating: ",?", count: columns.count + 5)))
    """

  init(
    eventID: String, ts: Int64, viewerID: String, productID: String, platform: Platform, store: String, orderID: String,
    clickID: String, quantity: Int64, amount: String, currency: String, refunded: Bool
  ) {
    (self.eventID, self.ts, self.viewerID, self.productID) = (eventID, ts, viewerID, productID)
    (self.platform, self.store, self.orderID, self.clickID) = (platform, store, orderID, clickID)
    (self.quantity, self.amount, self.currency, self.refunded) = (quantity, amount, currency, refunded)
  }

  /// The ``columns`` of the current row of `s`, starting at column `offset`; a platform that
  /// names none (a database edited by hand) is an error, never another platform's rules.
  init(_ s: Statement, from offset: Int32 = 0) throws(DatabaseError) {
    guard let platform = Platform(s.text(offset + 4)) else {
      throw DatabaseError(
        code: SQLITE_CORRUPT,
        message:
          "conversion \(s.text(offset)) has the platform \"\(s.text(offset + 4))\", which is not one of \(Platform.allCases.map(\.rawValue).joined(separator: ", ")); restore the database from a backup"
      )
    }
    self.init(
      eventID: s.text(offset), ts: s.int(offset + 1), viewerID: s.text(offset + 2), productID: s.text(offset + 3),
      platform: platform, store: s.text(offset + 5), orderID: s.text(offset + 6), clickID: s.text(offset + 7),
      quantity: s.int(offset + 8), amount: s.text(offset + 9), currency: s.text(offset + 10), refunded: s.int(offset + 11) != 0)
  }

  /// The text columns, as ``bind(_:row:ts:platform:quantity:refunded:fileID:line:keys:text:)``
  /// asks for them (ingest's ``StagedConversions`` holds them as bytes).
  enum Text: Int, CaseIterable {
    case eventID, viewerID, productID, store, orderID, clickID, amount, currency
  }

  /// Binds a row given by its parts to ``insertSQL`` as row `row`: the one place that knows
  /// the statement's parameters. `text` binds a text column to the parameter it is given.
  static func bind(
    _ s: Statement, row: Int64, ts: Int64, platform: Platform, quantity: Int64, refunded: Bool, fileID: Int64, line: Int64,
    keys: (event: Int64, order: Int64, click: Int64), text: (Int32, Text) -> Void
  ) {
    s.bind(1, row)
    text(2, .eventID)
    s.bind(3, ts)
    text(4, .viewerID)
    text(5, .productID)
    s.bind(6, platform.rawValue)
    text(7, .store)
    text(8, .orderID)
    text(9, .clickID)
    s.bind(10, quantity)
    text(11, .amount)
    text(12, .currency)
    s.bind(13, refunded ? 1 : 0)
    s.bind(14, fileID)
    s.bind(15, line)
    s.bind(16, keys.event)
    s.bind(17, keys.order)
    s.bind(18, keys.click)
  }
}
