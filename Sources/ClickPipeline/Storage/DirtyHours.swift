/// What `aggregate` must recompute after staged events change: the one definition of the rule
/// (docs/DESIGN.md, "Incremental aggregation").
///
/// Ingest and forget mark the UTC hours whose events changed, with a bit per platform
/// (``Platform/clickBit``) when a click changed there; they also mark the hours of every other
/// conversion of the same order, and of the conversions that name a click by id
/// (``ConversionHours`` finds those). ``days(_:_:_:)`` turns the marks into local days: each marked hour's days; for
/// a click hour, every hour up to that platform's attribution window after it (the click can
/// win conversions there); then the days of the refunds of orders on a recomputed day.
struct DirtyHours {
  /// Hour (ts / 3,600,000) → bit set of the click platforms marked in it.
  private var hours: [Int64: Int64] = [:]
  /// The last hour marked and its bits: logs come roughly in time order.
  private var last: (hour: Int64, bits: Int64) = (-1, 0)

  mutating func mark(_ ts: Int64, click platform: Platform? = nil) {
    mark(hour: ts / 3_600_000, clickBits: platform?.clickBit ?? 0)
  }

  /// Marks the hours of a staged segment: bit `h` of `hours` is hour `h` of UTC day `day`;
  /// `clickHours[code]` the hours with a click on the platform of that ``Platform/code``.
  mutating func mark(day: Int64, hours: UInt32, clickHours: [UInt32]) {
    var left = hours
    while left != 0 {
      let h = UInt32(left.trailingZeroBitCount)
      left &= left - 1
      var bits: Int64 = 0
      for platform in Platform.allCases where clickHours[Int(platform.code)] & (1 << h) != 0 { bits |= platform.clickBit }
      mark(hour: day * 24 + Int64(h), clickBits: bits)
    }
  }

  mutating func mark(hour: Int64, clickBits bits: Int64) {
    if hour == last.hour && bits & ~last.bits == 0 { return }
    hours[hour, default: 0] |= bits
    last = (hour, hours[hour] ?? bits)
  }

  /// Adds the marks to `dirty_hours` and forgets them.
  mutating func write(to db: SQLiteDatabase) throws(DatabaseError) {
    guard !hours.isEmpty else { return }
    let s = try db.prepare(
      """
      INSERT INTO dirty_hours(hour, click_platforms) VALUES (?, ?)
      ON CONFLICT(hour) DO UPDATE SET click_platforms = click_platforms | excluded.click_platforms
      """)
    for (hour, platforms) in hours {
      s.reset()
      s.bind(1, hour)
      s.bind(2, platforms)
      try s.step()
    }
    s.reset()
    hours.removeAll(keepingCapacity: true)
    last = (-1, 0)
  }

  /// The local days that the hours in `dirty_hours` can change.
  static func days(
    _ db: SQLiteDatabase, _ calendar: DayCalendar, _ configuration: PipelineConfiguration
  ) throws(DatabaseError) -> [Int] {
    var hours = Set<Int64>()
    for row in try db.rows("SELECT hour, click_platforms FROM dirty_hours") {
      let hour = row[0].intValue
      let platforms = row[1].intValue
      var reach: Int64 = 0
      for platform in Platform.allCases where platforms & platform.clickBit != 0 {
        reach = max(reach, configuration.attributionWindowMilliseconds(platform) / 3_600_000)
      }
      for h in hour...(hour + reach) { hours.insert(h) }
    }
    var days = Set<Int>()
    for hour in hours {
      days.insert(calendar.day(ofMilliseconds: hour * 3_600_000))
      days.insert(calendar.day(ofMilliseconds: hour * 3_600_000 + 3_599_999))
    }
    // Refunds follow their order's attribution: if an order's day changes, so may the refund's.
    let refunds = try db.prepare(
      """
      SELECT r.ts FROM conversions o
      JOIN conversions r ON r.order_key = o.order_key AND r.platform = o.platform AND r.order_id = o.order_id
        AND r.refunded = 1
      WHERE o.refunded = 0 AND o.ts >= ? AND o.ts < ?
      """)
    for day in days {
      refunds.reset()
      refunds.bind(1, calendar.start(ofDay: day))
      refunds.bind(2, calendar.start(ofDay: day + 1))
      var extra = Set<Int>()
      while try refunds.step() { extra.insert(calendar.day(ofMilliseconds: refunds.int(0))) }
      days.formUnion(extra)
    }
    return days.sorted()
  }
}
