import Logging

/// The settings a run works with, and the database's memory of them.
///
/// The first run that writes to a database stores its settings there (`meta`: the settings as
/// TOML and the catalog's text). A later run without `--config` uses the stored ones, so a cron
/// line that forgets `--config` computes with the same rates instead of the defaults. A run
/// whose `--config` differs from the stored settings names every changed key on standard error
/// (`commission.amazon 0.04 → 0.05`), stores the new settings, and `aggregate` recomputes what
/// the change affects (the fingerprint).
public struct EffectiveSettings: Sendable {
  public var configuration: PipelineConfiguration
  public var catalog: ProductCatalog
  /// The catalog's text (byte-order mark removed), kept in the database; `nil`: no catalog.
  public var catalogText: String?

  static let configurationKey = "settings_toml"
  static let catalogKey = "settings_catalog_csv"

  /// A configuration as given on the command line, with its catalog read.
  public static func given(_ configuration: PipelineConfiguration) throws(PipelineError) -> EffectiveSettings {
    guard let path = configuration.catalogPath else {
      return EffectiveSettings(configuration: configuration, catalog: ProductCatalog(), catalogText: nil)
    }
    switch TextFile.load(path: path, limit: ProductCatalog.maxFileBytes) {
    case .success(let file):
      let catalog = try ProductCatalog.parse(file, path: path)
      return EffectiveSettings(configuration: configuration, catalog: catalog, catalogText: String(decoding: file.bytes, as: UTF8.self))
    case .failure(let error):
      throw PipelineError.input(
        path: path, reason: "cannot read the product catalog (\(error)); check the `catalog` path in the configuration")
    }
  }

  /// The settings stored in `db`, or `nil` when none are.
  static func stored(in db: SQLiteDatabase, path: String) throws -> EffectiveSettings? {
    guard let text = try db.scalarText("SELECT value FROM meta WHERE key = '\(configurationKey)'") else { return nil }
    let configuration: PipelineConfiguration
    do throws(ConfigurationError) {
      configuration = try PipelineConfiguration.parse(text: text, path: "\(path) (stored settings)")
    } catch {
      throw PipelineError.unusableDatabase(
        path: path, reason: "its stored settings cannot be read (\(error)); run with --config to replace them")
    }
    let catalogText = try db.scalarText("SELECT value FROM meta WHERE key = '\(catalogKey)'")
    let catalog =
      try catalogText.map { text throws(PipelineError) in
        try ProductCatalog.parse(TextFile(bytes: Array(text.utf8)), path: "\(path) (stored catalog)")
      } ?? ProductCatalog()
    return EffectiveSettings(configuration: configuration, catalog: catalog, catalogText: catalogText)
  }

  /// Every setting, and the catalog as one entry (its product count and a digest of its text).
  public var entries: [PipelineConfiguration.Setting] {
    let catalogValue =
      catalogText.map { text in
        "\(catalog.count) products, content \(String(UInt64(bitPattern: EventKeyHash.key(text)), radix: 16))"
      } ?? "(none)"
    return configuration.settings + [
      PipelineConfiguration.Setting(key: "catalog", value: catalogValue),
      PipelineConfiguration.Setting(key: "crawler list", value: crawlerList),
    ]
  }

  /// The crawler list in use: its release (a new release is a setting change), or `(off)`.
  var crawlerList: String { configuration.knownCrawlers ? CrawlerList.description : "(off)" }

  /// What identifies aggregate output: the settings that change it, the catalog's categories
  /// and the crawler list's release.
  public var fingerprint: String {
    configuration.fingerprint + "catalog-categories " + catalog.categoryDigest + "\n"
      + (configuration.knownCrawlers ? "crawler-list " + CrawlerList.description + "\n" : "")
  }

  /// The settings of a run: `given` (from `--config`, see ``given(_:)``), or those stored in `db`, or the
  /// defaults. When `given` differs from what is stored, each changed key is logged as a
  /// warning. With `store`, the result is written to `meta` (in the caller's transaction) when
  /// it is not stored yet or changed.
  static func resolve(
    given: EffectiveSettings?, db: SQLiteDatabase, path: String, logger: Logger
  ) throws -> (settings: EffectiveSettings, needsStoring: Bool) {
    let stored = try stored(in: db, path: path)
    guard let settings = given else {
      if let stored { return (stored, false) }
      return (EffectiveSettings(configuration: .default, catalog: ProductCatalog(), catalogText: nil), true)
    }
    guard let stored else { return (settings, true) }
    let changes = PipelineConfiguration.changes(from: stored.entries, to: settings.entries)
    for change in changes {
      logger.warning("setting changed since the database's last run: \(change)")
    }
    return (settings, !changes.isEmpty)
  }

  /// Writes these settings into `meta` (inside the caller's transaction).
  func store(in db: SQLiteDatabase) throws {
    let upsert = "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value"
    try db.run(upsert, [.text(Self.configurationKey), .text(configuration.tomlText)])
    if let catalogText {
      try db.run(upsert, [.text(Self.catalogKey), .text(catalogText)])
    } else {
      try db.run("DELETE FROM meta WHERE key = ?", [.text(Self.catalogKey)])
    }
  }
}
