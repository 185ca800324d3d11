import Foundation
import Testing

@testable import ClickPipeline

/// End-to-end tests: real `ingest` and `aggregate` processes over files written here, and the
/// whole `daily_metrics` table compared with rows worked out by hand from CONTRACT.md.
///
/// Row strings follow `TestDatabase.dailyMetrics()`:
/// `day|creator|placement|platform|store|product|views|uv|bot_views|clicks|uc|bot_clicks|orders|units|revenue|commission|refunds|refunded|reversed`.
@Suite struct EndToEndTests {

  // MARK: - Default configuration

  /// Views, clicks, bots, placements, attribution (click_id, viewer fallback, ties, windows),
  /// duplicates (event ids across files, retried orders), a refund, EUR and quantity, over two
  /// gzipped NDJSON files and one plain CSV file, with the default configuration (UTC).
  @Test func defaultConfigurationWholeTable() throws {
    let dir = try TemporaryDirectory()
    let googlebot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    try dir.writeGzip(
      "logs/a.ndjson.gz",
      lines: [
        // Views of c1's post p1 on amazon B001: u1, u2, u1 again (ts as epoch ms = 2026-11-01T02:00:00Z).
        // (v3: platform in caps; a store is ignored for amazon.)
        #"{"type":"view","event_id":"v1","ts":1793498400000,"creator_id":"c1","post_id":"p1","viewer_id":"u1","product_id":"B001","platform":"amazon"}"#,
        #"{"type":"view","event_id":"v2","ts":"2026-11-01T09:00:00Z","creator_id":"c1","post_id":"p1","viewer_id":"u2","product_id":"B001","platform":"amazon"}"#,
        #"{"type":"view","event_id":"v3","ts":"2026-11-01T09:30:00Z","creator_id":"c1","post_id":"p1","viewer_id":"u1","product_id":"B001","platform":"Amazon","store":"ignored-for-amazon"}"#,
        // Views without a product (and without post_id → placement bio); v5 has no viewer.
        #"{"type":"view","event_id":"v4","ts":"2026-11-01T10:00:00Z","creator_id":"c1","viewer_id":"u3"}"#,
        #"{"type":"view","event_id":"v5","ts":"2026-11-01T10:30:00Z","creator_id":"c1","viewer_id":null,"product_id":""}"#,
        // A bot view.
        #"{"type":"view","event_id":"v6-bot","ts":"2026-11-01T11:00:00Z","creator_id":"c1","post_id":"p1","viewer_id":"u8","product_id":"B001","platform":"amazon","user_agent":"\#(googlebot)"}"#,
        // Clicks.
        #"{"type":"click","event_id":"k1","ts":"2026-11-01T10:00:00Z","creator_id":"c1","post_id":"p1","viewer_id":"u1","product_id":"B001","platform":"amazon","user_agent":"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)"}"#,
        // A bot click (pattern `bot` matched case-insensitively in "AhrefsBOT").
        #"{"type":"click","event_id":"k2-bot","ts":"2026-11-01T10:05:00Z","creator_id":"c1","post_id":"p1","viewer_id":"u1","product_id":"B001","platform":"amazon","user_agent":"Mozilla/5.0 (compatible; AhrefsBOT/7.0)"}"#,
        // Explicit placement in caps wins over post_id; platform in caps.
        #"{"type":"click","event_id":"k3","ts":"2026-11-01T11:00:00Z","creator_id":"c2","post_id":"p7","placement":"BIO","viewer_id":"u2","product_id":"LS-1","platform":"BRAND_STORE","store":"lumi-skin"}"#,
        // Viewer u4: two clicks on B001, the later one (k5, c2 bio) wins the fallback.
        #"{"type":"click","event_id":"k4","ts":"2026-11-01T12:00:00Z","creator_id":"c1","post_id":"p1","viewer_id":"u4","product_id":"B001","platform":"amazon"}"#,
        #"{"type":"click","event_id":"k5","ts":"2026-11-01T13:00:00Z","creator_id":"c2","viewer_id":"u4","product_id":"B001","platform":"amazon"}"#,
        // Viewer u5: two clicks on B002 at the same ts; event ids are JSON integers 9 and 10.
        // Byte order: "9" > "10", so click 9 (c3 bio) wins although 10 is numerically greater and later in the file.
        #"{"type":"click","event_id":9,"ts":"2026-11-01T14:00:00Z","creator_id":"c3","viewer_id":"u5","product_id":"B002","platform":"amazon"}"#,
        #"{"type":"click","event_id":10,"ts":"2026-11-01T14:00:00Z","creator_id":"c1","post_id":"p1","viewer_id":"u5","product_id":"B002","platform":"amazon"}"#,
        // Viewer u6: a click whose 24 h amazon window ends 2026-11-02T06:00:00Z; explicit placement "Post" without post_id.
        #"{"type":"click","event_id":"k7","ts":"2026-11-01T06:00:00Z","creator_id":"c3","placement":"Post","viewer_id":"u6","product_id":"B001","platform":"amazon"}"#,
        // Viewer u7: a brand_store click (168 h window).
        #"{"type":"click","event_id":"k8","ts":"2026-11-01T07:00:00Z","creator_id":"c2","post_id":"p2","viewer_id":"u7","product_id":"LS-1","platform":"brand_store","store":"lumi-skin"}"#,
      ])
    // b.ndjson.gz is a two-member gzip (as `cat x.gz y.gz` makes): one stream.
    let member1 = [
      // Same event id as in a.ndjson.gz: dropped.
      #"{"type":"view","event_id":"v2","ts":"2026-11-01T09:00:00Z","creator_id":"c1","post_id":"p1","viewer_id":"u2","product_id":"B001","platform":"amazon"}"#,
      // click_id k1, 50 h after the click (beyond the amazon window: click_id ignores windows); EUR, 3 units.
      #"{"type":"conversion","event_id":"cv-1","ts":"2026-11-03T12:00:00Z","click_id":"k1","product_id":"B001","platform":"amazon","order_id":"O-1","quantity":3,"amount":19.99,"currency":"EUR"}"#,
      // click_id names a bot click: unattributed although the viewer fallback would find k1.
      #"{"type":"conversion","event_id":"cv-2","ts":"2026-11-01T15:00:00Z","click_id":"k2-bot","viewer_id":"u1","product_id":"B001","platform":"amazon","order_id":"O-2","amount":"5.00"}"#,
    ]
    let member2 = [
      // Viewer fallback, latest click k5.
      #"{"type":"conversion","event_id":"cv-3","ts":"2026-11-01T20:00:00Z","viewer_id":"u4","product_id":"B001","platform":"amazon","order_id":"O-3","amount":"25.00"}"#,
      // Viewer fallback, tie on ts → click 9.
      #"{"type":"conversion","event_id":"cv-4","ts":"2026-11-01T18:00:00Z","viewer_id":"u5","product_id":"B002","platform":"amazon","order_id":"O-4","amount":"12.34"}"#,
      // 25 h after k7: outside the amazon window → unattributed.
      #"{"type":"conversion","event_id":"cv-5","ts":"2026-11-02T07:00:00Z","viewer_id":"u6","product_id":"B001","platform":"amazon","order_id":"O-5","amount":10}"#,
      // 100 h after k8: inside the brand_store window.
      #"{"type":"conversion","event_id":"cv-6","ts":"2026-11-05T11:00:00Z","viewer_id":"u7","product_id":"LS-1","platform":"brand_store","store":"lumi-skin","order_id":"O-6","amount":40}"#,
      // O-3 retried with a fresh event id: counted once.
      #"{"type":"conversion","event_id":"cv-3-retry","ts":"2026-11-01T20:00:00Z","viewer_id":"u4","product_id":"B001","platform":"amazon","order_id":"O-3","amount":"25.00"}"#,
      // Full refund of O-3 on a later day.
      #"{"type":"conversion","event_id":"cv-7","ts":"2026-11-04T10:00:00Z","product_id":"B001","platform":"amazon","order_id":"O-3","amount":"25.00","status":"REFUNDED"}"#,
      // Same order_id as cv-1 but on brand_store: another order. click_id k8 (c2 post) wins over
      // the viewer fallback (u2 → k3, c2 bio, 50 h earlier, inside 168 h).
      #"{"type":"conversion","event_id":"cv-9","ts":"2026-11-03T13:00:00Z","click_id":"k8","viewer_id":"u2","product_id":"LS-1","platform":"brand_store","store":"lumi-skin","order_id":"O-1","amount":"15.00"}"#,
      // Two partial refunds of O-6 with the same amount: refunds are not deduplicated by order.
      #"{"type":"conversion","event_id":"cv-10","ts":"2026-11-06T09:00:00Z","product_id":"LS-1","platform":"brand_store","store":"lumi-skin","order_id":"O-6","amount":"5.00","status":"refunded"}"#,
      #"{"type":"conversion","event_id":"cv-11","ts":"2026-11-06T10:00:00Z","product_id":"LS-1","platform":"brand_store","store":"lumi-skin","order_id":"O-6","amount":"5.00","status":"refunded"}"#,
    ]
    try dir.write(
      "logs/b.ndjson.gz",
      Gzip.compress(Data((member1.joined(separator: "\n") + "\n").utf8))
        + Gzip.compress(Data((member2.joined(separator: "\n") + "\n").utf8)))
    let header = [
      "type", "event_id", "ts", "creator_id", "post_id", "placement", "viewer_id", "product_id", "platform", "store",
      "user_agent", "order_id", "click_id", "quantity", "amount", "currency", "status",
    ]
    try dir.write(
      "logs/c.csv",
      E2E.csvText(
        header,
        [
          // Same event id as k4 in a.ndjson.gz: dropped.
          [
            "type": "click", "event_id": "k4", "ts": "2026-11-01T12:00:00Z", "creator_id": "c1", "post_id": "p1",
            "viewer_id": "u4", "product_id": "B001", "platform": "amazon",
          ],
          // A space instead of T; a quoted cell with a comma.
          [
            "type": "view", "event_id": "v7", "ts": "2026-11-02 08:00:00Z", "creator_id": "c3", "placement": "post",
            "viewer_id": "u1", "product_id": "LS-1", "platform": "brand_store", "store": "lumi-skin",
            "user_agent": "Mozilla/5.0 (X11, Linux x86_64)",
          ],
          // A conversion's creator_id is ignored; viewer fallback to k3 (c2 bio), 22 h later.
          [
            "type": "conversion", "event_id": "cv-8", "ts": "2026-11-02T09:00:00Z", "creator_id": "zz", "viewer_id": "u2",
            "product_id": "LS-1", "platform": "brand_store", "store": "lumi-skin", "order_id": "O-8", "quantity": "2",
            "amount": "30.00", "currency": "USD", "status": "ordered",
          ],
        ]))
    let db = dir.file("pipeline.sqlite")
    try runPipeline(db: db, inputs: [dir.file("logs")])

    let expected = [
      // cv-2: click_id k2-bot is a bot click → unattributed; 5.00 USD = 500 c; 500 × 0.04 = 20.
      "2026-11-01|||amazon||B001|0|0|0|0|0|0|1|1|500|20|0|0|0",
      // v4 (u3) and v5 (no viewer): no product, no post_id → bio; 2 views, 1 unique viewer.
      "2026-11-01|c1|bio||||2|1|0|0|0|0|0|0|0|0|0|0|0",
      // v1 u1, v2 u2 (its copy in b.ndjson.gz dropped), v3 u1 → 3 views, 2 viewers; v6 bot view;
      // k1 u1, k4 u4 (its CSV copy dropped) → 2 clicks, 2 clickers; k2-bot → 1 bot click.
      "2026-11-01|c1|post|amazon||B001|3|2|1|2|2|1|0|0|0|0|0|0|0",
      // click 10 (u5); it loses the tie for cv-4.
      "2026-11-01|c1|post|amazon||B002|0|0|0|1|1|0|0|0|0|0|0|0|0",
      // k5 (u4); cv-3 (its retry dropped): 25.00 USD = 2500 c; 2500 × 0.04 = 100.
      "2026-11-01|c2|bio|amazon||B001|0|0|0|1|1|0|1|1|2500|100|0|0|0",
      // k3 (u2): placement "BIO" despite post_id.
      "2026-11-01|c2|bio|brand_store|lumi-skin|LS-1|0|0|0|1|1|0|0|0|0|0|0|0|0",
      // k8 (u7): post_id → post.
      "2026-11-01|c2|post|brand_store|lumi-skin|LS-1|0|0|0|1|1|0|0|0|0|0|0|0|0",
      // click 9 (u5); cv-4 wins the tie: 12.34 USD = 1234 c; 1234 × 0.04 = 49.36 → 49.
      "2026-11-01|c3|bio|amazon||B002|0|0|0|1|1|0|1|1|1234|49|0|0|0",
      // k7 (u6): placement "Post" → post.
      "2026-11-01|c3|post|amazon||B001|0|0|0|1|1|0|0|0|0|0|0|0|0",
      // cv-5: 25 h after k7 → unattributed; 10 USD = 1000 c; × 0.04 = 40.
      "2026-11-02|||amazon||B001|0|0|0|0|0|0|1|1|1000|40|0|0|0",
      // cv-8 → k3 (c2 bio); 2 units; 30.00 USD = 3000 c; brand_store default 0.10 → 300.
      "2026-11-02|c2|bio|brand_store|lumi-skin|LS-1|0|0|0|0|0|0|1|2|3000|300|0|0|0",
      // v7 (u1), placement post from the CSV.
      "2026-11-02|c3|post|brand_store|lumi-skin|LS-1|1|1|0|0|0|0|0|0|0|0|0|0|0",
      // cv-1 → k1 (c1 post); 3 units; 19.99 EUR × 1.08 × 100 = 2158.92 → 2159; 2159 × 0.04 = 86.36 → 86.
      "2026-11-03|c1|post|amazon||B001|0|0|0|0|0|0|1|3|2159|86|0|0|0",
      // cv-9 → k8 by click_id: 15.00 USD = 1500 c; × 0.10 = 150.
      "2026-11-03|c2|post|brand_store|lumi-skin|LS-1|0|0|0|0|0|0|1|1|1500|150|0|0|0",
      // cv-7 refunds O-3 on its own day with O-3's attribution (c2 bio): 2500 c, 100 reversed.
      "2026-11-04|c2|bio|amazon||B001|0|0|0|0|0|0|0|0|0|0|1|2500|100",
      // cv-6 → k8 (c2 post), 100 h after it (inside 168 h); 40 USD = 4000 c; × 0.10 = 400.
      "2026-11-05|c2|post|brand_store|lumi-skin|LS-1|0|0|0|0|0|0|1|1|4000|400|0|0|0",
      // cv-10 and cv-11 refund O-6 (→ c2 post) twice: 2 × 500 c, 2 × 50 reversed.
      "2026-11-06|c2|post|brand_store|lumi-skin|LS-1|0|0|0|0|0|0|0|0|0|0|2|1000|100",
    ]
    let actual = try TestDatabase(db).dailyMetrics()
    #expect(actual == expected, "\(E2E.diff(expected, actual))")

    // A full refund cancels its order exactly.
    let t = try TestDatabase(db)
    let order = try t.rows(
      "SELECT revenue_cents, commission_cents FROM daily_metrics WHERE day = '2026-11-01' AND creator_id = 'c2' AND platform = 'amazon'")
    let refund = try t.rows(
      "SELECT refunded_cents, reversed_commission_cents FROM daily_metrics WHERE day = '2026-11-04' AND creator_id = 'c2'")
    #expect(order == [["2500", "100"]])
    #expect(refund == order)
  }

