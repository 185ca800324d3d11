/// Whether a user agent is a bot's (CONTRACT §3): it contains, case-insensitively, one of the
/// configured substrings, or (with `bots.known_crawlers`) matches the crawler-user-agents list
/// (``CrawlerList``), unless it contains one of `bots.not_bot_patterns`. The one definition
/// used by `aggregate` and by `ingest --emit` (and so by the Spark job).
///
/// Verdicts are remembered per user agent (up to 100k), since a day repeats a few thousand
/// agents millions of times: each distinct agent is decided once. Not thread-safe: one per
/// thread; the compiled list is shared.
final class BotMatcher {
  private let patterns: [String]
  private let exemptions: [String]
  private let crawlers: CrawlerList?
  private var verdicts: [String: Bool] = [:]

  init(patterns: [String], knownCrawlers: Bool = false, exemptions: [String] = []) {
    self.patterns = patterns.map { $0.lowercased() }
    self.exemptions = exemptions.map { $0.lowercased() }
    crawlers = knownCrawlers ? CrawlerList.shipped : nil
  }

  func isBot(_ userAgent: String) -> Bool {
    guard !userAgent.isEmpty else { return false }
    if let verdict = verdicts[userAgent] { return verdict }
    let agent = userAgent.lowercased()
    let verdict =
      !exemptions.contains { agent.contains($0) }
      && (patterns.contains { agent.contains($0) } || crawlers?.matches(userAgent) == true)
    if verdicts.count >= 100_000 { verdicts.removeAll(keepingCapacity: true) }
    verdicts[userAgent] = verdict
    return verdict
  }

  func isBot(_ userAgent: UnsafeRawBufferPointer) -> Bool {
    userAgent.isEmpty ? false : isBot(String(decoding: userAgent, as: UTF8.self))
  }
}
