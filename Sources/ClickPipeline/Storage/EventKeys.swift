import CSQLite

/// Every staged event id, for deduplication (CONTRACT §3) and for finding a click by its id
/// (attribution rule 1), partitioned by the UTC day of the event's timestamp.
///
/// `event_keys` holds one row per UTC day: the day's events as (id hash, ``EventRef``) pairs
/// sorted by hash, varint-coded, in a checksummed zstd frame. A run reads only the partitions of the days its events fall
/// on and rewrites only those, so a night's cost follows the night's days, not the history.
/// `click_index(key, day)` says on which days a click id hash occurs, so a conversion's
/// `click_id` is found without knowing the click's day.
///
/// Hashes only narrow the search: a match is confirmed by comparing the stored id itself
/// (`verify`), so two different ids are never taken as one, whatever their hashes.
///
/// The run's own new keys wait in memory (20 bytes each plus 5-11 bytes of table) and are written
/// with ``write()`` before the run commits.
final class EventKeys {
  /// One day's stored keys, sorted by hash.
  private final class Partition {
    var hashes: [UInt64] = []
    var refs: [UInt64] = []
    var removed: Set<UInt64> = []
    var changed = false
  }

  private let db: SQLiteDatabase
  private let loadDay: Statement
  private let saveDay: Statement
  private let deleteDay: Statement
  private let clickDays: Statement
  private let insertClick: Statement
  private let deleteClick: Statement
  private var partitions: [Int64: Partition] = [:]
  /// The partition asked for last: events come in runs of the same day.
  private var last: (day: Int64, partition: Partition)?
  /// The run's new keys: hash, ref and day, and an open-addressing table over the hash (slot
  /// = index + 1, 0 free).
  private var addedHash: [UInt64] = []
  private var addedRef: [UInt64] = []
  private var addedDay: [Int32] = []
  private var table: [UInt32] = [UInt32](repeating: 0, count: 1 << 12)
  private var removedClicks: [(hash: UInt64, day: Int64)] = []

  /// Day partitions read so far: the work a run did, for tests that guard against cost that
  /// grows with the history.
  private(set) var partitionsRead = 0

  init(db: SQLiteDatabase) throws(DatabaseError) {
    self.db = db
    loadDay = try db.prepare("SELECT data FROM event_keys WHERE day = ?")
    saveDay = try db.prepare("INSERT OR REPLACE INTO event_keys(day, keys, data) VALUES (?, ?, ?)")
    deleteDay = try db.prepare("DELETE FROM event_keys WHERE day = ?")
    clickDays = try db.prepare("SELECT day FROM click_index WHERE key = ?")
    insertClick = try db.prepare("INSERT OR IGNORE INTO click_index(key, day) VALUES (?, ?)")
    deleteClick = try db.prepare("DELETE FROM click_index WHERE key = ? AND day = ?")
  }

  // MARK: - Lookups

  /// The staged event on `day` whose id hashes to `hash` and which `verify` confirms.
  func find(
    hash: UInt64, day: Int64, verify: (EventRef) throws(DatabaseError) -> Bool
  ) throws(DatabaseError) -> EventRef? {
    let p = try partition(day)
    if !p.hashes.isEmpty, let ref = try findStored(hash: hash, in: p, kind: nil, verify: verify) { return ref }
    return try findAdded(hash: hash, day: day, kind: nil, verify: verify)
  }

  /// The staged click, on any day, whose id hashes to `hash` and which `verify` confirms.
  func findClick(hash: UInt64, verify: (EventRef) throws(DatabaseError) -> Bool) throws(DatabaseError) -> EventRef? {
    if let ref = try findAdded(hash: hash, day: nil, kind: .click, verify: verify) { return ref }
    let s = clickDays
    s.reset()
    s.bind(1, Int64(bitPattern: hash))
    var days: [Int64] = []
    while try s.step() { days.append(s.int(0)) }
    s.reset()
    for day in days {
      if let ref = try findStored(hash: hash, in: partition(day), kind: .click, verify: verify) { return ref }
    }
    return nil
  }

