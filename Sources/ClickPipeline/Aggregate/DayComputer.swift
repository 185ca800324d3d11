import CSQLite

#if canImport(Glibc)
  import Glibc
#endif

/// Recomputes the `daily_metrics` rows of one local day from the staged events.
///
/// Rows are numbered by a ``ByteKeyTable`` over their five dimensions, read as bytes from the
/// day's ``EventSegment``s; distinct viewers per row are a second table over (row number,
/// viewer id).
final class DayComputer {
  private let db: SQLiteDatabase
  private let calendar: DayCalendar
  private let money: MoneyRules
  private let attribution: Attribution
  private let segments: SegmentReader
  private let conversionsOfDay: Statement
  /// One day's rows: dimensions → row number, the numbered rows, and the (row, viewer) pairs
  /// already counted for unique viewers and unique clickers. Reused from day to day.
  private var dimensions = ByteKeyTable()
  private var rows: [MetricsRow] = []
  private var viewers = ByteKeyTable()
  private var clickers = ByteKeyTable()
  private var key = ByteKeyBuilder()
  /// The share of the day's rows being computed: those whose dimensions hash to `index`
  /// modulo `of` (see ``compute(day:passes:emit:)``).
  private var pass = (index: 0, of: 1)
  /// Conversions left out because their money does not fit in a 64-bit sum, one line each
  /// (day, order, event, product); the runner reports them.
  private(set) var leftOut: [String] = []
  /// The `orders` rows of the day last computed (``OrderRow`` encoding) and their number.
  private(set) var orderBytes: [UInt8] = []
  private(set) var orderCount = 0
  private var currentDay = 0

  init(
    db: SQLiteDatabase, calendar: DayCalendar, money: MoneyRules, attribution: Attribution, segments: SegmentReader
  ) throws(DatabaseError) {
    self.db = db
    self.calendar = calendar
    self.money = money
    self.attribution = attribution
    self.segments = segments
    conversionsOfDay = try db.prepare(
      """
      SELECT event_id, ts, viewer_id, product_id, platform, store, order_id, click_id, quantity,
        amount, currency, refunded
      FROM conversions WHERE ts >= ? AND ts < ?
      """)
  }

  /// The UTC days that hold local day `day`'s events.
  private func utcDays(of day: Int) -> ClosedRange<Int64> {
    utcDay(ofMilliseconds: calendar.start(ofDay: day))...utcDay(ofMilliseconds: calendar.start(ofDay: day + 1) - 1)
  }

  /// How many passes keep each pass of `day` near `trafficPerPass` views and clicks, counted
  /// from the segments' row counts of the UTC days it overlaps (which errs on the safe side).
  func passes(day: Int, trafficPerPass: Int) throws(DatabaseError) -> Int {
    let traffic = try segments.rows(days: utcDays(of: day))
    let perPass = Int64(max(1, trafficPerPass))
    return Int(max(1, (traffic + perPass - 1) / perPass))
  }

  /// Computes the rows of `day` and hands them to `emit` in pieces: for each row with a
  /// non-zero metric, its dimension key (``ByteKeyBuilder`` parts, length first) and its 13
  /// metrics. `emit` returns an error to stop. Returns the number of rows. Reads only;
  /// ``DayWriter`` writes them.
  ///
  /// With `passes` > 1 the day is read that many times, each pass counting only the rows whose
  /// dimensions fall in its share: a row's viewers are all in the same pass, so each pass is
  /// exact, and the tables hold a share of the day. Memory then follows `trafficPerPass`, not
  /// the size of the day.
  func compute(day: Int, passes: Int = 1, emit: (UnsafeRawBufferPointer) -> PipelineError?) throws -> Int {
    let start = calendar.start(ofDay: day)
    let end = calendar.start(ofDay: day + 1)
    var written = 0
    currentDay = day
    orderBytes.removeAll(keepingCapacity: true)
    orderCount = 0
    try attribution.prepare(from: start, to: end)
    for index in 0..<max(1, passes) {
      pass = (index, max(1, passes))
      dimensions.removeAll()
      viewers.removeAll()
      clickers.removeAll()
      rows.removeAll(keepingCapacity: true)
      for kind in [EventKind.view, .click] {
        for info in try segments.segments(kind, days: utcDays(of: day)) {
          try countTraffic(segments.load(info.segmentID), start, end, isView: kind == .view)
        }
      }
      try countConversions(start, end)
      written += try emitRows(emit)
    }
    return written
  }

