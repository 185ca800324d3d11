import Testing

@testable import ClickPipeline

/// `conversions` is written and read through one type (``ConversionRow``): a row bound with
/// its insert statement reads back equal, with its integer keys, on a fresh database.
@Suite struct ConversionRowTests {
  @Test func aRowReadsBackAsWritten() throws {
    let dir = try TemporaryDirectory()
    let db = try Schema.open(path: dir.file("db.sqlite"))
    var row = ConversionRow(
      eventID: "o1", ts: 1_762_077_600_000, viewerID: "u1", productID: "p1", platform: .brandStore, store: "lumi-skin",
      orderID: "A1", clickID: "k1", quantity: 2, amount: "19.9", currency: "EUR", refunded: true)
    row.fileID = 7
    row.line = 42
    let insert = try db.prepare(ConversionRow.insertSQL)
    row.bind(insert, row: 1)
    try insert.step()
    let read = try db.prepare("SELECT \(ConversionRow.columns.joined(separator: ", ")), file_id, line FROM conversions")
    #expect(try read.step())
    var back = try ConversionRow(read)
    back.fileID = read.int(Int32(ConversionRow.columns.count))
    back.line = read.int(Int32(ConversionRow.columns.count + 1))
    #expect(back == row)
    #expect(
      try db.rows("SELECT event_key, order_key, click_key FROM conversions")[0].map(\.intValue) == [
        ConversionKeys.event("o1"), ConversionKeys.order(platform: "brand_store", orderID: "A1"), ConversionKeys.click("k1"),
      ])
  }

  /// A platform that names none (a database edited by hand) is an error that says what to do,
  /// never another platform's window and rates.
  @Test func anUnknownPlatformIsAnError() throws {
    let dir = try TemporaryDirectory()
    let db = try Schema.open(path: dir.file("db.sqlite"))
    let row = ConversionRow(
      eventID: "o1", ts: 1, viewerID: "", productID: "p1", platform: .amazon, store: "", orderID: "A1", clickID: "",
      quantity: 1, amount: "1", currency: "USD", refunded: false)
    let insert = try db.prepare(ConversionRow.insertSQL)
    row.bind(insert, row: 1)
    try insert.step()
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
