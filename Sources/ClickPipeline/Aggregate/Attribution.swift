/// Finds the click an ordered conversion is attributed to (CONTRACT §4).
///
/// 1. `click_id` naming a staged click: that click (unattributed if it is a bot click).
/// 2. Else, with a `viewer_id`: the latest non-bot click of the same viewer, platform, store and
///    product with `click.ts <= conversion.ts <= click.ts + window`, ties to the greatest event id.
/// 3. Else unattributed.
///
/// Reads only staged rows, so the result does not depend on which run or file brought them.
final class Attribution {
  /// `creator_id` and `placement` (`""` when unattributed), the click's event id and the rule
  /// that decided.
  struct Result: Equatable {
    var creatorID: String
    var placement: String
    /// The click's post (empty for a bio link).
    var postID = ""
    var clickEventID = ""
    var rule = AttributionRule.none
    static let none = Result(creatorID: "", placement: "")
  }

  private let canonicalOrder: Statement
  private let rowsOfOrderKey: Statement
  private let search: ClickSearch
  var bots: BotMatcher { search.bots }
  /// The kept copy of an order and its attribution: a class, so that handing it to each of the
  /// order's conversions copies one reference rather than five strings.
  final class Attributed {
    let canonicalEventID: String
    let result: Result

    init(canonicalEventID: String, result: Result) {
      self.canonicalEventID = canonicalEventID
      self.result = result
    }
  }

  /// Orders already worked out that another row may ask for again (an order with more than one
  /// row). Bounded: past `cacheLimit`, it keeps only the orders of the batch being resolved;
  /// emptied at the start of each day.
  private var cache = OrderCache()
  private let cacheLimit: Int

  /// `digests`: the run's click digests, shared by its workers.
  init(
    db: SQLiteDatabase, configuration: PipelineConfiguration, segments: SegmentReader, digests: ClickDigests, cacheLimit: Int
  ) throws(DatabaseError) {
    self.cacheLimit = cacheLimit
    rowsOfOrderKey = try db.prepare("SELECT count(*) FROM conversions WHERE order_key = ?")
    canonicalOrder = try db.prepare(Self.orderedRowsSQL)
    search = ClickSearch(
      reader: segments, bots: BotMatcher(configuration),
      clickDaysOfKey: try db.prepare("SELECT day FROM click_index WHERE key = ? ORDER BY day"),
      configuration: configuration, digests: digests)
  }

  /// The ordered rows of an order (key, platform, order id), in no order: run once per order
  /// with more than one row, so it must not sort (``canonicalOrder(orderKey:platform:orderID:)``).
  static let orderedRowsSQL = """
    SELECT \(ConversionRow.columns.joined(separator: ", ")) FROM conversions
    WHERE order_key = ? AND platform = ? AND order_id = ? AND refunded = 0
    """

  /// Orders kept for later batches of the day: those another row can ask for again.
  var ordersKept: Int { cache.count }

  /// Forgets the orders worked out so far (at the start of a day: most orders are the day's).
  func forgetOrders() {
    cache.removeAll()
  }

