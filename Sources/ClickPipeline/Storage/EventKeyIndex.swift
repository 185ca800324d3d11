import CSQLite

/// The global event-id index `event_keys(key, kind, ref)`: open addressing over SQLite rowids.
///
/// An id's slot is ``EventKeyHash/key(_:)`` or, after collisions, the next free key. A forgotten
/// event leaves a tombstone (`kind = 3`) so that later ids of the same probe chain stay findable.
///
/// Keys claimed by this connection are first held in memory (``PendingKeys``) and written to
/// SQLite sorted, by ``flush()``: random event ids make one-by-one inserts land all over the
/// B-tree, which took 40 % of ingest's time on 5M events; sorted batches walk it once. The keys
/// written by earlier flushes stay in memory as a sorted array, so a new id is looked up in
/// SQLite only if the table had rows before this connection wrote to it. Callers must
/// ``flush()`` before they commit.
final class EventKeyIndex {
  static let tombstone: Int64 = 3
  /// Pending keys are written out when this many are held (32 bytes each in the table).
  private let flushThreshold: Int
  /// Keys written by this connection are remembered up to this many (8 bytes each); past it,
  /// every new id is looked up in SQLite.
  static let writtenKeysLimit = 1 << 24

  private let insert: Statement
  private let lookup: Statement
  private let bury: Statement
  private let repoint: Statement
  private let eventIDOf: [Statement]
  private var pending = PendingKeys()
  /// Whether `event_keys` may have rows other than ``written``; if not, lookups of keys that
  /// are neither pending nor written skip SQLite.
  private var storedKeys: Bool
  /// Keys this connection flushed, sorted.
  private var written: [Int64] = []
  /// One bit per 2^35 keys (by the key's top 28 bits), set for every key claimed by this
  /// connection: most new ids find their bit clear and skip both in-memory lookups.
  private var claimedBits: [UInt64] = []

  enum Slot: Equatable {
    case empty
    case tombstone
    case event(id: String, kind: Int, ref: Int64)
  }

  init(db: SQLiteDatabase, flushThreshold: Int = 1 << 20) throws(DatabaseError) {
    self.flushThreshold = flushThreshold
    insert = try db.prepare("INSERT INTO event_keys(key, kind, ref) VALUES (?, ?, ?)")
    lookup = try db.prepare("SELECT kind, ref FROM event_keys WHERE key = ?")
    bury = try db.prepare("UPDATE event_keys SET kind = 3, ref = 0 WHERE key = ?")
    repoint = try db.prepare("UPDATE event_keys SET ref = ? WHERE key = ?")
    eventIDOf = [
      try db.prepare("SELECT event_id FROM views WHERE view_id = ?"),
      try db.prepare("SELECT event_id FROM clicks WHERE click_row = ?"),
      try db.prepare("SELECT event_id FROM conversions WHERE conversion_row = ?"),
    ]
    storedKeys = try db.scalarInt("SELECT count(*) FROM (SELECT 1 FROM event_keys LIMIT 1)") != 0
  }

  /// Records `id` as the event at `row` of `kind`'s table; returns its key, or `nil` if the id
  /// is already staged. The event's row must be written before the next call.
  func claim(_ id: String, kind: Int, row: Int64) throws(DatabaseError) -> Int64? {
    var key = EventKeyHash.key(id)
    while true {
      switch try slot(key) {
      case .empty:
        if pending.count >= flushThreshold { try flush() }
        pending.insert(key: key, kind: kind, ref: row)
        if claimedBits.isEmpty { claimedBits = [UInt64](repeating: 0, count: 1 << 22) }
        claimedBits[Int(key >> 41)] |= 1 << UInt64((key >> 35) & 63)
        return key
      case .event(id, _, _): return nil
      case .tombstone, .event: key = EventKeyHash.probe(key)
      }
    }
  }

  /// Writes the keys held in memory to `event_keys`, in key order.
  func flush() throws(DatabaseError) {
    guard pending.count > 0 else { return }
    let entries = pending.sortedEntries()
    pending.removeAll()
    for entry in entries {
      insert.reset()
      insert.bind(1, entry.key)
      insert.bind(2, entry.kind)
      insert.bind(3, entry.ref)
      try insert.step()
    }
    insert.reset()
    if storedKeys { return }
    if written.count + entries.count > Self.writtenKeysLimit {
      written = []
      storedKeys = true
    } else {
      written = SortedKeys.merge(written, entries.lazy.map(\.key))
    }
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

  /// Points the entry at `key` to another row of the same table.
  func move(key: Int64, to row: Int64) throws(DatabaseError) {
    if pending.update(key: key, ref: row) { return }
    repoint.reset()
    repoint.bind(1, row)
    repoint.bind(2, key)
    try repoint.step()
    repoint.reset()
  }

  /// Replaces the id's entry by a tombstone (the event itself is deleted by the caller).
  func forget(_ id: String) throws(DatabaseError) {
    try flush()
    var key = EventKeyHash.key(id)
    while true {
      switch try slot(key) {
      case .empty: return
      case .event(id, _, _):
        bury.reset()
        bury.bind(1, key)
        try bury.step()
        bury.reset()
        return
      case .tombstone, .event: key = EventKeyHash.probe(key)
      }
    }
  }

  private func slot(_ key: Int64) throws(DatabaseError) -> Slot {
    let kind: Int64
    let ref: Int64
    let maybeClaimed = !claimedBits.isEmpty && claimedBits[Int(key >> 41)] & (1 << UInt64((key >> 35) & 63)) != 0
    if !maybeClaimed && !storedKeys { return .empty }
    if maybeClaimed, let held = pending.find(key: key) {
      (kind, ref) = (Int64(held.kind), held.ref)
    } else {
      guard storedKeys || (maybeClaimed && SortedKeys.contains(written, key)) else { return .empty }
      lookup.reset()
      lookup.bind(1, key)
      guard try lookup.step() else {
        lookup.reset()
        return .empty
      }
      kind = lookup.int(0)
      ref = lookup.int(1)
      lookup.reset()
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

  /// Points a held key at another row; returns `false` if the key is not held.
  mutating func update(key: Int64, ref: Int64) -> Bool {
    guard let i = index(of: key) else { return false }
    values[i] = values[i] & ~Self.refMask | UInt64(ref)
    return true
  }

  func sortedEntries() -> [(key: Int64, kind: Int, ref: Int64)] {
    var entries: [(key: Int64, kind: Int, ref: Int64)] = []
    entries.reserveCapacity(count)
    for i in keys.indices where keys[i] >= 0 {
      entries.append((keys[i], Int(values[i] >> 62), Int64(values[i] & Self.refMask)))
    }
    entries.sort { $0.key < $1.key }
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
    guard !keys.isEmpty else { return false }
    var low = 0
    var high = keys.count - 1
    while low <= high {
      let lowKey = keys[low]
      let highKey = keys[high]
      if key < lowKey || key > highKey { return false }
      var probe = low
      if highKey > lowKey {
        // low + (high - low) * (key - lowKey) / (highKey - lowKey), in 128-bit integers.
        let product = UInt64(high - low).multipliedFullWidth(by: UInt64(key - lowKey))
        let offset = UInt64(highKey - lowKey).dividingFullWidth(product).quotient
        probe = low + Int(offset)
      }
      let found = keys[probe]
      if found == key { return true }
      if found < key { low = probe + 1 } else { high = probe - 1 }
    }
    return false
  }
}
