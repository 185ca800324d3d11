import CSQLite

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Deduplication of views and clicks by event id within the UTC day of their timestamp
/// (CONTRACT §3), and the index that finds a click by its id on any day (attribution rule 1).
///
/// A run stages every row as it comes and only *collects* its keys here
/// (``add(_:day:segmentID:)``, no lookup): 8 bytes per row, the top 32 bits of the id's hash
/// (``EventKeyHash``) above the row's ordinal in the run. When more than ``spillKeys`` keys
/// wait, each day's are sorted and written to an unlinked temporary file, so memory stays
/// bounded whatever the run's size. ``finish(reader:)`` then works day by day: the day's keys
/// (from memory and the file) are sorted by prefix, arrival order kept within a prefix, and
/// merged with the keys of the rows already stored on that day, worked out from their
/// segments' id columns (``EventIDColumn``) rather than kept in a second copy. Every group of
/// equal prefixes that holds a new key is confirmed by comparing the ids themselves; in each
/// set of equal ids the first arrival stays and the later ones are returned as dropped. Two
/// different ids are never one event, whatever their hashes.
///
/// A night's cost follows the night's days: a run reads the stored ids of the days its events
/// fall on and no others (``storedSegmentsRead``). Memory at the end follows the largest day:
/// 16 bytes per key of that day while it is sorted. `click_index(key, day)` says on which days
/// a click id's hash occurs; ingest writes it, and forgetting a click removes its day from it
/// here (``removeClick(hash:day:)``).
final class EventKeys {
  /// Keys that may wait in memory before they are spilled (8 bytes each).
  static let defaultSpillKeys = 2 << 20

  /// The stored keys of one day: hash prefixes and refs, in the same order.
  private struct StoredKeys {
    var prefixes: [UInt32] = []
    var refs: [UInt64] = []
    var count: Int { prefixes.count }
  }

  /// A day's keys written to the spill file: where, and how many.
  private struct SpilledRun {
    var offset: Int
    var count: Int
  }

  private let db: SQLiteDatabase
  private let storedOfDay: Statement
  private let deleteClick: Statement
  /// Per UTC day: prefix << 32 | ordinal, in arrival order.
  private var days: [Int64: [UInt64]] = [:]
  private var inMemory = 0
  let spillKeys: Int
  private var spill: SpillFile?
  private var spilled: [Int64: [SpilledRun]] = [:]
  /// The ordinal of the next key, and the first ordinal and id of each segment added.
  private var nextOrdinal: UInt32 = 0
  private var segmentStarts: [(ordinal: UInt32, segmentID: Int64)] = []
  /// The first segment of this run: those before it are stored.
  private var firstNewSegment: Int64 = .max
  /// Segments whose keys must be left out (files that failed after they were staged).
  private var discarded: [ClosedRange<Int64>] = []
  private var removedClicks: [(hash: UInt64, day: Int64)] = []

  /// Stored segments whose ids were read: the work a run did, for tests that guard against
  /// cost that grows with the history.
  private(set) var storedSegmentsRead = 0
  /// Keys written to the spill file.
  private(set) var keysSpilled = 0

  init(db: SQLiteDatabase, spillKeys: Int = EventKeys.defaultSpillKeys) throws(DatabaseError) {
    self.db = db
    self.spillKeys = max(1, spillKeys)
    storedOfDay = try db.prepare(
      "SELECT segment_id, kind FROM segments WHERE day = ? AND segment_id < ? ORDER BY segment_id")
    deleteClick = try db.prepare("DELETE FROM click_index WHERE key = ? AND day = ?")
  }

  // MARK: - Collecting

