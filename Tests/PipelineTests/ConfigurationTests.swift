import Foundation
import Testing

@testable import ClickPipeline

@Suite struct ConfigurationTests {
  static let example = """
    timezone = "Asia/Jakarta"            # IANA zone for day boundaries
    catalog = "sample-data/products.csv" # product_id,platform,store,title,category

    [attribution]
    amazon_window_hours = 24
    brand_store_window_hours = 168

    [bots]
    user_agent_patterns = ["bot", "crawler", "spider"]   # replaces the default list

    [commission]
    amazon = 0.04
    brand_store = 0.10
    [commission.amazon_categories]
    beauty = 0.10
    books = 0.045
    [commission.brand_stores]
    "lumi-skin" = 0.15

    [fx_usd_per_unit]                    # merged over the default table
    EUR = 1.08
    IDR = 0.000063

    [payout]
    threshold_cents = 1000               # earnings statements: payable at or above this
    """

  func decimal(_ significand: Int128, _ scale: Int) -> ExactDecimal {
    ExactDecimal(normalizing: significand, scale: scale)
  }

  func parse(_ text: String, path: String = "clickpipeline.toml") throws(ConfigurationError) -> PipelineConfiguration {
    try PipelineConfiguration.parse(text: text, path: path)
  }

  func failure(_ text: String) -> ConfigurationError? {
    do {
      _ = try parse(text)
      return nil
    } catch {
      return error
    }
  }

  @Test func contractExampleParsesExactly() throws {
    let config = try parse(Self.example, path: "/etc/clickpipeline/clickpipeline.toml")
    var expected = PipelineConfiguration.default
    expected.timeZoneIdentifier = "Asia/Jakarta"
    expected.catalogPath = "/etc/clickpipeline/sample-data/products.csv"
    expected.botPatterns = ["bot", "crawler", "spider"]
    expected.amazonCategoryRates = ["beauty": decimal(1, 1), "books": decimal(45, 3)]
    expected.brandStoreRates = ["lumi-skin": decimal(15, 2)]
    #expect(config == expected)
    let books = try #require(config.amazonCategoryRates["books"])
    #expect(books.significand == 45 && books.scale == 3)
    #expect(config.fxUSDPerUnit["IDR"]?.description == "0.000063")
    #expect(config.brandStoreRate == decimal(1, 1))
  }

  @Test func defaults() throws {
    #expect(try PipelineConfiguration.load(path: nil) == .default)
    #expect(try parse("# nothing but a comment\n\n") == .default)
    let config = PipelineConfiguration.default
    #expect(config.timeZoneIdentifier == "UTC" && config.catalogPath == nil)
    #expect(config.amazonWindowHours == 24 && config.brandStoreWindowHours == 168)
    #expect(config.botPatterns == ["bot", "crawler", "spider", "slurp", "headless", "python-requests", "curl/", "wget/", "httpclient"])
    #expect(config.amazonRate.description == "0.04" && config.brandStoreRate.description == "0.1")
    #expect(config.amazonCategoryRates.isEmpty && config.brandStoreRates.isEmpty)
    let fx = config.fxUSDPerUnit.mapValues(\.description)
    #expect(fx == ["USD": "1", "EUR": "1.08", "GBP": "1.27", "JPY": "0.0067", "IDR": "0.000063", "SGD": "0.74", "MYR": "0.21"])
    #expect(config.payoutThresholdCents == 1000)
  }

  @Test func fxIsMergedOverTheDefault() throws {
    let config = try parse("[fx_usd_per_unit]\neur = 1.1\nCHF = 1.13\nkrw = 0.00072\n")
    var expected = PipelineConfiguration.defaultFXUSDPerUnit
    expected["EUR"] = decimal(11, 1)
    expected["CHF"] = decimal(113, 2)
    expected["KRW"] = decimal(72, 5)
    #expect(config.fxUSDPerUnit == expected)
  }

