import CSQLite

/// The global event-id index: open addressing over SQLite rowids, in two tables.
///
/// An id's slot is ``EventKeyHash/key(_:)`` or, after collisions, the next free key; the slot
/// holds the event's kind and row (`kind, ref`). A forgotten event leaves a tombstone
/// (`kind = 3`) so that later ids of the same probe chain stay findable. A slot lives in
/// `event_keys` or in `event_keys_recent`, never in both.
///
/// Keys claimed by this connection are first held in memory (``PendingKeys``) and written to
/// SQLite sorted, by ``flush()``: random event ids make one-by-one inserts land all over the
/// B-tree, which took 40 % of ingest's time on 5M events; sorted batches walk it once. The keys
/// of earlier batches stay in memory as a sorted array (``HeldKeys``), so a new id is looked
/// up in SQLite only if the tables had rows before this connection wrote to them. If they had
/// none (a first load), the held keys are written only by ``flush()``, in one sorted pass:
/// each batch written earlier would rewrite every page of the growing `event_keys`. Callers
/// must ``flush()`` before they commit.
///
/// Random keys touch every page of a B-tree they are inserted into, so writing a night's keys
/// into a 30-day `event_keys` rewrote (and journaled) all of it. A flush therefore goes to the
/// smaller `event_keys_recent` while that stays under half of `event_keys` (otherwise, as on a
/// first large run, both merge into `event_keys`). At the end of each run ``settle()`` moves
/// one slice of the key space from the recent table to the main one: with about
/// `main / (4 × the run's keys)` slices, each run rewrites about four runs' worth of the main
/// index, the recent table stays near a quarter of it, and no night pays for a whole merge. When the tables did have rows, the stored
/// Bloom filter (``KeyFilter``, table `event_key_filter`) rules out most new ids before any
/// SQLite lookup; ``persistFilter()`` keeps it covering every stored key.
final class EventKeyIndex {
  static let tombstone: Int64 = 3
  /// Pending keys are moved out of the hash table when this many are held (32 bytes each in
  /// the table, and 40 more while they are sorted). 2M instead of 1M cut the SQLite passes of
  /// a large run in half before ``held`` deferred them, but took a 5M-event run on a database
  /// of 20M events to 506 MiB.
  private let flushThreshold: Int
  /// Keys held in memory (``held``, 16 bytes each) are kept up to this many; past it, they are
  /// written to SQLite and go into the key filter instead.
  private let writtenKeysLimit: Int

  private let db: SQLiteDatabase
  /// Statements on `event_keys` ([0]) and `event_keys_recent` ([1]).
  private let insert: [Statement]
  private let lookup: [Statement]
  private let bury: [Statement]
  /// The event id at a row of `views`, `clicks` or `conversions` (indexed by kind).
  private let eventIDOf: [Statement]
  /// Every stored key, if the database has a filter (``persistFilter()`` makes one).
  private var filter: KeyFilter?
  private var filterChanged = false
  /// Rows in `event_keys` and `event_keys_recent`, read when first needed.
  private var tableRows: (main: Int64, recent: Int64)?
  /// A recent table up to 1/this of the main one takes a flush; past it, they merge.
  static let recentFraction: Int64 = 2
  /// Keys this connection flushed, for ``settle()``.
  private var flushedKeys = 0
  private var pending = PendingKeys()
  /// Whether `event_keys` may have rows other than ``held``; if not, lookups of keys that are
  /// neither pending nor held skip SQLite.
  private var storedKeys: Bool
  /// Keys this connection moved out of ``pending`` while ``storedKeys`` is false, sorted, with
  /// their kind and row.
  private var held = HeldKeys()
  /// Whether ``held`` has keys that are not in SQLite yet (until ``flush()``, on a first load).
  private var deferring: Bool
  /// One bit per 2^35 keys (by the key's top 28 bits), set for every key claimed by this
  /// connection: most new ids find their bit clear and skip both in-memory lookups.
  private var claimedBits: [UInt64] = []

