/// The orders an ``Attribution`` has worked out, by (platform, order id) bytes: the kept copy
/// and its attribution, or `nil` for an order with only refunds.
///
/// A day's orders are kept (up to twelve batches' worth, 240,000 by default), so the entries
/// are stored once, in arrival order, and the hash table maps a key to an entry number: the
/// table's buckets stay small (key and number), where a `[ByteKey: Attributed?]` stored each
/// 90-byte entry in a bucket, a third of them empty, and held two tables while it grew: 41 MB
/// for a day of 100,000 orders (`bench.py --shapes` late-clicks).
struct OrderCache {
  private var numbers: [ByteKey: Int32] = [:]
  private var entries: [Attribution.Attributed?] = []

  var count: Int { entries.count }

  /// The order's entry: `nil` if it is not known, `.some(nil)` if it has only refunds.
  subscript(key: ByteKey) -> Attribution.Attributed?? {
    numbers[key].map { entries[Int($0)] }
  }

  /// Records the order's entry (each key once: an order is worked out once while it is kept).
  mutating func add(_ key: ByteKey, _ entry: Attribution.Attributed?) {
    precondition(entries.count < Int(Int32.max), "more than 2^31 orders kept")
    if let number = numbers[key] {
      entries[Int(number)] = entry
    } else {
      numbers[key] = Int32(entries.count)
      entries.append(entry)
    }
  }

  /// Forgets every order but `keys`.
  mutating func keepOnly(_ keys: Set<ByteKey>) {
    var kept = OrderCache()
    for key in keys {
      if let number = numbers[key] { kept.add(key, entries[Int(number)]) }
    }
    self = kept
  }

  /// Forgets every order and the memory that held them.
  mutating func removeAll() {
    self = OrderCache()
  }
}
