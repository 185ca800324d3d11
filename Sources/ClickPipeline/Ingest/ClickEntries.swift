/// The `click_index` rows (id hash key, UTC day) a run collects, one per staged click, written
/// sorted when the run ends: an index written in key order is appended to, where one written
/// as segments arrive had its pages read back one by one.
struct ClickEntries {
  /// `click_index.key` (63 bits, never negative) of each entry, and its day.
  private var keys: [UInt64] = []
  private var days: [UInt32] = []

  var count: Int { keys.count }

  mutating func append(key: Int64, day: Int64) {
    keys.append(UInt64(bitPattern: key))
    days.append(UInt32(truncatingIfNeeded: day))
  }

  /// Forgets the entries from `start` on (a file that failed).
  mutating func removeSubrange(from start: Int) {
    keys.removeSubrange(start...)
    days.removeSubrange(start...)
  }

  mutating func removeAll() {
    keys.removeAll(keepingCapacity: true)
    days.removeAll(keepingCapacity: true)
  }

  /// Entry `index`: its `click_index` key and day.
  subscript(index: Int) -> (key: Int64, day: Int64) { (Int64(bitPattern: keys[index]), Int64(days[index])) }

  /// Sorts the entries by (key, day) and removes repeated ones.
  mutating func sortDistinct() {
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
    removeSubrange(from: kept)
  }
}