  /// Collects the keys of a newly written segment: `hashes[row]` is row `row`'s id hash
  /// (``EventKeyHash/hash(_:)``). Segments must come in increasing id order.
  func add(_ hashes: [UInt64], day: Int64, segmentID: Int64) throws(DatabaseError) {
    firstNewSegment = min(firstNewSegment, segmentID)
    precondition(UInt64(nextOrdinal) + UInt64(hashes.count) < UInt64(UInt32.max), "more than 4 billion events in one run")
    segmentStarts.append((nextOrdinal, segmentID))
    var keys = days.removeValue(forKey: day) ?? []
    for hash in hashes {
      keys.append((hash >> 32) << 32 | UInt64(nextOrdinal))
      nextOrdinal += 1
    }
    days[day] = keys
    inMemory += hashes.count
    if inMemory > spillKeys { try spillAll() }
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

  /// Sorts each day's keys and writes them to the spill file.
  private func spillAll() throws(DatabaseError) {
    if spill == nil { spill = try SpillFile() }
    for (day, keys) in days {
      var sorted = keys
      Self.sortByPrefix(&sorted)
      let offset = try spill!.append(sorted)
      spilled[day, default: []].append(SpilledRun(offset: offset, count: sorted.count))
      keysSpilled += sorted.count
    }
    days.removeAll()
    inMemory = 0
  }

  // MARK: - Finishing

  /// Deduplicates the collected keys against the stored ones and each other, and removes the
  /// `click_index` entries of forgotten clicks. Call once the run's segments are written (and
  /// forgotten ones deleted). Returns the new rows that repeat an event already staged (the
  /// later copies), in ref order.
  func finish(reader: SegmentReader) throws(DatabaseError) -> [EventRef] {
    var dropped: [EventRef] = []
    try collectCandidates(reader: reader) { candidates throws(DatabaseError) in dropped += try candidates.confirm() }
    return try complete(dropped, reader: reader)
  }

  /// ``finish(reader:)``, with the candidates' ids compared on a thread of their own while this
  /// one reads the next day's and then runs `meanwhile`, which may use the database (the
  /// comparing thread does not). At the end of an ingest run the other core is otherwise idle.
  func finish(reader: SegmentReader, meanwhile: () throws -> Void) throws -> [EventRef] {
    let confirming = Handoff<Candidates, [EventRef]>(name: "dedup", capacity: 2) { next in
      var dropped: [EventRef] = []
      while let candidates = next() { dropped += try candidates.confirm() }
      return dropped
    }
    do {
      try collectCandidates(reader: reader) { candidates in confirming.send(candidates) }
      try meanwhile()
    } catch {
      _ = try? confirming.finish()
      throw error
    }
    return try complete(try confirming.finish(), reader: reader)
  }

  /// One day's groups of keys with equal prefixes that hold a new key and another key, and
  /// the stored id columns that hold their members: what confirming them needs, without the
  /// database.
  private struct Candidates: Sendable {
    /// The groups one after another (stored rows first, then the new ones in arrival order).
    var members: [EventRef] = []
    var groupEnds: [Int] = []
    var columns: [Int64: [UInt8]] = [:]

    /// The members that repeat an earlier member's id: in each set of equal ids the first
    /// arrival stays. Compared with the distinct ids kept so far, so that a group of many
    /// copies of one id costs one comparison per copy.
    func confirm() throws(DatabaseError) -> [EventRef] {
      let found = try SegmentReader.idBytes(members, stored: columns)
      var dropped: [EventRef] = []
      var kept: [Int] = []
      var start = 0
      for end in groupEnds {
        kept.removeAll(keepingCapacity: true)
        for m in start..<end where found.ranges[m] != nil {
          let repeats = kept.contains { k in
            found.withID(k) { a in found.withID(m) { b in ByteKeyBuilder.compare(a, b) == 0 } ?? false } ?? false
          }
          if repeats { dropped.append(members[m]) } else { kept.append(m) }
        }
        start = end
      }
      return dropped
    }
  }

  /// Works out each day's ``Candidates``, reading what they need on this connection, and
  /// hands them to `confirm` day by day.
  private func collectCandidates(
    reader: SegmentReader, _ confirm: (Candidates) throws(DatabaseError) -> Void
  ) throws(DatabaseError) {
    for day in Set(days.keys).union(spilled.keys).sorted() {
      // The day's keys: spilled runs first (earlier arrivals), then what is in memory.
      var new: [UInt64] = []
      for run in spilled[day] ?? [] { new += try spill!.read(run.offset, run.count) }
      new += days.removeValue(forKey: day) ?? []
      if !discarded.isEmpty { new.removeAll { isDiscarded(ref(ordinal: UInt32(truncatingIfNeeded: $0))) } }
      guard !new.isEmpty else { continue }
      Self.sortByPrefix(&new)
      let stored = try storedKeys(day, reader: reader)
      var candidates = Candidates()
      var i = 0
      var j = 0
      while j < new.count {
        let prefix = UInt32(truncatingIfNeeded: new[j] >> 32)
        while i < stored.count && stored.prefixes[i] < prefix { i += 1 }
        let storedStart = i
        while i < stored.count && stored.prefixes[i] == prefix { i += 1 }
        let newStart = j
        while j < new.count && UInt32(truncatingIfNeeded: new[j] >> 32) == prefix { j += 1 }
        guard (i - storedStart) + (j - newStart) > 1 else { continue }
        for k in storedStart..<i { candidates.members.append(EventRef(raw: stored.refs[k])) }
        for k in newStart..<j { candidates.members.append(ref(ordinal: UInt32(truncatingIfNeeded: new[k]))) }
        candidates.groupEnds.append(candidates.members.count)
      }
      guard !candidates.groupEnds.isEmpty else { continue }
      candidates.columns = try reader.storedIDs(candidates.members.map(\.segmentID))
      try confirm(candidates)
    }
  }

  /// Removes forgotten clicks' index entries and forgets the run's keys; returns `dropped`
  /// in ref order.
  private func complete(_ dropped: [EventRef], reader: SegmentReader) throws(DatabaseError) -> [EventRef] {
    // Forgotten clicks: a day keeps a hash in the index while another click of it has the hash.
    for (hash, day) in removedClicks where try !hasClick(hash: hash, day: day, reader: reader) {
      try deleteClick.run([.int(Self.indexKey(hash)), .int(day)])
    }
    days.removeAll()
    spilled.removeAll()
    spill = nil
    removedClicks.removeAll()
    discarded.removeAll()
    return dropped.sorted { $0.raw < $1.raw }
  }

  /// The `click_index.key` of an id hash (SQLite integers are signed: 63 bits).
  static func indexKey(_ hash: UInt64) -> Int64 { Int64(bitPattern: hash & 0x7FFF_FFFF_FFFF_FFFF) }

  /// The ref of the row with this run ordinal.
  private func ref(ordinal: UInt32) -> EventRef {
    var low = 0
    var high = segmentStarts.count
    while low < high {
      let mid = (low + high) / 2
      if segmentStarts[mid].ordinal <= ordinal { low = mid + 1 } else { high = mid }
    }
    let start = segmentStarts[low - 1]
    return EventRef(segmentID: start.segmentID, row: Int(ordinal - start.ordinal))
  }

  /// The keys of the live rows stored on `day` before this run, sorted by (prefix, ref).
  private func storedKeys(_ day: Int64, reader: SegmentReader) throws(DatabaseError) -> StoredKeys {
    var packed: [UInt64] = []
    var refs: [UInt64] = []
    for (segmentID, _) in try storedSegments(day) {
      let ids = try reader.ids(segmentID)
      let dropped = Set(try reader.dropped(segmentID))
      storedSegmentsRead += 1
      let base = UInt64(segmentID) << 16
      for row in 0..<ids.count where !dropped.contains(row) {
        packed.append((ids.withID(row) { EventKeyHash.hash($0) } >> 32) << 32 | UInt64(refs.count))
        refs.append(base | UInt64(row))
      }
    }
    Self.sortByPrefix(&packed)
    var keys = StoredKeys()
    keys.prefixes = packed.map { UInt32(truncatingIfNeeded: $0 >> 32) }
    keys.refs = packed.map { refs[Int(UInt32(truncatingIfNeeded: $0))] }
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

  private func isDiscarded(_ ref: EventRef) -> Bool {
    discarded.contains { $0.contains(ref.segmentID) }
  }

  /// Sorts packed keys by their top 32 bits, keeping the order of equal ones (their low bits
  /// come in increasing order).
  static func sortByPrefix(_ keys: inout [UInt64]) {
    RadixSort.sort(&keys, fromBit: 32)
  }
}

/// An unlinked temporary file that packed keys are written to and read back from: gone when
/// closed, even if the process is killed.
private final class SpillFile {
  private let fd: Int32
  private var size = 0

  init() throws(DatabaseError) {
    var template = Array("\(SpillFile.directory)/clickpipeline-keys-XXXXXX".utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    guard fd >= 0 else {
      throw DatabaseError(
        code: SQLITE_CANTOPEN,
        message:
          "cannot create a temporary file in \(SpillFile.directory) for the run's event keys: \(String(cString: strerror(errno))); set TMPDIR to a folder with room"
      )
    }
    template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
    self.fd = fd
  }

  deinit { close(fd) }

  private static var directory: String {
    let value = getenv("TMPDIR").map { String(cString: $0) } ?? ""
    return value.isEmpty ? "/tmp" : value
  }

  /// Appends `keys`; returns their offset.
  func append(_ keys: [UInt64]) throws(DatabaseError) -> Int {
    let offset = size
    let failure: Int32? = keys.withUnsafeBytes { bytes in
      var done = 0
      while done < bytes.count {
        let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { return errno }
        done += n
      }
      return nil
    }
    if let failure {
      throw DatabaseError(
        code: SQLITE_IOERR,
        message:
          "cannot write the run's event keys to a temporary file: \(String(cString: strerror(failure))); set TMPDIR to a folder with room")
    }
    size += keys.count * 8
    return offset
  }

  func read(_ offset: Int, _ count: Int) throws(DatabaseError) -> [UInt64] {
    var failure: Int32?
    let keys = [UInt64](unsafeUninitializedCapacity: count) { buffer, initialized in
      let bytes = UnsafeMutableRawBufferPointer(buffer)
      var done = 0
      while done < bytes.count {
        let n = pread(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else {
          failure = n == 0 ? EIO : errno
          break
        }
        done += n
      }
      initialized = failure == nil ? count : 0
    }
    if let failure {
      throw DatabaseError(code: SQLITE_IOERR, message: "cannot read the run's event keys back: \(String(cString: strerror(failure)))")
    }
    return keys
  }
}