  @Test func botListReplacesTheDefaultAndIsLowercased() throws {
    let config = try parse("[bots]\nuser_agent_patterns = [\n  \"GoogleBot\", # search\n  'My-Crawler/',\n]\n")
    #expect(config.botPatterns == ["googlebot", "my-crawler/"])
    #expect(try parse("bots.user_agent_patterns = []").botPatterns == [])
  }

  @Test func ratesFromIntegersAndExponents() throws {
    let config = try parse("commission.amazon = 1\ncommission.brand_store = 0\ncommission.amazon_categories.Toys = 4.5e-2\n")
    #expect(config.amazonRate == ExactDecimal(1) && config.brandStoreRate == .zero)
    #expect(config.amazonCategoryRates == ["toys": decimal(45, 3)])
  }

  @Test func categoryKeysAreLowercasedBrandStoresAreNot() throws {
    let config = try parse("[commission.amazon_categories]\n\"Home & Kitchen\" = 0.03\n[commission.brand_stores]\nLumi = 0.2\nlumi = 0.1\n")
    #expect(config.amazonCategoryRates == ["home & kitchen": decimal(3, 2)])
    #expect(config.brandStoreRates == ["Lumi": decimal(2, 1), "lumi": decimal(1, 1)])
  }

  @Test(arguments: [
    ("/srv/cp/conf/cp.toml", "../data/products.csv", "/srv/cp/data/products.csv"),
    ("/srv/cp/cp.toml", "/abs/products.csv", "/abs/products.csv"),
    ("/srv/cp.toml", "./p.csv", "/srv/p.csv"),
    ("/cp.toml", "a//b/./c.csv", "/a/b/c.csv"),
  ])
  func catalogResolvesAgainstTheConfigFolder(configPath: String, catalog: String, expected: String) throws {
    #expect(try parse("catalog = \"\(catalog)\"", path: configPath).catalogPath == expected)
  }

  @Test func relativeConfigPathResolvesAgainstTheCurrentDirectory() throws {
    let config = try parse("catalog = 'products.csv'", path: "conf/cp.toml")
    #expect(config.catalogPath == FileManager.default.currentDirectoryPath + "/conf/products.csv")
  }

