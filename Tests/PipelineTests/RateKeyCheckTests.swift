import Foundation
import Testing

@testable import ClickPipeline

/// A rate key that names no store or category the pipeline knows of is an error at
/// `aggregate` with the file and line (`commission.unknown_keys = "warn"` makes it a warning,
/// named once): a typo would otherwise pay the store the default rate. Over the real
/// executables, with the sample catalog (brand store `lumi-skin`; categories beauty, books, …).
@Suite struct RateKeyCheckTests {
  static let catalog = SampleDataTests.sample + "/products.csv"

  /// A brand-store order in `store`, product `P1` (not in the catalog).
  static func order(store: String) -> String {
    #"{"type":"conversion","event_id":"o-\#(store)","ts":"2026-11-02T10:00:00Z","order_id":"A-\#(store)","product_id":"P1","platform":"brand_store","store":"\#(store)","amount":"10.00","currency":"USD"}"#
  }

  struct Case: CustomTestStringConvertible, Sendable {
    var name: String
    /// The configuration after `catalog = …`; its rate tables start on line 3.
    var rates: String
    var status: Int32
    /// What aggregate prints, with `CONFIG` for the configuration's path.
    var stderr: String
    var testDescription: String { name }
  }

  static let cases: [Case] = [
    Case(
      name: "a store of the catalog", rates: "[commission.brand_stores]\n\"lumi-skin\" = 0.15\n", status: 0, stderr: ""),
    Case(
      name: "a store seen only in a staged order", rates: "[commission.brand_stores]\nnorthwind = 0.2\n", status: 0, stderr: ""),
    Case(
      name: "a typo of a store",
      rates: "[commission.brand_stores]\n\"lumi-skn\" = 0.15\n", status: 1,
      stderr:
        "aggregate: error: configuration error: CONFIG:4: commission.brand_stores.lumi-skn: names no brand store of the catalog and none in the staged conversions (known: lumi-skin, northwind, oak-and-ash); correct the store id, or set commission.unknown_keys = \"warn\" for a store whose orders come later\n"
    ),
    Case(
      name: "a typo of a category",
      rates: "[commission.amazon_categories]\nbeuty = 0.1\n", status: 1,
      stderr:
        "aggregate: error: configuration error: CONFIG:4: commission.amazon_categories.beuty: names no category of the catalog's Amazon products (known: beauty, books, home); correct the category, or set commission.unknown_keys = \"warn\" for products not in the catalog yet\n"
    ),
    Case(
      name: "a typo allowed with warn",
      rates: "[commission]\nunknown_keys = \"warn\"\n[commission.brand_stores]\n\"lumi-skn\" = 0.15\n", status: 0,
      stderr:
        "aggregate: warning: CONFIG:6: commission.brand_stores.lumi-skn: names no brand store of the catalog and none in the staged conversions (known: lumi-skin, northwind, oak-and-ash); correct the store id, or set commission.unknown_keys = \"warn\" for a store whose orders come later\n"
    ),
  ]

  @Test(arguments: cases) func rateKeysMustNameAStoreOrCategory(_ c: Case) throws {
    let dir = try TemporaryDirectory()
    let db = dir.file("db.sqlite")
    let config = try dir.write("cp.toml", "catalog = \"\(Self.catalog)\"\n\n" + c.rates)
    let logs = try dir.write("logs/a.ndjson", Self.order(store: "northwind") + "\n")
    #expect(try Executables.stage("ingest", ["--db", db, "--config", config, logs]).status == 0)
    let aggregate = try Executables.stage("aggregate", ["--db", db, "--config", config])
    #expect(aggregate.status == c.status)
    #expect(aggregate.stderr == c.stderr.replacingOccurrences(of: "CONFIG", with: config))
    // Named once: the next night, with the same settings, says nothing.
    if c.status == 0 {
      let again = try Executables.stage("aggregate", ["--db", db, "--config", config])
      #expect(again.status == 0 && again.stderr.isEmpty, "\(again.stderr)")
    }
  }
}
