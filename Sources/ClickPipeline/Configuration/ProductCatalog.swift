import Foundation

/// The product catalog: `product_id,platform,store,title,category` (CSV with a header).
///
/// It gives Amazon products their commission category (CONTRACT §5) and the reports their titles.
public struct ProductCatalog: Sendable, Equatable {
  public struct Product: Sendable, Equatable {
    public var title: String
    public var category: String
  }

  /// Keyed by `platform`, `store` and `product_id` joined with U+001F.
  public private(set) var products: [String: Product] = [:]

  public init() {}

  static func key(platform: String, store: String, productID: String) -> String {
    "\(platform)\u{1F}\(store)\u{1F}\(productID)"
  }

  public func product(platform: String, store: String, productID: String) -> Product? {
    products[ProductCatalog.key(platform: platform, store: store, productID: productID)]
      ?? products[ProductCatalog.key(platform: platform, store: "", productID: productID)]
  }

  /// Loads the catalog named by the configuration (an empty catalog when none is configured).
  public static func load(path: String?) throws(PipelineError) -> ProductCatalog {
    guard let path else { return ProductCatalog() }
    guard let data = FileManager.default.contents(atPath: path) else {
      throw PipelineError.input(path: path, reason: "cannot read the product catalog; check the `catalog` path in the configuration")
    }
    var catalog = ProductCatalog()
    var lines = String(decoding: data, as: UTF8.self).split(omittingEmptySubsequences: false) { $0 == "\n" }
    if let last = lines.last, last.isEmpty { lines.removeLast() }
    var columns: [String: Int] = [:]
    for (offset, rawLine) in lines.enumerated() {
      var line = String(rawLine)
      if line.hasSuffix("\r") { line.removeLast() }
      if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
      var cells: [String] = []
      let ok = line.utf8.withContiguousStorageIfAvailable { buffer in
        let bytes = UnsafeRawBufferPointer(buffer)
        return CSVLineScanner.cells(of: bytes) { start, end, quoted in
          let raw = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
          cells.append(String(decoding: quoted ? CSVLineScanner.unescape(raw) : Array(raw), as: UTF8.self))
        }
      } ?? false
      guard ok else {
        throw PipelineError.input(path: "\(path):\(offset + 1)", reason: "malformed CSV row in the product catalog")
      }
      if columns.isEmpty {
        for (index, name) in cells.enumerated() { columns[name] = index }
        for required in ["product_id", "platform", "title", "category"] where columns[required] == nil {
          throw PipelineError.input(
            path: "\(path):1", reason: "the product catalog header lacks the column `\(required)` (expected product_id,platform,store,title,category)")
        }
        continue
      }
      func cell(_ name: String) -> String {
        guard let index = columns[name], index < cells.count else { return "" }
        return cells[index]
      }
      let platform = cell("platform").lowercased()
      let store = platform == "amazon" ? "" : cell("store")
      catalog.products[key(platform: platform, store: store, productID: cell("product_id"))] = Product(
        title: cell("title"), category: cell("category").lowercased())
    }
    return catalog
  }

  /// A stable digest of the categories, so a catalog change triggers a rebuild of commissions.
  public var categoryDigest: String {
    let text = products.map { "\($0.key)=\($0.value.category)" }.sorted().joined(separator: "\n")
    return String(EventKeyHash.key(text), radix: 16)
  }
}
