/// A segment ready to be written by the single writer: built, coded and compressed on a parse
/// thread, with what the writer needs besides the bytes.
struct StagedSegment: Sendable {
  var kind: EventKind
  /// The UTC day (days since 1970-01-01) of every row.
  var day: Int64
  var rows: Int
  var minTs: Int64
  var maxTs: Int64
  /// Bit `h` set: some row falls in hour `h` (UTC) of the day.
  var hours: UInt32
  /// Per platform (index ``Platform/code``): bit `h` set when a click on it falls in hour `h`.
  var clickHours: [UInt32]
  /// The ``EventSegment`` zstd frame.
  var data: [UInt8]
  /// The ``EventIDColumn``.
  var ids: [UInt8]
  /// ``EventKeyHash/hash(_:)`` of each row's event id, in row order.
  var hashes: [UInt64]
}

/// Collects the views or clicks of one file on one UTC day, coding each row's values on the
/// thread that parsed it, and makes a ``StagedSegment`` of them. Reused for the next segment:
/// its buffers and dictionaries keep their memory.
final class EventSegmentBuilder {
  let kind: EventKind
  private(set) var day: Int64 = 0
  private(set) var count = 0
  // Fixed columns, one slot per row up to ``EventSegment/maxRows``.
  private let ts = UnsafeMutablePointer<Int64>.allocate(capacity: EventSegment.maxRows)
  private let lines = UnsafeMutablePointer<UInt32>.allocate(capacity: EventSegment.maxRows)
  private let placements = UnsafeMutablePointer<UInt8>.allocate(capacity: EventSegment.maxRows)
  private let creators = UnsafeMutablePointer<UInt32>.allocate(capacity: EventSegment.maxRows)
  private let listings = UnsafeMutablePointer<UInt32>.allocate(capacity: EventSegment.maxRows)
  private let agents = UnsafeMutablePointer<UInt32>.allocate(capacity: EventSegment.maxRows)
  private let hashes = UnsafeMutablePointer<UInt64>.allocate(capacity: EventSegment.maxRows)
  private let creatorDictionary = ByteDictionary()
  private let listingDictionary = ByteDictionary()
  private let agentDictionary = ByteDictionary()
  /// The creator ids and listing entries of the rows not coded yet: coded ``codingChunk`` at a
  /// time (``ByteDictionary/code(_:into:)``), in a loop of their own whose cache misses overlap,
  /// rather than one by one between lines.
  private static let codingChunk = 256
  private let creatorValues = ValueArena(bytes: 16 * codingChunk, values: codingChunk)
  private let listingValues = ValueArena(bytes: 32 * codingChunk, values: codingChunk)
  private let posts = ValueArena()
  private let viewers = ValueArena()
  private let ids = EventIDColumn.Builder()
  private var minTs = Int64.max
  private var maxTs = Int64.min
  private var hours: UInt32 = 0
  private var amazonClickHours: UInt32 = 0
  private var brandStoreClickHours: UInt32 = 0
  /// A listing entry being assembled (see ``EventSegment``): platform code, store, 0, product.
  private let listing = UnsafeMutableRawPointer.allocate(byteCount: 2 * LineReader.maxLineBytes + 2, alignment: 8)

  init(kind: EventKind) {
    self.kind = kind
  }

  deinit {
    ts.deallocate()
    lines.deallocate()
    placements.deallocate()
    creators.deallocate()
    listings.deallocate()
    agents.deallocate()
    hashes.deallocate()
    listing.deallocate()
  }

  var isFull: Bool { count >= EventSegment.maxRows }

  /// Starts an empty segment for `day`.
  func start(day: Int64) {
    self.day = day
  }

