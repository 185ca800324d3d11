import Testing

@testable import ClickPipeline

/// `conversions` is written and read through one type (``ConversionRow``): a conversion staged
/// as ingest stages it (``StagedConversions``) reads back as validated, with its integer keys,
/// on a fresh database.
@Suite struct ConversionRowTests {
  /// Stages one conversion whose texts are `texts` (event, viewer, product, store, order,
  /// click, currency) and inserts it as row 1 of file 7, line 42.
  private func insertConversion(
    _ db: SQLiteDatabase, texts: [String], platform: Platform, amount: String, refund: Bool
  ) throws {
    let bytes = texts.map { Array($0.utf8) }
    var staged = StagedConversions()
    func view(_ i: Int, _ body: (UnsafeRawBufferPointer) -> Void) { bytes[i].withUnsafeBytes(body) }
    view(0) { event in
      view(1) { viewer in
        view(2) { product in
          view(3) { store in
            view(4) { order in
              view(5) { click in
                view(6) { currency in
                  var v = EventView(kind: .conversion, eventID: event, ts: 1_762_077_600_000, line: 42)
                  (v.viewerID, v.productID, v.platform, v.store) = (viewer, product, platform, store)
                  (v.orderID, v.clickID, v.quantity, v.currency) = (order, click, 2, currency)
                  v.amount = ExactDecimal(amount)!
                  v.isRefund = refund
                  staged.append(v)
                }
              }
            }
          }
        }
      }
    }
    let insert = try db.prepare(ConversionRow.insertSQL)
    try staged.insert(into: insert, firstRow: 1, fileID: 7) { () throws(DatabaseError) in try insert.step() }
  }

  @Test func aRowReadsBackAsValidated() throws {
    let dir = try TemporaryDirectory()
    let db = try Schema.open(path: dir.file("db.sqlite"))
    try insertConversion(
      db, texts: ["o1", "u1", "p1", "lumi-skin", "A1", "k1", "eur"], platform: .brandStore, amount: "19.90", refund: true)
    let read = try db.prepare("SELECT \(ConversionRow.columns.joined(separator: ", ")), file_id, line FROM conversions")
    #expect(try read.step())
    var back = try ConversionRow(read)
    back.fileID = read.int(Int32(ConversionRow.columns.count))
    back.line = read.int(Int32(ConversionRow.columns.count + 1))
    var expected = ConversionRow(
      eventID: "o1", ts: 1_762_077_600_000, viewerID: "u1", productID: "p1", platform: .brandStore, store: "lumi-skin",
      orderID: "A1", clickID: "k1", quantity: 2, amount: "19.9", currency: "EUR", refunded: true)
    expected.fileID = 7
    expected.line = 42
    #expect(back == expected)
    #expect(
      try db.rows("SELECT conversion_row, event_key, order_key, click_key FROM conversions")[0].map(\.intValue) == [
        1, ConversionKeys.event("o1"), ConversionKeys.order(platform: "brand_store", orderID: "A1"), ConversionKeys.click("k1"),
      ])
  }

  /// A conversion without a click id has the click key 0, which the partial index leaves out.
  @Test func noClickIDHasNoClickKey() throws {
    let dir = try TemporaryDirectory()
    let db = try Schema.open(path: dir.file("db.sqlite"))
    try insertConversion(db, texts: ["o1", "", "p1", "", "A1", "", "USD"], platform: .amazon, amount: "1", refund: false)
    #expect(try db.scalarInt("SELECT click_key FROM conversions") == 0)
    #expect(
      ConversionKeys.order(platform: "amazon", orderID: "A1")
        == [UInt8]("A1".utf8).withUnsafeBytes {
          ConversionKeys.order(platform: .amazon, orderID: $0)
        })
  }

  /// A platform that names none (a database edited by hand) is an error that says what to do,
  /// never another platform's window and rates.
  @Test func anUnknownPlatformIsAnError() throws {
    let dir = try TemporaryDirectory()
    let db = try Schema.open(path: dir.file("db.sqlite"))
    try insertConversion(db, texts: ["o1", "", "p1", "", "A1", "", "USD"], platform: .amazon, amount: "1", refund: false)
    try db.execute("UPDATE conversions SET platform = 'ebay'")
    let read = try db.prepare("SELECT \(ConversionRow.columns.joined(separator: ", ")) FROM conversions")
    #expect(try read.step())
    #expect(throws: DatabaseError.self) { try ConversionRow(read) }
    do {
      _ = try ConversionRow(read)
    } catch {
      #expect(
        error.message
          == "conversion o1 has the platform \"ebay\", which is not one of amazon, brand_store; restore the database from a backup")
    }
  }
}
