#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Refuses a hot rollback journal that was written for another version of the database file.
///
/// When SQLite opens `<db>` and finds a hot journal `<db>-journal` (left by a killed run), it
/// writes the journal's page images back into `<db>` and truncates it to the journal's size,
/// without checking that the journal belongs to that file. If the file was replaced in between
/// (a backup copied over it), that corrupts it, and the stage goes on as if nothing happened.
///
/// Every write transaction first changes `PRAGMA user_version` (``SQLiteDatabase/beginWrite()``),
/// so page 1, which starts with the 100-byte database header, is the journal's first page
/// record: the journal shows the header the file had when the transaction began. The file's own
/// header is then either that header (page 1 not written back yet) or the transaction's version
/// of it, which SQLite writes with the change counter (offset 24) one above the journal's, and
/// the generation (`user_version`, offset 60) unchanged or one step on. Any other header means
/// the file is not the one the journal was written for: the stage stops before SQLite opens it.
///
/// A journal whose first record is not page 1 (written by another program, or cut before its
/// first record) cannot be judged and is left to SQLite. Without the journal's records the
/// check cannot tell a replaced file that has, by chance, the same change counter plus one and
/// the same generation; the `backup` command's copies are page for page, so applying the
/// journal of the state they were taken at is harmless.
enum StaleJournal {
  /// The first 8 bytes of a rollback journal's header.
  static let magic: [UInt8] = [0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7]
  static let headerBytes = 100

  enum Verdict: Equatable {
    /// No hot journal, or one this check cannot judge: SQLite proceeds as usual.
    case noJudgement
    /// The journal was written for this file: SQLite rolls it back.
    case belongs
    /// The journal was written for another version of the file.
    case foreign
  }

  /// Throws if `<databasePath>-journal` is a hot journal of another version of the file.
  /// It reads the files directly, the database only when a journal with a page-1 record is
  /// there: never while a connection of this process has a transaction open on it (closing
  /// a descriptor of the file would drop that connection's POSIX locks).
  static func check(databasePath: String) throws(PipelineError) {
    let journal = databasePath + "-journal"
    guard verdict(journal: journal, database: databasePath) == .foreign else { return }
    throw PipelineError.unusableDatabase(
      path: databasePath,
      reason:
        "\(journal) is the rollback journal of an unfinished run on another version of this file (was the file replaced, say by a backup?); SQLite would apply it and corrupt the database. If you put this file in place yourself, delete \(journal) and run again; if not, put back the file it belongs to — nothing was changed"
    )
  }

  static func verdict(journal: String, database: String) -> Verdict {
    guard let header = read(journal, at: 0, count: 28), header.count == 28, Array(header[0..<8]) == magic else {
      return .noJudgement
    }
    let sectorSize = Int(bigEndian32(header, at: 20))
    let pageSize = Int(bigEndian32(header, at: 24))
    guard sectorSize >= 32, sectorSize <= 65536, sectorSize & (sectorSize - 1) == 0,
      pageSize >= 512, pageSize <= 65536, pageSize & (pageSize - 1) == 0,
      let record = read(journal, at: sectorSize, count: 4 + headerBytes), record.count == 4 + headerBytes,
      bigEndian32(record, at: 0) == 1
    else { return .noJudgement }
    let original = Array(record[4...])
    // An empty or missing database file: SQLite does not treat the journal as hot.
    guard let current = read(database, at: 0, count: headerBytes), current.count == headerBytes else {
      return .noJudgement
    }
    if current == original { return .belongs }
    let counter = bigEndian32(original, at: 24)
    let generation = bigEndian32(original, at: 60)
    let currentGeneration = bigEndian32(current, at: 60)
    let sameTransaction =
      bigEndian32(current, at: 24) == counter &+ 1
      && (currentGeneration == generation || (Generation.successor(of: generation).map { $0 == currentGeneration } ?? true))
    return sameTransaction ? .belongs : .foreign
  }

  private static func read(_ path: String, at offset: Int, count: Int) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes = [UInt8](repeating: 0, count: count)
    let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, off_t(offset)) }
    return n < 0 ? nil : Array(bytes[0..<n])
  }

  private static func bigEndian32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
    bytes[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
  }
}

/// The database's write generation, kept in `PRAGMA user_version`: a random start, one step
/// on per write transaction (see ``StaleJournal``).
enum Generation {
  /// The generation after `value`, or nil when it is a new random start (from 0, the value of
  /// a database no write transaction has stepped yet, or from a value outside 1...Int32.max).
  static func successor(of value: UInt32) -> UInt32? {
    guard value >= 1 && value < UInt32(Int32.max) else { return nil }
    return value + 1
  }

  static func next(after value: UInt32) -> UInt32 {
    successor(of: value) ?? UInt32.random(in: 1...UInt32(Int32.max))
  }
}

extension SQLiteDatabase {
  /// Starts a write transaction (`BEGIN IMMEDIATE`) whose first change is the next write
  /// generation, so that the database header is the first page its journal records
  /// (``StaleJournal``). Every stage's write transaction starts here.
  public func beginWrite() throws(DatabaseError) {
    try execute("BEGIN IMMEDIATE")
    do {
      let current = UInt32(truncatingIfNeeded: try scalarInt("PRAGMA user_version") ?? 0)
      try execute("PRAGMA user_version = \(Generation.next(after: current))")
    } catch {
      try? execute("ROLLBACK")
      throw error
    }
  }
}