  /// Works out, in one batch, every order that the conversions `batch` belong to: per row, its
  /// order's kept copy and the attribution of all of them (`nil`: the order has no ordered
  /// conversion). Orders not known yet are worked out together (one search of the click
  /// segments). The kept copy is the order's ordered row in `batch` when the index holds no
  /// other row with its key (one index-only count); otherwise one search of the order's rows.
  ///
  /// Each order's key is worked out and looked up in the cache once, however many rows of the
  /// batch belong to it.
  func resolve(_ batch: [ConversionRow]) throws(DatabaseError) -> [Attributed?] {
    // The batch's orders, numbered in order of first appearance, and each row's number.
    var numbers: [ByteKey: Int] = Dictionary(minimumCapacity: batch.count)
    var orderKeys: [ByteKey] = []
    var rowOrder = [Int](repeating: 0, count: batch.count)
    // Per order: its first row in `batch`, and its last ordered row (-1: none).
    var firstRow: [Int] = []
    var lastOrdered: [Int] = []
    for index in batch.indices {
      let key = Self.key(batch[index].platform, batch[index].orderID)
      let number: Int
      if let known = numbers[key] {
        number = known
      } else {
        number = orderKeys.count
        numbers[key] = number
        orderKeys.append(key)
        firstRow.append(index)
        lastOrdered.append(-1)
      }
      rowOrder[index] = number
      if !batch[index].refunded { lastOrdered[number] = index }
    }
    // Each order the cache knows, and the others with their `order_key`.
    var answers = [Attributed??](repeating: nil, count: orderKeys.count)
    var missing: [(number: Int, orderKey: Int64)] = []
    for (number, key) in orderKeys.enumerated() {
      if let known = cache[key] {
        answers[number] = .some(known)
      } else {
        let row = firstRow[number]
        missing.append((number, ConversionKeys.order(platform: batch[row].platform.rawValue, orderID: batch[row].orderID)))
      }
    }
    if cache.count + missing.count > cacheLimit { cache.keepOnly(Set(orderKeys)) }
    // Searched in order-key order: neighbouring keys share the index's pages.
    missing.sort { $0.orderKey < $1.orderKey }
    // The orders to attribute, and whether another row can ask for them again: an order whose
    // key no other row has is never asked for again, so it is not kept.
    var found: [(number: Int, keep: Bool)] = []
    var kept: [ConversionRow] = []
    for (number, orderKey) in missing {
      let only = lastOrdered[number]
      if only >= 0, try rowCount(orderKey: orderKey) == 1 {
        found.append((number, false))
        kept.append(batch[only])
      } else {
        let row = firstRow[number]
        if let order = try canonicalOrder(orderKey: orderKey, platform: batch[row].platform, orderID: batch[row].orderID) {
          found.append((number, true))
          kept.append(order)
        } else {
          cache.add(orderKeys[number], nil)
          answers[number] = .some(nil)
        }
      }
    }
    for (index, result) in try search.attribute(kept).enumerated() {
      let attributed = Attributed(canonicalEventID: kept[index].eventID, result: result)
      let (number, keep) = found[index]
      if keep { cache.add(orderKeys[number], attributed) }
      answers[number] = .some(attributed)
    }
    return rowOrder.map { answers[$0] ?? nil }
  }

  private static func key(_ platform: Platform, _ orderID: String) -> ByteKey {
    var key = ByteKeyBuilder()
    key.append(platform.rawValue)
    key.append(orderID)
    return ByteKey(key.bytes)
  }

  /// How many conversions, ordered or refunded, have the order key `orderKey` (from the index
  /// alone).
  private func rowCount(orderKey: Int64) throws(DatabaseError) -> Int64 {
    let s = rowsOfOrderKey
    s.reset()
    defer { s.reset() }
    s.bind(1, orderKey)
    guard try s.step() else { return 0 }
    return s.int(0)
  }

  /// The ordered conversion kept for (platform, order_id): the earliest, ties to the smallest
  /// event id, so the choice does not depend on arrival order (CONTRACT §3 "Duplicate orders").
  ///
  /// The order's few ordered rows are compared here rather than sorted by SQLite, which
  /// builds a temporary B-tree for `ORDER BY ... LIMIT` on every call (``orderedRowsSQL``).
  private func canonicalOrder(orderKey: Int64, platform: Platform, orderID: String) throws(DatabaseError) -> ConversionRow? {
    let s = canonicalOrder
    s.reset()
    defer { s.reset() }
    s.bind(1, orderKey)
    s.bind(2, platform.rawValue)
    s.bind(3, orderID)
    // A row is made only of a copy earlier than the one kept (an order retried many times).
    var earliest: (row: ConversionRow, eventID: [UInt8])?
    while try s.step() {
      if let kept = earliest {
        let ts = s.int(ConversionRow.tsColumn)
        guard ts <= kept.row.ts else { continue }
        if ts == kept.row.ts,
          kept.eventID.withUnsafeBytes({ ByteKeyBuilder.compare(s.bytes(ConversionRow.eventIDColumn), $0) >= 0 })
        {
          continue
        }
      }
      let row = try ConversionRow(s)
      earliest = (row, Array(row.eventID.utf8))
    }
    return earliest?.row
  }
}