  // MARK: - Custom configuration

  /// Asia/Jakarta days, a catalog category rate, a brand store rate, half-cent ties (round half
  /// to even), the 24 h window edge to the millisecond, a refund, a retried order and a bot click
  /// named by click_id.
  @Test func customConfigurationWholeTable() throws {
    let dir = try TemporaryDirectory()
    let config = try Self.writeJakartaConfiguration(dir)
    try dir.writeGzip("logs/jakarta.ndjson.gz", lines: Self.jakartaLines)
    let db = dir.file("pipeline.sqlite")
    try runPipeline(db: db, config: config, inputs: [dir.file("logs")])
    let actual = try TestDatabase(db).dailyMetrics()
    #expect(actual == Self.jakartaExpected, "\(E2E.diff(Self.jakartaExpected, actual))")
  }

  /// Writes `conf/pipeline.toml` and `conf/products.csv` (the catalog path is relative to the
  /// configuration's folder); returns the configuration's path.
  static func writeJakartaConfiguration(_ dir: TemporaryDirectory) throws -> String {
    try dir.write(
      "conf/pipeline.toml",
      """
      timezone = "Asia/Jakarta"
      catalog = "products.csv"

      [attribution]
      amazon_window_hours = 24

      [commission.amazon_categories]
      beauty = 0.10

      [commission.brand_stores]
      "lumi-skin" = 0.15
      """)
    try dir.write(
      "conf/products.csv",
      """
      product_id,platform,store,title,category
      A-BEAUTY,amazon,,Glow Serum,beauty
      A-BOOK,amazon,,A Novel,books
      L-1,brand_store,lumi-skin,Lumi Cream,beauty

      """)
    return dir.file("conf/pipeline.toml")
  }