  enum Slot: Equatable {
    case empty
    case tombstone
    case event(id: String, kind: Int, ref: Int64)
  }

  /// `readFilter`: load the stored key filter (32 bits per key) to spare lookups of new ids;
  /// readers that only look up ids that usually exist (attribution, forget) do without.
  init(
    db: SQLiteDatabase, flushThreshold: Int = 1 << 20, writtenKeysLimit: Int = 1 << 23, readFilter: Bool = true
  ) throws(DatabaseError) {
    self.db = db
    self.flushThreshold = flushThreshold
    self.writtenKeysLimit = writtenKeysLimit
    let tables = ["event_keys", "event_keys_recent"]
    insert = try tables.map { table throws(DatabaseError) in try db.prepare("INSERT INTO \(table)(key, kind, ref) VALUES (?, ?, ?)") }
    lookup = try tables.map { table throws(DatabaseError) in try db.prepare("SELECT kind, ref FROM \(table) WHERE key = ?") }
    bury = try tables.map { table throws(DatabaseError) in try db.prepare("UPDATE \(table) SET kind = 3, ref = 0 WHERE key = ?") }
    eventIDOf = [
      try db.prepare("SELECT event_id FROM views WHERE view_id = ?"),
      try db.prepare("SELECT event_id FROM clicks WHERE click_row = ?"),
      try db.prepare("SELECT event_id FROM conversions WHERE conversion_row = ?"),
    ]
    let hadKeys =
      try db.scalarInt(
        "SELECT (SELECT count(*) FROM (SELECT 1 FROM event_keys LIMIT 1)) + (SELECT count(*) FROM (SELECT 1 FROM event_keys_recent LIMIT 1))"
      ) != 0
    storedKeys = hadKeys
    deferring = !hadKeys
    if storedKeys && readFilter {
      let s = try db.prepare("SELECT keys, words FROM event_key_filter WHERE id = 0")
      if try s.step() {
        let bytes = s.blob(1)
        let words = [UInt64](unsafeUninitializedCapacity: bytes.count / 8) { buffer, count in
          for i in 0..<bytes.count / 8 { buffer[i] = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)) }
          count = bytes.count / 8
        }
        filter = KeyFilter(words: words, keys: Int(s.int(0)))
      }
      s.reset()
    }
  }

  /// Stores the filter of every stored key, first rebuilding it from the tables if there is
  /// none or it is full. Call after the last ``flush()`` of a run that claimed keys.
  func persistFilter() throws(DatabaseError) {
    guard filterChanged || filter == nil else { return }
    if filter == nil || filter!.isFull {
      if !storedKeys {
        // The tables were empty before this connection: its held keys are all of them.
        var rebuilt = KeyFilter(capacity: held.count)
        for key in held.keys { rebuilt.insert(key) }
        filter = rebuilt
      } else {
        let rows = try storedRows()
        var rebuilt = KeyFilter(capacity: Int(rows.main + rows.recent))
        let s = try db.prepare("SELECT key FROM event_keys UNION ALL SELECT key FROM event_keys_recent")
        while try s.step() { rebuilt.insert(s.int(0)) }
        s.reset()
        filter = rebuilt
      }
    }
    guard let filter else { return }
    let store = try db.prepare(
      "INSERT INTO event_key_filter(id, keys, words) VALUES (0, ?, ?) ON CONFLICT(id) DO UPDATE SET keys = excluded.keys, words = excluded.words")
    store.bind(1, Int64(filter.keys))
    #if _endian(little)
      filter.words.withUnsafeBytes { store.bindBlob(2, $0) }
    #else
      filter.words.map(\.littleEndian).withUnsafeBytes { store.bindBlob(2, $0) }
    #endif
    try store.step()
    store.reset()
    filterChanged = false
  }

  /// Records `id` as the event at `row` of `kind`'s table; returns its key, or `nil` if the id
  /// is already staged. The event's row must be written before the next call.
  func claim(_ id: String, kind: Int, row: Int64) throws(DatabaseError) -> Int64? {
    try claim(id, key: EventKeyHash.key(id), kind: kind, row: row)
  }

  /// ``claim(_:kind:row:)`` with the id's ``EventKeyHash/key(_:)`` already worked out.
  func claim(_ id: String, key hash: Int64, kind: Int, row: Int64) throws(DatabaseError) -> Int64? {
    var key = hash
    while true {
      switch try slot(key) {
      case .empty:
        if pending.count >= flushThreshold { try drainPending() }
        pending.insert(key: key, kind: kind, ref: row)
        if claimedBits.isEmpty { claimedBits = [UInt64](repeating: 0, count: 1 << 22) }
        claimedBits[Int(key >> 41)] |= 1 << UInt64((key >> 35) & 63)
        return key
      case .event(id, _, _): return nil
      case .tombstone, .event: key = EventKeyHash.probe(key)
      }
    }
  }

  /// Writes every key held in memory to SQLite, in key order. Call before committing.
  func flush() throws(DatabaseError) {
    try drainPending()
    if deferring { try writeHeld() }
  }

  /// Moves the pending keys out of the hash table: on a first load into ``held`` only, else
  /// into SQLite (and, while the tables had no rows of their own, into ``held`` too).
  private func drainPending() throws(DatabaseError) {
    guard pending.count > 0 else { return }
    let entries = pending.sortedEntries()
    pending.removeAll()
    flushedKeys += entries.count
    filterChanged = true
    if filter != nil {
      for entry in entries { filter!.insert(entry.key) }
    }
    if deferring {
      held.merge(entries, reserving: writtenKeysLimit + flushThreshold)
      if held.count > writtenKeysLimit {
        try writeHeld()
        dropHeld()
      }
      return
    }
    try insertSorted(count: entries.count) { entries[$0] }
    if storedKeys { return }
    if held.count + entries.count > writtenKeysLimit {
      dropHeld(also: entries)
    } else {
      held.merge(entries, reserving: writtenKeysLimit + flushThreshold)
    }
  }

  /// Writes ``held`` to SQLite in one sorted pass; later batches go straight to SQLite.
  private func writeHeld() throws(DatabaseError) {
    try insertSorted(count: held.count) { held.entry($0) }
    deferring = false
  }

  /// Forgets ``held`` (its keys are in SQLite): from now on every id that is neither pending
  /// nor ruled out by the filter is looked up in SQLite. Without a filter that was every new
  /// id: 2 µs more per event on 5M events (past a limit of 1M), and worse once the keys
  /// outgrow the page cache; so the held keys go into the filter first.
  private func dropHeld(also entries: [(key: Int64, kind: Int, ref: Int64)] = []) {
    if filter == nil {
      var made = KeyFilter(capacity: 2 * (held.count + entries.count))
      for key in held.keys { made.insert(key) }
      for entry in entries { made.insert(entry.key) }
      filter = made
    }
    held = HeldKeys()
    storedKeys = true
  }

  /// Inserts `count` entries, given in key order by `entry`, into `event_keys_recent` while it
  /// stays under half of `event_keys`, else into `event_keys`, merging the recent ones in too.
  private func insertSorted(
    count: Int, _ entry: (Int) -> (key: Int64, kind: Int, ref: Int64)
  ) throws(DatabaseError) {
    guard count > 0 else { return }
    var rows = try storedRows()
    // A run that is large next to the history (a first load, a big reprocessing) goes
    // straight to the main table: through the recent one it would only be copied again.
    let toRecent =
      Int64(flushedKeys) * 4 <= mainRowsAtStart && (rows.recent + Int64(count)) * Self.recentFraction <= rows.main
    let s = insert[toRecent ? 1 : 0]
    for i in 0..<count {
      let e = entry(i)
      s.reset()
      s.bind(1, e.key)
      s.bind(2, e.kind)
      s.bind(3, e.ref)
      try s.step()
    }
    s.reset()
    if toRecent {
      rows.recent += Int64(count)
    } else {
      rows.main += Int64(count)
      if rows.recent > 0 {
        try db.execute("INSERT INTO event_keys SELECT * FROM event_keys_recent ORDER BY key; DELETE FROM event_keys_recent;")
        rows.main += rows.recent
        rows.recent = 0
      }
    }
    tableRows = rows
  }

  /// Moves the next slice of the key space from `event_keys_recent` to `event_keys` (the
  /// slice cursor is `meta.event_keys_slice`). Call once per run, after the last ``flush()``.
  func settle() throws(DatabaseError) {
    guard flushedKeys > 0 else { return }
    var rows = try storedRows()
    guard rows.recent > 0 else { return }
    let slices = max(1, min(256, rows.main / (4 * Int64(flushedKeys))))
    let width = Int64.max / slices  // the last slice of a turn also takes the few keys past it
    let low = Int64(try db.scalarText("SELECT value FROM meta WHERE key = 'event_keys_slice'") ?? "0") ?? 0
    let last = low > Int64.max - width  // the slice reaches the end of the key space
    let high = last ? Int64.max : low + width - 1
    let range = "key BETWEEN \(low) AND \(high)"
    try db.execute("INSERT INTO event_keys SELECT * FROM event_keys_recent WHERE \(range) ORDER BY key")
    let moved = Int64(sqlite3_changes(db.handle))
    try db.execute("DELETE FROM event_keys_recent WHERE \(range)")
    try db.run(
      "INSERT INTO meta(key, value) VALUES ('event_keys_slice', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
      [.text(String(last ? 0 : high + 1))])
    rows.main += moved
    rows.recent -= moved
    tableRows = rows
  }

  /// Rows in `event_keys` when this connection first needed to know.
  private var mainRowsAtStart: Int64 = 0

  private func storedRows() throws(DatabaseError) -> (main: Int64, recent: Int64) {
    if let tableRows { return tableRows }
    let rows = (
      main: try db.scalarInt("SELECT count(*) FROM event_keys") ?? 0,
      recent: try db.scalarInt("SELECT count(*) FROM event_keys_recent") ?? 0
    )
    tableRows = rows
    mainRowsAtStart = rows.main
    return rows
  }

  /// The kind and row of the staged event with this id.
  func find(_ id: String) throws(DatabaseError) -> (kind: Int, ref: Int64)? {
    var key = EventKeyHash.key(id)
    while true {
      switch try slot(key) {
      case .empty: return nil
      case .event(id, let kind, let ref): return (kind, ref)
      case .tombstone, .event: key = EventKeyHash.probe(key)
      }
    }
  }

  /// Replaces the id's entry by a tombstone (the event itself is deleted by the caller).
  func forget(_ id: String) throws(DatabaseError) {
    try flush()
    var key = EventKeyHash.key(id)
    while true {
      switch try slot(key) {
      case .empty: return
      case .event(id, _, _):
        for s in bury {  // the key is in one of the two tables
          s.reset()
          s.bind(1, key)
          try s.step()
          s.reset()
        }
        return
      case .tombstone, .event: key = EventKeyHash.probe(key)
      }
    }
  }

  /// The stored (kind, ref) of a key, from whichever table has it.
  private func stored(_ key: Int64) throws(DatabaseError) -> (Int64, Int64)? {
    for s in lookup.reversed() {  // the recent table is small and more likely to be cached
      s.reset()
      s.bind(1, key)
      if try s.step() {
        let found = (s.int(0), s.int(1))
        s.reset()
        return found
      }
      s.reset()
    }
    return nil
  }

  private func slot(_ key: Int64) throws(DatabaseError) -> Slot {
    let kind: Int64
    let ref: Int64
    let maybeClaimed = !claimedBits.isEmpty && claimedBits[Int(key >> 41)] & (1 << UInt64((key >> 35) & 63)) != 0
    if !maybeClaimed && !storedKeys { return .empty }
    if maybeClaimed, let found = pending.find(key: key) {
      (kind, ref) = (Int64(found.kind), found.ref)
    } else if maybeClaimed, !storedKeys, let found = held.find(key) {
      (kind, ref) = (Int64(found.kind), found.ref)
    } else {
      guard storedKeys else { return .empty }
      if let filter, !filter.mayContain(key) { return .empty }
      guard let found = try stored(key) else { return .empty }
      (kind, ref) = found
    }
    guard kind >= 0 && kind < 3 else { return .tombstone }
    let s = eventIDOf[Int(kind)]
    s.reset()
    defer { s.reset() }
    s.bind(1, ref)
    guard try s.step() else { return .tombstone }
    return .event(id: s.text(0), kind: Int(kind), ref: ref)
  }
}

