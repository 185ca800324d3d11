import CSQLite

/// Recomputes the `daily_metrics` rows of one local day from the staged events.
///
/// Rows are numbered by integers, not bytes: each segment's dictionaries (creators, listings)
/// are translated once into day-wide codes (``ByteDictionary``), and a row is the 64-bit word
/// (creator code, listing code, placement) in a ``RowTable``. Distinct viewers and clickers
/// are counted by sorting (row, viewer-hash) words; words that repeat are confirmed on the
/// viewer ids' bytes, so two viewers are never counted as one whatever their hashes.
final class DayComputer {
  private let db: SQLiteDatabase
  private let calendar: DayCalendar
  private let money: MoneyRules
  private let attribution: Attribution
  private let segments: SegmentReader
  private let conversionsOfDay: Statement
  private let conversionsInDay: Statement
  /// The day's dimension values, coded in order of first appearance.
  private let creators = ByteDictionary()
  private let listings = ByteDictionary()
  /// One pass's rows.
  private let rows = PassRows()
  /// (row << 38 | viewer hash >> 26) of each non-bot view and click with a viewer, and where
  /// its viewer id is (segment slot << 16 | row), to confirm repeats.
  private var viewerWords: [UInt64] = []
  private var viewerPlaces: [UInt32] = []
  private var clickerWords: [UInt64] = []
  private var clickerPlaces: [UInt32] = []
  /// The viewer column of each segment counted in this pass, kept to confirm repeated words.
  private var passViewers: [ByteColumn] = []
  /// The segment being counted: its counted rows' keys (then row numbers), and the rows
  /// (``botRow`` set for a bot's).
  private var segmentKeys: [UInt64] = []
  private var segmentRows: [UInt32] = []
  private var listing: [UInt8] = []
  /// The share of the day's rows being computed: those whose dimensions hash to `index`
  /// modulo `of` (see ``compute(day:passes:rowsPerPass:into:)``).
  private var pass = (index: 0, of: 1)
  /// The rows a pass may hold; a pass that finds more is given up and the day is computed
  /// again in more passes (``compute(day:passes:rowsPerPass:into:)``).
  private var rowsPerPass = Int.max
  /// Views and clicks the current pass has read (its share and the others').
  private var passTraffic = 0
  /// Passes computed so far, whole or given up: the work done (``AggregateResult/passes``).
  private(set) var passesRun = 0
  /// Passes given up so far because they held more than `rowsPerPass` rows.
  private(set) var passesGivenUp = 0
  /// Rows per view or click (as ``SegmentReader/rows(days:)`` counts them) of the last day
  /// this computer finished: a day's passes are planned from it, so that a day like the one
  /// before is not read halfway and given up to learn its size again.
  private var rowsPerEvent = 0.0
  /// Rows the passes of the day being computed held, together.
  private var dayRows = 0
  /// Conversions left out because their money does not fit in a 64-bit sum, one line each
  /// (day, order, event, product); the runner reports them.
  private(set) var leftOut: [String] = []
  /// The `orders` rows not yet spooled (``OrderRow`` encoding), at most about `orderRunBytes`:
  /// then they are sorted and spooled as one run.
  private var orderBytes: [UInt8] = []
  private let orderRunBytes: Int
  /// The day's conversions read before their orders are attributed, at most
  /// `conversionsPerBatch`: memory follows the batch, not the day.
  private var batch: [ConversionRow] = []
  private let conversionsPerBatch: Int
  /// The day's batch size (``batchSize(conversions:perBatch:)``), counted once per day.
  private var dayBatchSize = 1
  /// The orders with a refund counted on the day being computed (platform NUL order id), and
  /// where they are checked against their amount once the day is done (``OverRefunds``).
  private var refundedOrders = Set<String>()
  private let overRefunds: OverRefunds
  /// The FX rates and commission rates as `orders` records them, written once rather than per
  /// order.
  private let fxTexts: [String: String]
  private var rateTexts: [ExactDecimal: String] = [:]
  /// Where the day being computed goes, and what went there.
  private var spool: SpoolFile?
  private var output = SpooledDay()
  private var currentDay = 0
  /// CPU seconds spent attributing in the day being computed (part of its grouping time).
  private var attributing = 0.0
  /// CPU time per ``AggregateStep`` (`--stats-json`), and the views, clicks and conversions read.
  var clock = StepClock(steps: AggregateStep.allCases.count, enabled: false)
  private(set) var eventsRead = 0

