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

  /// The tables' header lines.
  private static let summaryHead = Markdown.tableHead(
    ["Orders", "Units", "Revenue", "Commission", "Refunds", "Refunded", "Reversed commission", "Net earnings"],
    alignRight: Set(0..<8))
  private static let payoutHead = Markdown.tableHead(
    ["Month", "Status", "Opening balance", "Net earnings", "Adjustments", "Payable (open: if closed now)", "Carried to next month"],
    alignRight: Set(2..<7))
  private static let dayHead = Markdown.tableHead(
    ["Day", "Views", "Clicks", "Orders", "Revenue", "Commission", "Reversed commission", "Net"], alignRight: Set(1..<8))
  private static let productHead = Markdown.tableHead(
    ["Product", "Title", "Platform", "Store", "Clicks", "Orders", "Units", "Revenue", "Commission", "Refunds", "Reversed", "Net"],
    alignRight: Set(4..<12))
  private static let postHead = Markdown.tableHead(
    ["Link", "Orders", "Revenue", "Commission", "Reversed", "Net"], alignRight: Set(1..<6))
  private static let rateHead = Markdown.tableHead(["Commission rate for", "Rate"], alignRight: [1])

  /// Writes the statement of `figures` into `out` (emptied first).
  func render(_ figures: CreatorFigures, into out: inout MarkdownText) {
    out.removeAll()
    let t = figures.totals
    let creatorID = figures.creatorID
    out.append("# Earnings statement: creator ")
    out.code(creatorID)
    out.append("\n\nPeriod: ")
    out.append(from)
    out.append(" to ")
    out.append(to)
    out.append(". All amounts in US dollars.\n\n## Summary\n\n")
    out.append(Self.summaryHead)
    out.beginRow()
    out.countCells(t.orders, t.units)
    out.usdCells(t.revenueCents, t.commissionCents)
    out.countCells(t.refunds)
    out.usdCells(t.refundedCents, t.reversedCommissionCents, t.netCommissionCents)
    out.endRow()

    out.append("\n## Payout\n\n")
    out.append(
      "Payouts are worked out per calendar month: each month's net earnings are added to the balance carried from earlier months. At or above the payout threshold of "
    )
    out.usd(thresholdCents)
    out.append(
      " the whole balance is payable; below it, the balance is carried to the next month. A closed month never changes: a late order or refund in it, or a rate change, is an adjustment in the first open month. An open month's figures can still change.\n\n"
    )
    out.append(Self.payoutHead)
    for m in figures.months {
      out.beginRow()
      out.cell()
      out.append(m.month)
      out.cell()
      if let closedAt = m.closedAt {
        out.append("closed ")
        out.append(String(closedAt.prefix(10)))
      } else {
        out.append("open (not closed)")
      }
      out.usdCells(m.openingCents, m.netCents, m.adjustmentCents, m.payableCents, m.closingCents)
      out.endRow()
    }
    for m in figures.months where !m.adjustments.isEmpty {
      out.append("\nAdjustments counted in ")
      out.append(m.month)
      out.append(":\n\n")
      for a in m.adjustments {
        out.append("- ")
        out.append(a.sourceMonth)
        out.append(" (closed): ")
        if a.cents > 0 { out.append("+") }
        out.usd(a.cents)
        if !a.orders.isEmpty {
          out.append(", orders ")
          out.escaped(a.orders)
        }
        out.append("\n")
      }
    }
    if let last = figures.months.last {
      out.append("\n**")
      out.append(last.month)
      switch (last.closedAt != nil, last.payableCents > 0) {
      case (true, true):
        out.append(" (closed): payable ")
        out.usd(last.payableCents)
        out.append(".**\n")
      case (true, false):
        out.append(" (closed): below the payout threshold; ")
        out.usd(last.closingCents)
        out.append(" is carried to next month** (")
        out.usd(thresholdCents - last.closingCents)
        out.append(" more is needed).\n")
      case (false, true):
        out.append(" is open (not closed): with today's figures, ")
        out.usd(last.payableCents)
        out.append(" would be payable once it is closed.**\n")
      case (false, false):
        out.append(" is open (not closed): with today's figures, ")
        out.usd(last.closingCents)
        out.append(" would be carried to next month** (")
        out.usd(thresholdCents - last.closingCents)
        out.append(" more is needed).\n")
      }
    }

    out.append("\n## By day\n\n")
    out.append(Self.dayHead)
    for (day, v) in figures.days {
      out.beginRow()
      out.cell()
      out.append(day)
      out.countCells(v.views, v.clicks, v.orders)
      out.usdCells(v.revenueCents, v.commissionCents, v.reversedCommissionCents, v.netCommissionCents)
      out.endRow()
    }

    out.append("\n## By product\n\n")
    out.append(Self.productHead)
    for (platform, store, productID, v) in figures.products {
      let title = catalog.product(platform: platform, store: store, productID: productID)?.title ?? ""
      out.beginRow()
      out.cell()
      out.code(productID)
      out.cell()
      if title.isEmpty { out.append("—") } else { out.escaped(title) }
      out.cell()
      out.escaped(platform)
      out.cell()
      out.code(store)
      out.countCells(v.clicks, v.orders, v.units)
      out.usdCells(v.revenueCents, v.commissionCents)
      out.countCells(v.refunds)
      out.usdCells(v.reversedCommissionCents, v.netCommissionCents)
      out.endRow()
    }
    if t.refunds > 0 {
      out.append("\nRefunds reverse the commission of the refunded amount; the net column is commission minus reversed commission.\n")
    }
    if !figures.posts.isEmpty {
      out.append("\n## By post\n\n")
      out.append(Self.postHead)
      for p in figures.posts {
        out.beginRow()
        out.cell()
        if p.postID.isEmpty {
          out.escaped(p.placement.isEmpty ? "(unknown)" : p.placement)
        } else {
          out.append("post ")
          out.code(p.postID)
        }
        out.countCells(p.orders)
        out.usdCells(p.revenueCents, p.commissionCents, p.reversedCommissionCents, p.commissionCents - p.reversedCommissionCents)
        out.endRow()
      }
    }
    explain(figures, into: &out)
    if t.orders + t.refunds > 0 {
      out.append("\nEach order and refund, with the click and rule that credited it, is a row of `orders.csv` with creator\\_id ")
      out.code(creatorID)
      out.append(".\n")
    }
  }

  /// What the columns mean, the rates applied to this creator's products, and how clicks
  /// are counted, in the configured windows.
  private func explain(_ figures: CreatorFigures, into out: inout MarkdownText) {
    let c = money.configuration
    out.append("\n## How these figures are made\n\n")
    out.append(
      "**Revenue** is what shoppers spent on the orders your links brought, in US dollars. **Commission** is your share of it, "
    )
    out.append(
      "at the rates below; a refund reverses the commission of the refunded amount (**reversed**), and **net earnings** are commission minus reversed commission.\n\n"
    )
    out.append(
      "**How clicks count.** Views and clicks from bots (user agents of crawlers and scripts) are not counted, and an event sent twice counts once. "
    )
    out.append("An order is yours when it names a click on your link, or else when the same viewer clicked your link to the same product ")
    out.append("within ")
    out.append(String(c.amazonWindowHours))
    out.append(" hours (Amazon) or ")
    out.append(String(c.brandStoreWindowHours))
    out.append(" hours (brand stores) before ordering; the latest such click wins.\n")
    // The rate of each of the creator's products: by brand store, Amazon category, or default.
    var rates: [String: ExactDecimal] = [:]
    for product in figures.products {
      // A row without a platform (views of a bio without a product) has no orders to rate.
      guard let platform = Platform(product.platform) else { continue }
      let basis: String
      switch platform {
      case .brandStore:
        basis = c.brandStoreRates[product.store] != nil ? "brand store " + Markdown.code(product.store) : "brand stores (default)"
      case .amazon:
        let category = catalog.product(platform: product.platform, store: product.store, productID: product.productID)?.category ?? ""
        basis = c.amazonCategoryRates[category] != nil ? "Amazon, category " + Markdown.escape(category) : "Amazon (default)"
      }
      rates[basis] = money.rate(platform: platform, store: product.store, productID: product.productID)
    }
    guard !rates.isEmpty else { return }
    out.append("\n")
    out.append(Self.rateHead)
    for basis in rates.keys.sorted() {
      out.beginRow()
      out.cell()
      out.append(basis)
      out.cell()
      out.append(Self.percent(rates[basis]!))
      out.endRow()
    }
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
