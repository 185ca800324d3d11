/// Renders `creators/<creator_id>.md`: one creator's earnings statement for the period.
struct StatementRenderer: Sendable {
  let from: String
  let to: String
  /// The rates, windows and catalog the figures were computed with.
  let money: MoneyRules
  let thresholdCents: Int64

  var catalog: ProductCatalog { money.catalog }

  /// The payout status of a creator's last month, for `creator_earnings.csv`: `payable` or
  /// `carried_over` for a closed month, `open (not closed)` for an open one, with the amount
  /// still missing to reach the threshold (0 when payable).
  static func payoutStatus(_ months: [PayoutLedger.Month], threshold: Int64) -> (status: String, missing: Int64) {
    guard let last = months.last else { return ("open (not closed)", threshold) }
    let missing = last.payableCents > 0 ? 0 : threshold - last.closingCents
    guard last.closedAt != nil else { return ("open (not closed)", missing) }
    return (last.payableCents > 0 ? "payable" : "carried_over", missing)
  }

  /// One creator's figures for the period, as read by ``ReportScan``.
  struct CreatorFigures: Sendable {
    var creatorID: String
    var totals = MetricsRow()
    var days: [(day: String, totals: MetricsRow)] = []
    var products: [(platform: String, store: String, productID: String, totals: MetricsRow)] = []
    /// The payout ledger's months of the period (``PayoutLedger``).
    var months: [PayoutLedger.Month] = []
    /// Earnings per post (and bio), from `orders`.
    var posts: [Post] = []
  }

  /// A creator's orders and refunds credited through one post, or through the bio link.
  struct Post: Sendable, Equatable {
    var placement: String
    var postID: String
    var orders: Int64
    var revenueCents: Int64
    var commissionCents: Int64
    var reversedCommissionCents: Int64
  }

  /// `closed YYYY-MM-DD` or `open (not closed)`.
  static func status(_ month: PayoutLedger.Month) -> String {
    month.closedAt.map { "closed \($0.prefix(10))" } ?? "open (not closed)"
  }

  func render(_ figures: CreatorFigures) -> String {
    let t = figures.totals
    let creatorID = figures.creatorID
    var out = "# Earnings statement: creator \(Markdown.code(creatorID))\n\n"
    out += "Period: \(from) to \(to). All amounts in US dollars.\n\n"
    out += "## Summary\n\n"
    out += Markdown.table(
      ["Orders", "Units", "Revenue", "Commission", "Refunds", "Refunded", "Reversed commission", "Net earnings"],
      [
        [
          Markdown.count(t.orders), Markdown.count(t.units), Markdown.usd(t.revenueCents), Markdown.usd(t.commissionCents),
          Markdown.count(t.refunds), Markdown.usd(t.refundedCents), Markdown.usd(t.reversedCommissionCents),
          Markdown.usd(t.netCommissionCents),
        ]
      ], alignRight: Set(0..<8))

    out += "\n## Payout\n\n"
    out +=
      "Payouts are worked out per calendar month: each month's net earnings are added to the balance carried from earlier months. At or above the payout threshold of \(Markdown.usd(thresholdCents)) the whole balance is payable; below it, the balance is carried to the next month. "
    out +=
      "A closed month never changes: a late order or refund in it, or a rate change, is an adjustment in the first open month. An open month's figures can still change.\n\n"
    out += Markdown.table(
      ["Month", "Status", "Opening balance", "Net earnings", "Adjustments", "Payable (open: if closed now)", "Carried to next month"],
      figures.months.map { m in
        [
          m.month, Self.status(m), Markdown.usd(m.openingCents), Markdown.usd(m.netCents), Markdown.usd(m.adjustmentCents),
          Markdown.usd(m.payableCents), Markdown.usd(m.closingCents),
        ]
      }, alignRight: Set(2..<7))
    for m in figures.months where !m.adjustments.isEmpty {
      out += "\nAdjustments counted in \(m.month):\n\n"
      for a in m.adjustments {
        out +=
          "- \(a.sourceMonth) (closed): \(a.cents > 0 ? "+" : "")\(Markdown.usd(a.cents))"
          + (a.orders.isEmpty ? "" : ", orders \(Markdown.escape(a.orders))") + "\n"
      }
    }
    if let last = figures.months.last {
      let missing = Markdown.usd(thresholdCents - last.closingCents)
      switch (last.closedAt != nil, last.payableCents > 0) {
      case (true, true): out += "\n**\(last.month) (closed): payable \(Markdown.usd(last.payableCents)).**\n"
      case (true, false):
        out +=
          "\n**\(last.month) (closed): below the payout threshold; \(Markdown.usd(last.closingCents)) is carried to next month** (\(missing) more is needed).\n"
      case (false, true):
        out +=
          "\n**\(last.month) is open (not closed): with today's figures, \(Markdown.usd(last.payableCents)) would be payable once it is closed.**\n"
      case (false, false):
        out +=
          "\n**\(last.month) is open (not closed): with today's figures, \(Markdown.usd(last.closingCents)) would be carried to next month** (\(missing) more is needed).\n"
      }
    }

    out += "\n## By day\n\n"
    out += Markdown.table(
      ["Day", "Views", "Clicks", "Orders", "Revenue", "Commission", "Reversed commission", "Net"],
      figures.days.map { day, v in
        [
          day, Markdown.count(v.views), Markdown.count(v.clicks), Markdown.count(v.orders), Markdown.usd(v.revenueCents),
          Markdown.usd(v.commissionCents), Markdown.usd(v.reversedCommissionCents), Markdown.usd(v.netCommissionCents),
        ]
      }, alignRight: Set(1..<8))

    out += "\n## By product\n\n"
    out += Markdown.table(
      ["Product", "Title", "Platform", "Store", "Clicks", "Orders", "Units", "Revenue", "Commission", "Refunds", "Reversed", "Net"],
      figures.products.map { platform, store, productID, v in
        let title = catalog.product(platform: platform, store: store, productID: productID)?.title ?? ""
        return [
          Markdown.code(productID), title.isEmpty ? "—" : Markdown.escape(title), Markdown.escape(platform), Markdown.code(store),
          Markdown.count(v.clicks), Markdown.count(v.orders), Markdown.count(v.units), Markdown.usd(v.revenueCents),
          Markdown.usd(v.commissionCents), Markdown.count(v.refunds), Markdown.usd(v.reversedCommissionCents),
          Markdown.usd(v.netCommissionCents),
        ]
      }, alignRight: Set(4..<12))
    if t.refunds > 0 {
      out += "\nRefunds reverse the commission of the refunded amount; the net column is commission minus reversed commission.\n"
    }
    if !figures.posts.isEmpty {
      out += "\n## By post\n\n"
      out += Markdown.table(
        ["Link", "Orders", "Revenue", "Commission", "Reversed", "Net"],
        figures.posts.map { p in
          [
            p.postID.isEmpty ? Markdown.escape(p.placement.isEmpty ? "(unknown)" : p.placement) : "post " + Markdown.code(p.postID),
            Markdown.count(p.orders), Markdown.usd(p.revenueCents), Markdown.usd(p.commissionCents),
            Markdown.usd(p.reversedCommissionCents), Markdown.usd(p.commissionCents - p.reversedCommissionCents),
          ]
        }, alignRight: Set(1..<6))
    }
    out += explanation(figures)
    if t.orders + t.refunds > 0 {
      out +=
        "\nEach order and refund, with the click and rule that credited it, is a row of `orders.csv` with creator\\_id \(Markdown.code(creatorID)).\n"
    }
    return out
  }

