/// The non-bot clicks of one UTC day that have a viewer, by (viewer, platform, store,
/// product): what attribution rule 2 searches (CONTRACT §4).
///
/// Built from the day's click segments when a conversion first needs that day; rule 2
/// probes each UTC day of its window, latest first.
struct ClickDayIndex {
  private var segments: [EventSegment] = []
  private var keys = ByteKeyTable()
  /// Per key, its latest-added click; per click, the previous click of the same key (-1: none).
  private var head: [Int32] = []
  private var next: [Int32] = []
  private var ts: [Int64] = []
  private var segment: [Int32] = []
  private var row: [Int32] = []
  private var key = ByteKeyBuilder()

  init(day: Int64, reader: SegmentReader, bots: BotMatcher) throws(DatabaseError) {
    for info in try reader.segments(.click, days: day...day) {
      let s = try reader.load(info.segmentID)
      let index = Int32(segments.count)
      segments.append(s)
      let agents = s.dictionaries[EventSegment.Dimension.userAgent.rawValue]
      let isBot = (0..<agents.count).map { code in agents.withValue(code) { bots.isBot($0) } }
      let agentCodes = s.codes[EventSegment.Dimension.userAgent.rawValue]
      for r in 0..<s.count where !isBot[Int(agentCodes[r])] {
        guard s.withValue(.viewer, r, { !$0.isEmpty }) else { continue }
        key.reset()
        for dimension in [EventSegment.Dimension.viewer, .platform, .store, .product] {
          s.withValue(dimension, r) { key.append($0) }
        }
        let (k, inserted) = key.withKey { keys.insert($0) }
        if inserted { head.append(-1) }
        next.append(head[k])
        head[k] = Int32(ts.count)
        ts.append(s.ts[r])
        segment.append(index)
        row.append(Int32(r))
      }
    }
  }

  /// The latest click of this viewer on this product with `from <= ts <= to`, ties to the
  /// greatest event id (byte order).
  func latest(
    viewer: String, platform: String, store: String, product: String, from: Int64, to: Int64
  ) -> Attribution.Result? {
    var probe = ByteKeyBuilder()
    for part in [viewer, platform, store, product] { probe.append(part) }
    guard let k = probe.withKey({ keys.find($0) }) else { return nil }
    var best: Int32 = -1
    var i = head[k]
    while i >= 0 {
      let t = ts[Int(i)]
      if t >= from && t <= to {
        if best < 0 || t > ts[Int(best)] || (t == ts[Int(best)] && idPrecedes(best, i)) { best = i }
      }
      i = next[Int(i)]
    }
    guard best >= 0 else { return nil }
    let s = segments[Int(segment[Int(best)])]
    let r = Int(row[Int(best)])
    return Attribution.Result(
      creatorID: s.string(.creator, r), placement: s.string(.placement, r), clickEventID: s.eventID(r), rule: .viewerWindow)
  }

  /// Whether click `a`'s event id sorts before click `b`'s, byte for byte.
  private func idPrecedes(_ a: Int32, _ b: Int32) -> Bool {
    let sa = segments[Int(segment[Int(a)])]
    let sb = segments[Int(segment[Int(b)])]
    return sa.ids.withValue(Int(row[Int(a)])) { x in
      sb.ids.withValue(Int(row[Int(b)])) { y in x.lexicographicallyPrecedes(y) }
    }
  }
}