  /// The Asia/Jakarta fixture, one event a line.
  static let jakartaLines = [
    // 18:30Z = 01:30 on 2026-11-02 in Jakarta (UTC+7).
    #"{"type":"view","event_id":"jv1","ts":"2026-11-01T18:30:00Z","creator_id":"c1","post_id":"p1","viewer_id":"u1","product_id":"A-BEAUTY","platform":"amazon"}"#,
    // 16:59:59.9999999Z truncates to .999, one millisecond before local midnight → 2026-11-01
    // (rounding would give midnight, 2026-11-02); local midnight itself → 2026-11-02.
    #"{"type":"view","event_id":"jv2","ts":"2026-11-01T16:59:59.9999999Z","creator_id":"c1","viewer_id":"u2"}"#,
    #"{"type":"view","event_id":"jv3","ts":"2026-11-02T00:00:00+07:00","creator_id":"c1","viewer_id":"u2"}"#,
    #"{"type":"click","event_id":"jk1","ts":"2026-11-01T18:30:00Z","creator_id":"c1","post_id":"p1","viewer_id":"u1","product_id":"A-BEAUTY","platform":"amazon"}"#,
    #"{"type":"click","event_id":"jk2","ts":"2026-11-01T18:00:00Z","creator_id":"c2","viewer_id":"u3","product_id":"A-BEAUTY","platform":"amazon"}"#,
    // A bot click (default pattern python-requests).
    #"{"type":"click","event_id":"jk-bot","ts":"2026-11-01T19:00:00Z","creator_id":"c2","viewer_id":"u3","product_id":"A-BEAUTY","platform":"amazon","user_agent":"python-requests/2.31.0"}"#,
    #"{"type":"click","event_id":"jk3","ts":"2026-11-02T02:00:00Z","creator_id":"c3","post_id":"p9","viewer_id":"u4","product_id":"L-1","platform":"brand_store","store":"lumi-skin"}"#,
    // 10:00 local = 03:00Z.
    #"{"type":"click","event_id":"jk4","ts":"2026-11-02T10:00:00+07:00","creator_id":"c1","viewer_id":"u5","product_id":"A-BOOK","platform":"amazon"}"#,
    // Exactly jk1 + 24 h: inside the window.
    #"{"type":"conversion","event_id":"jc1","ts":"2026-11-02T18:30:00Z","viewer_id":"u1","product_id":"A-BEAUTY","platform":"amazon","order_id":"J-1","amount":"12.45"}"#,
    // jk1 + 24 h + 1 ms: outside.
    #"{"type":"conversion","event_id":"jc2","ts":"2026-11-02T18:30:00.001Z","viewer_id":"u1","product_id":"A-BEAUTY","platform":"amazon","order_id":"J-2","amount":"12.35"}"#,
    // click_id names the bot click: unattributed (the fallback would find jk2).
    #"{"type":"conversion","event_id":"jc3","ts":"2026-11-01T20:00:00Z","click_id":"jk-bot","viewer_id":"u3","product_id":"A-BEAUTY","platform":"amazon","order_id":"J-3","amount":150,"currency":"JPY"}"#,
    #"{"type":"conversion","event_id":"jc4","ts":"2026-11-02T05:00:00Z","click_id":"jk3","product_id":"L-1","platform":"brand_store","store":"lumi-skin","order_id":"J-4","amount":"11.10"}"#,
    // J-4 retried with a fresh event id.
    #"{"type":"conversion","event_id":"jc4-retry","ts":"2026-11-02T05:00:00Z","click_id":"jk3","product_id":"L-1","platform":"brand_store","store":"lumi-skin","order_id":"J-4","amount":"11.10"}"#,
    #"{"type":"conversion","event_id":"jc5","ts":"2026-11-02T06:00:00Z","viewer_id":"u4","product_id":"L-1","platform":"brand_store","store":"lumi-skin","order_id":"J-5","amount":"11.50"}"#,
    #"{"type":"conversion","event_id":"jc6","ts":"2026-11-02T04:00:00Z","click_id":"jk4","product_id":"A-BOOK","platform":"amazon","order_id":"J-6","amount":1050,"currency":"JPY"}"#,
    #"{"type":"conversion","event_id":"jc7","ts":"2026-11-02T05:30:00Z","viewer_id":"u5","product_id":"A-BOOK","platform":"amazon","order_id":"J-7","quantity":2,"amount":"12.345"}"#,
    // Full refund of J-4: 03:00 on 2026-11-04 local.
    #"{"type":"conversion","event_id":"jr4","ts":"2026-11-03T20:00:00Z","product_id":"L-1","platform":"brand_store","store":"lumi-skin","order_id":"J-4","amount":"11.10","status":"refunded"}"#,
  ]

