import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// The settings of a pipeline run, read from a TOML file (CONTRACT §9).
///
/// Every key is optional; a missing key keeps its default (``default``). Unknown keys and bad
/// values are a ``ConfigurationError`` naming the file, line and key. Rates and FX values go
/// from their TOML text straight to ``ExactDecimal``, so `0.045` is exactly 0.045.
public struct PipelineConfiguration: Sendable, Equatable {
  /// IANA time zone for day boundaries, as written (`"UTC"`, `"Asia/Jakarta"`).
  public var timeZoneIdentifier: String
  /// Absolute path of the product catalog CSV; `nil` when not configured.
  public var catalogPath: String?
  /// Attribution window for Amazon conversions, in hours.
  public var amazonWindowHours: Int
  /// Attribution window for brand store conversions, in hours.
  public var brandStoreWindowHours: Int
  /// Lowercase substrings that mark a user agent as a bot.
  public var botPatterns: [String]
  /// Also the crawler-user-agents list (``CrawlerList``; `bots.known_crawlers`).
  public var knownCrawlers = false
  /// Lowercase substrings that make a user agent never a bot's (`bots.not_bot_patterns`).
  public var notBotPatterns: [String] = []
  /// Default commission rate for Amazon products.
  public var amazonRate: ExactDecimal
  /// Default commission rate for brand store products.
  public var brandStoreRate: ExactDecimal
  /// Commission rate per Amazon category, keyed by lowercase category name.
  public var amazonCategoryRates: [String: ExactDecimal]
  /// Commission rate per brand store id (case-sensitive).
  public var brandStoreRates: [String: ExactDecimal]
  /// US dollars per unit of each currency, keyed by uppercase ISO 4217 code.
  public var fxUSDPerUnit: [String: ExactDecimal]
  /// Earnings at or above this many cents are payable.
  public var payoutThresholdCents: Int64
  /// A file of at least ``minimumLinesToRefuse`` data lines with a larger share of them
  /// rejected is refused whole (CONTRACT §8).
  public var maxRejectedShare = ExactDecimal(normalizing: 5, scale: 1)

  /// Files with fewer data lines are never refused for their rejects.
  public static let minimumLinesToRefuse = 100
  /// What `aggregate` does with a rate key that names no store or category it knows of
  /// (`commission.unknown_keys`; ``RateKeyCheck``).
  public var unknownRateKeys = UnknownKeys.error
  /// Where each rate key was written, for messages; not a setting.
  public var rateKeySources = KeySources()

  /// `commission.unknown_keys`.
  public enum UnknownKeys: String, Sendable, CaseIterable {
    /// `aggregate` stops with the key's file and line: usually a typo.
    case error
    /// `aggregate` warns and goes on: for a store whose events come later.
    case warn
  }

  /// The file and lines where the rate tables' keys were written. Two configurations that
  /// differ only here are equal: positions in a file are not settings.
  public struct KeySources: Sendable, Equatable {
    public var path = ""
    /// Keyed by the full dotted key (`commission.brand_stores."lumi-skin"`).
    public var lines: [String: Int] = [:]

    public static func == (_: KeySources, _: KeySources) -> Bool { true }
  }

  /// The largest accepted attribution window: ten years.
  public static let maxWindowHours = 87_600
  /// The largest accepted configuration file.
  public static let maxFileBytes = 1 << 20

  /// The bot patterns used when the configuration does not set `bots.user_agent_patterns`.
  public static let defaultBotPatterns = [
    "bot", "crawler", "spider", "slurp", "headless", "python-requests", "curl/", "wget/", "httpclient",
  ]

  /// The FX table the configuration's `[fx_usd_per_unit]` is merged over.
  public static let defaultFXUSDPerUnit: [String: ExactDecimal] = [
    "USD": ExactDecimal(normalizing: 1, scale: 0), "EUR": ExactDecimal(normalizing: 108, scale: 2),
    "GBP": ExactDecimal(normalizing: 127, scale: 2), "JPY": ExactDecimal(normalizing: 67, scale: 4),
    "IDR": ExactDecimal(normalizing: 63, scale: 6), "SGD": ExactDecimal(normalizing: 74, scale: 2),
    "MYR": ExactDecimal(normalizing: 21, scale: 2),
  ]

  /// The settings used without a configuration file.
  public static let `default` = PipelineConfiguration(
    timeZoneIdentifier: "UTC", catalogPath: nil, amazonWindowHours: 24, brandStoreWindowHours: 168,
    botPatterns: defaultBotPatterns, amazonRate: ExactDecimal(normalizing: 4, scale: 2),
    brandStoreRate: ExactDecimal(normalizing: 1, scale: 1), amazonCategoryRates: [:], brandStoreRates: [:],
    fxUSDPerUnit: defaultFXUSDPerUnit, payoutThresholdCents: 1000)