  private func findStored(
    hash: UInt64, in p: Partition, kind: EventKind?, verify: (EventRef) throws(DatabaseError) -> Bool
  ) throws(DatabaseError) -> EventRef? {
    var low = 0
    var high = p.hashes.count
    while low < high {
      let mid = (low + high) / 2
      if p.hashes[mid] < hash { low = mid + 1 } else { high = mid }
    }
    while low < p.hashes.count && p.hashes[low] == hash {
      let ref = EventRef(raw: p.refs[low])
      low += 1
      if p.removed.contains(ref.raw) || (kind != nil && ref.kind != kind) { continue }
      if try verify(ref) { return ref }
    }
    return nil
  }

  private func findAdded(
    hash: UInt64, day: Int64?, kind: EventKind?, verify: (EventRef) throws(DatabaseError) -> Bool
  ) throws(DatabaseError) -> EventRef? {
    let mask = table.count - 1
    var i = Int(truncatingIfNeeded: hash) & mask
    while table[i] != 0 {
      let index = Int(table[i]) - 1
      i = (i + 1) & mask
      guard addedHash[index] == hash, day == nil || Int64(addedDay[index]) == day else { continue }
      let ref = EventRef(raw: addedRef[index])
      if kind != nil && ref.kind != kind { continue }
      if try verify(ref) { return ref }
    }
    return nil
  }

  // MARK: - Changes

  /// Records a newly staged event.
  func add(hash: UInt64, day: Int64, ref: EventRef) {
    // Linear probing up to 3/4 full: 4 bytes a slot, so 5.3-10.7 bytes per key.
    if (addedHash.count + 1) * 4 > table.count * 3 { grow() }
    let mask = table.count - 1
    var i = Int(truncatingIfNeeded: hash) & mask
    while table[i] != 0 { i = (i + 1) & mask }
    addedHash.append(hash)
    addedRef.append(ref.raw)
    addedDay.append(Int32(clamping: day))
    table[i] = UInt32(addedHash.count)
  }

  /// Forgets a stored event (``FileForgetter``).
  func remove(hash: UInt64, day: Int64, ref: EventRef) throws(DatabaseError) {
    let p = try partition(day)
    p.removed.insert(ref.raw)
    p.changed = true
    if ref.kind == .click { removedClicks.append((hash, day)) }
  }

  /// Writes the changed partitions and the click index; call before the run commits.
  func write() throws(DatabaseError) {
    // The new keys by day (a counting sort), then each day's by hash: one day's worth of
    // (hash, ref) pairs is sorted at a time.
    var counts: [Int32: Int] = [:]
    for day in addedDay { counts[day, default: 0] += 1 }
    let days = counts.keys.sorted()
    var starts: [Int32: Int] = [:]
    var total = 0
    for day in days {
      starts[day] = total
      total += counts[day]!
    }
    var order = [Int32](repeating: 0, count: addedDay.count)
    var fill = starts
    for (index, day) in addedDay.enumerated() {
      order[fill[day]!] = Int32(index)
      fill[day]! += 1
    }
    var pairs: [(hash: UInt64, ref: UInt64)] = []
    for day in days {
      let start = starts[day]!
      pairs.removeAll(keepingCapacity: true)
      for index in order[start..<start + counts[day]!] { pairs.append((addedHash[Int(index)], addedRef[Int(index)])) }
      pairs.sort { $0.hash < $1.hash }
      let p = try partition(Int64(day))
      try save(day: Int64(day), p, adding: pairs)
      p.changed = false
    }
    for (day, p) in partitions where p.changed { try save(day: day, p, adding: []) }
    // Clicks: the new ones sorted by key (appended to the index's B-tree), then the removed ones
    // whose hash no other click of that day still has.
    var clicks: [(hash: UInt64, day: Int32)] = []
    for index in addedRef.indices where EventRef(raw: addedRef[index]).kind == .click {
      clicks.append((addedHash[index], addedDay[index]))
    }
    clicks.sort { $0.hash != $1.hash ? $0.hash < $1.hash : $0.day < $1.day }
    for (hash, day) in clicks {
      insertClick.reset()
      insertClick.bind(1, Int64(bitPattern: hash))
      insertClick.bind(2, Int64(day))
      try insertClick.step()
    }
    insertClick.reset()
    for (hash, day) in removedClicks {
      guard try findStored(hash: hash, in: partition(day), kind: .click, verify: { _ in true }) == nil,
        try findAdded(hash: hash, day: day, kind: .click, verify: { _ in true }) == nil
      else { continue }
      try deleteClick.run([.int(Int64(bitPattern: hash)), .int(day)])
    }
    removedClicks.removeAll()
  }

