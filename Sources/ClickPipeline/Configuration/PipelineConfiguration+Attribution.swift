extension PipelineConfiguration {
  /// Attribution rule 2's window for a platform's orders, in milliseconds (CONTRACT §4).
  /// A switch over every platform: a new platform without its window does not compile.
  func attributionWindowMilliseconds(_ platform: Platform) -> Int64 {
    let hours =
      switch platform {
      case .amazon: amazonWindowHours
      case .brandStore: brandStoreWindowHours
      }
    return Int64(hours) * 3_600_000
  }

  /// A platform's default commission rate; a switch over every platform, as above.
  func defaultRate(_ platform: Platform) -> ExactDecimal {
    switch platform {
    case .amazon: amazonRate
    case .brandStore: brandStoreRate
    }
  }
}