  /// Appends a view or click of this segment's kind and day (the builder must not be full).
  @inline(__always)
  func append(_ v: EventView) {
    let r = count
    ts[r] = v.ts
    minTs = min(minTs, v.ts)
    maxTs = max(maxTs, v.ts)
    lines[r] = UInt32(truncatingIfNeeded: v.line)
    placements[r] = v.placement.rawValue
    creatorValues.append(v.creatorID)
    listingValues.append(listingEntry(v))
    if creatorValues.count == Self.codingChunk { codePending(upTo: r + 1) }
    agents[r] = agentDictionary.code(for: v.userAgent)
    hashes[r] = EventKeyHash.hash(v.eventID)
    posts.append(v.postID)
    viewers.append(v.viewerID)
    ids.append(v.eventID)
    count = r + 1
    let hour = UInt32(truncatingIfNeeded: (v.ts - day * 86_400_000) / 3_600_000)
    hours |= 1 << hour
    if kind == .click {
      switch v.platform {
      case .amazon: amazonClickHours |= 1 << hour
      case .brandStore: brandStoreClickHours |= 1 << hour
      case nil: break
      }
    }
  }

  /// The listing entry of `v`, in the builder's scratch buffer.
  @inline(__always)
  private func listingEntry(_ v: EventView) -> UnsafeRawBufferPointer {
    listing.storeBytes(of: v.platform?.code ?? 0, as: UInt8.self)
    var n = 1
    if let base = v.store.baseAddress {
      (listing + n).copyMemory(from: base, byteCount: v.store.count)
      n += v.store.count
    }
    listing.storeBytes(of: 0, toByteOffset: n, as: UInt8.self)
    n += 1
    if let base = v.productID.baseAddress {
      (listing + n).copyMemory(from: base, byteCount: v.productID.count)
      n += v.productID.count
    }
    return UnsafeRawBufferPointer(start: listing, count: n)
  }

  /// The segment (compressed with `compressor`, laid out in `scratch`), after which the
  /// builder is empty.
  func finish(scratch: inout ColumnWriter, compressor: ZstdCompressor) -> StagedSegment {
    scratch.removeAll()
    codePending(upTo: count)
    EventSegment.encode(
      ts: UnsafeBufferPointer(start: ts, count: count), lines: UnsafeBufferPointer(start: lines, count: count),
      placements: UnsafeRawBufferPointer(start: placements, count: count),
      dictionaries: [creatorDictionary, listingDictionary, agentDictionary],
      codes: [
        UnsafeBufferPointer(start: creators, count: count), UnsafeBufferPointer(start: listings, count: count),
        UnsafeBufferPointer(start: agents, count: count),
      ],
      plain: [posts, viewers], into: &scratch)
    var clickHours: [UInt32] = [0, 0, 0]
    clickHours[Int(Platform.amazon.code)] = amazonClickHours
    clickHours[Int(Platform.brandStore.code)] = brandStoreClickHours
    let staged = StagedSegment(
      kind: kind, day: day, rows: count, minTs: count > 0 ? minTs : 0, maxTs: count > 0 ? maxTs : 0, hours: hours,
      clickHours: clickHours, data: compressor.compress(scratch.written), ids: ids.encoded(compressor: compressor, scratch: &scratch),
      hashes: Array(UnsafeBufferPointer(start: hashes, count: count)))
    removeAll()
    return staged
  }

  /// Codes the creators and listings of rows `end - pending..<end`.
  private func codePending(upTo end: Int) {
    let start = end - creatorValues.count
    creatorDictionary.code(creatorValues, into: creators + start)
    listingDictionary.code(listingValues, into: listings + start)
    creatorValues.removeAll()
    listingValues.removeAll()
  }

  /// Forgets the rows appended so far (their file failed), keeping the memory.
  func removeAll() {
    count = 0
    minTs = .max
    maxTs = .min
    creatorDictionary.removeAll()
    listingDictionary.removeAll()
    agentDictionary.removeAll()
    creatorValues.removeAll()
    listingValues.removeAll()
    posts.removeAll()
    viewers.removeAll()
    ids.removeAll()
    hours = 0
    amazonClickHours = 0
    brandStoreClickHours = 0
  }
}
