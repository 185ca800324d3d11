import Foundation
import Testing

@testable import ClickPipeline

/// The product catalog as spreadsheets and exporters write it (CRLF, a byte-order mark, quoted
/// cells), and every row that must not be taken silently.
@Suite struct ProductCatalogTests {
  static let header = "product_id,platform,store,title,category"

  static func parse(_ text: String) throws(PipelineError) -> ProductCatalog {
    try ProductCatalog.parse(TextFile(bytes: Array(text.utf8)), path: "products.csv")
  }

  struct Accepted: CustomTestStringConvertible, Sendable {
    var name: String
    var text: String
    var testDescription: String { name }
  }

  static let accepted = [
    Accepted(name: "LF", text: "\(header)\nB1,amazon,,Serum,Beauty\nLS-1,brand_store,lumi,Cream,beauty\n"),
    Accepted(name: "CRLF", text: "\(header)\r\nB1,amazon,,Serum,Beauty\r\nLS-1,brand_store,lumi,Cream,beauty\r\n"),
    Accepted(name: "BOM and CRLF", text: "\u{FEFF}\(header)\r\nB1,amazon,,Serum,Beauty\r\nLS-1,brand_store,lumi,Cream,beauty\r\n"),
    Accepted(name: "no final line break", text: "\(header)\nB1,amazon,,Serum,Beauty\nLS-1,brand_store,lumi,Cream,beauty"),
    Accepted(
      name: "quoted header, columns reordered, blank lines",
      text:
        "\"title\",\"category\",\"product_id\",\"store\",\"PLATFORM\"\n\nSerum,beauty,B1,,Amazon\n  \nCream,beauty,LS-1,lumi,brand_store\n"),
    Accepted(
      name: "an Amazon row's store is ignored", text: "\(header)\nB1,amazon,somestore,Serum,beauty\nLS-1,brand_store,lumi,Cream,beauty\n"),
    Accepted(
      name: "the same row twice", text: "\(header)\nB1,amazon,,Serum,beauty\nB1,amazon,,Serum,beauty\nLS-1,brand_store,lumi,Cream,beauty\n"),
  ]

  @Test(arguments: accepted)
  func acceptsWhatSpreadsheetsWrite(_ c: Accepted) throws {
    let catalog = try Self.parse(c.text)
    #expect(catalog.count == 2)
    #expect(catalog.product(platform: "amazon", store: "", productID: "B1") == .init(title: "Serum", category: "beauty"))
    #expect(catalog.product(platform: "brand_store", store: "lumi", productID: "LS-1") == .init(title: "Cream", category: "beauty"))
  }

  struct Refused: CustomTestStringConvertible, Sendable {
    var name: String
    var text: String
    var message: String
    var testDescription: String { name }
  }

  static let refused = [
    Refused(
      name: "a row with too few cells", text: "\(header)\nB1,amazon,,Serum\n",
      message: "products.csv:2: the row has 4 cells, the header has 5"),
    Refused(
      name: "a row with too many cells", text: "\(header)\r\nB1,amazon,,Serum,beauty,extra\r\n",
      message: "products.csv:2: the row has 6 cells, the header has 5"),
    Refused(
      name: "an unknown platform", text: "\(header)\nB1,amazon,,Serum,beauty\nB2,shopify,,Mug,home\n",
      message: "products.csv:3: platform `shopify` is not amazon or brand_store"),
    Refused(
      name: "a brand-store product without a store", text: "\(header)\nLS-1,brand_store,,Cream,beauty\n",
      message: "products.csv:2: brand_store product `LS-1` has no store; give the store id in the `store` column"),
    Refused(
      name: "the same product with two categories",
      text: "\(header)\nB1,amazon,,Serum,beauty\nB2,amazon,,Mug,home\nB1,amazon,,Serum,books\n",
      message: "products.csv:4: product `B1` (amazon) is listed again with a different category than on line 2; keep one row per product"),
    Refused(
      name: "the same product with two titles",
      text: "\(header)\nLS-1,brand_store,lumi,Cream,beauty\nLS-1,brand_store,lumi,Day Cream,beauty\n",
      message:
        "products.csv:3: product `LS-1` (brand_store, store lumi) is listed again with a different title than on line 2; keep one row per product"
    ),
    Refused(
      name: "an empty product id", text: "\(header)\n,amazon,,Serum,beauty\n",
      message: "products.csv:2: product_id is empty"),
    Refused(
      name: "a header without category", text: "product_id,platform,store,title\nB1,amazon,,Serum\n",
      message: "products.csv:1: the product catalog header lacks the column `category` (expected product_id,platform,store,title,category)"),
    Refused(
      name: "a header naming a column twice", text: "product_id,platform,store,title,category,title\n",
      message: "products.csv:1: the header names the column `title` twice"),
    Refused(
      name: "an unterminated quote", text: "\(header)\nB1,amazon,,\"Serum,beauty\n",
      message: "products.csv:2: not a valid CSV row (a stray or unterminated quote, or invalid UTF-8)"),
  ]