  /// What the columns mean, the rates applied to this creator's products, and how clicks
  /// are counted, in the configured windows.
  private func explanation(_ figures: CreatorFigures) -> String {
    let c = money.configuration
    var out = "\n## How these figures are made\n\n"
    out += "**Revenue** is what shoppers spent on the orders your links brought, in US dollars. **Commission** is your share of it, "
    out +=
      "at the rates below; a refund reverses the commission of the refunded amount (**reversed**), and **net earnings** are commission minus reversed commission.\n\n"
    out +=
      "**How clicks count.** Views and clicks from bots (user agents of crawlers and scripts) are not counted, and an event sent twice counts once. "
    out += "An order is yours when it names a click on your link, or else when the same viewer clicked your link to the same product "
    out +=
      "within \(c.amazonWindowHours) hours (Amazon) or \(c.brandStoreWindowHours) hours (brand stores) before ordering; the latest such click wins.\n"
    // The rate of each of the creator's products: by brand store, Amazon category, or default.
    var rates: [String: [String]] = [:]
    for product in figures.products {
      // A row without a platform (views of a bio without a product) has no orders to rate.
      guard let platform = Platform(product.platform) else { continue }
      let rate = money.rate(platform: platform, store: product.store, productID: product.productID)
      let basis: String
      switch platform {
      case .brandStore:
        basis = c.brandStoreRates[product.store] != nil ? "brand store " + Markdown.code(product.store) : "brand stores (default)"
      case .amazon:
        let category = catalog.product(platform: product.platform, store: product.store, productID: product.productID)?.category ?? ""
        basis = c.amazonCategoryRates[category] != nil ? "Amazon, category " + Markdown.escape(category) : "Amazon (default)"
      }
      rates[basis] = [basis, Self.percent(rate)]
    }
    guard !rates.isEmpty else { return out }
    out += "\n"
    out += Markdown.table(
      ["Commission rate for", "Rate"], rates.keys.sorted().map { rates[$0]! }, alignRight: [1])
    return out
  }

  /// A rate as an exact percentage: `0.045` is `4.5%`.
  static func percent(_ rate: ExactDecimal) -> String {
    let text = "\(rate)"
    let negative = text.hasPrefix("-")
    let digits = negative ? String(text.dropFirst()) : text
    let parts = digits.split(separator: ".", omittingEmptySubsequences: false)
    var whole = String(parts[0])
    var fraction = parts.count > 1 ? String(parts[1]) : ""
    // Move the decimal point two places to the right.
    for _ in 0..<2 {
      whole += fraction.isEmpty ? "0" : String(fraction.removeFirst())
    }
    whole = String(whole.drop { $0 == "0" })
    if whole.isEmpty { whole = "0" }
    return (negative ? "-" : "") + whole + (fraction.isEmpty ? "" : "." + fraction) + "%"
  }
}
