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

  /// One flagged order, as `over_refunds` holds it.
  struct Entry: Equatable {
    var platform: String
    var orderID: String
    var ordered: String
    var refunded: String

    var description: String {
      "order \(orderID) (\(platform)) is refunded past its amount: refunds \(refunded) against \(ordered) ordered"
    }
  }

  /// Brings `over_refunds` up to date for the orders with a refund on one of `days` (local day
  /// texts, already written to `orders`) and for those flagged before; returns the orders
  /// flagged now that were not before.
  func update(days: [String]) throws(DatabaseError) -> [Entry] {
    var candidates: [(platform: String, orderID: String)] = []
    var seen = Set<String>()
    func add(_ platform: String, _ orderID: String) {
      if seen.insert(platform + "\u{0}" + orderID).inserted { candidates.append((platform, orderID)) }
    }
    var previous = Set<String>()
    for row in try db.rows("SELECT platform, order_id FROM over_refunds") {
      previous.insert(row[0].textValue + "\u{0}" + row[1].textValue)
      add(row[0].textValue, row[1].textValue)
    }
    let refundsOfDay = try db.prepare("SELECT DISTINCT platform, order_id FROM orders WHERE day = ? AND kind = 'refund'")
    for day in days {
      refundsOfDay.reset()
      refundsOfDay.bind(1, day)
      while try refundsOfDay.step() { add(refundsOfDay.text(0), refundsOfDay.text(1)) }
    }
    refundsOfDay.reset()
    let copies = try db.prepare(
      """
      SELECT amount, currency, refunded, ts, event_id FROM conversions
      WHERE order_key = ? AND platform = ? AND order_id = ?
      """)
    let delete = try db.prepare("DELETE FROM over_refunds WHERE platform = ? AND order_id = ?")
    let insert = try db.prepare(
      "INSERT OR REPLACE INTO over_refunds(platform, order_id, ordered, refunded) VALUES (?, ?, ?, ?)")
    var flagged: [Entry] = []
    for (platform, orderID) in candidates {
      copies.reset()
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
      copies.reset()
      if let kept, let entry = compare(platform, orderID, ordered: (kept.amount, kept.currency), refunds: refunds) {
        try insert.run([.text(platform), .text(orderID), .text(entry.ordered), .text(entry.refunded)])
        if !previous.contains(platform + "\u{0}" + orderID) { flagged.append(entry) }
      } else {
        try delete.run([.text(platform), .text(orderID)])
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
