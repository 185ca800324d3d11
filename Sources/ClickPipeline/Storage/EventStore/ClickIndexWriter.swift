/// Writes `click_index` (id hash key, UTC day: on which days a click id occurs, attribution
/// rule 1): the entries are collected, one per staged click, and written sorted by (key, day),
/// each once, at ``flush()``. An index written in key order is appended to; one written as
/// segments arrive had its pages read back one by one. 12 bytes per collected entry.
final class ClickIndexWriter {
  /// `click_index` rows per `INSERT`: one statement per row costs about twice as much.
  static let rowsPerStatement = 64
  /// Entries a writer should collect at most before it flushes (24 MiB).
  static let entriesInMemory = 2 << 20

  /// `click_index.key` (63 bits, never negative) of each entry, and its day.
  private var keys: [UInt64] = []
  private var days: [UInt32] = []
  /// `keys` are sorted by (key, day) and distinct (nothing was added since).
  private var isSorted = false
  private let insertOne: Statement
  private let insertMany: Statement

  init(db: SQLiteDatabase) throws(DatabaseError) {
    insertOne = try db.prepare("INSERT OR IGNORE INTO click_index(key, day) VALUES (?, ?)")
    insertMany = try db.prepare(
      "INSERT OR IGNORE INTO click_index(key, day) VALUES "
        + Array(repeating: "(?, ?)", count: Self.rowsPerStatement).joined(separator: ", "))
  }

  /// Entries collected and not yet written.
  var count: Int { keys.count }

  /// Collects the entry of a click whose id hashes to `hash` (``EventKeyHash``), on `day`.
  func add(hash: UInt64, day: Int64) {
    keys.append(UInt64(bitPattern: EventKeys.indexKey(hash)))
    days.append(UInt32(truncatingIfNeeded: day))
    isSorted = false
  }

  /// Removes from `named` (sorted by key) the entries whose key a collected entry has: a click
  /// of this run that is not written yet. What is left must be looked up in `click_index`.
  func removeCollected<ID>(from named: inout [(key: Int64, id: ID)]) {
    sortDistinct()
    var kept = 0
    var i = 0
    for n in named.indices {
      let key = UInt64(bitPattern: named[n].key)
      while i < keys.count && keys[i] < key { i += 1 }
      if i < keys.count && keys[i] == key { continue }
      named[kept] = named[n]
      kept += 1
    }
    named.removeSubrange(kept...)
  }

  /// Forgets the entries collected from the `start`-th on (a file that failed).
  func removeSubrange(from start: Int) {
    precondition(!isSorted || start == keys.count, "entries are removed by arrival, before they are sorted")
    keys.removeSubrange(start...)
    days.removeSubrange(start...)
  }

  /// Writes the collected entries, sorted by (key, day), each once, and forgets them.
  func flush() throws(DatabaseError) {
    sortDistinct()
    var next = 0
    while next < keys.count {
      let s = keys.count - next >= Self.rowsPerStatement ? insertMany : insertOne
      let rows = s === insertMany ? Self.rowsPerStatement : 1
      s.reset()
      for k in 0..<rows {
        s.bind(Int32(2 * k + 1), Int64(bitPattern: keys[next + k]))
        s.bind(Int32(2 * k + 2), Int64(days[next + k]))
      }
      try s.step()
      next += rows
    }
    insertMany.reset()
    insertOne.reset()
    keys.removeAll(keepingCapacity: true)
    days.removeAll(keepingCapacity: true)
    isSorted = false
  }

  /// Sorts the entries by (key, day) and removes repeated ones.
  private func sortDistinct() {
    guard !isSorted else { return }
    defer { isSorted = true }
    RadixSort.sort(&keys, carrying: &days)
    var kept = 0
    var i = 0
    while i < keys.count {
      // A key's entries are adjacent; order their days (a key is on one day or a few).
      var j = i + 1
      while j < keys.count && keys[j] == keys[i] { j += 1 }
      if j - i > 1 { days[i..<j].sort() }
      for k in i..<j where k == i || days[k] != days[k - 1] {
        keys[kept] = keys[k]
        days[kept] = days[k]
        kept += 1
      }
      i = j
    }
    keys.removeSubrange(kept...)
    days.removeSubrange(kept...)
  }
}
