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
  func attribute(_ orders: [ConversionRow]) throws(DatabaseError) -> [Attribution.Result] {
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
    // Rule 2: the orders' timestamps per (viewer, platform, store, product), numbered by a
    // table of those keys' bytes (a click's key is looked up from its segment's bytes).
    var candidates = ByteKeyTable()
    var orderTimes: [[Int64]] = []
    var key = ByteKeyBuilder()
    for order in orders {
      if !order.viewerID.isEmpty {
        let window = configuration.attributionWindowMilliseconds(order.platform)
        for day in utcDay(ofMilliseconds: order.ts - window)...utcDay(ofMilliseconds: order.ts) {
          insert(order.viewerID, into: &wantedViewers[day, default: ByteKeyTable()])
        }
        Self.key(&key, order.viewerID, order.platform.rawValue, order.store, order.productID)
        let (index, inserted) = key.withKey { candidates.insert($0) }
        if inserted { orderTimes.append([]) }
        orderTimes[index].append(order.ts)
      }
    }
    // Keyed by bytes: ids that differ in bytes are different clicks (no Unicode equivalence).
    var byID: [ByteKey: Click] = [:]
    var byViewer = orderTimes.map { LatestClickSlots<Click>(orderTimes: $0) }
    for day in Set(wantedIDs.keys).union(wantedViewers.keys).sorted() {
      // Tables unwrapped once: reading an optional struct per row copied it (and retained
      // its arrays) each time.
      let idTable = wantedIDs[day] ?? ByteKeyTable()
      let wantsIDs = wantedIDs[day] != nil
      let uuids = wantedUUIDs[day] ?? UUIDWordSet()
      let viewerTable = wantedViewers[day] ?? ByteKeyTable()
      let wantsViewers = wantedViewers[day] != nil
      for info in try reader.segments(.click, days: day...day) {
        let eventIDs = try reader.ids(info.segmentID)
        let uuidColumn = eventIDs.format == .uuid
        func isNamed(_ r: Int) -> Bool {
          guard wantsIDs else { return false }
          return uuidColumn ? uuids.contains(eventIDs.words(r)) : eventIDs.withID(r) { idTable.find($0) != nil }
        }
        // Only ids are wanted on this day: a segment that holds none of them is not decoded
        // (a day with more orders than a batch is searched once per batch).
        if !wantsViewers && !(0..<eventIDs.count).contains(where: isNamed) { continue }
        let s = try reader.load(info.segmentID)
        let agents = s.dictionaries[EventSegment.Column.userAgent.rawValue]
        var isBot: [Bool?] = Array(repeating: nil, count: agents.count)
        let agentCodes = s.codes[EventSegment.Column.userAgent.rawValue]
        let viewerColumn = s.dictionaries[EventSegment.Column.viewer.rawValue]
        let listingColumn = s.dictionaries[EventSegment.Column.listing.rawValue]
        let listingCodes = s.codes[EventSegment.Column.listing.rawValue]
        for r in s.liveRows {
          let named = isNamed(r)
          let viewed = wantsViewers && viewerColumn.withValue(r) { !$0.isEmpty && viewerTable.find($0) != nil }
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
            let id = ByteKey(made.eventID)
            if byID[id] == nil { byID[id] = made }
          }
          if viewed && !bot {
            key.reset()
            viewerColumn.withValue(r) { key.append($0) }
            listingColumn.withValue(Int(listingCodes[r])) { entry in
              EventSegment.splitListing(entry) { platform, store, product in
                key.append(platform?.rawValue ?? "")
                key.append(store)
                key.append(product)
              }
            }
            if let slot = key.withKey({ candidates.find($0) }) {
              eventIDs.withID(r) { id in byViewer[slot].offer(ts: s.ts[r], eventID: id, click) }
            }
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
      guard !order.viewerID.isEmpty else { return .none }
      Self.key(&key, order.viewerID, order.platform.rawValue, order.store, order.productID)
      guard let slot = key.withKey({ candidates.find($0) }), let latest = byViewer[slot].latest(atOrBefore: order.ts),
        latest.ts >= order.ts - configuration.attributionWindowMilliseconds(order.platform)
      else { return .none }
      let best = latest.click
      return Attribution.Result(
        creatorID: best.creatorID, placement: best.placement, postID: best.postID, clickEventID: best.eventID, rule: .viewerWindow)
    }
  }

  /// Makes `key` the parts' bytes, each after its length.
  private static func key(_ key: inout ByteKeyBuilder, _ parts: String...) {
    key.reset()
    for part in parts { key.append(part) }
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
