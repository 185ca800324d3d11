import CSQLite

/// An SQLite error with the statement that caused it.
public struct DatabaseError: Error, CustomStringConvertible {
  public var code: Int32
  public var message: String
  public var sql: String?

  public var description: String {
    if let sql { return "\(message) (SQLite error \(code) while executing `\(sql)`)" }
    return "\(message) (SQLite error \(code))"
  }
}

/// A connection to one SQLite file, through the C API (prepared statements, no ORM: the
/// ingest path writes millions of rows and every microsecond per row counts).
public final class SQLiteDatabase {
  let handle: OpaquePointer
  public let path: String

  /// Process-wide SQLite settings, applied once before the first connection.
  private static let configured: Bool = {
    _ = cp_sqlite_disable_memstatus()
    return true
  }()

  /// Opens (creating if needed) the database file.
  public init(path: String, readOnly: Bool = false) throws(DatabaseError) {
    _ = SQLiteDatabase.configured
    var db: OpaquePointer?
    let flags = readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
    let rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, nil)
    guard rc == SQLITE_OK, let db else {
      let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
      sqlite3_close(db)
      throw DatabaseError(code: rc, message: "cannot open database \(path): \(message)")
    }
    handle = db
    self.path = path
    sqlite3_extended_result_codes(db, 1)
    sqlite3_busy_timeout(db, 5000)
  }

  deinit { sqlite3_close_v2(handle) }

  /// Runs one or more statements without results.
  public func execute(_ sql: String) throws(DatabaseError) {
    var errmsg: UnsafeMutablePointer<CChar>?
    let rc = sqlite3_exec(handle, sql, nil, nil, &errmsg)
    if rc != SQLITE_OK {
      let message = errmsg.map { String(cString: $0) } ?? "error"
      sqlite3_free(errmsg)
      throw DatabaseError(code: rc, message: message, sql: sql)
    }
  }

  public func prepare(_ sql: String) throws(DatabaseError) -> Statement {
    try Statement(database: self, sql: sql)
  }

  /// Runs `body` in a write transaction (``beginWrite()``): committed if it returns, rolled
  /// back if it throws.
  public func transaction<T>(_ body: () throws -> T) throws -> T {
    try beginWrite()
    do {
      let result = try body()
      try execute("COMMIT")
      return result
    } catch {
      try? execute("ROLLBACK")
      throw error
    }
  }

  public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

  /// Bytes of heap the connection's page cache holds (`SQLITE_DBSTATUS_CACHE_USED`).
  public var cacheBytes: Int {
    var current: Int32 = 0
    var highest: Int32 = 0
    sqlite3_db_status(handle, SQLITE_DBSTATUS_CACHE_USED, &current, &highest, 0)
    return Int(current)
  }

  func error(_ rc: Int32, sql: String?) -> DatabaseError {
    DatabaseError(code: rc, message: String(cString: sqlite3_errmsg(handle)), sql: sql)
  }

  /// The first column of the first row, as an integer (nil when no row or NULL).
  public func scalarInt(_ sql: String, _ arguments: [SQLValue] = []) throws(DatabaseError) -> Int64? {
    let statement = try prepare(sql)
    try statement.bind(arguments)
    guard try statement.step() else { return nil }
    return statement.isNull(0) ? nil : statement.int(0)
  }

  public func scalarText(_ sql: String, _ arguments: [SQLValue] = []) throws(DatabaseError) -> String? {
    let statement = try prepare(sql)
    try statement.bind(arguments)
    guard try statement.step() else { return nil }
    return statement.isNull(0) ? nil : statement.text(0)
  }

  /// Runs a statement once with arguments.
  public func run(_ sql: String, _ arguments: [SQLValue] = []) throws(DatabaseError) {
    let statement = try prepare(sql)
    try statement.bind(arguments)
    while try statement.step() {}
  }
}

/// A value to bind.
public enum SQLValue: Sendable, Equatable {
  case int(Int64)
  case text(String)
  case blob([UInt8])
  case null
}

private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// A prepared statement, reusable with `reset()`.
public final class Statement {
  let handle: OpaquePointer
  unowned let database: SQLiteDatabase
  let sql: String

  init(database: SQLiteDatabase, sql: String) throws(DatabaseError) {
    var stmt: OpaquePointer?
    let rc = sqlite3_prepare_v2(database.handle, sql, -1, &stmt, nil)
    guard rc == SQLITE_OK, let stmt else { throw database.error(rc, sql: sql) }
    handle = stmt
    self.database = database
    self.sql = sql
  }

  deinit { sqlite3_finalize(handle) }

  public func bind(_ index: Int32, _ value: Int64) {
    sqlite3_bind_int64(handle, index, value)
  }

  public func bind(_ index: Int32, _ value: Int) {
    sqlite3_bind_int64(handle, index, Int64(value))
  }

  public func bind(_ index: Int32, _ value: String) {
    var value = value
    value.withUTF8 { u in
      u.withMemoryRebound(to: CChar.self) { c in
        if let base = c.baseAddress {
          _ = sqlite3_bind_text(handle, index, base, Int32(c.count), transient)
        } else {
          _ = sqlite3_bind_text(handle, index, "", 0, transient)
        }
      }
    }
  }

  public func bindBlob(_ index: Int32, _ bytes: [UInt8]) {
    bytes.withUnsafeBytes { b in
      _ = sqlite3_bind_blob(handle, index, b.baseAddress, Int32(b.count), transient)
    }
  }

