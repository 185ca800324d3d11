extension PipelineConfiguration {
  /// One setting: its dotted key (`commission.amazon`, `commission.brand_stores."lumi-skin"`)
  /// and its value as TOML writes it.
  public struct Setting: Equatable, Sendable {
    public var key: String
    public var value: String
  }

  /// Every setting, in a fixed order (tables' entries sorted by their bytes). Bot patterns are
  /// sorted and deduplicated: their order does not change which agents are bots. The catalog
  /// path is not a setting: the catalog's content is (see ``EffectiveSettings``).
  public var settings: [Setting] {
    func sorted(_ table: [String: ExactDecimal]) -> [(String, ExactDecimal)] {
      table.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }.map { ($0.key, $0.value) }
    }
    let patterns = Set(botPatterns).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    var result = [
      Setting(key: "timezone", value: TOMLDocument.quoted(timeZoneIdentifier)),
      Setting(key: "ingest.max_rejected_share", value: "\(maxRejectedShare)"),
      Setting(key: "attribution.amazon_window_hours", value: String(amazonWindowHours)),
      Setting(key: "attribution.brand_store_window_hours", value: String(brandStoreWindowHours)),
      Setting(key: "bots.user_agent_patterns", value: "[" + patterns.map(TOMLDocument.quoted).joined(separator: ", ") + "]"),
      Setting(key: "bots.known_crawlers", value: knownCrawlers ? "true" : "false"),
      Setting(
        key: "bots.not_bot_patterns",
        value: "["
          + Set(notBotPatterns).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.map(TOMLDocument.quoted)
          .joined(separator: ", ") + "]"),
      Setting(key: "commission.unknown_keys", value: TOMLDocument.quoted(unknownRateKeys.rawValue)),
      Setting(key: "commission.amazon", value: "\(amazonRate)"),
      Setting(key: "commission.brand_store", value: "\(brandStoreRate)"),
    ]
    for (name, rate) in sorted(amazonCategoryRates) {
      result.append(Setting(key: "commission.amazon_categories.\(TOMLDocument.quoted(name))", value: "\(rate)"))
    }
    for (name, rate) in sorted(brandStoreRates) {
      result.append(Setting(key: "commission.brand_stores.\(TOMLDocument.quoted(name))", value: "\(rate)"))
    }
    for (code, rate) in sorted(fxUSDPerUnit) { result.append(Setting(key: "fx_usd_per_unit.\(code)", value: "\(rate)")) }
    result.append(Setting(key: "payout.threshold_cents", value: String(payoutThresholdCents)))
    return result
  }

  /// The settings as a TOML document that ``parse(text:path:)`` reads back to an equal
  /// configuration (without a catalog path).
  public var tomlText: String {
    var out = "# ClickPipeline settings, as stored in the database\n"
    var table = ""
    for setting in settings {
      // The table is everything before the last dot outside quotes.
      var split = setting.key.endIndex
      var quoted = false
      for index in setting.key.indices {
        if setting.key[index] == "\"" { quoted.toggle() }
        if setting.key[index] == "." && !quoted { split = index }
      }
      let (name, key) =
        split == setting.key.endIndex
        ? ("", setting.key) : (String(setting.key[..<split]), String(setting.key[setting.key.index(after: split)...]))
      if name != table {
        out += "\n[\(name)]\n"
        table = name
      }
      out += "\(key) = \(setting.value)\n"
    }
    return out
  }

  /// Canonical text of every setting that changes aggregate output; two configurations with
  /// equal fingerprints produce the same `daily_metrics` from the same catalog. The payout
  /// threshold (reports only), the share of rejects that refuses a file (ingest only: it
  /// decides what is staged, not how staged events count) and what to do with unknown rate
  /// keys (it decides whether aggregate runs, not what it computes) are left out.
  public var fingerprint: String {
    "clickpipeline-config-v2\n"
      + settings.filter { !Self.notInFingerprint.contains($0.key) }.map { "\($0.key) \($0.value)\n" }.joined()
  }

  private static let notInFingerprint: Set = [
    "payout.threshold_cents", "ingest.max_rejected_share", "commission.unknown_keys",
  ]

  /// Lines naming each setting that differs between `old` and `new`:
  /// `commission.amazon 0.04 → 0.05`; a table entry only one side has is `(unset)` on the other.
  public static func changes(from old: [Setting], to new: [Setting]) -> [String] {
    var oldValues: [String: String] = [:]
    for s in old { oldValues[s.key] = s.value }
    var newValues: [String: String] = [:]
    for s in new { newValues[s.key] = s.value }
    var keys: [String] = []
    var seen = Set<String>()
    for s in old + new where seen.insert(s.key).inserted { keys.append(s.key) }
    return keys.compactMap { key in
      let before = oldValues[key]
      let after = newValues[key]
      guard before != after else { return nil }
      return "\(key) \(before ?? "(unset)") → \(after ?? "(unset)")"
    }
  }
}
