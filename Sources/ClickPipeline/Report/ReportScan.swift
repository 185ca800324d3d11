#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Everything the report shows, from one scan of `daily_metrics` in (creator, day) order:
/// each creator's statement figures (handed on one creator at a time) and the summary's groups
/// and top lists.
///
/// The scan reads every row up to the period's last day. Rows before the period feed only the
/// payout ledger's monthly net (a balance is carried from a creator's first month); rows in the
/// period feed the statements and the summary. Text becomes a `String` only when it changes
/// (a creator, a day, a month) or is seen for the first time (a listing, a placement): row by
/// row, the scan compares bytes and adds integers. SQLite's sorter spills to disk, so memory
/// follows one creator's rows plus the distinct listings of the period, not the table.
struct ReportScan {
  let db: SQLiteDatabase
  /// The period, `YYYY-MM-DD`, inclusive.
  let from: String
  let to: String
  let ledger: PayoutLedger
  /// The closed months' rows, when some month is closed.
  var ledgerStore: LedgerStore?
  /// How many creators and products the summary's top lists show.
  var topCount = 10

  /// The summary's groups, each in byte order of its key, and its top lists.
  struct Summary {
    /// `daily_metrics` rows in the period.
    var periodRows = 0
    var total = MetricsRow()
    /// Rows without a creator that carry orders or refunds.
    var unattributed = MetricsRow()
    var byDay: [(day: String, totals: MetricsRow)] = []
    /// By platform (`""`: rows without a product).
    var byPlatform: [(platform: String, totals: MetricsRow)] = []
    /// brand_store rows by store.
    var byStore: [(store: String, totals: MetricsRow)] = []
    var byPlacement: [(placement: String, totals: MetricsRow)] = []
    /// Highest net commission first; ties in creator-id byte order.
    var topCreators: [(creatorID: String, totals: MetricsRow)] = []
    /// Highest revenue first; ties in (platform, store, product) byte order.
    var topProducts: [(listing: Listing, totals: MetricsRow)] = []
    /// The payout ledger's months of the period, over every creator.
    var payouts: [Payouts] = []
  }

  /// One month of the payout ledger, over every creator with a statement.
  struct Payouts: Equatable {
    var month: String
    /// When the month was closed; `nil`: open.
    var closedAt: String?
    var payableCents: Int64 = 0
    /// Creators whose balance reached the threshold in the month.
    var creatorsPaid = 0
    /// Balances below the threshold carried to the next month, and their creators.
    var carriedCents: Int64 = 0
    var creatorsCarried = 0
    /// Negative balances (refunds clawed back after a payout) carried to the next month.
    var owedBackCents: Int64 = 0
    var creatorsOwing = 0
  }

  /// A (platform, store, product) of `daily_metrics`.
  struct Listing {
    var platform: String
    var store: String
    var productID: String
    /// The three joined by NUL: byte order of this is the order of the tuple.
    var sortKey: [UInt8]

    /// Whether `self` comes before `other` in (platform, store, product) byte order.
    func precedes(_ other: Listing) -> Bool {
      sortKey.withUnsafeBytes { a in other.sortKey.withUnsafeBytes { b in ByteKeyBuilder.compare(a, b) < 0 } }
    }
  }

  /// Every creator's orders per post in the period, in creator-id byte order: walked beside
  /// the creators of `daily_metrics` (one query instead of one per creator, each of whose
  /// `orders_by_creator` entries cost a search of `orders`' primary key). `+creator_id` keeps
  /// SQLite on the day range: the partial index would save the sort but search the table
  /// once per order. With one creator (`?1`), the index finds its orders.
  static func postsSQL(only: Bool) -> String {
    """
    SELECT creator_id, placement, post_id, sum(kind = 'ordered'), sum(revenue_cents), sum(commission_cents),
      sum(reversed_commission_cents)
    FROM orders WHERE \(only ? "creator_id = ?1 AND creator_id <> ''" : "+creator_id <> ''") AND day >= ?2 AND day <= ?3
    GROUP BY creator_id, placement, post_id ORDER BY creator_id, placement, post_id
    """
  }

