/// Renders `summary.md`: totals, whose commission it is and the monthly payouts, funnel,
/// trend, platforms, placements, top creators and products, and data quality, for one period.
struct SummaryRenderer {
  let from: String
  let to: String
  let catalog: ProductCatalog

  func render(_ g: ReportScan.Summary, quality q: ReportData.Quality) -> String {
    let t = g.total
    var out = "# ClickPipeline summary: \(from) to \(to)\n\n"
    out += "All money in US dollars. CTR = clicks / views; conversion rate = orders / clicks. "
    out += "Bot traffic is excluded from views and clicks and counted under data quality. "
    out += "Orders and refunds count on their own day; unattributed orders have no creator or placement.\n\n"

    out += "## Totals\n\n"
    out += Markdown.table(
      [
        "Views", "Clicks", "CTR", "Orders", "Conversion rate", "Units", "Revenue", "Commission", "Refunded", "Reversed commission",
        "Net commission",
      ],
      [
        [
          Markdown.count(t.views), Markdown.count(t.clicks), Markdown.percent(t.clicks, t.views), Markdown.count(t.orders),
          Markdown.percent(t.orders, t.clicks), Markdown.count(t.units), Markdown.usd(t.revenueCents),
          Markdown.usd(t.commissionCents), Markdown.usd(t.refundedCents), Markdown.usd(t.reversedCommissionCents),
          Markdown.usd(t.netCommissionCents),
        ]
      ], alignRight: Set(0..<11))

    out += money(g)

    out += "\n## Funnel\n\n"
    out +=
      "Views **\(Markdown.count(t.views))** → clicks **\(Markdown.count(t.clicks))** (\(Markdown.percent(t.clicks, t.views)) of views) → "
    out += "orders **\(Markdown.count(t.orders))** (\(Markdown.percent(t.orders, t.clicks)) of clicks)\n"

    out += trend(g)

    let trafficHeader = ["Views", "Clicks", "CTR", "Orders", "Conversion rate", "Revenue", "Commission", "Net commission"]
    func trafficCells(_ v: MetricsRow) -> [String] {
      [
        Markdown.count(v.views), Markdown.count(v.clicks), Markdown.percent(v.clicks, v.views), Markdown.count(v.orders),
        Markdown.percent(v.orders, v.clicks), Markdown.usd(v.revenueCents), Markdown.usd(v.commissionCents),
        Markdown.usd(v.netCommissionCents),
      ]
    }
    out += "\n## By platform\n\n"
    out += Markdown.table(
      ["Platform"] + trafficHeader,
      g.byPlatform.map { key, v in
        [key.isEmpty ? "(no product)" : Markdown.escape(key)] + trafficCells(v)
      }, alignRight: Set(1...8))

    let stores = g.byStore
    if !stores.isEmpty {
      out += "\n## By brand store\n\n"
      out += Markdown.table(
        ["Store"] + trafficHeader, stores.map { key, v in [Markdown.code(key)] + trafficCells(v) },
        alignRight: Set(1...8))
    }

    out += "\n## By placement\n\n"
    let placements = g.byPlacement.map { ([$0.0], $0.1) }
    out += Markdown.table(
      ["Placement", "Views", "Clicks", "CTR", "Orders", "Conversion rate", "Revenue", "Commission"],
      placements.map { key, v in
        [
          key[0].isEmpty ? "(unattributed)" : Markdown.escape(key[0]), Markdown.count(v.views), Markdown.count(v.clicks),
          Markdown.percent(v.clicks, v.views),
          Markdown.count(v.orders), Markdown.percent(v.orders, v.clicks), Markdown.usd(v.revenueCents),
          Markdown.usd(v.commissionCents),
        ]
      }, alignRight: Set(1..<8))

    out += "\n## Top creators by net commission\n\n"
    let creators = g.topCreators.map { ([$0.0], $0.1) }
    out += Markdown.table(
      ["Creator", "Views", "Clicks", "Orders", "Revenue", "Net commission"],
      creators.map { key, v in
        [
          Markdown.code(key[0]), Markdown.count(v.views), Markdown.count(v.clicks), Markdown.count(v.orders),
          Markdown.usd(v.revenueCents), Markdown.usd(v.netCommissionCents),
        ]
      }, alignRight: Set(1..<6))

    out += "\n## Top products by revenue\n\n"
    out += Markdown.table(
      ["Product", "Title", "Platform", "Store", "Clicks", "Orders", "Units", "Revenue", "Commission"],
      g.topProducts.map { key, v in
        let title = catalog.product(platform: key.platform, store: key.store, productID: key.productID)?.title ?? ""
        return [
          Markdown.code(key.productID), title.isEmpty ? "—" : Markdown.escape(title), Markdown.escape(key.platform),
          Markdown.code(key.store),
          Markdown.count(v.clicks), Markdown.count(v.orders), Markdown.count(v.units), Markdown.usd(v.revenueCents),
          Markdown.usd(v.commissionCents),
        ]
      }, alignRight: Set(4..<9))

    out += quality(q, t, unattributed: g.unattributed)
    return out
  }

