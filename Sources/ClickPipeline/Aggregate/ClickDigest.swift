/// The staged clicks of one UTC day (or of up to 65,536 of its segments) reduced to what finds
/// an order's candidate clicks, so that attribution reads a day's click segments once per run
/// instead of once per batch of orders.
///
/// For every live click: a 32-bit hash of its event id; for every live non-bot click with a
/// viewer: a 37-bit hash of its (viewer, platform, store, product) key and its time; both with
/// the click's place (segment, row), searched through ``SortedWords``' directories. 22 bytes a
/// click. A hash only proposes a candidate:
/// ``ClickSearch`` checks each one against the click's own bytes, so a collision costs a
/// look, never a wrong attribution.
final class ClickDigest: Sendable {
  /// A click's place: its segment's ordinal in ``segmentIDs`` (high 16 bits) and its row.
  typealias Place = UInt32

  let day: Int64
  /// The segments the places point into, in `segment_id` order.
  let segmentIDs: [Int64]
  /// `idHash << 32 | place`, sorted.
  private let ids: SortedWords
  /// `keyHash << timeBits | milliseconds into the day`, sorted; `viewerPlaces[i]` is entry i's
  /// place. A key's clicks are next to each other, in time order.
  private let viewers: SortedWords
  private let viewerPlaces: [Place]
  private let dayStart: Int64
  /// Bits of a time within a day (86,400,000 ms < 2^27); the key hash has the other 37.
  private static let timeBits = 27

  /// Bytes held.
  var bytes: Int { ids.bytes + viewers.bytes + viewerPlaces.count * 4 + segmentIDs.count * 8 }

  /// The digests of the clicks staged on UTC day `day`: one per 65,536 segments. `hashMask`
  /// keeps only some hash bits (tests make every hash collide with 0).
  static func build(day: Int64, reader: SegmentReader, bots: BotMatcher, hashMask: UInt64 = .max) throws(DatabaseError)
    -> [ClickDigest]
  {
    let infos = try reader.segments(.click, days: day...day)
    var result: [ClickDigest] = []
    var start = 0
    repeat {
      let end = min(infos.count, start + (1 << 16))
      result.append(
        try ClickDigest(day: day, segments: infos[start..<end].map(\.segmentID), reader: reader, bots: bots, hashMask: hashMask))
      start = end
    } while start < infos.count
    return result
  }

  private init(day: Int64, segments: [Int64], reader: SegmentReader, bots: BotMatcher, hashMask: UInt64) throws(DatabaseError) {
    self.day = day
    segmentIDs = segments
    dayStart = day * 86_400_000
    var ids: [UInt64] = []
    var viewers: [UInt64] = []
    var viewerPlaces: [Place] = []
    var key = ByteKeyBuilder()
    for (ordinal, segmentID) in segments.enumerated() {
      let s = try reader.load(segmentID)
      let eventIDs = try reader.ids(segmentID)
      let agents = s.dictionaries[EventSegment.Column.userAgent.rawValue]
      let isBot = (0..<agents.count).map { code in agents.withValue(code) { bots.isBot($0) } }
      let agentCodes = s.codes[EventSegment.Column.userAgent.rawValue]
      let viewerColumn = s.dictionaries[EventSegment.Column.viewer.rawValue]
      let listingCodes = s.codes[EventSegment.Column.listing.rawValue]
      let listings = s.dictionaries[EventSegment.Column.listing.rawValue]
      // Each listing's key parts, encoded once for the segment rather than once per click.
      let listingParts = KeyParts(count: listings.count) { code, key in listings.withValue(code) { key.appendListing($0) } }
      let ts = s.ts
      for r in s.liveRows {
        let place = Place(ordinal) << 16 | Place(r)
        let idHash = eventIDs.withID(r) { Self.idHash($0, hashMask) }
        ids.append(UInt64(idHash) << 32 | UInt64(place))
        guard !isBot[Int(agentCodes[r])], viewerColumn.withValue(r, { !$0.isEmpty }) else { continue }
        let offset = ts[r] - dayStart
        guard offset >= 0 && offset < 86_400_000 else { throw SegmentReader.damaged(segmentID) }
        key.reset()
        viewerColumn.withValue(r) { key.append($0) }
        listingParts.withParts(Int(listingCodes[r])) { key.appendParts($0) }
        viewers.append(key.withKey { Self.keyHash($0, hashMask) } << Self.timeBits | UInt64(offset))
        viewerPlaces.append(place)
      }
    }
    RadixSort.sort(&ids)
    RadixSort.sort(&viewers, carrying: &viewerPlaces)
    self.ids = SortedWords(ids)
    self.viewers = SortedWords(viewers)
    self.viewerPlaces = viewerPlaces
  }

  /// The entries of the clicks whose id may be the one hashing to `idHash` (their places:
  /// ``idPlace(_:)``).
  func idEntries(idHash: UInt32) -> Range<Int> {
    let hash = UInt64(idHash) << 32
    return ids.lowerBound(hash)..<ids.lowerBound(hash | 0xFFFF_FFFF, orEqual: true)
  }

  /// Entry `i`'s place (``idEntries(idHash:)``).
  func idPlace(_ i: Int) -> Place { Place(truncatingIfNeeded: ids[i]) }

  /// The entries (indexes, ascending in time) of the clicks whose viewer key may hash to
  /// `keyHash` with times in `from...through`.
  func clicks(keyHash: UInt64, from: Int64, through: Int64) -> Range<Int> {
    let low = max(from - dayStart, 0)
    let high = min(through - dayStart, 86_399_999)
    guard low <= high else { return 0..<0 }
    let hash = keyHash << Self.timeBits
    return viewers.lowerBound(hash | UInt64(low))..<viewers.lowerBound(hash | UInt64(high + 1))
  }

  /// Entry `i`'s time and place (``clicks(keyHash:from:through:)``).
  func click(_ i: Int) -> (ts: Int64, place: Place) {
    (dayStart + Int64(viewers[i] & (1 << Self.timeBits - 1)), viewerPlaces[i])
  }

  /// Makes `key` the viewer key of row `r` of `s`: the bytes an order's (viewer, platform,
  /// store, product) give with ``orderKey(_:_:)``.
  static func viewerKey(_ key: inout ByteKeyBuilder, _ s: EventSegment, _ r: Int) {
    key.reset()
    s.withValue(.viewer, r) { key.append($0) }
    s.withValue(.listing, r) { key.appendListing($0) }
  }

  /// Makes `key` an order's viewer key (``viewerKey(_:_:_:)``).
  static func orderKey(_ key: inout ByteKeyBuilder, viewerID: String, platform: Platform, store: String, productID: String) {
    key.reset()
    key.append(viewerID)
    key.append(platform.rawValue)
    key.append(store)
    key.append(productID)
  }

  /// An event id's hash in the digest; `mask` keeps some of the bits (tests: none).
  static func idHash(_ bytes: UnsafeRawBufferPointer, _ mask: UInt64) -> UInt32 {
    UInt32(truncatingIfNeeded: (ByteKeyTable.hash(bytes) & mask) >> 32)
  }

  /// A viewer key's hash in the digest (37 bits); `mask` keeps some of the bits (tests: none).
  static func keyHash(_ bytes: UnsafeRawBufferPointer, _ mask: UInt64) -> UInt64 {
    (ByteKeyTable.hash(bytes) & mask) >> timeBits
  }
}