  @Test func loadReadsTheFile() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("configtests-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let path = folder + "/clickpipeline.toml"
    try Self.example.write(toFile: path, atomically: true, encoding: .utf8)
    let config = try PipelineConfiguration.load(path: path)
    #expect(config.catalogPath == folder + "/sample-data/products.csv")
    #expect(config.amazonCategoryRates["books"] == decimal(45, 3))
    #expect(throws: ConfigurationError(path: folder, line: nil, key: nil, message: "cannot read configuration file: Is a directory")) {
      try PipelineConfiguration.load(path: folder)
    }
    try Data([0x61, 0x20, 0x3D, 0x20, 0x31, 0x0A, 0xFF, 0x0A]).write(to: URL(fileURLWithPath: path))
    #expect(throws: ConfigurationError(path: path, line: 2, key: nil, message: "configuration file is not valid UTF-8 text")) {
      try PipelineConfiguration.load(path: path)
    }
  }

  @Test func missingFileError() {
    do {
      _ = try PipelineConfiguration.load(path: "/nonexistent-clickpipeline/missing.toml")
      Issue.record("expected an error")
    } catch {
      #expect(error.description == "/nonexistent-clickpipeline/missing.toml: cannot read configuration file: No such file or directory")
      #expect(error.line == nil && error.key == nil)
    }
  }

  @Test func errorCarriesLineAndKey() {
    let error = failure("\n[commission]\namazon = 2")
    #expect(
      error
        == ConfigurationError(
          path: "clickpipeline.toml", line: 3, key: "commission.amazon", message: "must be a decimal from 0 to 1, got 2"))
  }

  @Test(arguments: [
    // Unknown keys
    (
      "timezon = \"UTC\"",
      "1: unknown key 'timezon' (known keys: timezone, catalog, ingest, attribution, bots, commission, fx_usd_per_unit, payout)"
    ),
    (
      "[attribution]\namazon_window = 24",
      "2: unknown key 'attribution.amazon_window' (known keys in [attribution]: amazon_window_hours, brand_store_window_hours)"
    ),
    (
      "[commission]\nbooks = 0.045",
      "2: unknown key 'commission.books' (known keys in [commission]: unknown_keys, amazon, brand_store, amazon_categories, brand_stores)"
    ),
    (
      "[comission]\namazon = 0.05",
      "1: unknown key 'comission' (known keys: timezone, catalog, ingest, attribution, bots, commission, fx_usd_per_unit, payout)"
    ),
    // Bad values
    ("timezone = \"Mars/Olympus\"", "1: timezone: unknown time zone 'Mars/Olympus'; use an IANA name such as 'UTC' or 'Asia/Jakarta'"),
    ("timezone = Asia/Jakarta", "1: invalid value 'Asia/Jakarta'; write strings in quotes: \"Asia/Jakarta\""),
    ("# rates\n\n[commission]\n\n\n\namazon = -0.1", "7: commission.amazon: must be a decimal from 0 to 1, got -0.1"),
    ("[commission]\nbrand_store = 1.5", "2: commission.brand_store: must be a decimal from 0 to 1, got 1.5"),
    ("commission.amazon_categories.beauty = 2", "1: commission.amazon_categories.beauty: must be a decimal from 0 to 1, got 2"),
    ("commission.amazon = \"0.05\"", "1: commission.amazon: must be a decimal from 0 to 1, got \"0.05\"; write the number without quotes"),
    (
      "commission.amazon = 0.0000000000000000001",
      "1: commission.amazon: must be a decimal from 0 to 1, got 0.0000000000000000001, which is too large or has more than 18 digits after the decimal point"
    ),
    (
      "[attribution]\namazon_window_hours = 24.5",
      "2: attribution.amazon_window_hours: must be a whole number of hours from 0 to 87600, got 24.5"
    ),
    (
      "attribution.brand_store_window_hours = \"168\"",
      "1: attribution.brand_store_window_hours: must be a whole number of hours from 0 to 87600, got \"168\"; write the number without quotes"
    ),
    ("attribution.amazon_window_hours = -1", "1: attribution.amazon_window_hours: must be a whole number of hours from 0 to 87600, got -1"),
    (
      "[fx_usd_per_unit]\nEUR = 0",
      "2: fx_usd_per_unit.EUR: must be a decimal greater than 0 and at most 10000 (US dollars per 1 EUR), got 0"
    ),
    (
      "fx_usd_per_unit.JPY = 10000.5",
      "1: fx_usd_per_unit.JPY: must be a decimal greater than 0 and at most 10000 (US dollars per 1 JPY), got 10000.5"
    ),
    (
      "[fx_usd_per_unit]\nusd = 1.0\nUSD = 0.9",
      "3: fx_usd_per_unit.USD: currency USD is already set on line 2 (codes are compared case-insensitively)"
    ),
    ("[fx_usd_per_unit]\nUSD = 0.9", "2: fx_usd_per_unit.USD: must be 1: revenue is counted in US dollars, got 0.9"),
    ("[fx_usd_per_unit]\nEURO = 1.1", "2: fx_usd_per_unit.EURO: must be a 3-letter ISO 4217 currency code such as EUR"),
    (
      "[fx_usd_per_unit]\nEUR = 1.1\neur = 1.2",
      "3: fx_usd_per_unit.eur: currency EUR is already set on line 2 (codes are compared case-insensitively)"
    ),
    (
      "[commission.amazon_categories]\nBeauty = 0.1\nbeauty = 0.2",
      "3: commission.amazon_categories.beauty: category name 'beauty' is already set on line 2 (category names are compared case-insensitively)"
    ),
    (
      "[bots]\nuser_agent_patterns = \"bot\"",
      "2: bots.user_agent_patterns: must be an array of strings such as [\"bot\", \"crawler\"], got \"bot\""
    ),
    (
      "[bots]\nuser_agent_patterns = [\n  \"bot\",\n  \"\",\n]",
      "4: bots.user_agent_patterns: item 2 must be a non-empty string in quotes, got \"\""
    ),
    (
      "catalog = \"~/products.csv\"",
      "1: catalog: '~' is not expanded; write an absolute path or one relative to the configuration file's folder"
    ),
    ("attribution = 5", "1: attribution: must be a table: write [attribution] on a line of its own, with its settings below it; got 5"),
    ("[payout]\nthreshold_cents = -5", "2: payout.threshold_cents: must be a whole number of cents, 0 or more, got -5"),
    // TOML syntax and unsupported TOML
    ("timezone = \"UTC\ncatalog = \"x\"", "1: string is not closed with '\"' before the end of the line"),
    ("[attribution]\namazon_window_hours 24", "2: expected '=' after the key 'amazon_window_hours'"),
    ("timezone = \"UTC\" \"x\"", "1: unexpected text after the end of the entry; put each entry on its own line"),
    ("[bots]\nuser_agent_patterns = [\"bot\",\n\"crawler\"\n", "2: array is never closed with ']'"),
    ("timezone = \"UTC\"\n\ntimezone = \"Asia/Jakarta\"", "3: key 'timezone' is already defined on line 1"),
    ("[commission]\namazon = 0.04\n[commission]\n", "3: table [commission] is already defined on line 1"),
    (
      "[commission.brand_stores]\n\"lumi-skin\" = 0.15\n[commission]\nbrand_stores.other = 0.2",
      "4: table [commission.brand_stores] is already defined on line 1; set 'other' under that header instead"
    ),
    ("fx_usd_per_unit = { EUR = 1.08 }", "1: inline tables ({ ... }) are not supported; use a [table] header instead"),
    ("[[bots]]", "1: arrays of tables ([[...]]) are not supported; use one [table] per setting group"),
    (
      "timezone = \"\"\"UTC\"\"\"",
      "1: multi-line strings (\"\"\"...\"\"\") are not supported; write the string on one line, using \\n for line breaks"
    ),
    ("timezone = 2024-01-01", "1: dates and times are not supported; write '2024-01-01' as a quoted string"),
    ("[payout]\nthreshold_cents = 0x3E8", "2: hexadecimal, octal and binary integers are not supported; write '0x3E8' in decimal"),
    (
      "payout.threshold_cents = 9223372036854775808",
      "1: integer 9223372036854775808 is out of range (-9223372036854775808 to 9223372036854775807)"
    ),
    ("payout.threshold_cents = 0100", "1: invalid number '0100': leading zeros are not allowed"),
    ("commission.amazon = .5", "1: invalid number '.5': write a digit before the decimal point"),
    ("commission.amazon = 1.", "1: invalid number '1.'"),
    ("commission.amazon = 1__0", "1: invalid number '1__0'"),
    ("commission.amazon = nan", "1: inf and nan are not supported"),
    ("timezone = \"a\\qb\"", "1: invalid escape \\q in a string; valid escapes are \\b \\t \\n \\f \\r \\\" \\\\ \\uXXXX \\UXXXXXXXX"),
    ("timezone = \"\\uD800\"", "1: \\uD800 is not a Unicode scalar value"),
    ("timezone = \"\\u12\"", "1: \\u must be followed by exactly 4 hex digits"),
    ("a = 1\r[b]", "1: carriage return without a line feed"),
    (
      "timezone = \"a\\\nb\"",
      "1: invalid escape '\\' followed by byte 0xA in a string; valid escapes are \\b \\t \\n \\f \\r \\\" \\\\ \\uXXXX \\UXXXXXXXX"
    ),
    ("a = 1 # note\r[b]", "1: carriage return without a line feed"),
    ("a = 1 # note\u{7}", "1: control character (byte 0x7) in a comment"),
    ("a = \"x\u{0}\"", "1: control character (byte 0x0) in a string; write it as an escape such as \\u0001"),
    ("\n\nx = [\n1,\n2\n3]", "6: expected ',' or ']' after an array element"),
    ("x = [1,,2]", "1: expected a value (a string in quotes, a number, true/false, or an array)"),
    ("x = \"a\"\ny = 'b", "2: string is not closed with \"'\" before the end of the file"),
    ("x = '''a'''", "1: multi-line strings ('''...''') are not supported; write the string on one line"),
    ("x = 07:32:00", "1: dates and times are not supported; write '07:32:00' as a quoted string"),
    ("x = TRUE", "1: invalid value 'TRUE'; write strings in quotes: \"TRUE\""),
    ("= 1", "1: expected a key (letters, digits, '_', '-', or a quoted string), found '='"),
  ])
  func badInputsReportExactErrors(text: String, expected: String) {
    #expect(failure(text)?.description == "clickpipeline.toml:" + expected)
  }

  @Test func fingerprintTracksAggregateSettingsOnly() throws {
    let base = try parse(Self.example, path: "/etc/cp/cp.toml")
    #expect(base.fingerprint == (try parse(Self.example, path: "/etc/cp/cp.toml")).fingerprint)
    #expect(base.fingerprint.hasPrefix("clickpipeline-config-v2\ntimezone \"Asia/Jakarta\"\nattribution.amazon_window_hours 24\n"))
    #expect(base.fingerprint.contains("\ncommission.amazon_categories.\"books\" 0.045\n"))
    #expect(!base.fingerprint.contains("catalog"), "the catalog's content counts, not its path")
    var reordered = base
    reordered.botPatterns = ["spider", "bot", "crawler", "bot"]
    reordered.payoutThresholdCents = 5
    #expect(reordered.fingerprint == base.fingerprint)
    for change in [\PipelineConfiguration.amazonRate, \.brandStoreRate] {
      var changed = base
      changed[keyPath: change] = decimal(5, 2)
      #expect(changed.fingerprint != base.fingerprint)
    }
    var fx = base
    fx.fxUSDPerUnit["EUR"] = decimal(109, 2)
    #expect(fx.fingerprint != base.fingerprint)
    var moved = base
    moved.catalogPath = "/elsewhere/products.csv"
    #expect(moved.fingerprint == base.fingerprint)
  }

  /// The settings stored in a database read back to the same configuration.
  @Test func settingsRoundTripThroughTheirTOMLText() throws {
    var base = try parse(Self.example, path: "/etc/cp/cp.toml")
    base.catalogPath = nil
    let again = try parse(base.tomlText, path: "stored")
    #expect(again.settings == base.settings)
    #expect(again == base || again.botPatterns.sorted() == base.botPatterns.sorted())
  }

  @Test func changesNameEveryKeyThatDiffers() throws {
    let old = try parse(Self.example)
    var new = old
    new.amazonRate = decimal(5, 2)
    new.amazonCategoryRates["books"] = nil
    new.brandStoreRates["oak"] = decimal(12, 2)
    #expect(
      PipelineConfiguration.changes(from: old.settings, to: new.settings) == [
        "commission.amazon 0.04 → 0.05", "commission.amazon_categories.\"books\" 0.045 → (unset)",
        "commission.brand_stores.\"oak\" (unset) → 0.12",
      ])
  }

  // MARK: TOML subset

  func toml(_ text: String) throws -> TOMLTable { try TOMLDocument(parsing: text).root }

  func tomlError(_ text: String) -> TOMLError? {
    do {
      _ = try TOMLDocument(parsing: text)
      return nil
    } catch {
      return error
    }
  }

  @Test(arguments: [
    ("0.045", "0.045"), ("1e-3", "1e-3"), ("1_000.000_1", "1000.0001"), ("-2.5E+2", "-2.5E+2"),
    ("+0.0", "+0.0"), ("0e0", "0e0"), ("3.14159265358979323846", "3.14159265358979323846"),
  ])
  func floatsKeepTheirSourceText(source: String, text: String) throws {
    #expect(try toml("x = \(source)")["x"]?.kind == .float(text))
  }

  @Test(arguments: [
    ("+1_000", Int64(1000)), ("-0", 0), ("0", 0), ("9223372036854775807", .max), ("-9223372036854775808", .min),
  ])
  func integers(source: String, value: Int64) throws {
    #expect(try toml("x = \(source)")["x"]?.kind == .integer(value))
  }

  @Test func stringsAndEscapes() throws {
    let table = try toml(#"a = "q\"b\\s\tn\nr\rb\bf\fé\u00e9\U0001F600"  # c"# + "\nb = 'C:\\path\\\"x'\nc = \"\"\nd = true\ne = false")
    #expect(table["a"]?.kind == .string("q\"b\\s\tn\nr\rb\u{8}f\u{c}éé😀"))
    #expect(table["b"]?.kind == .string("C:\\path\\\"x"))
    #expect(table["c"]?.kind == .string(""))
    #expect(table["d"]?.kind == .boolean(true) && table["e"]?.kind == .boolean(false))
  }

  @Test func keysTablesAndLines() throws {
    let text = "\u{FEFF}top = 1\r\n[a.\"x y\"]\nk = 'v'\n[a]\n'lit.key'.b . c = [\n  1, # one\n\n  \"two\", [3.0],\n]\n[a.z]\n"
    let root = try toml(text)
    #expect(root.keys == ["top", "a"])
    guard case .table(let a)? = root["a"]?.kind else {
      Issue.record("a is not a table")
      return
    }
    #expect(root["a"]?.line == 4 && a.keys == ["x y", "lit.key", "z"])
    #expect(a["x y"] == TOMLValue(kind: .table(try toml("\n\nk = 'v'")), line: 2))
    guard case .table(let lit)? = a["lit.key"]?.kind, case .table(let b)? = lit["b"]?.kind else {
      Issue.record("dotted tables missing")
      return
    }
    let array = TOMLValue.Kind.array([
      TOMLValue(kind: .integer(1), line: 6), TOMLValue(kind: .string("two"), line: 8),
      TOMLValue(kind: .array([TOMLValue(kind: .float("3.0"), line: 8)]), line: 8),
    ])
    #expect(b["c"] == TOMLValue(kind: array, line: 5))
    #expect(TOMLDocument.keyPath(["a", "x y", "lit.key", "b_-1"]) == "a.\"x y\".\"lit.key\".b_-1")
  }

  @Test func subTablesUnderDottedTablesAreAllowed() throws {
    let root = try toml("[fruit]\napple.color = 'red'\n[fruit.apple.texture]\nsmooth = true\n[x.y]\n[x]\nz = 1")
    #expect(root.keys == ["fruit", "x"])
    #expect(
      tomlError("[fruit]\napple.color = 'red'\n[fruit.apple]")
        == TOMLError(line: 3, message: "table [fruit.apple] is already defined on line 2"))
    #expect(tomlError("a = 1\n[a.b]") == TOMLError(line: 2, message: "key 'a' is already defined on line 1 as a value, not a table"))
    #expect(
      tomlError("a.b = 1\na.b.c = 2") == TOMLError(line: 2, message: "key 'a.b' is already defined on line 1 as a value, not a table"))
    #expect(tomlError("[a]\nb = 1\n[a.b]") == TOMLError(line: 3, message: "key 'a.b' is already defined on line 2 as a value, not a table"))
  }

  @Test func nestingIsBounded() throws {
    let deepest = String(repeating: "[", count: 32) + String(repeating: "]", count: 32)
    #expect(tomlError("x = " + deepest) == nil)
    let tooDeep = TOMLError(line: 1, message: "arrays are nested more than 32 deep")
    #expect(tomlError("x = [" + deepest + "]") == tooDeep)
    #expect(tomlError("x = " + String(repeating: "[", count: 200_000)) == tooDeep)
    let longKey = (0...32).map { "k\($0)" }.joined(separator: ".")
    #expect(tomlError(longKey + " = 1") == TOMLError(line: 1, message: "key has more than 32 dotted parts"))
    #expect(tomlError("[" + longKey + "]") == TOMLError(line: 1, message: "key has more than 32 dotted parts"))
  }
}
