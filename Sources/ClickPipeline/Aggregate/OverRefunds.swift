/// Orders refunded past their own amount (issue 20): the refunds of an order add up to more
/// than its kept ordered copy. Aggregate keeps them in `over_refunds` for the orders its run
/// could change, names the new ones in a warning, and the summary and `report --status` count
/// them. The numbers themselves are not changed: a refund counts as sent.
///
/// Amounts are compared exactly in the order's currency when every refund is in it, else in
/// US cents through the FX table (each conversion rounded as aggregate rounds it).
struct OverRefunds {
  let db: SQLiteDatabase
  let money: MoneyRules
  private let copies: Statement

  /// One flagged order, as `over_refunds` holds it.
  struct Entry: Equatable, Sendable {
    var platform: String
    var orderID: String
    var ordered: String
    var refunded: String

    var description: String {
      "order \(orderID) (\(platform)) is refunded past its amount: refunds \(refunded) against \(ordered) ordered"
    }
  }

  /// An order with a refund counted on a recomputed day, and whether it is refunded past its
  /// amount (`entry`): worked out by the worker that computed the day, so the writer only
  /// writes.
  struct Check: Sendable {
    var platform: String
    var orderID: String
    var entry: Entry?
  }

  /// `db`: any connection that reads `conversions` (a worker's, or the writer's).
  init(db: SQLiteDatabase, money: MoneyRules) throws(DatabaseError) {
    self.db = db
    self.money = money
    copies = try db.prepare(
      """
      SELECT amount, currency, refunded, ts, event_id FROM conversions
      WHERE order_key = ? AND platform = ? AND order_id = ?
      """)
  }

  /// Whether the order (platform, order id) is refunded past its kept ordered copy, from all
  /// of its conversions.
  func check(platform: String, orderID: String) throws(DatabaseError) -> Check {
    copies.reset()
    defer { copies.reset() }
    copies.bind(1, ConversionKeys.order(platform: platform, orderID: orderID))
    copies.bind(2, platform)
    copies.bind(3, orderID)
    var kept: (ts: Int64, eventID: String, amount: String, currency: String)?
    var refunds = RefundSums()
    while try copies.step() {
      let copy = (ts: copies.int(3), eventID: copies.text(4), amount: copies.text(0), currency: copies.text(1))
      if copies.int(2) != 0 {
        refunds.add(copy.amount, copy.currency, money)
      } else if kept.map({ copy.ts < $0.ts || (copy.ts == $0.ts && copy.eventID.utf8.lexicographicallyPrecedes($0.eventID.utf8)) })
        ?? true
      {
        kept = copy
      }
    }
    let entry = kept.flatMap { compare(platform, orderID, ordered: ($0.amount, $0.currency), refunds: refunds) }
    return Check(platform: platform, orderID: orderID, entry: entry)
  }

  /// Brings `over_refunds` up to date from `checked` (the orders with a refund on a recomputed
  /// day, in day order) and for the orders flagged before, checked again here; returns the
  /// orders flagged now that were not before.
  func update(checked: [Check]) throws(DatabaseError) -> [Entry] {
    var previous: [(platform: String, orderID: String)] = []
    var wasFlagged = Set<String>()
    for row in try db.rows("SELECT platform, order_id FROM over_refunds") {
      previous.append((row[0].textValue, row[1].textValue))
      wasFlagged.insert(row[0].textValue + "\u{0}" + row[1].textValue)
    }
    var seen = Set<String>()
    var all: [Check] = []
    for check in checked where seen.insert(check.platform + "\u{0}" + check.orderID).inserted { all.append(check) }
    for (platform, orderID) in previous where seen.insert(platform + "\u{0}" + orderID).inserted {
      all.append(try check(platform: platform, orderID: orderID))
    }
    let delete = try db.prepare("DELETE FROM over_refunds WHERE platform = ? AND order_id = ?")
    let insert = try db.prepare(
      "INSERT OR REPLACE INTO over_refunds(platform, order_id, ordered, refunded) VALUES (?, ?, ?, ?)")
    var flagged: [Entry] = []
    for check in all {
      let key = check.platform + "\u{0}" + check.orderID
      if let entry = check.entry {
        try insert.run([.text(check.platform), .text(check.orderID), .text(entry.ordered), .text(entry.refunded)])
        if !wasFlagged.contains(key) { flagged.append(entry) }
      } else if wasFlagged.contains(key) {
        try delete.run([.text(check.platform), .text(check.orderID)])
      }
    }
    return flagged
  }

  /// `110.50 EUR`: at least two decimals, as amounts are written.
  private static func text(_ amount: ExactDecimal, _ currency: String) -> String {
    var digits = "\(amount)"
    let decimals = amount.scale
    if decimals == 0 { digits += ".00" } else if decimals == 1 { digits += "0" }
    return digits + " " + currency
  }

  /// An order's refunds summed as they are read: exactly per currency, and in US cents
  /// (`nil` once one cannot be priced or the sum overflows).
  private struct RefundSums {
    var byCurrency: [String: ExactDecimal] = [:]
    var cents: Int64? = 0
    var exact = true

    mutating func add(_ amount: String, _ currency: String, _ money: MoneyRules) {
      guard let value = ExactDecimal(amount) else {
        exact = false
        cents = nil
        return
      }
      if let sum = (byCurrency[currency] ?? .zero).adding(value) { byCurrency[currency] = sum } else { exact = false }
      if let total = cents, let more = money.revenueCents(amount: value, currency: currency) {
        let (sum, overflow) = total.addingReportingOverflow(more)
        cents = overflow ? nil : sum
      } else {
        cents = nil
      }
    }
  }

  /// The entry if the refunds pass the ordered amount; `nil` if not, or if they cannot be
  /// compared (an amount or currency the FX table no longer prices).
  private func compare(
    _ platform: String, _ orderID: String, ordered: (amount: String, currency: String), refunds: RefundSums
  ) -> Entry? {
    guard !refunds.byCurrency.isEmpty, let orderedAmount = ExactDecimal(ordered.amount) else { return nil }
    if refunds.exact, refunds.byCurrency.count == 1, let total = refunds.byCurrency[ordered.currency] {
      guard orderedAmount < total else { return nil }
      return Entry(
        platform: platform, orderID: orderID, ordered: Self.text(orderedAmount, ordered.currency),
        refunded: Self.text(total, ordered.currency))
    }
    guard let orderedCents = money.revenueCents(amount: orderedAmount, currency: ordered.currency),
      let totalCents = refunds.cents, orderedCents < totalCents
    else { return nil }
    return Entry(
      platform: platform, orderID: orderID, ordered: Markdown.usd(orderedCents), refunded: Markdown.usd(totalCents))
  }
}
