import CSQLite

/// Deduplication of views and clicks by event id within the UTC day of their timestamp
/// (CONTRACT §3), and the index that finds a click by its id on any day (attribution rule 1).
///
/// A run stages every row as it comes and only *collects* its keys here
/// (``add(_:day:segmentID:)``: a 32-bit hash prefix and a ref per row, no lookup).
/// ``finish(reader:)`` then works day by day: the run's keys of the day are sorted (a stable
/// radix sort on the prefix keeps arrival order within a prefix) and merged with the keys of
/// the rows already stored on that day, which are worked out from their segments' id columns
/// (``EventIDColumn``) rather than kept in a second copy. Every group of equal prefixes that
/// holds a new key is confirmed by comparing the ids themselves; in each set of equal ids the
/// first arrival stays and the later ones are returned as dropped. Two different ids are never
/// one event, whatever their hashes.
///
/// A night's cost follows the night's days: a run reads the stored ids of the days its events
/// fall on and no others (``storedSegmentsRead``). `click_index(key, day)` says on which days a
/// click id's hash occurs; ingest adds to it as it writes click segments, and forgetting a
/// click removes its day from it here (``removeClick(hash:day:)``).
final class EventKeys {
  /// Keys of one day: hash prefixes and refs, in the same order.
  private struct DayKeys {
    var prefixes: [UInt32] = []
    var refs: [UInt64] = []
    var count: Int { prefixes.count }
  }


  private let db: SQLiteDatabase
  private let storedOfDay: Statement
  private let deleteClick: Statement
  private var days: [Int64: DayKeys] = [:]
  /// The first segment of this run: those before it are stored.
  private var firstNewSegment: Int64 = .max
  /// Segments whose keys must be left out (files that failed after they were staged).
  private var discarded: [ClosedRange<Int64>] = []
  private var removedClicks: [(hash: UInt64, day: Int64)] = []

  /// Stored segments whose ids were read: the work a run did, for tests that guard against
  /// cost that grows with the history.
  private(set) var storedSegmentsRead = 0

  init(db: SQLiteDatabase) throws(DatabaseError) {
    self.db = db
    storedOfDay = try db.prepare(
      "SELECT segment_id, kind FROM segments WHERE day = ? AND segment_id < ? ORDER BY segment_id")
    deleteClick = try db.prepare("DELETE FROM click_index WHERE key = ? AND day = ?")
  }

  // MARK: - Collecting

  /// Collects the keys of a newly written segment: `hashes[row]` is row `row`'s id hash
  /// (``EventKeyHash/hash(_:)``). Segments must come in increasing id order.
  func add(_ hashes: [UInt64], day: Int64, segmentID: Int64) {
    firstNewSegment = min(firstNewSegment, segmentID)
    var keys = days.removeValue(forKey: day) ?? DayKeys()
    keys.prefixes.reserveCapacity(keys.count + hashes.count)
    keys.refs.reserveCapacity(keys.count + hashes.count)
    let base = UInt64(segmentID) << 16
    for (row, hash) in hashes.enumerated() {
      keys.prefixes.append(UInt32(truncatingIfNeeded: hash >> 32))
      keys.refs.append(base | UInt64(row))
    }
    days[day] = keys
  }

  /// Leaves out the keys of these segments (a file that turned out unreadable).
  func discard(segments: ClosedRange<Int64>) {
    discarded.append(segments)
  }

  /// A stored click is being forgotten: its day keeps its `click_index` entry only while
  /// another click of that day has the same id hash.
  func removeClick(hash: UInt64, day: Int64) {
    removedClicks.append((hash, day))
  }

  // MARK: - Finishing

  /// Deduplicates the collected keys against the stored ones and each other, and removes the
  /// `click_index` entries of forgotten clicks. Call once the run's segments are written (and
  /// forgotten ones deleted). Returns the new rows that repeat an event already staged (the
  /// later copies), in ref order.
  func finish(reader: SegmentReader) throws(DatabaseError) -> [EventRef] {
    var dropped: [EventRef] = []
    for day in days.keys.sorted() {
      var new = days.removeValue(forKey: day) ?? DayKeys()
      if !discarded.isEmpty { Self.filter(&new) { !self.isDiscarded($0) } }
      guard new.count > 0 else { continue }
      Self.sortByPrefix(&new)
      var stored = try storedKeys(day, reader: reader)
      Self.sortByPrefix(&stored)
      // The runs of equal prefixes that hold a new key and at least one other key.
      var groups: [[EventRef]] = []
      var i = 0
      var j = 0
      while j < new.count {
        let prefix = new.prefixes[j]
        while i < stored.count && stored.prefixes[i] < prefix { i += 1 }
        let storedStart = i
        while i < stored.count && stored.prefixes[i] == prefix { i += 1 }
        let newStart = j
        while j < new.count && new.prefixes[j] == prefix { j += 1 }
        guard (i - storedStart) + (j - newStart) > 1 else { continue }
        groups.append(
          (storedStart..<i).map { EventRef(raw: stored.refs[$0]) } + (newStart..<j).map { EventRef(raw: new.refs[$0]) })
      }
      guard !groups.isEmpty else { continue }
      // Confirm each group by its ids: the first arrival of each id stays.
      let found = try reader.idBytes(groups.flatMap { $0 })
      for group in groups {
        var seen: [[UInt8]] = []
        for ref in group {
          guard let id = found[ref] else { continue }
          if seen.contains(id) {
            dropped.append(ref)
          } else {
            seen.append(id)
          }
        }
      }
    }
    // Forgotten clicks: a day keeps a hash in the index while another click of it has the hash.
    for (hash, day) in removedClicks where try !hasClick(hash: hash, day: day, reader: reader) {
      try deleteClick.run([.int(Self.indexKey(hash)), .int(day)])
    }
    dropped.sort { $0.raw < $1.raw }
    days.removeAll()
    removedClicks.removeAll()
    discarded.removeAll()
    return dropped
  }