  /// Binds UTF-8 bytes as text without copying them: they must stay valid until the
  /// statement is reset or rebound.
  public func bindText(_ index: Int32, _ bytes: UnsafeRawBufferPointer) {
    if let base = bytes.baseAddress, bytes.count > 0 {
      _ = sqlite3_bind_text(handle, index, base.assumingMemoryBound(to: CChar.self), Int32(bytes.count), nil)
    } else {
      _ = sqlite3_bind_text(handle, index, "", 0, transient)
    }
  }

  public func bindBlob(_ index: Int32, _ bytes: UnsafeRawBufferPointer) {
    _ = sqlite3_bind_blob(handle, index, bytes.baseAddress, Int32(bytes.count), transient)
  }

  /// The column's bytes as a blob, valid until the next step or reset.
  public func blob(_ column: Int32) -> UnsafeRawBufferPointer {
    let n = Int(sqlite3_column_bytes(handle, column))
    guard n > 0, let p = sqlite3_column_blob(handle, column) else { return UnsafeRawBufferPointer(start: nil, count: 0) }
    return UnsafeRawBufferPointer(start: p, count: n)
  }

  public func bindNull(_ index: Int32) {
    sqlite3_bind_null(handle, index)
  }

  public func bind(_ values: [SQLValue]) throws(DatabaseError) {
    for (offset, value) in values.enumerated() {
      let index = Int32(offset + 1)
      switch value {
      case .int(let v): bind(index, v)
      case .text(let v): bind(index, v)
      case .blob(let v): bindBlob(index, v)
      case .null: bindNull(index)
      }
    }
  }

  /// Steps once: `true` when a row is available, `false` when done.
  @discardableResult
  public func step() throws(DatabaseError) -> Bool {
    let rc = sqlite3_step(handle)
    if rc == SQLITE_ROW { return true }
    if rc == SQLITE_DONE { return false }
    throw database.error(rc, sql: sql)
  }

  /// Steps once and returns the result code (for callers that handle constraints themselves).
  public func stepCode() -> Int32 { sqlite3_step(handle) }

  public func reset() {
    sqlite3_reset(handle)
  }

  /// Resets and runs to completion with these arguments.
  public func run(_ values: [SQLValue]) throws(DatabaseError) {
    reset()
    try bind(values)
    while try step() {}
    reset()
  }

  public func int(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }

  public func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }

  public func text(_ column: Int32) -> String {
    guard let p = sqlite3_column_text(handle, column) else { return "" }
    let n = Int(sqlite3_column_bytes(handle, column))
    return String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
  }

  /// The column's text as bytes, valid until the next step or reset: no `String` is made.
  public func bytes(_ column: Int32) -> UnsafeRawBufferPointer {
    let n = Int(sqlite3_column_bytes(handle, column))
    guard n > 0, let p = sqlite3_column_text(handle, column) else { return UnsafeRawBufferPointer(start: nil, count: 0) }
    return UnsafeRawBufferPointer(start: p, count: n)
  }

  /// All rows, each as text/int values (for small result sets: reports, tests).
  public func rows() throws(DatabaseError) -> [[SQLValue]] {
    var result: [[SQLValue]] = []
    let columns = sqlite3_column_count(handle)
    while try step() {
      var row: [SQLValue] = []
      for c in 0..<columns {
        switch sqlite3_column_type(handle, c) {
        case SQLITE_INTEGER: row.append(.int(int(c)))
        case SQLITE_NULL: row.append(.null)
        case SQLITE_BLOB:
          let n = Int(sqlite3_column_bytes(handle, c))
          if let p = sqlite3_column_blob(handle, c) {
            row.append(.blob(Array(UnsafeRawBufferPointer(start: p, count: n))))
          } else {
            row.append(.blob([]))
          }
        default: row.append(.text(text(c)))
        }
      }
      result.append(row)
    }
    return result
  }
}

extension SQLiteDatabase {
  /// All rows of a query (small result sets only).
  public func rows(_ sql: String, _ arguments: [SQLValue] = []) throws(DatabaseError) -> [[SQLValue]] {
    let statement = try prepare(sql)
    try statement.bind(arguments)
    return try statement.rows()
  }
}

extension SQLValue {
  public var intValue: Int64 {
    if case .int(let v) = self { return v }
    if case .text(let s) = self { return Int64(s) ?? 0 }
    return 0
  }

  public var textValue: String {
    switch self {
    case .text(let s): s
    case .int(let v): String(v)
    case .blob(let b): String(decoding: b, as: UTF8.self)
    case .null: ""
    }
  }
}

/// Text bound without SQLite copying it: each row's strings are copied into one reusable buffer
/// and bound with `SQLITE_STATIC`. The buffer is valid until the next ``startRow(reserving:)``,
/// which must come only after the statement was stepped and reset. (Binding a Swift String's
/// own bytes statically is unsafe: strings of 15 bytes or fewer live inline in the value.)
final class BindArena {
  private var buffer: UnsafeMutableRawPointer
  private var capacity: Int
  private var used = 0

  init(capacity: Int = 1 << 16) {
    self.capacity = capacity
    buffer = .allocate(byteCount: capacity, alignment: 8)
  }

  deinit { buffer.deallocate() }

  /// Starts a row whose bound strings take at most `bytes` bytes in total.
  func startRow(reserving bytes: Int) {
    used = 0
    if bytes > capacity {
      buffer.deallocate()
      capacity = max(bytes, capacity * 2)
      buffer = .allocate(byteCount: capacity, alignment: 8)
    }
  }

  func bind(_ statement: Statement, _ index: Int32, _ text: String) {
    var text = text
    text.withUTF8 { u in
      let target = buffer + used
      if let base = u.baseAddress { target.copyMemory(from: base, byteCount: u.count) }
      _ = sqlite3_bind_text(statement.handle, index, target.assumingMemoryBound(to: CChar.self), Int32(u.count), nil)
      used += u.count
    }
  }
}