  /// The whole table for ``jakartaLines``, by hand.
  static let jakartaExpected = [
    // jv2 at 23:59:59.999 local.
    "2026-11-01|c1|bio||||1|1|0|0|0|0|0|0|0|0|0|0|0",
    // jc3 (bot click_id → unattributed): 150 JPY × 0.0067 × 100 = 100.5 → 100 (even);
    // A-BEAUTY is category beauty → 0.10: 100 × 0.10 = 10.
    "2026-11-02|||amazon||A-BEAUTY|0|0|0|0|0|0|1|1|100|10|0|0|0",
    // jv3 at local midnight.
    "2026-11-02|c1|bio||||1|1|0|0|0|0|0|0|0|0|0|0|0",
    // jk4 (u5); jc6 via click_id: 1050 JPY × 0.0067 × 100 = 703.5 → 704 (703 is odd), books has no
    // configured rate → amazon 0.04: 28.16 → 28; jc7 via viewer u5, 2 units: 12.345 USD → 1234.5 → 1234
    // (even), × 0.04 = 49.36 → 49. Sums: 2 orders, 3 units, 704 + 1234 = 1938, 28 + 49 = 77.
    "2026-11-02|c1|bio|amazon||A-BOOK|0|0|0|1|1|0|2|3|1938|77|0|0|0",
    // jv1 and jk1 at 01:30 local.
    "2026-11-02|c1|post|amazon||A-BEAUTY|1|1|0|1|1|0|0|0|0|0|0|0|0",
    // jk2 (u3) and the bot click jk-bot.
    "2026-11-02|c2|bio|amazon||A-BEAUTY|0|0|0|1|1|1|0|0|0|0|0|0|0",
    // jk3 (u4); jc4 (retry dropped): 1110 c × 0.15 = 166.5 → 166 (even); jc5 via viewer u4:
    // 1150 × 0.15 = 172.5 → 172 (even). Per-order rounding: 166 + 172 = 338 (not round(2260 × 0.15) = 339).
    "2026-11-02|c3|post|brand_store|lumi-skin|L-1|0|0|0|1|1|0|2|2|2260|338|0|0|0",
    // jc2, 1 ms past the window → unattributed: 1235 × 0.10 = 123.5 → 124 (123 is odd).
    "2026-11-03|||amazon||A-BEAUTY|0|0|0|0|0|0|1|1|1235|124|0|0|0",
    // jc1 at exactly +24 h → jk1 (c1 post): 1245 × 0.10 = 124.5 → 124 (even).
    "2026-11-03|c1|post|amazon||A-BEAUTY|0|0|0|0|0|0|1|1|1245|124|0|0|0",
    // jr4 refunds J-4 with J-4's attribution: 1110 c, 166 reversed.
    "2026-11-04|c3|post|brand_store|lumi-skin|L-1|0|0|0|0|0|0|0|0|0|0|1|1110|166",
  ]

