import CSQLite

/// Deduplication of views and clicks by event id within the UTC day of their timestamp
/// (CONTRACT §3), and the index that finds a click by its id on any day (attribution rule 1).
///
/// A run stages every row as it comes and only *collects* its keys here
/// (``add(_:day:segmentID:isClick:)``: a 32-bit hash prefix and a ref per row, no lookup).
/// ``finish(reader:)`` then works day by day: the run's keys of the day are sorted (a stable
/// radix sort on the prefix keeps arrival order within a prefix) and merged with the keys of
/// the rows already stored on that day, which are worked out from their segments' id columns
/// (``EventIDColumn``) rather than kept in a second copy. Every group of equal prefixes that
/// holds a new key is confirmed by comparing the ids themselves; in each set of equal ids the
/// first arrival stays and the later ones are returned as dropped. Two different ids are never
/// one event, whatever their hashes.
///
/// A night's cost follows the night's days: a run reads the stored ids of the days its events
/// fall on and no others (``storedSegmentsRead``). New kept clicks go into
/// `click_index(key, day)`, which says on which days a click id's hash occurs.
final class EventKeys {
  /// Keys of one day: hash prefixes and refs, in the same order.
  private struct DayKeys {
    var prefixes: [UInt32] = []
    var refs: [UInt64] = []
    var count: Int { prefixes.count }
  }

  /// What ``finish(reader:)`` decided.
  struct Outcome {
    /// New rows that repeat an event already staged (the later copies), in ref order.
    var dropped: [EventRef] = []
    /// New kept clicks: full hash, UTC day, ref.
    var clicks: [(hash: UInt64, day: Int64, ref: EventRef)] = []
  }

  private let db: SQLiteDatabase
  private let storedOfDay: Statement
  private let insertClick: Statement
  private let deleteClick: Statement
  private var days: [Int64: DayKeys] = [:]
  private var newClicks: [(hash: UInt64, day: Int64, ref: EventRef)] = []
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
    insertClick = try db.prepare("INSERT OR IGNORE INTO click_index(key, day) VALUES (?, ?)")
    deleteClick = try db.prepare("DELETE FROM click_index WHERE key = ? AND day = ?")
  }

  // MARK: - Collecting

  /// Collects the keys of a newly written segment: `hashes[row]` is row `row`'s id hash
  /// (``EventKeyHash/hash(_:)``). Segments must come in increasing id order.
  func add(_ hashes: [UInt64], day: Int64, segmentID: Int64, isClick: Bool) {
    firstNewSegment = min(firstNewSegment, segmentID)
    var keys = days.removeValue(forKey: day) ?? DayKeys()
    keys.prefixes.reserveCapacity(keys.count + hashes.count)
    keys.refs.reserveCapacity(keys.count + hashes.count)
    let base = UInt64(segmentID) << 16
    for (row, hash) in hashes.enumerated() {
      keys.prefixes.append(UInt32(truncatingIfNeeded: hash >> 32))
      keys.refs.append(base | UInt64(row))
    }
    if isClick {
      for (row, hash) in hashes.enumerated() { newClicks.append((hash, day, EventRef(raw: base | UInt64(row)))) }
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

  /// Deduplicates the collected keys against the stored ones and each other, and updates the
  /// click index. Call once the run's segments are written (and forgotten ones deleted).
  func finish(reader: SegmentReader) throws(DatabaseError) -> Outcome {
    var outcome = Outcome()
    var droppedSet = Set<UInt64>()
    for day in days.keys.sorted() {
      var new = days.removeValue(forKey: day) ?? DayKeys()
      if !discarded.isEmpty { Self.filter(&new) { !self.isDiscarded($0) } }
      guard new.count > 0 else { continue }
      Self.sortByPrefix(&new)
      var stored = try storedKeys(day, reader: reader)
      Self.sortByPrefix(&stored)
      // Merge; note the runs of equal prefixes that hold a new key.
      var merged = DayKeys()
      merged.prefixes.reserveCapacity(stored.count + new.count)
      merged.refs.reserveCapacity(stored.count + new.count)
      var groups: [Range<Int>] = []
      var i = 0
      var j = 0
      while j < new.count {
        let prefix = i < stored.count && stored.prefixes[i] <= new.prefixes[j] ? stored.prefixes[i] : new.prefixes[j]
        let start = merged.count
        while i < stored.count && stored.prefixes[i] == prefix {
          merged.prefixes.append(prefix)
          merged.refs.append(stored.refs[i])
          i += 1
        }
        let storedInGroup = merged.count - start
        while j < new.count && new.prefixes[j] == prefix {
          merged.prefixes.append(prefix)
          merged.refs.append(new.refs[j])
          j += 1
        }
        let size = merged.count - start
        if size > 1 && size > storedInGroup { groups.append(start..<merged.count) }
      }
      guard !groups.isEmpty else { continue }
      // Confirm each group by its ids: the first arrival of each id stays.
      let wanted = groups.flatMap { group in group.map { EventRef(raw: merged.refs[$0]) } }
      let found = try reader.idBytes(wanted)
      for group in groups {
        var seen: [[UInt8]] = []
        for index in group {
          let ref = EventRef(raw: merged.refs[index])
          guard let id = found[ref] else { continue }
          if seen.contains(id) {
            outcome.dropped.append(ref)
            droppedSet.insert(ref.raw)
          } else {
            seen.append(id)
          }
        }
      }
    }
    // Clicks: the new kept ones sorted by key (appended to the index's B-tree), then the
    // removed ones whose hash no other click of that day still has.
    outcome.clicks = newClicks.filter { !droppedSet.contains($0.ref.raw) && !isDiscarded($0.ref.raw) }
    outcome.clicks.sort { $0.hash != $1.hash ? $0.hash < $1.hash : $0.day < $1.day }
    for click in outcome.clicks {
      insertClick.reset()
      insertClick.bind(1, Self.indexKey(click.hash))
      insertClick.bind(2, click.day)
      try insertClick.step()
    }
    insertClick.reset()
    for (hash, day) in removedClicks where try !hasClick(hash: hash, day: day, reader: reader) {
      try deleteClick.run([.int(Self.indexKey(hash)), .int(day)])
    }
    outcome.dropped.sort { $0.raw < $1.raw }
    days.removeAll()
    newClicks.removeAll()
    removedClicks.removeAll()
    discarded.removeAll()
    return outcome
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