  init(
    db: SQLiteDatabase, calendar: DayCalendar, money: MoneyRules, attribution: Attribution, segments: SegmentReader,
    conversionsPerBatch: Int, orderRunBytes: Int
  ) throws(DatabaseError) {
    self.conversionsPerBatch = max(1, conversionsPerBatch)
    self.orderRunBytes = orderRunBytes
    self.db = db
    self.calendar = calendar
    self.money = money
    fxTexts = money.configuration.fxUSDPerUnit.mapValues { "\($0)" }
    self.attribution = attribution
    self.segments = segments
    overRefunds = try OverRefunds(db: db, money: money)
    conversionsInDay = try db.prepare("SELECT count(*) FROM conversions WHERE ts >= ? AND ts < ?")
    conversionsOfDay = try db.prepare(
      "SELECT \(ConversionRow.columns.joined(separator: ", ")) FROM conversions WHERE ts >= ? AND ts < ?")
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

  /// Computes the rows of `day` into `spool`, in sorted runs: each pass's non-zero rows (per
  /// row, its dimension key as ``ByteKeyBuilder`` parts after the key's length, then its 13
  /// metrics) in key order, and the `orders` rows (``OrderRow``) sorted a run at a time. Reads
  /// only; ``DayWriter`` writes what the runs hold.
  ///
  /// With `passes` > 1 the day is read that many times, each pass counting only the rows whose
  /// dimensions fall in its share: a row's viewers are all in the same pass, so each pass is
  /// exact, and the tables hold a share of the day. `passes` comes from the day's traffic
  /// (``passes(day:trafficPerPass:)``); a day of many more distinct rows than usual (a
  /// million creators with one view each) is caught by `rowsPerPass`: a pass that makes more
  /// rows is given up, what the day spooled is left unused (in the run's unlinked spool file),
  /// and the day is computed again in more passes, estimated from how far the pass got. The
  /// next day starts with the passes this day's rows per event call for
  /// (``plannedPasses(traffic:)``). Memory then follows the pass, not the size or the shape of
  /// the day.
  func compute(day: Int, passes: Int = 1, rowsPerPass: Int = .max, into spool: SpoolFile) throws -> SpooledDay {
    currentDay = day
    self.spool = spool
    defer { self.spool = nil }
    self.rowsPerPass = max(1, rowsPerPass)
    attribution.forgetOrders()
    dayBatchSize = try batchSize(calendar.start(ofDay: day), calendar.start(ofDay: day + 1))
    let traffic = try segments.rows(days: utcDays(of: day))
    var passes = max(1, passes, plannedPasses(traffic: traffic))
    while true {
      output = SpooledDay()
      orderBytes.removeAll(keepingCapacity: true)
      refundedOrders.removeAll()
      dayRows = 0
      guard let moreRows = try computeInPasses(day, passes) else {
        rowsPerEvent = Double(dayRows) / Double(max(traffic, 1))
        // In (platform, order id) byte order (a platform name holds no NUL); the writer
        // records them (``OverRefunds``). Part of the group step.
        let checkStarted = clock.cpuNow()
        output.refundChecks = try refundedOrders.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.map { key in
          let parts = key.split(separator: "\u{0}", maxSplits: 1, omittingEmptySubsequences: false)
          return try overRefunds.check(platform: String(parts[0]), orderID: String(parts[1]))
        }
        clock.addSeconds(AggregateStep.group.rawValue, clock.cpuNow() - checkStarted)
        refundedOrders.removeAll()
        return output
      }
      passesGivenUp += 1
      // The pass got as far as `passTraffic` of the day's traffic with `moreRows` rows: the
      // day's rows, estimated from there, with a quarter to spare. Past `maxPasses`, a pass
      // keeps every row it makes.
      let estimate = Double(moreRows) * Double(max(traffic, 1)) / Double(max(passTraffic, 1)) * Double(passes) * 1.25
      let wanted = max(2 * passes, Int(min(estimate / Double(self.rowsPerPass), Double(Self.maxPasses)).rounded(.up)))
      if wanted >= Self.maxPasses {
        passes = max(passes, Self.maxPasses)
        self.rowsPerPass = .max
      } else {
        passes = wanted
      }
    }
  }

  /// The passes a day of `traffic` views and clicks needs if it makes as many rows per event
  /// as the last day computed, with a quarter to spare (1 before any day is done).
  private func plannedPasses(traffic: Int64) -> Int {
    guard rowsPerPass < .max, rowsPerEvent > 0 else { return 1 }
    let estimate = Double(traffic) * rowsPerEvent * 1.25 / Double(rowsPerPass)
    return Int(min(estimate, Double(Self.maxPasses)).rounded(.up))
  }

  /// Passes over one day at most: past it a pass keeps every row it makes.
  static let maxPasses = 4096

  /// The day in `passes` passes; `nil` when done, or the rows a pass held when it was given up.
  private func computeInPasses(_ day: Int, _ passes: Int) throws -> Int? {
    let start = calendar.start(ofDay: day)
    let end = calendar.start(ofDay: day + 1)
    attributing = 0
    let groupStarted = clock.cpuNow()
    var reading = 0.0
    defer {
      clock.addSeconds(AggregateStep.read.rawValue, reading)
      clock.addSeconds(AggregateStep.attribute.rawValue, attributing)
      clock.addSeconds(AggregateStep.group.rawValue, clock.cpuNow() - groupStarted - reading - attributing)
    }
    for index in 0..<passes {
      pass = (index, passes)
      passesRun += 1
      passTraffic = 0
      creators.removeAll()
      listings.removeAll()
      rows.removeAll()
      viewerWords.removeAll(keepingCapacity: true)
      viewerPlaces.removeAll(keepingCapacity: true)
      clickerWords.removeAll(keepingCapacity: true)
      clickerPlaces.removeAll(keepingCapacity: true)
      passViewers.removeAll(keepingCapacity: true)
      for kind in [EventKind.view, .click] {
        for info in try segments.segments(kind, days: utcDays(of: day)) {
          let loadStarted = clock.cpuNow()
          let segment = try segments.load(info.segmentID)
          reading += clock.cpuNow() - loadStarted
          eventsRead += segment.count
          passTraffic += segment.count
          countTraffic(segment, start, end, isView: kind == .view)
          if rows.count > rowsPerPass { return rows.count }
        }
      }
      countDistinct(&viewerWords, &viewerPlaces, \.viewers)
      countDistinct(&clickerWords, &clickerPlaces, \.clickers)
      passViewers.removeAll(keepingCapacity: true)
      try countConversions(start, end)
      if rows.count > rowsPerPass { return rows.count }
      dayRows += rows.count
      try spoolRows()
    }
    try spoolOrders()
    return nil
  }

  /// Spools this pass's non-zero rows as one run, in `daily_metrics` key order.
  private func spoolRows() throws {
    // Each creator's and listing's key parts, encoded once for the pass rather than per row.
    let creatorParts = KeyParts(count: creators.count) { code, key in creators.withValue(code) { key.append($0) } }
    let listingParts = KeyParts(count: listings.count) { code, key in listings.withValue(code) { key.appendListing($0) } }
    // By the row key's placement bits: none (0), bio (1) and post (2), as `rowKey` stores them.
    let placementParts: [[UInt8]] = (0..<4).map { bits in
      var key = ByteKeyBuilder()
      key.append(Placement(rawValue: UInt8(bits) &- 1)?.name ?? "")
      return key.bytes
    }
    var record: [UInt8] = []
    var previous: [UInt8] = []
    let order = rowsInKeyOrder()
    for (position, index) in order.enumerated() {
      if position + Self.prefetchDistance < order.count { rows.prefetch(row: order[position + Self.prefetchDistance]) }
      let word = rows.keys[index]
      record.removeAll(keepingCapacity: true)
      for _ in 0..<4 { record.append(0) }
      creatorParts.append(Int(word >> 34), to: &record)
      placementParts[Int(word & 3)].withUnsafeBufferPointer { record.append(contentsOf: $0) }
      listingParts.append(Int((word >> 2) & 0xFFFF_FFFF), to: &record)
      let keyLength = UInt32(record.count - 4)
      withUnsafeBytes(of: keyLength.littleEndian) { length in
        record.withUnsafeMutableBytes { $0.copyMemory(from: length) }
      }
      // Debug builds (the tests) check the ranked order against the keys themselves.
      assert(
        {
          let key = Array(record[4...])
          defer { previous = key }
          return previous.isEmpty
            || previous.withUnsafeBytes { p in key.withUnsafeBytes { ByteKeyBuilder.precedes(p, $0) } }
        }(), "rows out of key order")
      rows.metrics(index).appendValues(to: &record)
      try record.withUnsafeBytes { bytes in try spool!.append(bytes) }
      output.rows += 1
    }
    if let run = try spool!.endRun() { output.rowRuns.append(run) }
  }

  /// Spools the orders not yet spooled as one run, sorted by event id.
  private func spoolOrders() throws {
    try orderBytes.withUnsafeBytes { bytes in
      try OrderRow.forEachSorted(bytes) { row throws(PipelineError) in try spool!.append(row) }
    }
    orderBytes.removeAll(keepingCapacity: true)
    if let run = try spool!.endRun() { output.orderRuns.append(run) }
  }

  /// The non-zero rows in `daily_metrics` primary-key order (byte order of the dimensions, one
  /// after the other), so the writer appends to the B-tree instead of inserting at random.
  /// Sorting here runs on the worker threads, in parallel; the single writer only inserts.
  ///
  /// The day's creators and listings are ranked once by their bytes, and each row sorted by
  /// the 64-bit word (creator rank, placement rank, listing rank) with the radix sort: the
  /// same order as comparing the rows' dimension keys part by part (a listing entry's 0-byte
  /// separator sorts below every byte of a store id, so its bytes compare as its parts do), a
  /// comparison sort of 500,000 byte keys cost several times as much.
  private func rowsInKeyOrder() -> [Int] {
    let creatorRank = Self.ranks(creators)
    let listingRank = Self.ranks(listings)
    // Placement names: none "" < "bio" < "post" (stored as 0, bio 2, post 1).
    let placementRank: [UInt64] = [0, 2, 1, 0]
    var words: [UInt64] = []
    var order: [UInt32] = []
    for index in 0..<rows.count where !rows.isZero(index) {
      let key = rows.keys[index]
      words.append(
        UInt64(creatorRank[Int(key >> 34)]) << 34 | placementRank[Int(key & 3)] << 32
          | UInt64(listingRank[Int((key >> 2) & 0xFFFF_FFFF)]))
      order.append(UInt32(index))
    }
    RadixSort.sort(&words, carrying: &order)
    return order.map { Int($0) }
  }

  /// Each code's rank when the dictionary's values are sorted by their bytes.
  private static func ranks(_ dictionary: ByteDictionary) -> [UInt32] {
    var codes = Array(0..<dictionary.count)
    codes.sort { a, b in
      dictionary.withValue(a) { x in dictionary.withValue(b) { y in ByteKeyBuilder.compare(x, y) < 0 } }
    }
    var rank = [UInt32](repeating: 0, count: dictionary.count)
    for (position, code) in codes.enumerated() { rank[code] = UInt32(position) }
    return rank
  }

  /// Whether a row whose dimensions hash to `share` (``share(creator:listing:placement:)``)
  /// is counted in this pass.
  @inline(__always)
  private func inPass(_ share: UInt64) -> Bool {
    pass.of == 1 || (share &* 0x9E37_79B9_7F4A_7C15) >> 40 % UInt64(pass.of) == UInt64(pass.index)
  }

  /// The row key of (pass creator code, pass listing code, placement). The placement is
  /// ``Placement/rawValue`` + 1, or 0 for none (an unattributed conversion).
  @inline(__always)
  private static func rowKey(creator: UInt32, listing: UInt32, placement: UInt8) -> UInt64 {
    precondition(creator < 1 << 30, "more than 2^30 creators in a day")
    return UInt64(creator) << 34 | UInt64(listing) << 2 | UInt64(placement & 3)
  }

  /// The pass share of a row: its dimensions' bytes hashed (the same from a segment's
  /// dictionaries and from a conversion's text).
  @inline(__always)
  private static func share(creator: UInt64, listing: UInt64, placement: UInt8) -> UInt64 {
    (creator &* 0xBF58_476D_1CE4_E5B9) ^ listing ^ UInt64(placement)
  }

  /// The row of a conversion attributed to `who`; `nil` if it belongs to another pass.
  private func rowIndex(of who: Attribution.Result, platform: Platform, store: String, productID: String) -> Int? {
    var creatorID = who.creatorID
    listing.removeAll(keepingCapacity: true)
    var store = store
    var product = productID
    store.withUTF8 { store in
      product.withUTF8 { product in
        EventSegment.appendListing(
          platform, UnsafeRawBufferPointer(store), UnsafeRawBufferPointer(product), to: &listing)
      }
    }
    let placement: UInt8 =
      who.placement == Placement.bio.name
      ? Placement.bio.rawValue + 1 : who.placement == Placement.post.name ? Placement.post.rawValue + 1 : 0
    if pass.of > 1 {
      let creatorHash = creatorID.withUTF8 { EventKeyHash.hash(UnsafeRawBufferPointer($0)) }
      let listingHash = listing.withUnsafeBytes { EventKeyHash.hash($0) }
      guard inPass(Self.share(creator: creatorHash, listing: listingHash, placement: placement)) else { return nil }
    }
    let creatorCode = creatorID.withUTF8 { creators.code(for: UnsafeRawBufferPointer($0)) }
    let listingCode = listing.withUnsafeBytes { listings.code(for: $0) }
    return rows.index(of: Self.rowKey(creator: creatorCode, listing: listingCode, placement: placement))
  }

  private func countTraffic(_ s: EventSegment, _ start: Int64, _ end: Int64, isView: Bool) {
    precondition(passViewers.count < 1 << 16, "more than 65,536 segments in one pass")
    let slot = UInt32(passViewers.count)
    passViewers.append(s.dictionaries[EventSegment.Column.viewer.rawValue])
    // The segment's pass hashes and bot verdicts, once per value.
    let creatorDictionary = s.dictionaries[EventSegment.Column.creator.rawValue]
    let listingDictionary = s.dictionaries[EventSegment.Column.listing.rawValue]
    let agents = s.dictionaries[EventSegment.Column.userAgent.rawValue]
    let creatorHashes =
      pass.of > 1 ? (0..<creatorDictionary.count).map { code in creatorDictionary.withValue(code) { EventKeyHash.hash($0) } } : []
    let listingHashes =
      pass.of > 1 ? (0..<listingDictionary.count).map { code in listingDictionary.withValue(code) { EventKeyHash.hash($0) } } : []
    let isBot = (0..<agents.count).map { code in agents.withValue(code) { attribution.bots.isBot($0) } }
    let creatorCodes = s.codes[EventSegment.Column.creator.rawValue]
    let listingCodes = s.codes[EventSegment.Column.listing.rawValue]
    let agentCodes = s.codes[EventSegment.Column.userAgent.rawValue]
    let viewers = s.dictionaries[EventSegment.Column.viewer.rawValue]
    // In four loops: the rows of the pass; their keys; their rows, in a loop of its own so
    // that the row table's cache misses overlap; the viewer words.
    segmentRows.removeAll(keepingCapacity: true)
    for r in s.liveRows where s.ts[r] >= start && s.ts[r] < end {
      if pass.of > 1
        && !inPass(
          Self.share(
            creator: creatorHashes[Int(creatorCodes[r])], listing: listingHashes[Int(listingCodes[r])],
            placement: s.placements[r] &+ 1))
      {
        continue
      }
      segmentRows.append(UInt32(r) | (isBot[Int(agentCodes[r])] ? Self.botRow : 0))
    }
    // The dictionaries' values, translated into pass codes all at once (with tens of thousands
    // of creators in a day, most of a segment's are new to the pass); in a pass over a share,
    // only those of its rows, so that a pass's dictionaries follow its share.
    let rowsOfPass: [UInt32]? = pass.of > 1 ? segmentRows : nil
    let creatorMap = Self.translate(creatorDictionary, codes: creatorCodes, rows: rowsOfPass, into: creators)
    let listingMap = Self.translate(listingDictionary, codes: listingCodes, rows: rowsOfPass, into: listings)
    segmentKeys.removeAll(keepingCapacity: true)
    for entry in segmentRows {
      let r = Int(entry & ~Self.botRow)
      segmentKeys.append(
        Self.rowKey(
          creator: creatorMap[Int(creatorCodes[r])], listing: listingMap[Int(listingCodes[r])], placement: s.placements[r] &+ 1))
    }
    let (human, bot): (RowTable.Counter, RowTable.Counter) = isView ? (.views, .botViews) : (.clicks, .botClicks)
    let ahead = Self.prefetchDistance
    for i in segmentKeys.indices {
      if i + ahead < segmentKeys.count { rows.prefetch(segmentKeys[i + ahead]) }
      segmentKeys[i] = UInt64(rows.index(of: segmentKeys[i], counting: segmentRows[i] & Self.botRow == 0 ? human : bot))
    }
    for i in segmentKeys.indices where segmentRows[i] & Self.botRow == 0 {
      let r = Int(segmentRows[i])
      let hash = viewers.withValue(r) { $0.isEmpty ? nil : EventKeyHash.hash($0) }
      guard let hash else { continue }
      let word = segmentKeys[i] << 38 | hash >> 26
      let place = slot << 16 | UInt32(r)
      if isView {
        viewerWords.append(word)
        viewerPlaces.append(place)
      } else {
        clickerWords.append(word)
        clickerPlaces.append(place)
      }
    }
  }

  /// The pass code of each value of a segment's `dictionary` in `pass` (made if new).
  /// With `rows` (``segmentRows`` entries), only the values their `codes` use; the others map
  /// to `.max`.
  private static func translate(
    _ dictionary: ByteColumn, codes: [UInt32], rows: [UInt32]?, into pass: ByteDictionary
  ) -> [UInt32] {
    guard let rows else {
      return [UInt32](unsafeUninitializedCapacity: dictionary.count) { map, initialized in
        if let base = map.baseAddress { dictionary.withValues { pass.code($0, into: base) } }
        initialized = dictionary.count
      }
    }
    var map = [UInt32](repeating: .max, count: dictionary.count)
    var used: [Int] = []
    for entry in rows {
      let code = Int(codes[Int(entry & ~botRow)])
      if map[code] == .max {
        map[code] = 0
        used.append(code)
      }
    }
    var passCodes = [UInt32](repeating: 0, count: used.count)
    dictionary.withValues { values in
      passCodes.withUnsafeMutableBufferPointer { out in
        if let base = out.baseAddress { pass.code(Selected(values: values, indices: used), into: base) }
      }
    }
    for (k, code) in used.enumerated() { map[code] = passCodes[k] }
    return map
  }

  /// Some of a column's values, by index.
  private struct Selected: IndexedValues {
    let values: ByteColumn.Values
    let indices: [Int]
    var count: Int { indices.count }
    @inline(__always)
    func value(_ index: Int) -> UnsafeRawBufferPointer { values.value(indices[index]) }
  }

  /// How many keys ahead the row table's slots are prefetched.
  private static let prefetchDistance = 8

  /// The bit of a ``segmentRows`` entry that marks a bot's row.
  private static let botRow: UInt32 = 1 << 31

  /// Adds to each row the number of distinct viewers among its (row, viewer) words: words are
  /// sorted, and a word that repeats is split by the viewer ids' bytes.
  private func countDistinct(_ words: inout [UInt64], _ places: inout [UInt32], _ metric: WritableKeyPath<PassRows.Distinct, UInt32>) {
    RadixSort.sort(&words, carrying: &places)
    var i = 0
    while i < words.count {
      var j = i + 1
      while j < words.count && words[j] == words[i] { j += 1 }
      let row = Int(words[i] >> 38)
      if j - i == 1 {
        rows.addDistinct(1, to: row, metric)
      } else {
        var seen: [[UInt8]] = []
        for k in i..<j {
          let place = places[k]
          let id = passViewers[Int(place >> 16)].withValue(Int(place & 0xFFFF)) { Array($0) }
          if !seen.contains(id) { seen.append(id) }
        }
        rows.addDistinct(seen.count, to: row, metric)
      }
      i = j
    }
  }

  /// Counts the day's conversions in batches: a batch's orders are attributed together (one
  /// search of the click segments), then its conversions are priced and counted.
  private func countConversions(_ start: Int64, _ end: Int64) throws {
    let perBatch = dayBatchSize
    let s = conversionsOfDay
    s.reset()
    defer { s.reset() }
    s.bind(1, start)
    s.bind(2, end)
    batch.removeAll(keepingCapacity: true)
    while try s.step() {
      eventsRead += 1
      batch.append(try ConversionRow(s))
      if batch.count >= perBatch { try countBatch() }
    }
    try countBatch()
  }

  /// Conversions per batch for the day's `[start, end)`: the day in the whole number of
  /// batches nearest to `conversionsPerBatch` each, so up to 1.5 times that in one batch. A
  /// batch reads the click segments that hold its candidates, which are spread over the whole
  /// window: a day of 21,000 conversions cut into 20,000 and 1,000 read them twice.
  private func batchSize(_ start: Int64, _ end: Int64) throws(DatabaseError) -> Int {
    let s = conversionsInDay
    s.reset()
    defer { s.reset() }
    s.bind(1, start)
    s.bind(2, end)
    return Self.batchSize(conversions: try s.step() ? Int(s.int(0)) : 0, perBatch: conversionsPerBatch)
  }

  /// `conversions` cut into the whole number of batches nearest to `perBatch` each (at least
  /// one): the size of those batches.
  static func batchSize(conversions: Int, perBatch: Int) -> Int {
    let batches = max(1, (2 * conversions + perBatch) / (2 * perBatch))
    return max(1, (conversions + batches - 1) / batches)
  }

  private func countBatch() throws {
    guard !batch.isEmpty else { return }
    let started = clock.cpuNow()
    let orders = try attribution.resolve(batch)
    attributing += clock.cpuNow() - started
    for (index, c) in batch.enumerated() { try count(c, order: orders[index]) }
    batch.removeAll(keepingCapacity: true)
    if orderBytes.count >= orderRunBytes { try spoolOrders() }
  }

  /// `rate` as `orders.commission_rate` records it.
  private func text(of rate: ExactDecimal) -> String {
    if let known = rateTexts[rate] { return known }
    let text = "\(rate)"
    rateTexts[rate] = text
    return text
  }

  /// Prices and counts conversion `c`, whose order's kept copy and attribution are `order`.
  private func count(_ c: ConversionRow, order: Attribution.Attributed?) throws {
    guard let amount = ExactDecimal(c.amount),
      let cents = money.revenueCents(amount: amount, currency: c.currency)
    else {
      // A currency dropped from the FX table since ingest: the row cannot be priced.
      if money.configuration.fxUSDPerUnit[c.currency] != nil {
        leftOut.append(
          "\(calendar.text(ofDay: currentDay)) order \(c.orderID) (event \(c.eventID)): its revenue does not fit in 64-bit cents")
      }
      return
    }
    let rate = money.rate(platform: c.platform, store: c.store, productID: c.productID)
    let commission = rate.roundedProduct(of: cents) ?? 0
    let who: Attribution.Result
    let index: Int
    if c.refunded {
      who = order?.result ?? .none
      guard let found = rowIndex(of: who, platform: c.platform, store: c.store, productID: c.productID) else { return }
      index = found
      guard rows.updateSales(index, { $0.add(refundedCents: cents, reversedCommissionCents: commission) }) else {
        leftOut.append(
          "\(calendar.text(ofDay: currentDay)) refund of order \(c.orderID) (event \(c.eventID)), product \(c.productID): its row's refunded sum would pass 2^63-1 cents"
        )
        return
      }
    } else {
      // Only the canonical copy of a retried order counts.
      guard let order, order.canonicalEventID == c.eventID,
        let found = rowIndex(of: order.result, platform: c.platform, store: c.store, productID: c.productID)
      else { return }
      who = order.result
      index = found
      guard rows.updateSales(index, { $0.add(units: c.quantity, revenueCents: cents, commissionCents: commission) }) else {
        leftOut.append(
          "\(calendar.text(ofDay: currentDay)) order \(c.orderID) (event \(c.eventID)), product \(c.productID): its row's revenue sum would pass 2^63-1 cents"
        )
        return
      }
    }
    if c.refunded { refundedOrders.insert(c.platform.rawValue + "\u{0}" + c.orderID) }
    // The `orders` row, with the order as it was sent (CONTRACT §7).
    OrderRow(
      eventID: c.eventID, refund: c.refunded, platform: c.platform.rawValue, store: c.store, orderID: c.orderID,
      productID: c.productID, quantity: c.quantity, revenueCents: c.refunded ? 0 : cents,
      commissionCents: c.refunded ? 0 : commission, refundedCents: c.refunded ? cents : 0,
      reversedCommissionCents: c.refunded ? commission : 0, attribution: who, ts: c.ts, currency: c.currency, amount: c.amount,
      fxUSDPerUnit: fxTexts[c.currency] ?? "", commissionRate: text(of: rate)
    ).encode(into: &orderBytes)
    output.orders += 1
  }
}