  /// Reads the period, calling `body` with each creator's figures in creator-id byte order
  /// (every creator active in the period or with a balance carried into it), and returns the
  /// summary. With `only`, just that creator's rows are read, and the summary covers only them.
  func run(only: String?, _ body: (StatementRenderer.CreatorFigures) throws -> Void) throws -> Summary {
    var rows = try CreatorOrderedRows(
      db: db,
      columns: "creator_id, day, placement, platform, store, product_id, \(MetricsRow.summedColumnNames.joined(separator: ", "))",
      to: to, only: only)
    var state = ScanState(
      from: from, firstMonth: String(from.prefix(7)), lastMonth: String(to.prefix(7)), ledger: ledger, topCount: topCount)
    state.ledgerStore = ledgerStore
    if ledgerStore != nil {
      // Creators the closed months know, so that one without rows now still gets its
      // statement: its closed months as closed, and what it lost as an adjustment.
      state.ledgerCreators = try db.rows("SELECT creator_id FROM ledger_months UNION SELECT creator_id FROM ledger_orders")
        .map { Array($0[0].textValue.utf8) }.filter { only == nil || $0 == Array(only!.utf8) }
        .sorted { $0.lexicographicallyPrecedes($1) }
    }
    let posts = try db.prepare(Self.postsSQL(only: only != nil))
    if let only { posts.bind(1, only) }
    posts.bind(2, from)
    posts.bind(3, to)
    state.posts = posts
    state.postsHasRow = try posts.step()
    do {
      while let s = try rows.next() { try state.add(s, body) }
    } catch is ScanState.SumsOverflow {
      throw ReportRunner.sumsOverflow(from: from, to: to)
    }
    try state.flushCreator(body)
    try state.flushLedgerOnly(before: nil, body)
    return state.summary()
  }
}

/// The running state of one ``ReportScan``.
private struct ScanState {
  let fromBytes: [UInt8]
  let firstMonth: String
  let lastMonth: String
  let ledger: PayoutLedger
  let topCount: Int
  var ledgerStore: LedgerStore?
  /// Creators of the closed months, in byte order, and the next one not handled yet.
  var ledgerCreators: [[UInt8]] = []
  var nextLedgerCreator = 0
  /// Orders per creator and post (``ReportScan/postsSQL(only:)``), on the first row not
  /// handed to a statement yet (if `postsHasRow`).
  var posts: Statement?
  var postsHasRow = false

  // The listings and placements seen, numbered in order of first appearance.
  var listingCodes = ByteKeyTable()
  var listings: [ReportScan.Listing] = []
  var placements: [(bytes: [UInt8], text: String)] = []
  var keyBuilder = ByteKeyBuilder()

  // Whole-period groups.
  var total = MetricsRow()
  var unattributed = MetricsRow()
  var byListing: [MetricsRow] = []
  var byPlacement: [MetricsRow] = []
  var byDay: [String: MetricsRow] = [:]
  var topCreators: [(creatorID: String, totals: MetricsRow)] = []
  var payouts: [String: ReportScan.Payouts] = [:]

  // The current creator.
  var creatorBytes: [UInt8]?
  var creator = ""
  var inPeriod = false
  /// `daily_metrics` rows of the period read so far.
  var periodRows = 0
  /// Every row's commission and reversed commission up to the period's end, over every
  /// creator: the payout ledger's inputs, checked to fit in 64 bits.
  var ledgerCommissionCents: Int64 = 0
  var ledgerReversedCents: Int64 = 0

  /// A sum of the period (or of the ledger up to its end) would pass 2^63-1 cents.
  struct SumsOverflow: Error {}
  var totals = MetricsRow()
  var days: [(day: String, totals: MetricsRow)] = []
  var dayBytes: [UInt8] = []
  /// Per listing: the current creator's totals, valid where `listingSeenBy` is `creatorNumber`.
  var creatorListings: [MetricsRow] = []
  var listingSeenBy: [Int] = []
  var creatorNumber = 0
  var touched: [Int] = []
  var months: [(month: String, cents: Int64)] = []
  var monthBytes: [UInt8] = []

  init(from: String, firstMonth: String, lastMonth: String, ledger: PayoutLedger, topCount: Int) {
    fromBytes = Array(from.utf8)
    self.firstMonth = firstMonth
    self.lastMonth = lastMonth
    self.ledger = ledger
    self.topCount = topCount
  }

