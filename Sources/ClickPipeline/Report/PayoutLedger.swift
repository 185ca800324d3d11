/// Creators' payout balances, month by month (the Amazon Associates habit), with months that
/// finance has closed.
///
/// For each creator and calendar month: the opening balance is the previous month's closing
/// balance (0 before the creator's first month); the month's net earnings are its commission
/// minus reversed commission; if opening + net (+ adjustments) reaches the payout threshold,
/// all of it is payable and the month closes at 0; otherwise nothing is payable and the
/// balance, negative after a refund clawback too, is carried to the next month.
///
/// A **closed** month (`report --close-month`, ``MonthCloser``) is read from the database as
/// it was closed, and never changes. Whatever changes later in a closed month's figures (a
/// late order, a refund dated in it, a rate change) is an **adjustment** in the first open
/// month, naming the closed month and its orders. Open months are worked out from
/// `daily_metrics` up to the report's last day, so the same database always gives the same
/// balances, whatever period is reported; their payable amount is what the month would pay if
/// it were closed with today's figures.
struct PayoutLedger: Sendable {
  /// One creator's month.
  struct Month: Sendable, Equatable {
    var month: String  // YYYY-MM
    var openingCents: Int64
    var netCents: Int64
    /// Differences found in closed months, counted in this month (the first open month, or
    /// a closed month that was the first open one when it was closed).
    var adjustments: [Adjustment] = []
    var payableCents: Int64
    var closingCents: Int64
    /// When the month was closed (`YYYY-MM-DDTHH:MM:SSZ`); `nil`: open.
    var closedAt: String? = nil

    var adjustmentCents: Int64 { adjustments.reduce(0) { $0 + $1.cents } }
  }

  /// A difference between a closed month's net earnings as closed (plus the adjustments
  /// already counted for it) and as they are now.
  struct Adjustment: Sendable, Equatable {
    var sourceMonth: String
    var cents: Int64
    /// The orders whose figures differ (order ids), as the statement names them.
    var orders: String
  }

  /// One creator's closed months, as stored.
  struct ClosedHistory: Sendable {
    /// Stored rows by month (a creator without a row had nothing at the close).
    var rows: [String: Month] = [:]
    /// Net earnings per closed month counted so far: as closed, plus adjustments since.
    var accounted: [String: Int64] = [:]
  }

  /// The months closed in the database, and when: the same for every creator.
  struct Closing: Sendable {
    var closedAt: [String: String] = [:]
    /// The last closed month (closing goes in order, so every month before it is closed).
    var lastClosed: String? { closedAt.keys.max() }
    /// When the first closed month was closed.
    var firstClosedAt: String? { closedAt.keys.min().flatMap { closedAt[$0] } }
  }

  let thresholdCents: Int64
  var closing = Closing()

  init(thresholdCents: Int64, closing: Closing = Closing()) {
    self.thresholdCents = thresholdCents
    self.closing = closing
  }

  /// Runs the ledger over `net` (month → net cents now, any order of months; months without
  /// an entry count 0) up to `lastMonth`, and returns the months from `firstMonth` on.
  /// `history` holds the creator's closed months; `orders(month)` names the orders behind an
  /// adjustment for a closed month.
  func months(
    net: [(month: String, cents: Int64)], firstMonth: String, lastMonth: String, history: ClosedHistory = ClosedHistory(),
    orders: (String) throws -> String = { _ in "" }
  ) rethrows -> [Month] {
    var byMonth: [String: Int64] = [:]
    for entry in net { byMonth[entry.month, default: 0] += entry.cents }
    let lastClosed = closing.lastClosed
    // From the earliest month anything is known of: now, as closed, or as accounted (an
    // order that arrived for a closed month after it closed is accounted to it, and a later
    // change to it must still be found).
    let starts = [byMonth.keys.min(), history.rows.keys.min(), history.accounted.keys.min(), firstMonth].compactMap { $0 }
    var result: [Month] = []
    var balance: Int64 = 0
    var firstOpen = true
    for month in Self.monthRange(starts.min()!, lastMonth) {
      let entry: Month
      if let lastClosed, month <= lastClosed {
        // As closed; a creator without a row had nothing then.
        // A month before the first closed one (its data came after the ledger began) counts
        // as closed with the first: what it brings is an adjustment, like any closed month's.
        entry =
          history.rows[month]
          ?? Month(
            month: month, openingCents: 0, netCents: 0, payableCents: 0, closingCents: 0,
            closedAt: closing.closedAt[month] ?? closing.firstClosedAt)
      } else {
        var adjustments: [Adjustment] = []
        if firstOpen, let lastClosed {
          for source in Self.monthRange(starts.min()!, lastClosed) {
            let difference = (byMonth[source] ?? 0) &- (history.accounted[source] ?? 0)
            if difference != 0 { adjustments.append(Adjustment(sourceMonth: source, cents: difference, orders: try orders(source))) }
          }
        }
        firstOpen = false
        entry = settle(month: month, opening: balance, net: byMonth[month] ?? 0, adjustments: adjustments)
      }
      balance = entry.closingCents
      if month >= firstMonth { result.append(entry) }
    }
    return result
  }

  /// A month's row: payable in full at or above the threshold, else carried.
  func settle(month: String, opening: Int64, net: Int64, adjustments: [Adjustment], closedAt: String? = nil) -> Month {
    let total = opening &+ net &+ adjustments.reduce(0) { $0 &+ $1.cents }
    let payable = total >= thresholdCents && total > 0 ? total : 0
    return Month(
      month: month, openingCents: opening, netCents: net, adjustments: adjustments, payableCents: payable,
      closingCents: total - payable, closedAt: closedAt)
  }

  /// `YYYY-MM` months from `first` to `last`, inclusive.
  static func monthRange(_ first: String, _ last: String) -> [String] {
    guard var (year, month) = parse(first), let end = parse(last) else { return [] }
    var result: [String] = []
    while (year, month) <= end {
      result.append(format(year, month))
      month += 1
      if month == 13 { (year, month) = (year + 1, 1) }
    }
    return result
  }

  /// The month after `month`.
  static func next(_ month: String) -> String {
    guard let (year, m) = parse(month) else { return month }
    return m == 12 ? format(year + 1, 1) : format(year, m + 1)
  }

  private static func parse(_ text: String) -> (Int, Int)? {
    let parts = text.split(separator: "-")
    guard parts.count == 2, let year = Int(parts[0]), let month = Int(parts[1]) else { return nil }
    return (year, month)
  }

  private static func format(_ year: Int, _ month: Int) -> String {
    let y = String(year)
    return String(repeating: "0", count: max(0, 4 - y.count)) + y + (month < 10 ? "-0" : "-") + String(month)
  }
}
