/// Renders `creators/<creator_id>.md`: one creator's earnings statement for the period.
struct StatementRenderer {
  let data: ReportData
  let catalog: ProductCatalog
  let thresholdCents: Int64

  /// The payout status: payable at or above the threshold, else carried over.
  static func payoutStatus(net: Int64, threshold: Int64) -> (payable: Bool, missing: Int64) {
    net >= threshold ? (true, 0) : (false, threshold - net)
  }

  func render(creatorID: String) throws(DatabaseError) -> String {
    let condition = "creator_id = '\(creatorID.replacingOccurrences(of: "'", with: "''"))'"
    let t = try data.total(where: condition)
    var out = "# Earnings statement: creator \(Markdown.code(creatorID))\n\n"
    out += "Period: \(data.from) to \(data.to). All amounts in US dollars.\n\n"
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
    let days = try data.grouped(by: ["day"], where: condition)
    out += Markdown.table(
      ["Day", "Views", "Clicks", "Orders", "Revenue", "Commission", "Reversed commission", "Net"],
      days.map { key, v in
        [
          key[0], Markdown.count(v.views), Markdown.count(v.clicks), Markdown.count(v.orders), Markdown.usd(v.revenueCents),
          Markdown.usd(v.commissionCents), Markdown.usd(v.reversedCommissionCents), Markdown.usd(v.netCommissionCents),
        ]
      }, alignRight: Set(1..<8))

    out += "\n## By product\n\n"
    let products = try data.grouped(by: ["platform", "store", "product_id"], where: condition + " AND product_id <> ''")
    out += Markdown.table(
      ["Product", "Title", "Platform", "Store", "Clicks", "Orders", "Units", "Revenue", "Commission", "Refunds", "Reversed", "Net"],
      products.map { key, v in
        let title = catalog.product(platform: key[0], store: key[1], productID: key[2])?.title ?? ""
        return [
          Markdown.code(key[2]), title.isEmpty ? "—" : Markdown.escape(title), Markdown.escape(key[0]), Markdown.code(key[1]),
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
