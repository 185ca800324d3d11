import Testing

@testable import ClickPipeline

/// Revenue and commission in cents (CONTRACT §5) on their own: exact decimals, half to even,
/// and the rate chosen by brand store, Amazon category or platform default.
@Suite struct MoneyRulesTests {
  static let rules: MoneyRules = {
    var configuration = PipelineConfiguration.default
    configuration.amazonCategoryRates = ["books": ExactDecimal("0.045")!]
    configuration.brandStoreRates = ["lumi-skin": ExactDecimal("0.15")!]
    // B1's category comes from the catalog, in any case.
    let file = TextFile(bytes: Array("product_id,platform,store,title,category\nB1,amazon,,A Book,Books\n".utf8))
    return MoneyRules(configuration: configuration, catalog: try! ProductCatalog.parse(file, path: "products.csv"))
  }()

  @Test(arguments: [
    ("19.99", "USD", Int64(1999)), ("19.99", "EUR", 2159), ("0.005", "USD", 0), ("0.015", "USD", 2), ("100", "JPY", 67),
  ])
  func revenueIsRoundedHalfToEven(amount: String, currency: String, cents: Int64) {
    #expect(Self.rules.revenueCents(amount: ExactDecimal(amount)!, currency: currency) == cents)
  }

  @Test func anUnknownCurrencyHasNoRevenue() {
    #expect(Self.rules.revenueCents(amount: ExactDecimal("1")!, currency: "XXX") == nil)
  }

  @Test(arguments: [
    (Platform.amazon, "", "B1", "0.045", Int64(2450), Int64(110)),  // category rate: 110.25 → 110
    (.amazon, "", "B9", "0.04", 2159, 86),  // not in the catalog: Amazon's default
    (.brandStore, "lumi-skin", "P1", "0.15", 5800, 870),  // the store's own rate
    (.brandStore, "oak-and-ash", "P1", "0.1", 2445, 244),  // brand stores' default: 244.5 → 244
  ])
  func theRateIsTheStoresTheCategorysOrTheDefault(
    platform: Platform, store: String, product: String, rate: String, revenue: Int64, commission: Int64
  ) {
    #expect(Self.rules.rate(platform: platform, store: store, productID: product) == ExactDecimal(rate)!)
    #expect(Self.rules.commissionCents(revenueCents: revenue, platform: platform, store: store, productID: product) == commission)
  }
}
