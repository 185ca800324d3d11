/// Attributes orders (CONTRACT §4) in batches, from the run's ``ClickDigests``: each UTC day's
/// clicks are read into a digest once, and a batch looks its orders up in the digests of the
/// days it needs, then reads only the segments that hold a candidate, each once.
///
/// Rule 1 asks `click_index` on which days the named click id occurs and takes the earliest
/// click whose id matches byte for byte; rule 2 takes the latest non-bot click of the order's
/// (viewer, platform, store, product) in the order's window, ties to the greatest event id.
/// Digests propose candidates by hash; every candidate is checked against the click's bytes.
struct ClickSearch {
  private struct Click {
    var ts: Int64
    var creatorID: String
    var placement: String
    var postID: String
    var eventID: [UInt8]
    var isBot: Bool
  }

  /// A click an order may name (rule 1) or may be attributed to (rule 2).
  private struct Candidate {
    var day: Int64
    var segmentID: Int64
    var row: Int
    var order: Int
    var named: Bool
  }

  /// The segment whose candidates are being checked, read once for all of them.
  private struct OpenSegment {
    var segmentID: Int64 = -1
    var segment: EventSegment?
    var ids: EventIDColumn?
    /// Per user-agent code, whether it is a bot's (decided once).
    var isBot: [Bool?] = []
    /// Scratch for a candidate's viewer key.
    var rowKey = ByteKeyBuilder()
  }

  let reader: SegmentReader
  let bots: BotMatcher
  let clickDaysOfKey: Statement
  let configuration: PipelineConfiguration
  let digests: ClickDigests

