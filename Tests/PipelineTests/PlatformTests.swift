import Testing

@testable import ClickPipeline

/// A platform is a type end to end: its spellings follow its cases, and every per-platform
/// setting is chosen by an exhaustive switch (a new case without its window or rate does not
/// compile), never by falling through to another platform's value.
@Suite struct PlatformTests {
  @Test func spellingsFollowTheCases() {
    #expect(Platform.spellings.map { "\($0)" } == Platform.allCases.map(\.rawValue))
    for platform in Platform.allCases {
      var text = platform.rawValue.uppercased()
      let parsed = text.withUTF8 { Platform(bytes: UnsafeRawBufferPointer($0)) }
      #expect(parsed == platform)
    }
  }

  @Test func eachPlatformHasItsOwnWindowAndRate() {
    var configuration = PipelineConfiguration.default
    configuration.amazonWindowHours = 1
    configuration.brandStoreWindowHours = 2
    configuration.amazonRate = ExactDecimal("0.01")!
    configuration.brandStoreRate = ExactDecimal("0.02")!
    #expect(Platform.allCases.map(configuration.attributionWindowMilliseconds) == [3_600_000, 7_200_000])
    #expect(Platform.allCases.map(configuration.defaultRate) == [ExactDecimal("0.01")!, ExactDecimal("0.02")!])
    let rules = MoneyRules(configuration: configuration, catalog: ProductCatalog())
    #expect(
      Platform.allCases.map { rules.rate(platform: $0, store: "", productID: "p1") } == [ExactDecimal("0.01")!, ExactDecimal("0.02")!])
    #expect(Platform("ebay") == nil)
  }
}