  mutating func add(_ s: Statement, _ body: (StatementRenderer.CreatorFigures) throws -> Void) throws {
    let creatorNow = s.bytes(0)
    if creatorBytes.map({ !Self.same($0, creatorNow) }) ?? true {
      try flushCreator(body)
      try flushLedgerOnly(before: creatorNow, body)
      creatorBytes = Array(creatorNow)
      creator = String(decoding: creatorNow, as: UTF8.self)
      creatorNumber += 1
    }
    let t = MetricsRow(summing: s, from: 6)
    // The payout ledger adds commissions from each creator's first day on: their sums over
    // every creator must fit, as the period's sums must.
    let (commission, c) = ledgerCommissionCents.addingReportingOverflow(t.commissionCents)
    let (reversed, r) = ledgerReversedCents.addingReportingOverflow(t.reversedCommissionCents)
    guard !c && !r else { throw SumsOverflow() }
    (ledgerCommissionCents, ledgerReversedCents) = (commission, reversed)
    let day = s.bytes(1)
    // The payout ledger's months: from the creator's first day on.
    if !creatorNow.isEmpty {
      let month = UnsafeRawBufferPointer(rebasing: day.prefix(7))
      if months.isEmpty || !Self.same(monthBytes, month) {
        monthBytes = Array(month)
        months.append((String(decoding: month, as: UTF8.self), 0))
      }
      months[months.count - 1].cents += t.netCommissionCents
    }
    guard fromBytes.withUnsafeBytes({ ByteKeyBuilder.compare(day, $0) >= 0 }) else { return }

    inPeriod = true
    periodRows += 1
    guard total.addChecked(t) else { throw SumsOverflow() }
    let placement = placementCode(s.bytes(2))
    byPlacement[placement].add(t)
    let listing = listingCode(s.bytes(3), s.bytes(4), s.bytes(5))
    byListing[listing].add(t)
    totals.add(t)
    if days.isEmpty || !Self.same(dayBytes, day) {
      dayBytes = Array(day)
      days.append((String(decoding: day, as: UTF8.self), MetricsRow()))
    }
    days[days.count - 1].totals.add(t)
    if creatorNow.isEmpty {
      if t.orders > 0 || t.refunds > 0 { unattributed.add(t) }
      return
    }
    if !listings[listing].productID.isEmpty {
      if creatorListings.count < listings.count {
        creatorListings += Array(repeating: MetricsRow(), count: listings.count - creatorListings.count)
        listingSeenBy += Array(repeating: 0, count: listings.count - listingSeenBy.count)
      }
      if listingSeenBy[listing] != creatorNumber {
        listingSeenBy[listing] = creatorNumber
        creatorListings[listing] = MetricsRow()
        touched.append(listing)
      }
      creatorListings[listing].add(t)
    }
  }

  /// Hands on the current creator's figures (if there is one worth a statement) and resets.
  mutating func flushCreator(_ body: (StatementRenderer.CreatorFigures) throws -> Void) throws {
    defer {
      totals = MetricsRow()
      inPeriod = false
      days.removeAll(keepingCapacity: true)
      months.removeAll(keepingCapacity: true)
      touched.removeAll(keepingCapacity: true)
    }
    guard creatorBytes != nil else { return }
    for (day, t) in days { byDay[day, default: MetricsRow()].add(t) }
    // Rows without a creator count in the summary only.
    guard !creator.isEmpty else { return }
    var figures = StatementRenderer.CreatorFigures(creatorID: creator)
    let store = ledgerStore
    let creator = self.creator
    figures.months = try ledger.months(
      net: months, firstMonth: firstMonth, lastMonth: lastMonth, history: try store?.history(of: creator) ?? .init(),
      orders: { try store?.orders(of: creator, month: $0) ?? "" })
    guard inPeriod else {
      // A balance carried into the period, or an adjustment, without activity in it.
      if figures.months.contains(where: { $0.openingCents != 0 || $0.netCents != 0 || !$0.adjustments.isEmpty }) {
        addPayouts(figures.months)
        try body(figures)
      }
      return
    }
    addPayouts(figures.months)
    figures.totals = totals
    figures.days = days
    if let posts, let creatorBytes {
      let listed = totals.orders + totals.refunds > 0
      while postsHasRow && posts.bytes(0).lexicographicallyPrecedes(creatorBytes) { postsHasRow = try posts.step() }
      while postsHasRow && posts.bytes(0).elementsEqual(creatorBytes) {
        if listed {
          figures.posts.append(
            .init(
              placement: posts.text(1), postID: posts.text(2), orders: posts.int(3), revenueCents: posts.int(4),
              commissionCents: posts.int(5), reversedCommissionCents: posts.int(6)))
        }
        postsHasRow = try posts.step()
      }
    }
    touched.sort { listings[$0].precedes(listings[$1]) }
    figures.products = touched.map { i in
      (listings[i].platform, listings[i].store, listings[i].productID, creatorListings[i])
    }
    considerTopCreator(creator, totals)
    try body(figures)
  }

  private mutating func addPayouts(_ months: [PayoutLedger.Month]) {
    for m in months {
      var entry = payouts[m.month] ?? ReportScan.Payouts(month: m.month, closedAt: m.closedAt)
      if m.payableCents > 0 {
        entry.payableCents += m.payableCents
        entry.creatorsPaid += 1
      }
      if m.closingCents > 0 {
        entry.carriedCents += m.closingCents
        entry.creatorsCarried += 1
      } else if m.closingCents < 0 {
        entry.owedBackCents += m.closingCents
        entry.creatorsOwing += 1
      }
      payouts[m.month] = entry
    }
  }