  /// Attributes `orders`. The caller bounds the batch (``DayComputer``'s conversions per
  /// batch), which bounds the candidates held at once.
  func attribute(_ orders: [ConversionRow]) throws(DatabaseError) -> [Attribution.Result] {
    // The days each order needs: those click_index lists for its click id, its window's.
    var namedOn: [Int64: [Int]] = [:]
    // click_index searched in key order: neighbouring keys share its pages.
    let named = orders.indices.filter { !orders[$0].clickID.isEmpty }.map { (key: EventKeyHash.key(orders[$0].clickID), order: $0) }
      .sorted { $0.key < $1.key }
    for (key, index) in named {
      for day in try daysOfClick(key: key) { namedOn[day, default: []].append(index) }
    }
    // Per order, its viewer key, the key's hash and where its window starts, worked out once:
    // the loops below visit an order once per candidate and per digest of its window.
    var viewedOn: [Int64: [Int]] = [:]
    var keyHashes = [UInt64](repeating: 0, count: orders.count)
    var orderKeys = [[UInt8]](repeating: [], count: orders.count)
    let orderTimes = orders.indices.map { orders[$0].ts }
    let windowStarts = orders.indices.map { windowStart(ts: orderTimes[$0], platform: orders[$0].platform) }
    let hashMask = digests.hashMask
    var key = ByteKeyBuilder()
    for index in orders.indices where !orders[index].viewerID.isEmpty {
      ClickDigest.orderKey(
        &key, viewerID: orders[index].viewerID, platform: orders[index].platform, store: orders[index].store,
        productID: orders[index].productID)
      keyHashes[index] = key.withKey { ClickDigest.keyHash($0, hashMask) }
      orderKeys[index] = key.bytes
      for day in Self.days(from: windowStarts[index], through: orderTimes[index]) { viewedOn[day, default: []].append(index) }
    }
    let days = Set(namedOn.keys).union(viewedOn.keys).sorted()
    guard let firstDay = days.first else { return orders.map { _ in .none } }

    // Candidates from the digests: every click whose id hash matches (rule 1); per order, the
    // latest clicks in its window whose key hash matches (rule 2), all at one time.
    var candidates: [Candidate] = []
    var latest = [Int64](repeating: .min, count: orders.count)
    var latestFrom = [Int](repeating: 0, count: orders.count)
    var viewed: [Candidate] = []
    for day in days {
      for digest in try digestsOf(day, firstNeeded: firstDay) {
        for index in namedOn[day] ?? [] {
          var id = orders[index].clickID
          let idHash = id.withUTF8 { ClickDigest.idHash(UnsafeRawBufferPointer($0), hashMask) }
          for entry in digest.idEntries(idHash: idHash) {
            let place = digest.idPlace(entry)
            candidates.append(
              Candidate(day: day, segmentID: digest.segmentIDs[Int(place >> 16)], row: Int(place & 0xFFFF), order: index, named: true))
          }
        }
        for index in viewedOn[day] ?? [] {
          let range = digest.clicks(keyHash: keyHashes[index], from: windowStarts[index], through: orderTimes[index])
          guard let last = range.last else { continue }
          let ts = digest.click(last).ts
          guard ts >= latest[index] else { continue }
          if ts > latest[index] {
            latest[index] = ts
            latestFrom[index] = viewed.count
          }
          var i = last
          while i >= range.lowerBound && digest.click(i).ts == ts {
            let place = digest.click(i).place
            viewed.append(
              Candidate(day: day, segmentID: digest.segmentIDs[Int(place >> 16)], row: Int(place & 0xFFFF), order: index, named: false))
            i -= 1
          }
        }
      }
    }
    // Rule 2's candidates that an order's later candidates replaced are dropped.
    candidates += viewed.indices.lazy.filter { $0 >= latestFrom[viewed[$0].order] }.map { viewed[$0] }

    // Each candidate checked against its click's bytes, each segment read once.
    candidates.sort { ($0.segmentID, $0.row) < ($1.segmentID, $1.row) }
    // Per order, the named click found (rule 1) and where it is: the earliest place wins.
    var byID: [Click?] = Array(repeating: nil, count: orders.count)
    var byIDPlace: [(day: Int64, segmentID: Int64, row: Int)?] = Array(repeating: nil, count: orders.count)
    var byViewer: [Click?] = Array(repeating: nil, count: orders.count)
    var unconfirmed = Set<Int>()
    var open = OpenSegment()
    for candidate in candidates {
      if candidate.named {
        if let kept = byIDPlace[candidate.order], kept < (candidate.day, candidate.segmentID, candidate.row) {
          continue
        }
        if let click = try click(candidate, ifIDIs: orders[candidate.order].clickID, &open) {
          byID[candidate.order] = click
          byIDPlace[candidate.order] = (candidate.day, candidate.segmentID, candidate.row)
        }
      } else if let click = try click(candidate, ifKeyIs: orderKeys[candidate.order], &open) {
        byViewer[candidate.order] = Self.later(byViewer[candidate.order], click)
        unconfirmed.remove(candidate.order)
      } else if byViewer[candidate.order] == nil {
        unconfirmed.insert(candidate.order)
      }
    }
    // A latest candidate that was another key's (a hash collision): the order's window is
    // searched click by click.
    for index in unconfirmed.sorted() {
      byViewer[index] = try latestClick(
        orders[index], index: index, key: orderKeys[index], keyHash: keyHashes[index], firstNeeded: firstDay, &open)
    }

    return orders.indices.map { index in
      if let named = byID[index] {
        return named.isBot
          ? Attribution.Result(creatorID: "", placement: "", clickEventID: Self.text(named.eventID), rule: .botClick)
          : Attribution.Result(
            creatorID: named.creatorID, placement: named.placement, postID: named.postID, clickEventID: Self.text(named.eventID),
            rule: .clickID)
      }
      guard let best = byViewer[index] else { return .none }
      return Attribution.Result(
        creatorID: best.creatorID, placement: best.placement, postID: best.postID, clickEventID: Self.text(best.eventID),
        rule: .viewerWindow)
    }
  }

  /// The UTC days of `order`'s window.
  private func window(_ order: ConversionRow) -> ClosedRange<Int64> {
    Self.days(from: windowStart(order), through: order.ts)
  }

  /// The UTC days from the one of `start` to the one of `end` (epoch milliseconds).
  private static func days(from start: Int64, through end: Int64) -> ClosedRange<Int64> {
    utcDay(ofMilliseconds: start)...utcDay(ofMilliseconds: end)
  }

  private func windowStart(_ order: ConversionRow) -> Int64 {
    windowStart(ts: order.ts, platform: order.platform)
  }

  /// Where the window of an order at `ts` on `platform` starts (epoch milliseconds).
  private func windowStart(ts: Int64, platform: Platform) -> Int64 {
    ts - configuration.attributionWindowMilliseconds(platform)
  }

  private func digestsOf(_ day: Int64, firstNeeded: Int64) throws(DatabaseError) -> [ClickDigest] {
    try digests.digests(day: day, firstNeeded: firstNeeded) { () throws(DatabaseError) in
      try ClickDigest.build(day: day, reader: reader, bots: bots, hashMask: digests.hashMask)
    }
  }