  /// Asia/Kolkata (UTC+05:30) days start at hh:30 UTC, inside an hour of `views` and `clicks`
  /// rowids (HourRowID): the hour's events split between two days, to the millisecond, both when
  /// aggregating what ingest marked and with `--rebuild`.
  @Test func halfHourTimeZoneSplitsAnHourBetweenDays() throws {
    let dir = try TemporaryDirectory()
    let config = try dir.write("kolkata.toml", "timezone = \"Asia/Kolkata\"\n")
    let traffic = #""creator_id":"c1","placement":"post","product_id":"B001","platform":"amazon""#
    try dir.writeGzip(
      "logs/kolkata.ndjson.gz",
      lines: [
        // 2026-11-01 in Kolkata (until 18:30Z).
        #"{"type":"view","event_id":"v1","ts":"2026-11-01T18:10:00Z","viewer_id":"u1",\#(traffic)}"#,
        #"{"type":"click","event_id":"k1","ts":"2026-11-01T18:20:00Z","viewer_id":"u1",\#(traffic)}"#,
        #"{"type":"view","event_id":"v2","ts":"2026-11-01T18:29:59.999Z","viewer_id":"u2",\#(traffic)}"#,
        // 2026-11-02 in Kolkata, the same UTC hour.
        #"{"type":"view","event_id":"v3","ts":"2026-11-01T18:30:00Z","viewer_id":"u3",\#(traffic)}"#,
        #"{"type":"click","event_id":"k2","ts":"2026-11-01T18:45:00Z","viewer_id":"u3",\#(traffic)}"#,
        #"{"type":"view","event_id":"v4","ts":"2026-11-01T18:59:59.999Z","viewer_id":"u3",\#(traffic)}"#,
        // 2026-11-02 in Kolkata, 2026-11-01 in UTC; alone in its UTC hour.
        #"{"type":"view","event_id":"v5","ts":"2026-11-01T20:00:00Z","viewer_id":"u4",\#(traffic)}"#,
      ])
    let db = dir.file("pipeline.sqlite")
    try runPipeline(db: db, config: config, inputs: [dir.file("logs")])
    let expected = [
      "2026-11-01|c1|post|amazon||B001|2|2|0|1|1|0|0|0|0|0|0|0|0",
      "2026-11-02|c1|post|amazon||B001|3|2|0|1|1|0|0|0|0|0|0|0|0",
    ]
    #expect(try TestDatabase(db).dailyMetrics() == expected)
    let rebuild = try Executables.stage("aggregate", ["--db", db, "--config", config, "--rebuild"])
    #expect(rebuild.status == 0, "\(rebuild.stderr)")
    #expect(try TestDatabase(db).dailyMetrics() == expected)
  }