  /// Reads, parses and validates the file at `path`; `nil` gives ``default``.
  public static func load(path: String?) throws(ConfigurationError) -> PipelineConfiguration {
    guard let path else { return .default }
    return try parse(text: readText(path), path: path)
  }

  /// Parses and validates configuration text. `path` names the file in messages, and a
  /// relative `catalog` resolves against its folder (a relative `path` against the current
  /// directory).
  public static func parse(text: String, path: String) throws(ConfigurationError) -> PipelineConfiguration {
    let document: TOMLDocument
    do throws(TOMLError) {
      document = try TOMLDocument(parsing: text)
    } catch {
      throw ConfigurationError(path: path, line: error.line, key: nil, message: error.message)
    }
    var reader = ConfigurationReader(path: path)
    try reader.read(document.root)
    return reader.configuration
  }

  /// The file's text: at most ``maxFileBytes``, valid UTF-8.
  /// The file's text: a UTF-8 byte-order mark is skipped; LF and CRLF lines are both TOML.
  static func readText(_ path: String) throws(ConfigurationError) -> String {
    func failure(_ message: String, line: Int? = nil) -> ConfigurationError {
      ConfigurationError(path: path, line: line, key: nil, message: message)
    }
    let file: TextFile
    switch TextFile.load(path: path, limit: maxFileBytes) {
    case .success(let loaded): file = loaded
    case .failure(.tooLarge): throw failure("configuration file is larger than 1 MiB")
    case .failure(let error): throw failure("cannot read configuration file: \(error)")
    }
    switch file.text {
    case .success(let text): return text
    case .failure(let bad): throw failure("configuration file is not valid UTF-8 text", line: bad.line)
    }
  }
}

/// A configuration problem, reported before any work starts.
///
/// `description` reads `file:line: key: message`, the parts that are known:
/// `clickpipeline.toml:7: commission.amazon: must be a decimal from 0 to 1, got -0.1`.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
  /// The configuration file, as given.
  public var path: String
  /// The 1-based line of the problem, when it has one.
  public var line: Int?
  /// The full dotted key of the setting at fault; `nil` for syntax errors and unknown keys
  /// (the message names those).
  public var key: String?
  /// What is wrong and what to write instead.
  public var message: String

  public init(path: String, line: Int?, key: String?, message: String) {
    self.path = path
    self.line = line
    self.key = key
    self.message = message
  }

  public var description: String {
    path + (line.map { ":\($0)" } ?? "") + ": " + (key.map { "\($0): " } ?? "") + message
  }
}

/// Walks a parsed document in file order, validating each entry into `configuration`.
private struct ConfigurationReader {
  let path: String
  var configuration = PipelineConfiguration.default

  init(path: String) {
    self.path = path
    configuration.rateKeySources.path = path
  }

  func failure(_ value: TOMLValue, _ key: [String], _ message: String) -> ConfigurationError {
    ConfigurationError(path: path, line: value.line, key: TOMLDocument.keyPath(key), message: message)
  }

  /// The entries of the table at `key`, after checking that every name is in `known`.
  func entries(_ value: TOMLValue, _ key: [String], known: [String]) throws(ConfigurationError) -> [(key: String, value: TOMLValue)] {
    let table = try self.table(value, key)
    for (name, child) in table.entries where !known.contains(name) {
      let scope = key.isEmpty ? "" : " in [\(TOMLDocument.keyPath(key))]"
      throw ConfigurationError(
        path: path, line: child.line, key: nil,
        message: "unknown key '\(TOMLDocument.keyPath(key + [name]))' (known keys\(scope): \(known.joined(separator: ", ")))")
    }
    return table.entries
  }

  func table(_ value: TOMLValue, _ key: [String]) throws(ConfigurationError) -> TOMLTable {
    guard case .table(let table) = value.kind else {
      throw failure(
        value, key,
        "must be a table: write [\(TOMLDocument.keyPath(key))] on a line of its own, with its settings below it; got \(describe(value))")
    }
    return table
  }

