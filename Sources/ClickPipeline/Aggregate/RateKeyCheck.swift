/// Rate keys that name nothing (`commission.unknown_keys`, CONTRACT §9): a brand-store rate
/// for a store that is neither in the catalog nor in any staged conversion, or an Amazon
/// category rate for a category no catalog product has. Such a key is usually a typo
/// (`"lumi-skn" = 0.15`), and the store it meant is silently paid the default rate.
///
/// Stores are looked up among the catalog's products and the staged conversions, the events
/// a rate applies to; a store known only from views and clicks has nothing to be paid yet.
/// `aggregate` checks when its settings are new to the database (the first run, or a changed
/// setting), so a key allowed with `"warn"` is named once, not every night.
struct RateKeyCheck {
  /// One key that names nothing.
  struct Finding: Equatable {
    /// The full dotted key, as the configuration writes it.
    var key: String
    var line: Int?
    var message: String
  }

  let configuration: PipelineConfiguration
  let catalog: ProductCatalog

  /// The keys that name nothing, in key order.
  func findings(_ db: SQLiteDatabase) throws(DatabaseError) -> [Finding] {
    var stores = catalog.brandStores
    if !configuration.brandStoreRates.isEmpty {
      for row in try db.rows("SELECT DISTINCT store FROM conversions WHERE platform = ?", [.text(Platform.brandStore.rawValue)]) {
        stores.insert(row[0].textValue)
      }
    }
    return unknown(
      configuration.brandStoreRates.keys, table: "brand_stores", known: stores,
      "names no brand store of the catalog and none in the staged conversions",
      hint: "correct the store id, or set commission.unknown_keys = \"warn\" for a store whose orders come later")
      + unknown(
        configuration.amazonCategoryRates.keys, table: "amazon_categories", known: catalog.amazonCategories,
        "names no category of the catalog's Amazon products",
        hint: "correct the category, or set commission.unknown_keys = \"warn\" for products not in the catalog yet")
  }

  /// A finding for each of `names` (keys of `[commission.<table>]`) not in `known`.
  private func unknown(
    _ names: some Collection<String>, table: String, known: Set<String>, _ what: String, hint: String
  ) -> [Finding] {
    names.sorted().filter { !known.contains($0) }.map { name in
      let key = TOMLDocument.keyPath(["commission", table, name])
      return Finding(key: key, line: configuration.rateKeySources.lines[key], message: what + Self.known(known) + "; " + hint)
    }
  }

  /// ` (known: a, b, c)`, at most five, or nothing.
  private static func known(_ names: Set<String>) -> String {
    guard !names.isEmpty else { return "" }
    let sorted = names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    return " (known: " + sorted.prefix(5).joined(separator: ", ") + (sorted.count > 5 ? ", …" : "") + ")"
  }
}