  /// Whose money the commission is (creators' or nobody's), and what the payout ledger pays
  /// each month of the period.
  private func money(_ g: ReportScan.Summary) -> String {
    let all = g.total
    let nobody = g.unattributed
    func row(_ name: String, _ commission: Int64, _ reversed: Int64) -> [String] {
      [name, Markdown.usd(commission), Markdown.usd(reversed), Markdown.usd(commission - reversed)]
    }
    var out = "\n## Whose commission\n\n"
    out += Markdown.table(
      ["", "Commission", "Reversed commission", "Net commission"],
      [
        row(
          "Owed to creators", all.commissionCents - nobody.commissionCents,
          all.reversedCommissionCents - nobody.reversedCommissionCents),
        row("Unattributed (no creator; not paid out)", nobody.commissionCents, nobody.reversedCommissionCents),
        row("Total", all.commissionCents, all.reversedCommissionCents),
      ], alignRight: [1, 2, 3])
    guard !g.payouts.isEmpty else { return out }
    out += "\n### Payouts by month\n\n"
    out += "Each creator's balance is payable in a month when it reaches the threshold; below it, it is carried to the next month, "
    out += "and a refund after a payout leaves a negative balance, owed back from later earnings (see each statement). "
    out += "A closed month is as it was closed (`report --close-month`); an open month's figures are today's and can still change.\n\n"
    out += Markdown.table(
      [
        "Month", "Status", "Payable (open: if closed now)", "Creators paid", "Carried to next month", "Creators carried", "Owed back",
        "Creators owing",
      ],
      g.payouts.map { p in
        [
          p.month, p.closedAt.map { "closed \($0.prefix(10))" } ?? "open (not closed)", Markdown.usd(p.payableCents),
          Markdown.count(Int64(p.creatorsPaid)), Markdown.usd(p.carriedCents),
          Markdown.count(Int64(p.creatorsCarried)), Markdown.usd(p.owedBackCents), Markdown.count(Int64(p.creatorsOwing)),
        ]
      }, alignRight: [2, 3, 4, 5, 6, 7])
    return out
  }

  /// A Mermaid `xychart-beta` of daily clicks and orders (renders on GitHub).
  private func trend(_ g: ReportScan.Summary) -> String {
    let days = g.byDay.map { ([$0.0], $0.1) }
    guard !days.isEmpty else { return "" }
    var out = "\n## Daily trend\n\n"
    out += "```mermaid\nxychart-beta\n  title \"Clicks (bars) and orders (line) per day\"\n"
    out += "  x-axis [" + days.map { "\"\($0.0[0])\"" }.joined(separator: ", ") + "]\n"
    let peak = days.map { max($0.1.clicks, $0.1.orders) }.max() ?? 0
    out += "  y-axis \"Count\" 0 --> \(max(peak, 1))\n"
    out += "  bar [" + days.map { String($0.1.clicks) }.joined(separator: ", ") + "]\n"
    out += "  line [" + days.map { String($0.1.orders) }.joined(separator: ", ") + "]\n```\n\n"
    out += Markdown.table(
      ["Day", "Views", "Clicks", "Orders", "Revenue", "Commission", "Refunded"],
      days.map { key, v in
        [
          key[0], Markdown.count(v.views), Markdown.count(v.clicks), Markdown.count(v.orders), Markdown.usd(v.revenueCents),
          Markdown.usd(v.commissionCents), Markdown.usd(v.refundedCents),
        ]
      }, alignRight: Set(1..<7))
    return out
  }

  private func quality(_ q: ReportData.Quality, _ t: MetricsRow, unattributed: MetricsRow) -> String {
    var out = "\n## Data quality\n\n"
    out += "Files, lines, rejects, duplicates and orders refunded past their amount cover everything ingested into "
    out += "this database; bot traffic and unattributed orders cover the period.\n\n"
    out += Markdown.table(
      ["Measure", "Value"],
      [
        ["Files ingested", Markdown.count(q.filesIngested)],
        ["Files failed (to be retried)", Markdown.count(Int64(q.filesFailedNow.count))],
        ["Files refused (most lines rejected)", Markdown.count(Int64(q.filesRefusedNow.count))],
        ["Lines read (non-blank, CSV headers included)", Markdown.count(q.linesRead)],
        ["Lines rejected", Markdown.count(q.rejectsByReason.reduce(0) { $0 + $1.1 })],
        ["Duplicate events dropped", Markdown.count(q.duplicates)],
        ["Orders refunded past their amount", Markdown.count(q.ordersRefundedPastTheirAmount)],
        ["Bot views", Markdown.count(t.botViews)],
        ["Bot clicks", Markdown.count(t.botClicks)],
        ["Unattributed orders", Markdown.count(unattributed.orders)],
        ["Unattributed revenue", Markdown.usd(unattributed.revenueCents)],
      ], alignRight: [1])
    if !q.rejectsByReason.isEmpty {
      out += "\n### Rejected lines by reason\n\n"
      out += Markdown.table(
        ["Reason", "Lines"], q.rejectsByReason.map { [Markdown.escape($0.0), Markdown.count($0.1)] }, alignRight: [1])
      out += "\nEach rejected line is in the `rejects` table with its file, line number and raw text.\n"
    }
    if q.ordersRefundedPastTheirAmount > 0 {
      out += "\nOrders refunded past their amount are listed in the `over_refunds` table (`report --status` names the first ten); "
      out += "their refunds count as sent.\n"
    }
    if !q.filesRefusedNow.isEmpty {
      out += "\n### Files refused because most of their lines were rejected\n\n"
      out += Markdown.table(
        ["File", "Why"], q.filesRefusedNow.map { [Markdown.escape($0.path), Markdown.escape($0.error)] })
      out +=
        "\nNothing of these files is counted. Fix the exporter and ingest the corrected files, or take them line by line with `ingest --accept-mostly-rejected`.\n"
    }
    if !q.filesFailedNow.isEmpty {
      out += "\n### Files that could not be read\n\n"
      out += Markdown.table(
        ["File", "Error"], q.filesFailedNow.map { [Markdown.escape($0.path), Markdown.escape($0.error)] })
    }
    return out
  }
}
