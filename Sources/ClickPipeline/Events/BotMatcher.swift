/// Whether a user agent is a bot's (CONTRACT §3): it contains, case-insensitively, one of the
/// configured patterns. The one definition used by `aggregate` and by `ingest --emit`.
///
/// Verdicts are remembered per user agent (up to 100k), since a day repeats a few thousand
/// agents millions of times. Not thread-safe: one per thread.
final class BotMatcher {
  private let patterns: [String]
  private var verdicts: [String: Bool] = [:]

  init(patterns: [String]) {
    self.patterns = patterns.map { $0.lowercased() }
  }

  func isBot(_ userAgent: String) -> Bool {
    guard !userAgent.isEmpty else { return false }
    if let verdict = verdicts[userAgent] { return verdict }
    let agent = userAgent.lowercased()
    let verdict = patterns.contains { agent.contains($0) }
    if verdicts.count >= 100_000 { verdicts.removeAll(keepingCapacity: true) }
    verdicts[userAgent] = verdict
    return verdict
  }

  func isBot(_ userAgent: UnsafeRawBufferPointer) -> Bool {
    userAgent.isEmpty ? false : isBot(String(decoding: userAgent, as: UTF8.self))
  }
}
