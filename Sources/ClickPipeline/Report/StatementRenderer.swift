/// Renders `creators/<creator_id>.md`: one creator's earnings statement for the period.
struct StatementRenderer: Sendable {
  let from: String
  let to: String
  let catalog: ProductCatalog
  let thresholdCents: Int64

  /// The payout status: payable at or above the threshold, else carried over.
  static func payoutStatus(net: Int64, threshold: Int64) -> (payable: Bool, missing: Int64) {
    net >= threshold ? (true, 0) : (false, threshold - net)
  }

  /// One creator's figures for the period, as read by ``ReportData/forEachCreator(_:)``.
  struct CreatorFigures: Sendable {
    var creatorID: String
    var totals = Totals()
    var days: [(day: String, totals: Totals)] = []
    var products: [(platform: String, store: String, productID: String, totals: Totals)] = []
  }

  func render(_ figures: CreatorFigures) -> String {
    let t = figures.totals
    let creatorID = figures.creatorID
    var out = "# Earnings statement: creator \(Markdown.code(creatorID))\n\n"
    out += "Period: \(from) to \(to). All amounts in US dollars.\n\n"
    out += "## Summary\n\n"
    out += Markdown.table(
      ["Orders", "Units", "Revenue", "Commission", "Refunds", "Refunded", "Reversed commission", "Net earnings"],
      [[
        Markdown.count(t.orders), Markdown.count(t.units), Markdown.usd(t.revenueCents), Markdown.usd(t.commissionCents),
        Markdown.count(t.refunds), Markdown.usd(t.refundedCents), Markdown.usd(t.reversedCommissionCents),
        Markdown.usd(t.netCommissionCents),
      ]], alignRight: Set(0..<8))

    out += "\n## Payout\n\n"
    let status = StatementRenderer.payoutStatus(net: t.netCommissionCents, threshold: thresholdCents)
    if status.payable {
      out += "**Payable: \(Markdown.usd(t.netCommissionCents)).** Net earnings reach the payout threshold of \(Markdown.usd(thresholdCents)).\n"
    } else {
      out += "**Carried over: \(Markdown.usd(t.netCommissionCents)).** \(Markdown.usd(status.missing)) more is needed to reach the payout threshold of \(Markdown.usd(thresholdCents)).\n"
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
    return out
  }
}