  /// Hands this pass's non-zero rows to `emit`, in key order; returns how many.
  private func emitRows(_ emit: (UnsafeRawBufferPointer) -> PipelineError?) throws -> Int {
    var written = 0
    var record: [UInt8] = []
    for index in rowsInKeyOrder() {
      let row = rows[index]
      record.removeAll(keepingCapacity: true)
      dimensions.withKey(index) { key in
        var n = UInt32(key.count)
        withUnsafeBytes(of: &n) { record.append(contentsOf: $0) }
        record.append(contentsOf: key)
      }
      for value in row.values {
        var v = value.littleEndian
        withUnsafeBytes(of: &v) { record.append(contentsOf: $0) }
      }
      if let error = record.withUnsafeBytes(emit) { throw error }
      written += 1
    }
    return written
  }

  /// The non-zero rows in `daily_metrics` primary-key order (byte order of the dimensions, one
  /// after the other), so the writer appends to the B-tree instead of inserting at random.
  /// Sorting here runs on the worker threads, in parallel; the single writer only inserts.
  private func rowsInKeyOrder() -> [Int] {
    // Sort keys: each dimension followed by a 0 byte, which sorts a prefix first as SQLite
    // does. (Ids cannot hold control characters; if one did, only the order would suffer.)
    var keys: [UInt8] = []
    var ends: [Int] = []
    var order: [Int] = []
    for (index, row) in rows.enumerated() where !row.isZero {
      dimensions.withKey(index) { key in
        ByteKeyBuilder.forEachPart(of: key) { part in
          keys.append(contentsOf: part)
          keys.append(0)
        }
      }
      ends.append(keys.count)
      order.append(index)
    }
    var positions = Array(0..<order.count)
    keys.withUnsafeBytes { keys in
      func key(_ i: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: keys[(i == 0 ? 0 : ends[i - 1])..<ends[i]])
      }
      positions.sort { a, b in
        let x = key(a)
        let y = key(b)
        let c = memcmp(x.baseAddress!, y.baseAddress!, min(x.count, y.count))
        return c != 0 ? c < 0 : x.count < y.count
      }
    }
    return positions.map { order[$0] }
  }

  /// The number of the row with the dimensions of row `r` of `s`, made if new; `nil` if the
  /// row belongs to another pass.
  private func rowIndex(of s: EventSegment, _ r: Int) -> Int? {
    key.reset()
    s.withValue(.creator, r) { key.append($0) }
    key.append(s.placement(r).name)
    s.withListing(r) { platform, store, product in
      key.append(platform?.rawValue ?? "")
      key.append(store)
      key.append(product)
    }
    return rowIndexOfKey()
  }

  /// The row of a conversion attributed to `who`; `nil` if it belongs to another pass.
  private func rowIndex(of who: Attribution.Result, platform: String, store: String, productID: String) -> Int? {
    key.reset()
    for part in [who.creatorID, who.placement, platform, store, productID] { key.append(part) }
    return rowIndexOfKey()
  }

  private func rowIndexOfKey() -> Int? {
    if pass.of > 1 {
      // Remixed: the table's slots and tags use this hash's low and high bits.
      let share = key.withKey { (ByteKeyTable.hash($0) &* 0x9E37_79B9_7F4A_7C15) >> 40 } % UInt64(pass.of)
      guard share == UInt64(pass.index) else { return nil }
    }
    let (index, inserted) = key.withKey { dimensions.insert($0) }
    if inserted { rows.append(MetricsRow()) }
    return index
  }

  private func countTraffic(_ s: EventSegment, _ start: Int64, _ end: Int64, isView: Bool) {
    let agents = s.dictionaries[EventSegment.Column.userAgent.rawValue]
    let isBot = (0..<agents.count).map { code in agents.withValue(code) { attribution.bots.isBot($0) } }
    let agentCodes = s.codes[EventSegment.Column.userAgent.rawValue]
    for r in s.liveRows where s.ts[r] >= start && s.ts[r] < end {
      guard let index = rowIndex(of: s, r) else { continue }
      let bot = isBot[Int(agentCodes[r])]
      switch (isView, bot) {
      case (true, true): rows[index].botViews += 1
      case (true, false): rows[index].views += 1
      case (false, true): rows[index].botClicks += 1
      case (false, false): rows[index].clicks += 1
      }
      guard !bot else { continue }
      let hasViewer = s.withValue(.viewer, r) { viewer in
        guard !viewer.isEmpty else { return false }
        key.reset()
        key.append(Int32(index))
        key.append(viewer)
        return true
      }
      guard hasViewer else { continue }
      if isView {
        if key.withKey({ viewers.insert($0) }).inserted { rows[index].uniqueViewers += 1 }
      } else {
        if key.withKey({ clickers.insert($0) }).inserted { rows[index].uniqueClickers += 1 }
      }
    }
  }

  private func countConversions(_ start: Int64, _ end: Int64) throws(DatabaseError) {
    let s = conversionsOfDay
    s.reset()
    defer { s.reset() }
    s.bind(1, start)
    s.bind(2, end)
    while try s.step() {
      let eventID = s.text(0)
      let platform = s.text(4)
      let store = s.text(5)
      let productID = s.text(3)
      let orderID = s.text(6)
      let refunded = s.int(11) != 0
      guard let amount = ExactDecimal(s.text(9)),
        let cents = money.revenueCents(amount: amount, currency: s.text(10))
      else {
        // A currency dropped from the FX table since ingest: the row cannot be priced.
        if money.configuration.fxUSDPerUnit[s.text(10)] != nil {
          leftOut.append("\(calendar.text(ofDay: currentDay)) order \(orderID) (event \(eventID)): its revenue does not fit in 64-bit cents")
        }
        continue
      }
      let commission = money.commissionCents(
        revenueCents: cents, platform: platform, store: store, productID: productID)
      if refunded {
        let who = try attribution.order(platform: platform, orderID: orderID)?.result ?? .none
        guard let index = rowIndex(of: who, platform: platform, store: store, productID: productID) else { continue }
        var row = rows[index]
        guard row.add(refundedCents: cents, reversedCommissionCents: commission) else {
          leftOut.append("\(calendar.text(ofDay: currentDay)) refund of order \(orderID) (event \(eventID)), product \(productID): its row's refunded sum would pass 2^63-1 cents")
          continue
        }
        rows[index] = row
        OrderRow(
          eventID: eventID, refund: true, platform: platform, store: store, orderID: orderID, productID: productID,
          quantity: s.int(8), revenueCents: 0, commissionCents: 0, refundedCents: cents, reversedCommissionCents: commission,
          attribution: who
        ).encode(into: &orderBytes)
        orderCount += 1
      } else {
        // Only the canonical copy of a retried order counts.
        guard let order = try attribution.order(platform: platform, orderID: orderID),
          order.canonicalEventID == eventID,
          let index = rowIndex(of: order.result, platform: platform, store: store, productID: productID)
        else { continue }
        let who = order.result
        var row = rows[index]
        guard row.add(units: s.int(8), revenueCents: cents, commissionCents: commission) else {
          leftOut.append("\(calendar.text(ofDay: currentDay)) order \(orderID) (event \(eventID)), product \(productID): its row's revenue sum would pass 2^63-1 cents")
          continue
        }
        rows[index] = row
        OrderRow(
          eventID: eventID, refund: false, platform: platform, store: store, orderID: orderID, productID: productID,
          quantity: s.int(8), revenueCents: cents, commissionCents: commission, refundedCents: 0, reversedCommissionCents: 0,
          attribution: who
        ).encode(into: &orderBytes)
        orderCount += 1
      }
    }
  }
}