  /// Rule 2 for one order, click by click: the latest group of clicks with the order's key
  /// hash, latest day first, that holds a click of the order's key.
  private func latestClick(
    _ order: ConversionRow, index: Int, key: [UInt8], keyHash: UInt64, firstNeeded: Int64, _ open: inout OpenSegment
  ) throws(DatabaseError) -> Click? {
    for day in window(order).reversed() {
      var best: Click?
      for digest in try digestsOf(day, firstNeeded: firstNeeded) {
        let range = digest.clicks(keyHash: keyHash, from: windowStart(order), through: order.ts)
        for i in range.reversed() {
          let (ts, place) = digest.click(i)
          if let found = best, found.ts > ts { break }
          let candidate = Candidate(
            day: day, segmentID: digest.segmentIDs[Int(place >> 16)], row: Int(place & 0xFFFF), order: index, named: false)
          if let click = try click(candidate, ifKeyIs: key, &open) { best = Self.later(best, click) }
        }
      }
      if best != nil { return best }
    }
    return nil
  }

  /// The later of two clicks, ties to the greater event id.
  private static func later(_ a: Click?, _ b: Click) -> Click {
    guard let a else { return b }
    return b.ts > a.ts || (b.ts == a.ts && a.eventID.lexicographicallyPrecedes(b.eventID)) ? b : a
  }

  /// The candidate's click if its event id is `id`.
  private func click(_ candidate: Candidate, ifIDIs id: String, _ open: inout OpenSegment) throws(DatabaseError) -> Click? {
    let eventIDs = try ids(candidate, &open)
    var id = id
    guard eventIDs.withID(candidate.row, { stored in id.withUTF8 { stored.elementsEqual(UnsafeRawBufferPointer($0)) } }) else {
      return nil
    }
    return try click(candidate, &open)
  }

  /// The candidate's click if it is a non-bot click with the viewer key `key` (an order's,
  /// ``ClickDigest/orderKey(_:_:)``).
  private func click(_ candidate: Candidate, ifKeyIs key: [UInt8], _ open: inout OpenSegment) throws(DatabaseError) -> Click? {
    let s = try segment(candidate, &open)
    ClickDigest.viewerKey(&open.rowKey, s, candidate.row)
    guard open.rowKey.bytes == key else { return nil }
    let click = try click(candidate, &open)
    return click.isBot ? nil : click
  }

  private func click(_ candidate: Candidate, _ open: inout OpenSegment) throws(DatabaseError) -> Click {
    let s = try segment(candidate, &open)
    let eventIDs = try ids(candidate, &open)
    let r = candidate.row
    let agent = Int(s.codes[EventSegment.Column.userAgent.rawValue][r])
    if open.isBot[agent] == nil { open.isBot[agent] = s.withValue(.userAgent, r) { bots.isBot($0) } }
    return Click(
      ts: s.ts[r], creatorID: s.string(.creator, r), placement: s.placement(r).name, postID: s.string(.post, r),
      eventID: eventIDs.withID(r) { Array($0) }, isBot: open.isBot[agent]!)
  }

  /// The candidate's segment, read once while its candidates are checked.
  private func segment(_ candidate: Candidate, _ open: inout OpenSegment) throws(DatabaseError) -> EventSegment {
    if open.segmentID != candidate.segmentID { open = OpenSegment(segmentID: candidate.segmentID) }
    if open.segment == nil {
      let s = try reader.load(candidate.segmentID)
      open.segment = s
      open.isBot = Array(repeating: nil, count: s.dictionaries[EventSegment.Column.userAgent.rawValue].count)
    }
    guard candidate.row < open.segment!.count else { throw SegmentReader.damaged(candidate.segmentID) }
    return open.segment!
  }

  /// The candidate's segment's event ids, read once while its candidates are checked.
  private func ids(_ candidate: Candidate, _ open: inout OpenSegment) throws(DatabaseError) -> EventIDColumn {
    if open.segmentID != candidate.segmentID { open = OpenSegment(segmentID: candidate.segmentID) }
    if open.ids == nil { open.ids = try reader.ids(candidate.segmentID) }
    guard candidate.row < open.ids!.count else { throw SegmentReader.damaged(candidate.segmentID) }
    return open.ids!
  }

  private static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

  /// The UTC days on which a click id's key occurs (`click_index`).
  private func daysOfClick(key: Int64) throws(DatabaseError) -> [Int64] {
    let s = clickDaysOfKey
    s.reset()
    defer { s.reset() }
    s.bind(1, key)
    var days: [Int64] = []
    while try s.step() { days.append(s.int(0)) }
    return days
  }
}
