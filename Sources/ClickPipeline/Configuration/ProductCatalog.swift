/// The product catalog: `product_id,platform,store,title,category` (CSV with a header).
///
/// It gives Amazon products their commission category (CONTRACT §5) and the reports their titles.
/// The file may come from any spreadsheet or exporter: LF or CRLF lines, a UTF-8 byte-order
/// mark, quoted cells (RFC 4180) and columns in any order are all accepted. A row that cannot be
/// taken as it is (wrong number of cells, unknown platform, a brand-store product without a
/// store, an empty id, the same product twice with different values) stops the run with the
/// file and line, before any work: a wrong catalog silently changes commissions.
///
/// Products are keyed by the bytes of `platform`, `store` and `product_id`, as `daily_metrics`
/// keys them: `café` (NFC) and `cafe\u{301}` (NFD) are two products.
public struct ProductCatalog: Sendable, Equatable {
  public struct Product: Sendable, Equatable {
    public var title: String
    public var category: String
  }

  /// Keyed by the UTF-8 bytes of `platform`, `store` and `product_id` joined with U+001F.
  private var products: [[UInt8]: Product] = [:]

  /// The largest catalog accepted.
  public static let maxFileBytes = 256 << 20

  public init() {}

  /// Number of products.
  public var count: Int { products.count }

  static func key(platform: String, store: String, productID: String) -> [UInt8] {
    var key: [UInt8] = []
    key.reserveCapacity(platform.utf8.count + store.utf8.count + productID.utf8.count + 3)
    key.append(contentsOf: platform.utf8)
    key.append(0x1F)
    key.append(contentsOf: store.utf8)
    key.append(0x1F)
    key.append(contentsOf: productID.utf8)
    return key
  }

  /// The stores of the catalog's brand_store products.
  public var brandStores: Set<String> {
    let prefix = Array((Platform.brandStore.rawValue + "\u{1F}").utf8)
    return Set(
      products.keys.filter { $0.starts(with: prefix) }.map { key in
        String(decoding: key[prefix.count...].prefix { $0 != 0x1F }, as: UTF8.self)
      })
  }

  /// The (lowercase) categories of the catalog's Amazon products.
  public var amazonCategories: Set<String> {
    let prefix = Array((Platform.amazon.rawValue + "\u{1F}").utf8)
    return Set(products.filter { $0.key.starts(with: prefix) && !$0.value.category.isEmpty }.map(\.value.category))
  }

  /// The product with exactly these bytes (an Amazon product's store is `""`).
  public func product(platform: String, store: String, productID: String) -> Product? {
    products[ProductCatalog.key(platform: platform, store: store, productID: productID)]
  }

  /// Loads the catalog named by the configuration (an empty catalog when none is configured).
  public static func load(path: String?) throws(PipelineError) -> ProductCatalog {
    guard let path else { return ProductCatalog() }
    switch TextFile.load(path: path, limit: maxFileBytes) {
    case .success(let file):
      return try parse(file, path: path)
    case .failure(let error):
      throw PipelineError.input(
        path: path, reason: "cannot read the product catalog (\(error)); check the `catalog` path in the configuration")
    }
  }

  /// Parses a catalog's text; `path` names the file in messages.
  public static func parse(_ file: TextFile, path: String) throws(PipelineError) -> ProductCatalog {
    func failure(_ line: Int, _ reason: String) -> PipelineError {
      .input(path: "\(path):\(line)", reason: reason)
    }
    var catalog = ProductCatalog()
    var header: [String: Int]?
    var headerCount = 0
    var firstLine: [[UInt8]: (line: Int, product: Product)] = [:]
    for line in file.lines {
      if line.bytes.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) { continue }
      guard let cells = cells(of: line.bytes) else {
        throw failure(line.number, "not a valid CSV row (a stray or unterminated quote, or invalid UTF-8)")
      }
      guard let columns = header else {
        var names: [String: Int] = [:]
        for (index, name) in cells.enumerated() {
          let name = name.trimmingASCIISpaces().lowercased()
          guard names[name] == nil else { throw failure(line.number, "the header names the column `\(name)` twice") }
          names[name] = index
        }
        // `store` may be left out by a catalog of Amazon products only.
        for required in ["product_id", "platform", "title", "category"] where names[required] == nil {
          throw failure(
            line.number, "the product catalog header lacks the column `\(required)` (expected product_id,platform,store,title,category)")
        }
        header = names
        headerCount = cells.count
        continue
      }
      guard cells.count == headerCount else {
        throw failure(line.number, "the row has \(cells.count) cells, the header has \(headerCount)")
      }
      func cell(_ name: String) -> String { columns[name].map { cells[$0] } ?? "" }
      let productID = cell("product_id")
      guard !productID.isEmpty else { throw failure(line.number, "product_id is empty") }
      let platform = cell("platform").trimmingASCIISpaces().lowercased()
      var store = cell("store")
      switch Platform(platform) {
      case .amazon:
        store = ""  // CONTRACT §2: the store is ignored for Amazon
      case .brandStore:
        guard !store.isEmpty else {
          throw failure(line.number, "brand_store product `\(productID)` has no store; give the store id in the `store` column")
        }
      case nil:
        throw failure(line.number, "platform `\(cell("platform"))` is not amazon or brand_store")
      }
      let product = Product(title: cell("title"), category: cell("category").trimmingASCIISpaces().lowercased())
      let key = Self.key(platform: platform, store: store, productID: productID)
      if let earlier = firstLine[key] {
        guard earlier.product == product else {
          throw failure(
            line.number,
            "product `\(productID)` (\(platform)\(store.isEmpty ? "" : ", store \(store)")) is listed again with a different \(earlier.product.category != product.category ? "category" : "title") than on line \(earlier.line); keep one row per product"
          )
        }
        continue
      }
      firstLine[key] = (line.number, product)
      catalog.products[key] = product
    }
    return catalog
  }

  /// The row's cells, unquoted; `nil` when it is not a valid CSV row or not valid UTF-8.
  private static func cells(of line: ArraySlice<UInt8>) -> [String]? {
    var cells: [String] = []
    var valid = true
    let ok = line.withUnsafeBytes { bytes in
      CSVLineScanner.cells(of: bytes) { start, end, quoted in
        let raw = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
        let value = quoted ? CSVLineScanner.unescape(raw) : Array(raw)
        guard let text = String(validating: value, as: UTF8.self) else {
          valid = false
          return
        }
        cells.append(text)
      }
    }
    return ok && valid ? cells : nil
  }

  /// A stable digest of the categories, so a catalog change triggers a rebuild of commissions.
  public var categoryDigest: String {
    var lines = products.map { $0.key + Array("=\($0.value.category)".utf8) }
    lines.sort { $0.lexicographicallyPrecedes($1) }
    let text = String(decoding: Array(lines.joined(separator: [0x0A])), as: UTF8.self)
    return String(EventKeyHash.key(text), radix: 16)
  }
}

extension String {
  /// Without leading and trailing spaces and tabs.
  func trimmingASCIISpaces() -> String {
    var view = Substring(self)
    while let first = view.first, first == " " || first == "\t" { view = view.dropFirst() }
    while let last = view.last, last == " " || last == "\t" { view = view.dropLast() }
    return String(view)
  }
}
