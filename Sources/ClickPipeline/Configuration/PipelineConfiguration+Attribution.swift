extension PipelineConfiguration {
  /// Attribution rule 2's window for a platform's orders, in milliseconds (CONTRACT §4).
  func attributionWindowMilliseconds(_ platform: Platform) -> Int64 {
    Int64(platform == .amazon ? amazonWindowHours : brandStoreWindowHours) * 3_600_000
  }
}