  mutating func read(_ root: TOMLTable) throws(ConfigurationError) {
    let top = ["timezone", "catalog", "ingest", "attribution", "bots", "commission", "fx_usd_per_unit", "payout"]
    for (name, value) in try entries(TOMLValue(kind: .table(root), line: 1), [], known: top) {
      switch name {
      case "timezone": configuration.timeZoneIdentifier = try timeZone(value)
      case "catalog": configuration.catalogPath = try catalog(value)
      case "ingest":
        for (name, value) in try entries(value, [name], known: ["max_rejected_share"]) {
          configuration.maxRejectedShare = try decimal(value, ["ingest", name], "must be a decimal from 0 to 1") {
            !$0.isNegative && $0 <= ExactDecimal(1)
          }
        }
      case "attribution":
        for (name, value) in try entries(value, [name], known: ["amazon_window_hours", "brand_store_window_hours"]) {
          let hours = try integer(
            value, ["attribution", name], 0...Int64(PipelineConfiguration.maxWindowHours),
            "must be a whole number of hours from 0 to \(PipelineConfiguration.maxWindowHours)")
          if name == "amazon_window_hours" {
            configuration.amazonWindowHours = Int(hours)
          } else {
            configuration.brandStoreWindowHours = Int(hours)
          }
        }
      case "bots":
        for (name, value) in try entries(value, [name], known: ["user_agent_patterns", "known_crawlers", "not_bot_patterns"]) {
          switch name {
          case "user_agent_patterns": configuration.botPatterns = try patterns(value, ["bots", name])
          case "not_bot_patterns": configuration.notBotPatterns = try patterns(value, ["bots", name])
          default:
            guard case .boolean(let on) = value.kind else {
              throw failure(value, ["bots", name], "must be true or false, got \(describe(value))")
            }
            configuration.knownCrawlers = on
          }
        }
      case "commission": try commission(value)
      case "fx_usd_per_unit": try fx(value)
      default:
        for (name, value) in try entries(value, ["payout"], known: ["threshold_cents"]) {
          configuration.payoutThresholdCents = try integer(
            value, ["payout", name], 0...Int64.max, "must be a whole number of cents, 0 or more")
        }
      }
    }
  }

  func timeZone(_ value: TOMLValue) throws(ConfigurationError) -> String {
    guard case .string(let identifier) = value.kind else {
      throw failure(value, ["timezone"], "must be a time zone name in quotes such as \"Asia/Jakarta\", got \(describe(value))")
    }
    guard TimeZone(identifier: identifier) != nil else {
      throw failure(value, ["timezone"], "unknown time zone '\(identifier)'; use an IANA name such as 'UTC' or 'Asia/Jakarta'")
    }
    return identifier
  }

  /// An absolute, lexically normalized path; a relative one resolves against the folder of
  /// the configuration file.
  func catalog(_ value: TOMLValue) throws(ConfigurationError) -> String {
    guard case .string(let text) = value.kind, !text.isEmpty else {
      throw failure(
        value, ["catalog"],
        "must be the path of the product catalog CSV in quotes, got \(describe(value)); remove the key to run without a catalog")
    }
    if text == "~" || text.hasPrefix("~/") {
      throw failure(value, ["catalog"], "'~' is not expanded; write an absolute path or one relative to the configuration file's folder")
    }
    var base = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    base = String(base[..<(base.lastIndex(of: "/") ?? base.startIndex)])
    var parts: [Substring] = []
    for part in ((text.hasPrefix("/") ? "" : base) + "/" + text).split(separator: "/") where part != "." {
      if part == ".." { _ = parts.popLast() } else { parts.append(part) }
    }
    return "/" + parts.joined(separator: "/")
  }

  func patterns(_ value: TOMLValue, _ key: [String]) throws(ConfigurationError) -> [String] {
    guard case .array(let items) = value.kind else {
      throw failure(value, key, "must be an array of strings such as [\"bot\", \"crawler\"], got \(describe(value))")
    }
    var patterns: [String] = []
    for (index, item) in items.enumerated() {
      guard case .string(let pattern) = item.kind, !pattern.isEmpty else {
        throw failure(item, key, "item \(index + 1) must be a non-empty string in quotes, got \(describe(item))")
      }
      patterns.append(pattern.lowercased())
    }
    return patterns
  }