  /// The `click_index.key` of an id hash (SQLite integers are signed: 63 bits).
  static func indexKey(_ hash: UInt64) -> Int64 { Int64(bitPattern: hash & 0x7FFF_FFFF_FFFF_FFFF) }

  /// The keys of the live rows stored on `day` before this run.
  private func storedKeys(_ day: Int64, reader: SegmentReader) throws(DatabaseError) -> DayKeys {
    var keys = DayKeys()
    for (segmentID, _) in try storedSegments(day) {
      let ids = try reader.ids(segmentID)
      let dropped = Set(try reader.dropped(segmentID))
      storedSegmentsRead += 1
      let base = UInt64(segmentID) << 16
      for row in 0..<ids.count where !dropped.contains(row) {
        keys.prefixes.append(UInt32(truncatingIfNeeded: ids.withID(row) { EventKeyHash.hash($0) } >> 32))
        keys.refs.append(base | UInt64(row))
      }
    }
    return keys
  }

  private func storedSegments(_ day: Int64) throws(DatabaseError) -> [(Int64, EventKind)] {
    let s = storedOfDay
    s.reset()
    defer { s.reset() }
    s.bind(1, day)
    s.bind(2, firstNewSegment)
    var result: [(Int64, EventKind)] = []
    while try s.step() { result.append((s.int(0), EventKind(rawValue: Int(s.int(1))) ?? .view)) }
    return result
  }

  /// Whether a stored live click of `day` has an id hashing to `hash`.
  private func hasClick(hash: UInt64, day: Int64, reader: SegmentReader) throws(DatabaseError) -> Bool {
    for (segmentID, kind) in try storedSegments(day) where kind == .click {
      let ids = try reader.ids(segmentID)
      let dropped = Set(try reader.dropped(segmentID))
      for row in 0..<ids.count where !dropped.contains(row) {
        if ids.withID(row, { EventKeyHash.hash($0) }) == hash { return true }
      }
    }
    return false
  }

  private func isDiscarded(_ ref: UInt64) -> Bool {
    let segment = Int64(ref >> 16)
    return discarded.contains { $0.contains(segment) }
  }

  private static func filter(_ keys: inout DayKeys, keeping: (UInt64) -> Bool) {
    var kept = DayKeys()
    for k in keys.refs.indices where keeping(keys.refs[k]) {
      kept.prefixes.append(keys.prefixes[k])
      kept.refs.append(keys.refs[k])
    }
    keys = kept
  }

  /// Sorts by prefix, keeping ref order among equal prefixes (refs come in increasing order):
  /// two stable passes of a 16-bit radix sort.
  private static func sortByPrefix(_ keys: inout DayKeys) {
    let n = keys.count
    guard n > 1 else { return }
    if n < 4096 {
      let order = (0..<n).sorted { (keys.prefixes[$0], keys.refs[$0]) < (keys.prefixes[$1], keys.refs[$1]) }
      keys = DayKeys(prefixes: order.map { keys.prefixes[$0] }, refs: order.map { keys.refs[$0] })
      return
    }
    var prefixes = keys.prefixes
    var refs = keys.refs
    var otherPrefixes = [UInt32](repeating: 0, count: n)
    var otherRefs = [UInt64](repeating: 0, count: n)
    var counts = [Int](repeating: 0, count: 1 << 16)
    for shift: UInt32 in [0, 16] {
      for k in counts.indices { counts[k] = 0 }
      for p in prefixes { counts[Int((p >> shift) & 0xFFFF)] += 1 }
      var total = 0
      for k in counts.indices {
        let c = counts[k]
        counts[k] = total
        total += c
      }
      for k in 0..<n {
        let bucket = Int((prefixes[k] >> shift) & 0xFFFF)
        let at = counts[bucket]
        counts[bucket] = at + 1
        otherPrefixes[at] = prefixes[k]
        otherRefs[at] = refs[k]
      }
      swap(&prefixes, &otherPrefixes)
      swap(&refs, &otherRefs)
    }
    keys = DayKeys(prefixes: prefixes, refs: refs)
  }
}
