/// Where a product is sold (CONTRACT §2): its spelling in logs, the catalog, the configuration
/// and `daily_metrics`, and what follows from it (its dirty-hour bit here; its attribution
/// window in ``PipelineConfiguration/attributionWindowMilliseconds(_:)``).
public enum Platform: String, CaseIterable, Sendable {
  case amazon
  case brandStore = "brand_store"

  /// The platform spelled by `text` (`""`, a view without a product, is none).
  public init?(_ text: String) { self.init(rawValue: text) }

  /// Its bit in `dirty_hours.click_platforms` (``DirtyHours``).
  var clickBit: Int64 {
    switch self {
    case .amazon: 1
    case .brandStore: 2
    }
  }
}
