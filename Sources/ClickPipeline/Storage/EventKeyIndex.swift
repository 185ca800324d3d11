import CSQLite

/// The global event-id index `event_keys(key, kind, ref)`: open addressing over SQLite rowids.
///
/// An id's slot is ``EventKeyHash/key(_:)`` or, after collisions, the next free key. A forgotten
/// event leaves a tombstone (`kind = 3`) so that later ids of the same probe chain stay findable.
final class EventKeyIndex {
  static let tombstone: Int64 = 3

  private let insert: Statement
  private let lookup: Statement
  private let bury: Statement
  private let repoint: Statement
  private let eventIDOf: [Statement]

  enum Slot: Equatable {
    case empty
    case tombstone
    case event(id: String, kind: Int, ref: Int64)
  }

  init(db: SQLiteDatabase) throws(DatabaseError) {
    insert = try db.prepare("INSERT INTO event_keys(key, kind, ref) VALUES (?, ?, ?)")
    lookup = try db.prepare("SELECT kind, ref FROM event_keys WHERE key = ?")
    bury = try db.prepare("UPDATE event_keys SET kind = 3, ref = 0 WHERE key = ?")
    repoint = try db.prepare("UPDATE event_keys SET ref = ? WHERE key = ?")
    eventIDOf = [
      try db.prepare("SELECT event_id FROM views WHERE view_id = ?"),
      try db.prepare("SELECT event_id FROM clicks WHERE click_row = ?"),
      try db.prepare("SELECT event_id FROM conversions WHERE conversion_row = ?"),
    ]
  }

  /// Records `id` as the event at `row` of `kind`'s table; returns its key, or `nil` if the id
  /// is already staged.
  func claim(_ id: String, kind: Int, row: Int64) throws(DatabaseError) -> Int64? {
    var key = EventKeyHash.key(id)
    while true {
      insert.reset()
      insert.bind(1, key)
      insert.bind(2, kind)
      insert.bind(3, row)
      let rc = insert.stepCode()
      insert.reset()
      if rc == SQLITE_DONE { return key }
      guard rc & 0xFF == SQLITE_CONSTRAINT else {
        throw DatabaseError(code: rc, message: "cannot insert into event_keys", sql: insert.sql)
      }
      if case .event(id, _, _) = try slot(key) { return nil }
      key = EventKeyHash.probe(key)
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
    repoint.reset()
    repoint.bind(1, row)
    repoint.bind(2, key)
    try repoint.step()
    repoint.reset()
  }

  /// Replaces the id's entry by a tombstone (the event itself is deleted by the caller).
  func forget(_ id: String) throws(DatabaseError) {
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
    lookup.reset()
    lookup.bind(1, key)
    guard try lookup.step() else {
      lookup.reset()
      return .empty
    }
    let kind = lookup.int(0)
    let ref = lookup.int(1)
    lookup.reset()
    guard kind >= 0 && kind < 3 else { return .tombstone }
    let s = eventIDOf[Int(kind)]
    s.reset()
    defer { s.reset() }
    s.bind(1, ref)
    guard try s.step() else { return .tombstone }
    return .event(id: s.text(0), kind: Int(kind), ref: ref)
  }
}
