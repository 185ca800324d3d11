extension BotMatcher {
  /// The bot rules of `configuration` (CONTRACT §3): substrings, the crawler list if it is on,
  /// and the exemptions. (Here rather than in `Events/`, which the fuzz targets build without
  /// the configuration.)
  convenience init(_ configuration: PipelineConfiguration) {
    self.init(
      patterns: configuration.botPatterns, knownCrawlers: configuration.knownCrawlers,
      exemptions: configuration.notBotPatterns)
  }
}
