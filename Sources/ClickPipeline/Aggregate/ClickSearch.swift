/// Attributes orders (CONTRACT §4) in batches: each batch reads the click segments of the UTC
/// days its orders need once, keeping only the clicks that can decide one of them, so memory
/// follows the batch, not the clicks.
///
/// Rule 1 asks `click_index` on which days the named click id occurs and matches ids byte for
/// byte; rule 2 reads each UTC day of the order's window and keeps the non-bot clicks of the
/// order's viewer, then picks the latest in the window (ties to the greatest event id).
struct ClickSearch {
  private struct Click {
    var ts: Int64
    var creatorID: String
    var placement: String
    var postID: String
    var eventID: String
    var isBot: Bool
  }

  let reader: SegmentReader
  let bots: BotMatcher
  let clickDaysOfKey: Statement
  let configuration: PipelineConfiguration

  /// Attributes `orders` in one pass over the click segments of the UTC days they need. The
  /// caller bounds the batch (``DayComputer``'s conversions per batch), which bounds the clicks
  /// held at once.
  func attribute(_ orders: [Attribution.Order]) throws(DatabaseError) -> [Attribution.Result] {
    // What each UTC day must be searched for: named click ids and viewers.
    var wantedIDs: [Int64: ByteKeyTable] = [:]
    // The same ids in the 16-byte form of a segment's UUID column, compared without text.
    var wantedUUIDs: [Int64: UUIDWordSet] = [:]
    var wantedViewers: [Int64: ByteKeyTable] = [:]
    // click_index searched in key order: neighbouring keys share its pages.
    let named = orders.indices.filter { !orders[$0].clickID.isEmpty }.map { (key: EventKeyHash.key(orders[$0].clickID), order: $0) }
      .sorted { $0.key < $1.key }
    for (key, index) in named {
      let clickID = orders[index].clickID
      let words = UUIDText.words(clickID)
      for day in try daysOfClick(key: key) {
        insert(clickID, into: &wantedIDs[day, default: ByteKeyTable()])
        if let words { wantedUUIDs[day, default: UUIDWordSet()].insert(words) }
      }
    }
    // Rule 2: the orders' timestamps per (viewer, platform, store, product).
    var orderTimes: [ByteKey: [Int64]] = [:]
    for order in orders {
      if !order.viewerID.isEmpty {
        let window = configuration.attributionWindowMilliseconds(order.platform)
        for day in utcDay(ofMilliseconds: order.ts - window)...utcDay(ofMilliseconds: order.ts) {
          insert(order.viewerID, into: &wantedViewers[day, default: ByteKeyTable()])
        }
        orderTimes[Self.key(order.viewerID, order.platform.rawValue, order.store, order.productID), default: []].append(order.ts)
      }
    }
    // Keyed by bytes: ids that differ in bytes are different clicks (no Unicode equivalence).
    var byID: [ByteKey: Click] = [:]
    var byViewer = orderTimes.mapValues { LatestClickSlots<Click>(orderTimes: $0) }
    for day in Set(wantedIDs.keys).union(wantedViewers.keys).sorted() {
      let ids = wantedIDs[day]
      let uuids = wantedUUIDs[day] ?? UUIDWordSet()
      let viewers = wantedViewers[day]
      for info in try reader.segments(.click, days: day...day) {
        let eventIDs = try reader.ids(info.segmentID)
        func isNamed(_ r: Int) -> Bool {
          ids.map { table in
            eventIDs.format == .uuid ? uuids.contains(eventIDs.words(r)) : eventIDs.withID(r) { table.find($0) != nil }
          } ?? false
        }
        // Only ids are wanted on this day: a segment that holds none of them is not decoded
        // (a day with more orders than a batch is searched once per batch).
        if viewers == nil && !(0..<eventIDs.count).contains(where: isNamed) { continue }
        let s = try reader.load(info.segmentID)
        let agents = s.dictionaries[EventSegment.Column.userAgent.rawValue]
        var isBot: [Bool?] = Array(repeating: nil, count: agents.count)
        let agentCodes = s.codes[EventSegment.Column.userAgent.rawValue]
        for r in s.liveRows {
          let named = isNamed(r)
          let viewed = viewers.map { table in s.withValue(.viewer, r) { !$0.isEmpty && table.find($0) != nil } } ?? false
          guard named || viewed else { continue }
          let code = Int(agentCodes[r])
          if isBot[code] == nil { isBot[code] = agents.withValue(code) { bots.isBot($0) } }
          let bot = isBot[code]!
          func click() -> Click {
            Click(
              ts: s.ts[r], creatorID: s.string(.creator, r), placement: s.placement(r).name, postID: s.string(.post, r),
              eventID: eventIDs.id(r), isBot: bot)
          }
          // The earliest click with an id is the one it names (CONTRACT §3): days come in order.
          if named {
            let made = click()
            let key = ByteKey(made.eventID)
            if byID[key] == nil { byID[key] = made }
          }
          if viewed && !bot {
            let key = s.withListing(r) { platform, store, product in
              Self.key(
                s.string(.viewer, r), platform?.rawValue ?? "", String(decoding: store, as: UTF8.self),
                String(decoding: product, as: UTF8.self))
            }
            eventIDs.withID(r) { id in byViewer[key]?.offer(ts: s.ts[r], eventID: id, click) }
          }
        }
      }
    }
    return orders.map { order in
      if !order.clickID.isEmpty, let click = byID[ByteKey(order.clickID)] {
        return click.isBot
          ? Attribution.Result(creatorID: "", placement: "", clickEventID: click.eventID, rule: .botClick)
          : Attribution.Result(
            creatorID: click.creatorID, placement: click.placement, postID: click.postID, clickEventID: click.eventID, rule: .clickID)
      }
      // The latest click at or before the order, ties to the greatest event id, if in the window.
      guard !order.viewerID.isEmpty,
        let latest = byViewer[Self.key(order.viewerID, order.platform.rawValue, order.store, order.productID)]?
          .latest(atOrBefore: order.ts),
        latest.ts >= order.ts - configuration.attributionWindowMilliseconds(order.platform)
      else { return .none }
      let best = latest.click
      return Attribution.Result(
        creatorID: best.creatorID, placement: best.placement, postID: best.postID, clickEventID: best.eventID, rule: .viewerWindow)
    }
  }

  /// The parts' bytes, each after its length.
  private static func key(_ parts: String...) -> ByteKey {
    var key = ByteKeyBuilder()
    for part in parts { key.append(part) }
    return ByteKey(key.bytes)
  }

  private func insert(_ value: String, into table: inout ByteKeyTable) {
    var value = value
    _ = value.withUTF8 { table.insert(UnsafeRawBufferPointer($0)) }
  }

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