  mutating func commission(_ value: TOMLValue) throws(ConfigurationError) {
    let known = ["unknown_keys", "amazon", "brand_store", "amazon_categories", "brand_stores"]
    for (name, value) in try entries(value, ["commission"], known: known) {
      let key = ["commission", name]
      switch name {
      case "unknown_keys":
        let choices = PipelineConfiguration.UnknownKeys.allCases.map(\.rawValue)
        guard case .string(let text) = value.kind, let choice = PipelineConfiguration.UnknownKeys(rawValue: text) else {
          throw failure(value, key, "must be \(choices.map { "\"\($0)\"" }.joined(separator: " or ")), got \(describe(value))")
        }
        configuration.unknownRateKeys = choice
      case "amazon": configuration.amazonRate = try rate(value, key)
      case "brand_store": configuration.brandStoreRate = try rate(value, key)
      case "amazon_categories":
        configuration.amazonCategoryRates = try rates(value, key, what: "category name", normalize: { $0.lowercased() })
      default:
        configuration.brandStoreRates = try rates(value, key, what: "brand store id", normalize: { $0 })
      }
    }
  }

  func rate(_ value: TOMLValue, _ key: [String]) throws(ConfigurationError) -> ExactDecimal {
    try decimal(value, key, "must be a decimal from 0 to 1") { !$0.isNegative && $0 <= ExactDecimal(1) }
  }

  /// A table of free-form names to rates; names that collide after `normalize` are an error.
  mutating func rates(_ value: TOMLValue, _ key: [String], what: String, normalize: (String) -> String) throws(ConfigurationError)
    -> [String: ExactDecimal]
  {
    var result: [String: ExactDecimal] = [:]
    var lines: [String: Int] = [:]
    for (name, item) in try table(value, key).entries {
      guard !name.isEmpty else { throw failure(item, key + [name], "the \(what) must not be empty") }
      let normalized = normalize(name)
      if let line = lines[normalized] {  // only category names can collide: TOML rejects equal keys
        throw failure(
          item, key + [name], "\(what) '\(normalized)' is already set on line \(line) (category names are compared case-insensitively)")
      }
      result[normalized] = try rate(item, key + [name])
      lines[normalized] = item.line
      configuration.rateKeySources.lines[TOMLDocument.keyPath(key + [normalized])] = item.line
    }
    return result
  }

  mutating func fx(_ value: TOMLValue) throws(ConfigurationError) {
    var lines: [String: Int] = [:]
    for (name, item) in try table(value, ["fx_usd_per_unit"]).entries {
      let key = ["fx_usd_per_unit", name]
      guard name.utf8.count == 3, name.utf8.allSatisfy({ ($0 | 0x20) >= 0x61 && ($0 | 0x20) <= 0x7A }) else {
        throw failure(item, key, "must be a 3-letter ISO 4217 currency code such as EUR")
      }
      let code = name.uppercased()
      if let line = lines[code] {
        throw failure(item, key, "currency \(code) is already set on line \(line) (codes are compared case-insensitively)")
      }
      let limit = ExactDecimal(10_000)
      configuration.fxUSDPerUnit[code] =
        try code == "USD"
        ? decimal(item, key, "must be 1: revenue is counted in US dollars") { $0 == ExactDecimal(1) }
        : decimal(item, key, "must be a decimal greater than 0 and at most 10000 (US dollars per 1 \(code))") {
          $0 > .zero && $0 <= limit
        }
      lines[code] = item.line
    }
  }

  /// An integer or float converted from its exact TOML text, never through `Double`.
  func decimal(_ value: TOMLValue, _ key: [String], _ expectation: String, accept: (ExactDecimal) -> Bool) throws(ConfigurationError)
    -> ExactDecimal
  {
    let text: String
    switch value.kind {
    case .float(let written): text = written
    case .integer(let integer): text = String(integer)
    case .string(let string) where ExactDecimal(string) != nil:
      throw failure(value, key, "\(expectation), got \(describe(value)); write the number without quotes")
    default: throw failure(value, key, "\(expectation), got \(describe(value))")
    }
    guard let decimal = ExactDecimal(text) else {
      throw failure(value, key, "\(expectation), got \(text), which is too large or has more than 18 digits after the decimal point")
    }
    guard accept(decimal) else { throw failure(value, key, "\(expectation), got \(text)") }
    return decimal
  }

  func integer(_ value: TOMLValue, _ key: [String], _ range: ClosedRange<Int64>, _ expectation: String) throws(ConfigurationError) -> Int64
  {
    guard case .integer(let integer) = value.kind, range.contains(integer) else {
      var hint = ""
      if case .string(let string) = value.kind, Int64(string) != nil { hint = "; write the number without quotes" }
      throw failure(value, key, "\(expectation), got \(describe(value))\(hint)")
    }
    return integer
  }

  /// A value as it would appear in the file: `"text"`, `24.5`, `true`, `an array`.
  func describe(_ value: TOMLValue) -> String {
    switch value.kind {
    case .string(let string): TOMLDocument.quoted(string)
    case .integer(let integer): String(integer)
    case .float(let text): text
    case .boolean(let bool): String(bool)
    case .array: "an array"
    case .table: "a table"
    }
  }
}