  // MARK: - Storage

  /// The partition of `day`, read from `event_keys` the first time.
  private func partition(_ day: Int64) throws(DatabaseError) -> Partition {
    if let last, last.day == day { return last.partition }
    if let known = partitions[day] {
      last = (day, known)
      return known
    }
    let p = Partition()
    let s = loadDay
    s.reset()
    defer { s.reset() }
    s.bind(1, day)
    if try s.step() {
      do throws(ColumnReader.Corrupt) {
        let payload = try Zstd.decompress(s.blob(0))
        var failure: ColumnReader.Corrupt?
        payload.withUnsafeBytes { bytes in
          do throws(ColumnReader.Corrupt) {
            try Self.decode(bytes, into: p)
          } catch {
            failure = error
          }
        }
        if let failure { throw failure }
      } catch {
        throw DatabaseError(
          code: SQLITE_CORRUPT,
          message: "the event keys of UTC day \(day) are damaged; restore the database from a backup")
      }
      partitionsRead += 1
    }
    partitions[day] = p
    last = (day, p)
    return p
  }

  /// Reads a partition's payload: count, hash deltas, refs.
  private static func decode(_ bytes: UnsafeRawBufferPointer, into p: Partition) throws(ColumnReader.Corrupt) {
    var r = ColumnReader(bytes)
    // Each pair takes at least two bytes: a damaged count cannot ask for more.
    let n = try r.count(limit: bytes.count / 2)
    p.hashes.reserveCapacity(n)
    p.refs.reserveCapacity(n)
    var hash: UInt64 = 0
    for _ in 0..<n {
      let (next, overflow) = hash.addingReportingOverflow(try r.varint())
      guard !overflow else { throw ColumnReader.Corrupt() }
      hash = next
      p.hashes.append(hash)
    }
    for _ in 0..<n { p.refs.append(try r.varint()) }
    guard r.isAtEnd else { throw ColumnReader.Corrupt() }
  }

  private func save(day: Int64, _ p: Partition, adding new: [(hash: UInt64, ref: UInt64)]) throws(DatabaseError) {
    var hashes: [UInt64] = []
    var refs: [UInt64] = []
    hashes.reserveCapacity(p.hashes.count + new.count)
    refs.reserveCapacity(p.hashes.count + new.count)
    var i = 0
    var j = 0
    while i < p.hashes.count || j < new.count {
      if j == new.count || (i < p.hashes.count && p.hashes[i] <= new[j].hash) {
        if !p.removed.contains(p.refs[i]) {
          hashes.append(p.hashes[i])
          refs.append(p.refs[i])
        }
        i += 1
      } else {
        hashes.append(new[j].hash)
        refs.append(new[j].ref)
        j += 1
      }
    }
    guard !hashes.isEmpty else {
      try deleteDay.run([.int(day)])
      return
    }
    var w = ColumnWriter(reserving: hashes.count * 12)
    w.varint(UInt64(hashes.count))
    var previous: UInt64 = 0
    for hash in hashes {
      w.varint(hash &- previous)
      previous = hash
    }
    for ref in refs { w.varint(ref) }
    let s = saveDay
    s.reset()
    s.bind(1, day)
    s.bind(2, Int64(hashes.count))
    s.bindBlob(3, Zstd.compress(w.bytes))
    try s.step()
    s.reset()
  }

  private func grow() {
    var bigger = [UInt32](repeating: 0, count: table.count * 2)
    let mask = bigger.count - 1
    for index in addedHash.indices {
      var i = Int(truncatingIfNeeded: addedHash[index]) & mask
      while bigger[i] != 0 { i = (i + 1) & mask }
      bigger[i] = UInt32(index + 1)
    }
    table = bigger
  }
}
