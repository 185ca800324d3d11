/// The `daily_metrics` rows of one pass over a day (``DayComputer``), numbered 0, 1, 2, … in
/// order of first appearance of their 64-bit row keys.
///
/// Most of a day's rows have traffic and no orders, so a row's metrics are kept in three
/// places: its views and clicks in its ``RowTable`` slot, its distinct viewers and clickers in
/// an 8-byte entry, and its order and refund metrics in a ``MetricsRow`` only once it has
/// some. A row then costs about 65 bytes with its table slot, where a whole `MetricsRow` per
/// row cost 160: a pass's memory is mostly its rows (``AggregateOptions/rowsPerPass``).
///
/// ```swift
/// let rows = PassRows()
/// let r = rows.index(of: 42, counting: .views)    // 0
/// rows.addDistinct(1, to: r, \.viewers)
/// rows.updateSales(r) { $0.add(units: 1, revenueCents: 999, commissionCents: 50) }
/// rows.metrics(r)    // views 1, unique_viewers 1, orders 1, units 1, revenue 999, …
/// ```
final class PassRows {
  /// A row's distinct viewers and clickers. Counts fit in 32 bits, as ``RowTable/Traffic``'s do.
  struct Distinct {
    var viewers: UInt32 = 0
    var clickers: UInt32 = 0
  }

  private let table = RowTable()
  /// Each row's key, in number order.
  private(set) var keys: [UInt64] = []
  private var distinct: [Distinct] = []
  /// Per row: 1 + its index in `sales`, or 0 while it has no order or refund.
  private var saleIndex: [UInt32] = []
  private var sales: [MetricsRow] = []

  /// Rows a pass may hold: a row number takes 26 bits of a viewer word (``DayComputer``).
  static let maxRows = 1 << 26

  var count: Int { keys.count }

  /// Forgets every row, keeping the memory.
  func removeAll() {
    table.removeAll()
    keys.removeAll(keepingCapacity: true)
    distinct.removeAll(keepingCapacity: true)
    saleIndex.removeAll(keepingCapacity: true)
    sales.removeAll(keepingCapacity: true)
  }

  /// Starts loading the table slot of `key` (``RowTable/prefetch(_:)``).
  @inline(__always)
  func prefetch(_ key: UInt64) { table.prefetch(key) }

  /// Starts loading what ``metrics(_:)`` of `row` reads from the table: called a few rows
  /// ahead when rows are read in an order of their own (key order), it overlaps the misses.
  @inline(__always)
  func prefetch(row: Int) { table.prefetch(keys[row]) }

  /// The row of `key`, made if new; one is added to its `counter` if one is given.
  @inline(__always)
  func index(of key: UInt64, counting counter: RowTable.Counter? = nil) -> Int {
    let (index, inserted) =
      if let counter { table.count(key, next: keys.count, counter) } else { table.insert(key, next: keys.count) }
    if inserted {
      precondition(keys.count < Self.maxRows, "more than 2^26 daily_metrics rows in one pass")
      keys.append(key)
      distinct.append(Distinct())
      saleIndex.append(0)
    }
    return index
  }

  /// Adds `n` distinct viewers or clickers to `row`.
  @inline(__always)
  func addDistinct(_ n: Int, to row: Int, _ metric: WritableKeyPath<Distinct, UInt32>) {
    distinct[row][keyPath: metric] += UInt32(n)
  }

  /// Lets `body` change the order and refund metrics of `row`.
  func updateSales<R>(_ row: Int, _ body: (inout MetricsRow) -> R) -> R {
    if saleIndex[row] == 0 {
      sales.append(MetricsRow())
      saleIndex[row] = UInt32(sales.count)
    }
    return body(&sales[Int(saleIndex[row]) - 1])
  }

  /// Whether every metric of `row` is 0 (a row made for an order whose sums did not fit).
  func isZero(_ row: Int) -> Bool {
    if distinct[row].viewers != 0 || distinct[row].clickers != 0 { return false }
    if saleIndex[row] != 0 && !sales[Int(saleIndex[row]) - 1].isZero { return false }
    return table.traffic(of: keys[row]) == RowTable.Traffic()
  }

  /// Every metric of `row`.
  func metrics(_ row: Int) -> MetricsRow {
    var m = saleIndex[row] == 0 ? MetricsRow() : sales[Int(saleIndex[row]) - 1]
    let traffic = table.traffic(of: keys[row])
    m.views = Int64(traffic.views)
    m.botViews = Int64(traffic.botViews)
    m.clicks = Int64(traffic.clicks)
    m.botClicks = Int64(traffic.botClicks)
    m.uniqueViewers = Int64(distinct[row].viewers)
    m.uniqueClickers = Int64(distinct[row].clickers)
    return m
  }
}
