import Testing

@testable import ClickPipeline

/// `conversions` is written and read through one type (``ConversionRow``): a row bound with
/// its insert statement reads back equal, with its integer keys, on a fresh database.
@Suite struct ConversionRowTests {
  @Test func aRowReadsBackAsWritten() throws {
    let dir = try TemporaryDirectory()
    let db = try Schema.open(path: dir.file("db.sqlite"))
    var row = ConversionRow(
      eventID: "o1", ts: 1_762_077_600_000, viewerID: "u1", productID: "p1", platform: "brand_store", store: "lumi-skin",
      orderID: "A1", clickID: "k1", quantity: 2, amount: "19.9", currency: "EUR", refunded: true)
    row.fileID = 7
    row.line = 42
    let insert = try db.prepare(ConversionRow.insertSQL)
    row.bind(insert, row: 1)
    try insert.step()
    let read = try db.prepare("SELECT \(ConversionRow.columns.joined(separator: ", ")), file_id, line FROM conversions")
    #expect(try read.step())
    var back = ConversionRow(read)
    back.fileID = read.int(Int32(ConversionRow.columns.count))
    back.line = read.int(Int32(ConversionRow.columns.count + 1))
    #expect(back == row)
    #expect(
      try db.rows("SELECT event_key, order_key, click_key FROM conversions")[0].map(\.intValue) == [
        ConversionKeys.event("o1"), ConversionKeys.order(platform: "brand_store", orderID: "A1"), ConversionKeys.click("k1"),
      ])
  }
}
