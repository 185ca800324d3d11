/// Where a product is sold (CONTRACT §2): its spelling in logs, the catalog, the configuration
/// and `daily_metrics`, and what follows from it (attribution window, dirty-hour bit).
public enum Platform: String, CaseIterable, Sendable {
  case amazon
  case brandStore = "brand_store"

  /// The platform spelled by `text` (`""`, a view without a product, is none).
  public init?(_ text: String) { self.init(rawValue: text) }

  /// The platform whose spelling is these bytes.
  init?(bytes: UnsafeRawBufferPointer) {
    guard let found = Platform.allCases.first(where: { bytes.elementsEqual($0.rawValue.utf8) }) else { return nil }
    self = found
  }

  /// Its bit in `dirty_hours.click_platforms` (``DirtyHours``).
  var clickBit: Int64 {
    switch self {
    case .amazon: 1
    case .brandStore: 2
    }
  }

  /// Attribution rule 2's window for this platform, in milliseconds (CONTRACT §4).
  func windowMilliseconds(_ configuration: PipelineConfiguration) -> Int64 {
    Int64(self == .amazon ? configuration.amazonWindowHours : configuration.brandStoreWindowHours) * 3_600_000
  }
}
