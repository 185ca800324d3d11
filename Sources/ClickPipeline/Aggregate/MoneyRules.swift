/// Revenue and commission in cents (CONTRACT §5): exact decimals, round half to even.
///
/// ```swift
/// let rules = MoneyRules(configuration: .default, catalog: ProductCatalog())
/// rules.revenueCents(amount: ExactDecimal("19.99")!, currency: "EUR")   // 2159 (21.5892)
/// rules.commissionCents(revenueCents: 2159, platform: .amazon, store: "", productID: "p1")  // 86
/// ```
///
/// Stores and categories are matched by their bytes, as `daily_metrics` groups them: a store id
/// in NFD does not take the rate of the same-looking id in NFC.
public struct MoneyRules: Sendable {
  public let configuration: PipelineConfiguration
  public let catalog: ProductCatalog
  private let brandStoreRates: [[UInt8]: ExactDecimal]
  private let categoryRates: [[UInt8]: ExactDecimal]

  public init(configuration: PipelineConfiguration, catalog: ProductCatalog) {
    self.configuration = configuration
    self.catalog = catalog
    brandStoreRates = Dictionary(configuration.brandStoreRates.map { (Array($0.key.utf8), $0.value) }) { a, _ in a }
    categoryRates = Dictionary(configuration.amazonCategoryRates.map { (Array($0.key.utf8), $0.value) }) { a, _ in a }
  }

  /// `round_half_even(amount × usd_per_unit × 100)`; `nil` if the currency has no FX rate or
  /// the result does not fit in 64 bits.
  public func revenueCents(amount: ExactDecimal, currency: String) -> Int64? {
    guard let rate = configuration.fxUSDPerUnit[currency] else { return nil }
    return amount.roundedProduct(rate, times: 100)
  }

  /// The first matching rate: the brand store's own, the Amazon category's, the platform
  /// default. Every platform is named: a new platform without its rules does not compile.
  public func rate(platform: Platform, store: String, productID: String) -> ExactDecimal {
    switch platform {
    case .brandStore:
      return brandStoreRates[Array(store.utf8)] ?? configuration.defaultRate(platform)
    case .amazon:
      if let category = catalog.product(platform: platform.rawValue, store: store, productID: productID)?.category,
        let rate = categoryRates[Array(category.utf8)]
      {
        return rate
      }
      return configuration.defaultRate(platform)
    }
  }

  /// `round_half_even(revenue_cents × rate)`.
  public func commissionCents(revenueCents: Int64, platform: Platform, store: String, productID: String) -> Int64 {
    rate(platform: platform, store: store, productID: productID).roundedProduct(of: revenueCents) ?? 0
  }
}
