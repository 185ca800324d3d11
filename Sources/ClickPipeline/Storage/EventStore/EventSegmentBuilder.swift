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
  private var ts: [Int64] = []
  private var lines: [UInt32] = []
  private var placements: [UInt8] = []
  private let creatorDictionary = ByteDictionary()
  private let listingDictionary = ByteDictionary()
  private let agentDictionary = ByteDictionary()
  private var creators: [UInt32] = []
  private var listings: [UInt32] = []
  private var agents: [UInt32] = []
  private var posts = ByteColumn()
  private var viewers = ByteColumn()
  private var ids = EventIDColumn.Builder()
  private var hashes: [UInt64] = []
  private var hours: UInt32 = 0
  private var amazonClickHours: UInt32 = 0
  private var brandStoreClickHours: UInt32 = 0
  /// A listing entry being assembled (see ``EventSegment``): platform code, store, 0, product.
  private let listing = UnsafeMutableRawPointer.allocate(byteCount: 2 * LineReader.maxLineBytes + 2, alignment: 8)

  init(kind: EventKind) {
    self.kind = kind
  }

  deinit { listing.deallocate() }

  var count: Int { ts.count }
  var isFull: Bool { ts.count >= EventSegment.maxRows }

  /// Starts an empty segment for `day`.
  func start(day: Int64) {
    self.day = day
  }

  /// Appends a view or click of this segment's kind and day.
  @inline(__always)
  func append(_ v: EventView) {
    ts.append(v.ts)
    lines.append(UInt32(truncatingIfNeeded: v.line))
    placements.append(v.placement.rawValue)
    creators.append(creatorDictionary.code(for: v.creatorID))
    listings.append(listingDictionary.code(for: listingEntry(v)))
    agents.append(agentDictionary.code(for: v.userAgent))
    posts.append(v.postID)
    viewers.append(v.viewerID)
    ids.append(v.eventID)
    hashes.append(EventKeyHash.hash(v.eventID))
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
    var n = 0
    listing.storeBytes(of: v.platform?.code ?? 0, as: UInt8.self)
    n = 1
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
    EventSegment.encode(
      ts: ts, lines: lines, placements: placements,
      dictionaries: [creatorDictionary, listingDictionary, agentDictionary], codes: [creators, listings, agents],
      plain: [posts, viewers], into: &scratch)
    var clickHours: [UInt32] = [0, 0, 0]
    clickHours[Int(Platform.amazon.code)] = amazonClickHours
    clickHours[Int(Platform.brandStore.code)] = brandStoreClickHours
    let staged = StagedSegment(
      kind: kind, day: day, rows: ts.count, minTs: ts.min() ?? 0, maxTs: ts.max() ?? 0, hours: hours,
      clickHours: clickHours, data: compressor.compress(scratch.bytes), ids: ids.encoded(), hashes: hashes)
    removeAll()
    return staged
  }

  private func removeAll() {
    ts.removeAll(keepingCapacity: true)
    lines.removeAll(keepingCapacity: true)
    placements.removeAll(keepingCapacity: true)
    creatorDictionary.removeAll()
    listingDictionary.removeAll()
    agentDictionary.removeAll()
    creators.removeAll(keepingCapacity: true)
    listings.removeAll(keepingCapacity: true)
    agents.removeAll(keepingCapacity: true)
    posts.removeAll()
    viewers.removeAll()
    ids.removeAll()
    hashes = []
    hours = 0
    amazonClickHours = 0
    brandStoreClickHours = 0
  }
}
