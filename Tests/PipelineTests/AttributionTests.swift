import Foundation
import Logging
import Testing

@testable import ClickPipeline

/// Attribution (CONTRACT §4) on its own, on a fresh database: a few staged clicks and one
/// order per case, and the click, rule and creator that must win. A failure here names the
/// rule, where the end-to-end tests can only say that `daily_metrics` differs.
@Suite struct AttributionTests {
  static func click(
    _ id: String, _ ts: String, creator: String = "c1", viewer: String = "u1", product: String = "p1",
    platform: String = "amazon", store: String = "", agent: String = "Mozilla/5.0", post: String? = nil
  ) -> String {
    let placement = post.map { #""placement":"post","post_id":"\#($0)""# } ?? #""placement":"bio""#
    return
      #"{"type":"click","event_id":"\#(id)","ts":"\#(ts)","creator_id":"\#(creator)",\#(placement),"viewer_id":"\#(viewer)","product_id":"\#(product)","platform":"\#(platform)","store":"\#(store)","user_agent":"\#(agent)"}"#
  }

  static func order(
    _ id: String, _ ts: String, clickID: String = "", viewer: String = "u1", product: String = "p1", platform: String = "amazon",
    store: String = ""
  ) -> String {
    #"{"type":"conversion","event_id":"\#(id)","ts":"\#(ts)","order_id":"O1","viewer_id":"\#(viewer)","product_id":"\#(product)","platform":"\#(platform)","store":"\#(store)","amount":"10.00","click_id":"\#(clickID)"}"#
  }

  struct Case: CustomTestStringConvertible, Sendable {
    var name: String
    var lines: [String]
    var platform = "amazon"
    /// The kept copy of order O1, and the expected click event id, rule, creator and post.
    var kept: String
    var click: String
    var rule: AttributionRule
    var creator: String
    var post = ""
    var testDescription: String { name }
  }

  static let cases: [Case] = [
    Case(
      name: "click_id names a click",
      lines: [click("k1", "2026-11-02T10:00:00Z", post: "p-7"), order("o1", "2026-11-05T10:00:00Z", clickID: "k1")],
      kept: "o1", click: "k1", rule: .clickID, creator: "c1", post: "p-7"),
    Case(
      name: "click_id names a bot's click",
      lines: [click("k1", "2026-11-02T10:00:00Z", agent: "Googlebot/2.1"), order("o1", "2026-11-02T11:00:00Z", clickID: "k1")],
      kept: "o1", click: "k1", rule: .botClick, creator: ""),
    Case(
      name: "click_id wins over a later click of the viewer",
      lines: [
        click("k1", "2026-11-02T08:00:00Z", creator: "named"), click("k2", "2026-11-02T09:00:00Z", creator: "latest"),
        order("o1", "2026-11-02T10:00:00Z", clickID: "k1"),
      ], kept: "o1", click: "k1", rule: .clickID, creator: "named"),
    Case(
      name: "click_id names the earliest click with that id",
      lines: [
        click("k1", "2026-11-03T08:00:00Z", creator: "later"), click("k1", "2026-11-02T08:00:00Z", creator: "earliest"),
        order("o1", "2026-11-04T10:00:00Z", clickID: "k1"),
      ], kept: "o1", click: "k1", rule: .clickID, creator: "earliest"),
    Case(
      name: "the viewer's click within Amazon's 24 hours",
      lines: [click("k1", "2026-11-02T10:00:00Z"), order("o1", "2026-11-03T10:00:00Z")],
      kept: "o1", click: "k1", rule: .viewerWindow, creator: "c1"),
    Case(
      name: "a click one millisecond past Amazon's window",
      lines: [click("k1", "2026-11-02T09:59:59.999Z"), order("o1", "2026-11-03T10:00:00Z")],
      kept: "o1", click: "", rule: .none, creator: ""),
    Case(
      name: "brand stores' 168 hours",
      lines: [
        click("k1", "2026-11-01T10:00:00Z", platform: "brand_store", store: "s1"),
        order("o1", "2026-11-07T10:00:00Z", platform: "brand_store", store: "s1"),
      ], platform: "brand_store", kept: "o1", click: "k1", rule: .viewerWindow, creator: "c1"),
    Case(
      name: "the latest click wins; a tie goes to the greatest event id",
      lines: [
        click("k1", "2026-11-02T08:00:00Z", creator: "early"), click("k3", "2026-11-02T09:00:00Z", creator: "tie-high"),
        click("k2", "2026-11-02T09:00:00Z", creator: "tie-low"), order("o1", "2026-11-02T10:00:00Z"),
      ], kept: "o1", click: "k3", rule: .viewerWindow, creator: "tie-high"),
    Case(
      name: "a click at the last millisecond of the day before the order",
      lines: [click("k1", "2026-11-02T23:59:59.999Z"), order("o1", "2026-11-03T00:00:00.000Z")],
      kept: "o1", click: "k1", rule: .viewerWindow, creator: "c1"),
    Case(
      name: "a click at the same millisecond as the order, at midnight",
      lines: [
        click("k1", "2026-11-02T23:00:00Z", creator: "earlier"), click("k2", "2026-11-03T00:00:00.000Z", creator: "same"),
        order("o1", "2026-11-03T00:00:00.000Z"),
      ], kept: "o1", click: "k2", rule: .viewerWindow, creator: "same"),
    Case(
      name: "a click after the order does not count",
      lines: [click("k1", "2026-11-02T10:00:01Z"), order("o1", "2026-11-02T10:00:00Z")],
      kept: "o1", click: "", rule: .none, creator: ""),
    Case(
      name: "another product's click does not count",
      lines: [click("k1", "2026-11-02T09:00:00Z", product: "p2"), order("o1", "2026-11-02T10:00:00Z")],
      kept: "o1", click: "", rule: .none, creator: ""),
    Case(
      name: "a later click of another product does not hide the viewer's click",
      lines: [
        click("k1", "2026-11-02T08:00:00Z", creator: "right"), click("k2", "2026-11-02T09:30:00Z", creator: "other", product: "p2"),
        click("k3", "2026-11-02T09:00:00Z", creator: "other viewer", viewer: "u2"), order("o1", "2026-11-02T10:00:00Z"),
      ], kept: "o1", click: "k1", rule: .viewerWindow, creator: "right"),
    Case(
      name: "the viewer's click on an earlier day of a brand store's window",
      lines: [
        click("k1", "2026-11-01T08:00:00Z", creator: "right", platform: "brand_store", store: "s1"),
        click("k2", "2026-11-03T09:00:00Z", creator: "other", viewer: "u2", platform: "brand_store", store: "s1"),
        order("o1", "2026-11-03T10:00:00Z", platform: "brand_store", store: "s1"),
      ], platform: "brand_store", kept: "o1", click: "k1", rule: .viewerWindow, creator: "right"),
    Case(
      name: "click_id naming no staged click falls back to the viewer's click",
      lines: [
        click("k1", "2026-11-02T08:00:00Z"), click("k2", "2026-11-02T08:30:00Z", viewer: "u2"),
        order("o1", "2026-11-02T10:00:00Z", clickID: "k9"),
      ],
      kept: "o1", click: "k1", rule: .viewerWindow, creator: "c1"),
    Case(
      name: "a bot's click is never the viewer's click",
      lines: [
        click("k1", "2026-11-02T08:00:00Z", creator: "human"), click("k2", "2026-11-02T09:00:00Z", creator: "bot", agent: "curl/8.0"),
        order("o1", "2026-11-02T10:00:00Z"),
      ], kept: "o1", click: "k1", rule: .viewerWindow, creator: "human"),
    Case(
      name: "a retried order keeps its earliest copy",
      lines: [
        click("k1", "2026-11-02T08:00:00Z", creator: "first"), click("k2", "2026-11-02T10:30:00Z", creator: "second"),
        order("o-late", "2026-11-02T11:00:00Z"), order("o-early", "2026-11-02T09:00:00Z"),
      ], kept: "o-early", click: "k1", rule: .viewerWindow, creator: "first"),
  ]

  /// Each case with the digests' hashes as they are, and with every hash the same (mask 0),
  /// so that every click is a candidate and only the byte checks decide.
  @Test(arguments: cases, [UInt64.max, 0]) func theRightClickWins(_ c: Case, hashMask: UInt64) throws {
    let dir = try TemporaryDirectory()
    let (path, ingested) = try ingestLines(c.lines, into: dir)
    #expect(ingested.rejected == 0 && ingested.exitCode == 0)

    let db = try SQLiteDatabase(path: path, readOnly: true)
    let attribution = try Attribution(
      db: db, configuration: .default, segments: try SegmentReader(db: db),
      digests: ClickDigests(budgetBytes: 1 << 20, hashMask: hashMask), cacheLimit: 100)
    // The order's rows, as a day's batch holds them: each row gets the same answer.
    let rows = try db.prepare("SELECT \(ConversionRow.columns.joined(separator: ", ")) FROM conversions WHERE order_id = 'O1'")
    var batch: [ConversionRow] = []
    while try rows.step() { batch.append(try ConversionRow(rows)) }
    #expect(batch.allSatisfy { $0.platform.rawValue == c.platform })
    let answers = try attribution.resolve(batch)
    #expect(answers.count == batch.count && Set(answers.map { $0?.canonicalEventID }).count == 1)
    let first = try #require(answers.first)
    let got = try #require(first)
    #expect(got.canonicalEventID == c.kept)
    #expect(got.result.rule == c.rule)
    #expect(got.result.clickEventID == c.click)
    #expect(got.result.creatorID == c.creator)
    #expect(got.result.postID == c.post)
    // An order of one row is never asked for again: only a retried order is kept.
    #expect(attribution.ordersKept == (batch.count > 1 ? 1 : 0))
  }
}