/// Event keys claimed in this transaction but not yet in `event_keys`: an open-addressing table
/// of (key, kind and ref) in two flat arrays. Keys are non-negative, so -1 marks a free slot.
struct PendingKeys {
  private var keys: [Int64] = []
  /// kind << 62 | ref (refs are rowids below 2^62; kinds are 0...2).
  private var values: [UInt64] = []
  private var mask = 0
  private(set) var count = 0
  private static let refMask: UInt64 = 1 << 62 - 1

  mutating func insert(key: Int64, kind: Int, ref: Int64) {
    if (count + 1) * 2 > keys.count { grow() }
    var i = Int(truncatingIfNeeded: key) & mask
    while keys[i] >= 0 { i = (i + 1) & mask }
    keys[i] = key
    values[i] = UInt64(kind) << 62 | UInt64(ref)
    count += 1
  }

  func find(key: Int64) -> (kind: Int, ref: Int64)? {
    guard let i = index(of: key) else { return nil }
    return (Int(values[i] >> 62), Int64(values[i] & Self.refMask))
  }

  /// The entries in key order. Keys are hashes spread evenly over 0..<2^63, so one counting
  /// pass by their top bits (about one bucket per key) puts them nearly in place, and the few
  /// keys that share a bucket are then sorted. (Keys crafted to share their top bits only make
  /// that last sort larger.)
  func sortedEntries() -> [(key: Int64, kind: Int, ref: Int64)] {
    guard count > 0 else { return [] }
    let bits = max(1, min(24, Int.bitWidth - count.leadingZeroBitCount - 1))
    let shift = Int64(63 - bits)
    var starts = [Int](repeating: 0, count: (1 << bits) + 1)
    for key in keys where key >= 0 { starts[Int(key >> shift) + 1] += 1 }
    for b in 0..<(1 << bits) { starts[b + 1] += starts[b] }
    var next = starts
    var entries = [(key: Int64, kind: Int, ref: Int64)](unsafeUninitializedCapacity: count) { buffer, initialized in
      for i in keys.indices where keys[i] >= 0 {
        let b = Int(keys[i] >> shift)
        (buffer.baseAddress! + next[b]).initialize(to: (keys[i], Int(values[i] >> 62), Int64(values[i] & Self.refMask)))
        next[b] += 1
      }
      initialized = count
    }
    for b in 0..<(1 << bits) where starts[b + 1] - starts[b] > 1 {
      entries[starts[b]..<starts[b + 1]].sort { $0.key < $1.key }
    }
    return entries
  }