  @Test(arguments: refused)
  func refusesRowsItCannotTakeAsTheyAre(_ c: Refused) {
    #expect(throws: (any Error).self) { try Self.parse(c.text) }
    do {
      _ = try Self.parse(c.text)
    } catch {
      #expect(error.description == c.message)
    }
  }

  @Test func invalidUTF8IsRefusedWithItsLine() {
    var bytes = Array("\(Self.header)\nB1,amazon,,Serum,beauty\nB2,amazon,,Mu".utf8)
    bytes += [0xFF] + Array("g,home\n".utf8)
    #expect(throws: (any Error).self) { try ProductCatalog.parse(TextFile(bytes: bytes), path: "p.csv") }
    do {
      _ = try ProductCatalog.parse(TextFile(bytes: bytes), path: "p.csv")
    } catch {
      #expect(error.description == "p.csv:3: not a valid CSV row (a stray or unterminated quote, or invalid UTF-8)")
    }
  }

  /// Ids are bytes: `café` in NFC and in NFD are two products (as in `daily_metrics`).
  @Test func idsAreComparedAsBytes() throws {
    let catalog = try Self.parse("\(Self.header)\ncaf\u{E9},amazon,,Cup,beauty\n")
    #expect(catalog.product(platform: "amazon", store: "", productID: "caf\u{E9}") != nil)
    #expect(catalog.product(platform: "amazon", store: "", productID: "cafe\u{301}") == nil)
  }

  /// A catalog written by Python's own `csv` module (CRLF line ends, quotes where needed).
  @Test func catalogWrittenByPythonsCSVModule() throws {
    let dir = try TemporaryDirectory()
    let path = dir.file("products.csv")
    let script = """
      import csv, sys
      with open(sys.argv[1], "w", newline="", encoding="utf-8-sig") as f:
          w = csv.writer(f)
          w.writerow(["product_id", "platform", "store", "title", "category"])
          w.writerow(["B1", "amazon", "", 'Serum "Glow", 30 ml', "beauty"])
          w.writerow(["LS-1", "brand_store", "lumi", "Cream", "beauty"])
      """
    let python = Process()
    python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    python.arguments = ["python3", "-c", script, path]
    try python.run()
    python.waitUntilExit()
    #expect(python.terminationStatus == 0)
    let bytes = try #require(FileManager.default.contents(atPath: path))
    #expect(Array(bytes.prefix(3)) == [0xEF, 0xBB, 0xBF] && String(decoding: bytes, as: UTF8.self).contains("\r\n"))
    let catalog = try ProductCatalog.load(path: path)
    #expect(catalog.count == 2)
    #expect(catalog.product(platform: "amazon", store: "", productID: "B1")?.title == "Serum \"Glow\", 30 ml")
  }
}
