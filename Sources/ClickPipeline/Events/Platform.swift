/// Where a product is sold (CONTRACT §2): its spelling in logs, the catalog, the configuration
/// and `daily_metrics`, its code in a staged segment, and what follows from it (its dirty-hour
/// bit here; its attribution window in ``PipelineConfiguration/attributionWindowMilliseconds(_:)``).
public enum Platform: String, CaseIterable, Sendable {
  case amazon
  case brandStore = "brand_store"

  /// The platform spelled by `text` (`""`, a view without a product, is none).
  public init?(_ text: String) { self.init(rawValue: text) }

  /// Every platform's spelling, in `allCases` order (checked by `PlatformTests`), as the fast
  /// byte matcher takes them.
  static let spellings: [StaticString] = ["amazon", "brand_store"]

  /// The platform spelled by `bytes`, matched case-insensitively (log input).
  init?(bytes: UnsafeRawBufferPointer) {
    guard let index = EventValidator.match(bytes, Platform.spellings) else { return nil }
    self = Platform.allCases[index]
  }

  /// The platform of a segment code (``code``); `nil` for 0, no platform.
  init?(code: UInt8) {
    switch code {
    case 1: self = .amazon
    case 2: self = .brandStore
    default: return nil
    }
  }

  /// Its code in a staged segment (0 is "no platform": a view without a product).
  var code: UInt8 {
    switch self {
    case .amazon: 1
    case .brandStore: 2
    }
  }

  /// Whether its events name a store (`store` is required for brand_store and ignored for amazon).
  var hasStores: Bool { self == .brandStore }

  /// Its bit in `dirty_hours.click_platforms` (``DirtyHours``).
  var clickBit: Int64 {
    switch self {
    case .amazon: 1
    case .brandStore: 2
    }
  }
}