  mutating func removeAll() {
    keys = []
    values = []
    mask = 0
    count = 0
  }

  private func index(of key: Int64) -> Int? {
    guard count > 0 else { return nil }
    var i = Int(truncatingIfNeeded: key) & mask
    while keys[i] >= 0 {
      if keys[i] == key { return i }
      i = (i + 1) & mask
    }
    return nil
  }

  private mutating func grow() {
    let oldKeys = keys
    let oldValues = values
    let capacity = max(1024, keys.count * 2)
    keys = [Int64](repeating: -1, count: capacity)
    values = [UInt64](repeating: 0, count: capacity)
    mask = capacity - 1
    for (slot, key) in oldKeys.enumerated() where key >= 0 {
      var i = Int(truncatingIfNeeded: key) & mask
      while keys[i] >= 0 { i = (i + 1) & mask }
      keys[i] = key
      values[i] = oldValues[slot]
    }
  }
}

/// Keys moved out of ``PendingKeys``, sorted, with their kind and row packed the same way
/// (kind << 62 | ref). A batch is merged in place from the back, into capacity reserved once,
/// so the array is never held twice.
struct HeldKeys {
  private(set) var keys: [Int64] = []
  private var values: [UInt64] = []
  var count: Int { keys.count }

  /// Merges a batch of entries sorted by key, none of them already held.
  mutating func merge(_ entries: [(key: Int64, kind: Int, ref: Int64)], reserving capacity: Int) {
    guard !entries.isEmpty else { return }
    if keys.capacity < keys.count + entries.count {
      // Untouched capacity costs address space, not memory.
      keys.reserveCapacity(max(capacity, keys.count + entries.count))
      values.reserveCapacity(max(capacity, keys.count + entries.count))
    }
    var i = keys.count - 1
    var j = entries.count - 1
    keys.append(contentsOf: repeatElement(0, count: entries.count))
    values.append(contentsOf: repeatElement(0, count: entries.count))
    var k = keys.count - 1
    while j >= 0 {
      if i >= 0 && keys[i] > entries[j].key {
        keys[k] = keys[i]
        values[k] = values[i]
        i -= 1
      } else {
        keys[k] = entries[j].key
        values[k] = UInt64(entries[j].kind) << 62 | UInt64(entries[j].ref)
        j -= 1
      }
      k -= 1
    }
  }

