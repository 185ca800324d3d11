/// Creators' payout balances, month by month (the Amazon Associates habit).
///
/// For each creator and calendar month: the opening balance is the previous month's closing
/// balance (0 before the creator's first month); the month's net earnings are its commission
/// minus reversed commission; if opening + net reaches the payout threshold, all of it is
/// payable and the month closes at 0; otherwise nothing is payable and the balance, negative
/// after a refund clawback too, is carried to the next month. The ledger is worked out from the
/// whole of `daily_metrics` up to the report's last day, so the same database always gives the
/// same balances, whatever period is reported.
struct PayoutLedger: Sendable {
  /// One creator's month.
  struct Month: Sendable, Equatable {
    var month: String  // YYYY-MM
    var openingCents: Int64
    var netCents: Int64
    var payableCents: Int64
    var closingCents: Int64
  }

  let thresholdCents: Int64

  /// Runs the ledger over `net` (month → net cents, any order of months; months without an
  /// entry count 0) up to `lastMonth`, and returns the months from `firstMonth` on.
  func months(net: [(month: String, cents: Int64)], firstMonth: String, lastMonth: String) -> [Month] {
    var byMonth: [String: Int64] = [:]
    for entry in net { byMonth[entry.month, default: 0] += entry.cents }
    guard let start = byMonth.keys.min() else {
      return Self.monthRange(firstMonth, lastMonth).map { Month(month: $0, openingCents: 0, netCents: 0, payableCents: 0, closingCents: 0) }
    }
    var result: [Month] = []
    var balance: Int64 = 0
    for month in Self.monthRange(min(start, firstMonth), lastMonth) {
      let net = byMonth[month] ?? 0
      let opening = balance
      let total = opening &+ net
      let payable = total >= thresholdCents && total > 0 ? total : 0
      balance = total - payable
      if month >= firstMonth {
        result.append(Month(month: month, openingCents: opening, netCents: net, payableCents: payable, closingCents: balance))
      }
    }
    return result
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