  // MARK: - Rejects

  /// Rejected lines keep file, line number (1-based over the decompressed stream, CSV header is
  /// line 1, blank lines counted), reason code and raw text; good lines of the same files count.
  @Test func rejectsKeepFileLineReasonAndRawText() throws {
    let dir = try TemporaryDirectory()
    let csvLines = [
      "type,event_id,ts,creator_id,viewer_id,user_agent",  // 1: header
      #"view,r1,2026-11-01T10:00:00Z,c1,u1,"Mozilla/5.0 (X11, Linux)""#,  // 2: good
      "",  // 3: blank
      "view,r2,2026-11-01T10:00:00Z,c1",  // 4: 4 cells for 6 columns
      "click,r3,2026-11-01T10:00:00Z,c1,u1,",  // 5: a click needs product_id
      "view,r4,yesterday,c1,u1,",  // 6
      "purchase,r5,2026-11-01T10:00:00Z,c1,u1,",  // 7
      "",  // 8: blank
      "view,,2026-11-01T10:00:00Z,c1,u1,",  // 9: empty cell = absent
      #"view,r6,2026-11-01T10:00:00Z,c1,u1,"unterminated"#,  // 10
      "view,r7,2026-11-01T11:00:00Z,c1,u3,",  // 11: good
    ]
    // CRLF line ends.
    let csvPath = try dir.write("in/bad.csv", csvLines.joined(separator: "\r\n") + "\r\n")
    let longLine =
      #"{"type":"view","event_id":"long","ts":"2026-11-01T12:00:00Z","creator_id":"c1","pad":""#
      + String(repeating: "x", count: (1 << 20) + 10) + #""}"#
    let jsonLines = [
      #"{"type":"view","event_id":"n1","ts":"2026-11-01T12:00:00Z","creator_id":"c1","viewer_id":"u2"}"#,  // 1: good
      #"{"type":"view","event_id":"n2","#,  // 2
      "",  // 3: blank
      // 4
      #"{"type":"conversion","event_id":"n4","ts":"2026-11-01T12:00:00Z","product_id":"B1","platform":"amazon","order_id":"o4","amount":"1.00","currency":"XYZ"}"#,
      #"{"type":"click","event_id":"n5","ts":"2026-11-01T12:00:00Z","creator_id":"c1","product_id":"B1","platform":"brand_store"}"#,  // 5
      // 6
      #"{"type":"conversion","event_id":"n6","ts":"2026-11-01T12:00:00Z","product_id":"B1","platform":"amazon","order_id":"o6","amount":"-1.00"}"#,
      "[1,2,3]",  // 7
      #"{"type":"view","event_id":"n8","ts":"2026-11-01T12:00:00Z","creator_id":"c1","placement":"story"}"#,  // 8
      longLine,  // 9
      #"{"type":"view","event_id":"n10","ts":"2026-11-01T13:00:00Z","creator_id":"c1"}"#,  // 10: good
      #"{"type":"view","event_id":"n11","ts":"2026-11-01T13:00:00Z"}"#,  // 11
    ]
    let jsonPath = try dir.writeGzip("in/bad.ndjson.gz", lines: jsonLines)
    let db = dir.file("pipeline.sqlite")
    // Rejected lines are not a failure: exit 0.
    try runPipeline(db: db, inputs: [csvPath, jsonPath])

    let expected: [[String]] = [
      [csvPath, "4", "malformed", csvLines[3]],
      [csvPath, "5", "missing_field:product_id", csvLines[4]],
      [csvPath, "6", "bad_value:ts", csvLines[5]],
      [csvPath, "7", "bad_value:type", csvLines[6]],
      [csvPath, "9", "missing_field:event_id", csvLines[8]],
      [csvPath, "10", "malformed", csvLines[9]],
      [jsonPath, "2", "malformed", jsonLines[1]],
      [jsonPath, "4", "bad_value:currency", jsonLines[3]],
      [jsonPath, "5", "missing_field:store", jsonLines[4]],
      [jsonPath, "6", "bad_value:amount", jsonLines[5]],
      [jsonPath, "7", "malformed", jsonLines[6]],
      [jsonPath, "8", "bad_value:placement", jsonLines[7]],
      // Only the first KiB of a line over 1 MiB is kept.
      [jsonPath, "9", "line_too_long", String(longLine.prefix(1024))],
      [jsonPath, "11", "missing_field:creator_id", jsonLines[10]],
    ]
    let t = try TestDatabase(db)
    let rejects = try t.rows("SELECT path, line, reason, raw FROM rejects ORDER BY path, line")
    #expect(rejects == expected)

    // Good lines count, rejected ones nowhere: r1 (u1), r7 (u3), n1 (u2), n10 (no viewer).
    #expect(try t.dailyMetrics() == ["2026-11-01|c1|bio||||4|3|0|0|0|0|0|0|0|0|0|0|0"])
  }
}

// MARK: - Helpers

/// Helpers of EndToEndTests and RunPropertiesTests.
enum E2E {}

extension E2E {
  /// A CSV file: the header and one row per dictionary (missing columns are empty cells).
  static func csvText(_ header: [String], _ rows: [[String: String]]) -> String {
    func cell(_ text: String) -> String {
      text.contains(where: { $0 == "," || $0 == "\"" }) ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }
    var out = header.joined(separator: ",") + "\n"
    for row in rows {
      precondition(Set(row.keys).isSubset(of: Set(header)), "unknown column in \(row)")
      out += header.map { cell(row[$0] ?? "") }.joined(separator: ",") + "\n"
    }
    return out
  }

  /// Rows only in one of the two tables, for readable failure messages.
  static func diff(_ expected: [String], _ actual: [String]) -> String {
    let missing = expected.filter { !actual.contains($0) }
    let unexpected = actual.filter { !expected.contains($0) }
    return "missing: \(missing)\nunexpected: \(unexpected)"
  }
}