  func entry(_ index: Int) -> (key: Int64, kind: Int, ref: Int64) {
    (keys[index], Int(values[index] >> 62), Int64(values[index] & (1 << 62 - 1)))
  }

  func find(_ key: Int64) -> (kind: Int, ref: Int64)? {
    guard let index = SortedKeys.index(of: key, in: keys) else { return nil }
    let found = entry(index)
    return (found.kind, found.ref)
  }
}

/// Sorted arrays of event keys. Keys are hashes, spread evenly over 0..<2^63, so a lookup
/// interpolates its first probe and then walks a few slots.
enum SortedKeys {
  static func merge(_ a: [Int64], _ b: some Collection<Int64>) -> [Int64] {
    var merged: [Int64] = []
    merged.reserveCapacity(a.count + b.count)
    var i = a.startIndex
    var j = b.startIndex
    while i < a.endIndex, j < b.endIndex {
      if a[i] <= b[j] {
        merged.append(a[i])
        i += 1
      } else {
        merged.append(b[j])
        j = b.index(after: j)
      }
    }
    merged.append(contentsOf: a[i...])
    merged.append(contentsOf: b[j...])
    return merged
  }

  static func contains(_ keys: [Int64], _ key: Int64) -> Bool {
    index(of: key, in: keys) != nil
  }

  /// Where `key` is in `keys`, if it is.
  static func index(of key: Int64, in keys: [Int64]) -> Int? {
    guard !keys.isEmpty else { return nil }
    var low = 0
    var high = keys.count - 1
    while low <= high {
      let lowKey = keys[low]
      let highKey = keys[high]
      if key < lowKey || key > highKey { return nil }
      var probe = low
      if highKey > lowKey {
        // low + (high - low) * (key - lowKey) / (highKey - lowKey), in 128-bit integers.
        let product = UInt64(high - low).multipliedFullWidth(by: UInt64(key - lowKey))
        let offset = UInt64(highKey - lowKey).dividingFullWidth(product).quotient
        probe = low + Int(offset)
      }
      let found = keys[probe]
      if found == key { return probe }
      if found < key { low = probe + 1 } else { high = probe - 1 }
    }
    return nil
  }
}