  /// Hands on the creators of the closed months that have no rows up to the period's end and
  /// come before `next` (all that are left with `nil`); a creator with rows is handled with
  /// them.
  mutating func flushLedgerOnly(before next: UnsafeRawBufferPointer?, _ body: (StatementRenderer.CreatorFigures) throws -> Void) throws {
    while nextLedgerCreator < ledgerCreators.count {
      let candidate = ledgerCreators[nextLedgerCreator]
      if let next, !candidate.lexicographicallyPrecedes(next) {
        if Self.same(candidate, next) { nextLedgerCreator += 1 }
        return
      }
      nextLedgerCreator += 1
      if let previous = creatorBytes, previous == candidate { continue }
      creatorBytes = candidate
      creator = String(decoding: candidate, as: UTF8.self)
      creatorNumber += 1
      try flushCreator(body)
    }
  }

  /// Keeps the `topCount` creators with the highest net commission. Creators arrive in id byte
  /// order, so a newcomer that ties goes after the ones already kept.
  private mutating func considerTopCreator(_ creator: String, _ t: MetricsRow) {
    let net = t.netCommissionCents
    if topCreators.count == topCount, let last = topCreators.last, net <= last.totals.netCommissionCents { return }
    let at = topCreators.firstIndex { net > $0.totals.netCommissionCents } ?? topCreators.count
    topCreators.insert((creator, t), at: at)
    if topCreators.count > topCount { topCreators.removeLast() }
  }

  private mutating func placementCode(_ bytes: UnsafeRawBufferPointer) -> Int {
    if let i = placements.firstIndex(where: { Self.same($0.bytes, bytes) }) { return i }
    placements.append((Array(bytes), String(decoding: bytes, as: UTF8.self)))
    byPlacement.append(MetricsRow())
    return placements.count - 1
  }

  private mutating func listingCode(
    _ platform: UnsafeRawBufferPointer, _ store: UnsafeRawBufferPointer, _ product: UnsafeRawBufferPointer
  ) -> Int {
    keyBuilder.reset()
    keyBuilder.append(platform)
    keyBuilder.append(store)
    keyBuilder.append(product)
    let (index, inserted) = keyBuilder.withKey { listingCodes.insert($0) }
    if inserted {
      let text = [platform, store, product].map { String(decoding: $0, as: UTF8.self) }
      listings.append(.init(platform: text[0], store: text[1], productID: text[2], sortKey: Array(text.joined(separator: "\u{0}").utf8)))
      byListing.append(MetricsRow())
    }
    return index
  }

  private static func same(_ a: [UInt8], _ b: UnsafeRawBufferPointer) -> Bool {
    a.count == b.count && a.withUnsafeBytes { a in b.count == 0 || memcmp(a.baseAddress!, b.baseAddress!, b.count) == 0 }
  }

  func summary() -> ReportScan.Summary {
    var summary = ReportScan.Summary()
    summary.periodRows = periodRows
    summary.total = total
    summary.unattributed = unattributed
    summary.byDay = Self.ordered(byDay.map { ($0.key, $0.value) })
    summary.byPlacement = Self.ordered(placements.indices.map { (placements[$0].text, byPlacement[$0]) })
    var platforms: [String: MetricsRow] = [:]
    var stores: [String: MetricsRow] = [:]
    for (i, listing) in listings.enumerated() {
      platforms[listing.platform, default: MetricsRow()].add(byListing[i])
      if listing.platform == Platform.brandStore.rawValue { stores[listing.store, default: MetricsRow()].add(byListing[i]) }
    }
    summary.byPlatform = Self.ordered(platforms.map { ($0.key, $0.value) })
    summary.byStore = Self.ordered(stores.map { ($0.key, $0.value) })
    summary.topCreators = topCreators
    summary.payouts = payouts.values.sorted { $0.month < $1.month }
    summary.topProducts = listings.indices.filter { !listings[$0].productID.isEmpty }
      .sorted { a, b in
        let (ra, rb) = (byListing[a].revenueCents, byListing[b].revenueCents)
        return ra != rb ? ra > rb : listings[a].precedes(listings[b])
      }
      .prefix(topCount)
      .map { (listings[$0], byListing[$0]) }
    return summary
  }

  /// Groups in byte order of their keys, as SQL's `ORDER BY` would give them.
  private static func ordered(_ groups: [(String, MetricsRow)]) -> [(String, MetricsRow)] {
    groups.sorted { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }
  }
}
