import Testing

@testable import ClickPipeline

/// The Markdown helpers that every report line goes through.
@Suite struct MarkdownTests {
  @Test(
    arguments: [(String, String)]([
      ("plain text, ünïcode — and digits 42", "plain text, ünïcode — and digits 42"),
      ("a|b", #"a\|b"#),
      (
        "*bold* _it_ `code` [link](x) <b> #1 ~x~ $5 back\\slash", ##"\*bold\* \_it\_ \`code\` \[link\](x) \<b\> \#1 \~x\~ \$5 back\\slash"##
      ),
      // One Character each, but the `|` and the line break must still be caught.
      ("end|\u{301}", "end\\|\u{301}"),
      ("two\r\nlines\tand\nmore", "two  lines and more"),
      ("", ""),
    ]))
  func escapeMakesTextSafeForATableCell(text: String, escaped: String) {
    #expect(Markdown.escape(text) == escaped)
  }

  /// Commission rates in statements are exact percentages of the configured decimals.
  @Test(arguments: [("0.045", "4.5%"), ("0.1", "10%"), ("0.04", "4%"), ("1", "100%"), ("0", "0%"), ("0.00125", "0.125%")])
  func ratesAreExactPercentages(rate: String, percent: String) {
    #expect(StatementRenderer.percent(ExactDecimal(rate)!) == percent)
  }

  @Test func moneyAndCountsAreGroupedExactly() {
    #expect(Markdown.usd(0) == "$0.00")
    #expect(Markdown.usd(5) == "$0.05")
    #expect(Markdown.usd(99_999) == "$999.99")
    #expect(Markdown.usd(100_000) == "$1,000.00")
    #expect(Markdown.usd(123_456_789) == "$1,234,567.89")
    #expect(Markdown.usd(-100_050) == "-$1,000.50")
    #expect(Markdown.usd(Int64.min) == "-$92,233,720,368,547,758.08")
    #expect(Markdown.count(999) == "999")
    #expect(Markdown.count(1_000) == "1,000")
    #expect(Markdown.count(-1_234_567) == "-1,234,567")
    #expect(Markdown.usd(-5) == "-$0.05")
    #expect(Markdown.usd(Int64.max) == "$92,233,720,368,547,758.07")
    #expect(Markdown.count(0) == "0")
    #expect(Markdown.count(Int64.min) == "-9,223,372,036,854,775,808")
  }

  @Test func tablesHaveAHeaderAnAlignmentRowAndOneLinePerRow() {
    #expect(
      Markdown.table(["Product", "Orders", "Revenue"], [["p1", "3", "$1.00"], ["p\\|2", "10", "$1,000.00"]], alignRight: [1, 2])
        == "| Product | Orders | Revenue |\n| --- | ---: | ---: |\n| p1 | 3 | $1.00 |\n| p\\|2 | 10 | $1,000.00 |\n")
    #expect(Markdown.table(["A"], []) == "| A |\n| --- |\n")
  }

  /// ``MarkdownText`` writes, cell by cell into its buffer, what the String helpers give.
  @Test func markdownTextWritesWhatTheHelpersGive() {
    let rows: [(Int64, Int64, String)] = [(0, 0, ""), (-100_050, 1_234, "a|b"), (.max, .min, "x_y ünï"), (.min, .max, "\r\n")]
    let header = ["Revenue", "Count", "Text", "Id"]
    var text = MarkdownText()
    text.append("stale")
    text.removeAll()
    text.append(Markdown.tableHead(header, alignRight: [0, 1]))
    for (cents, count, raw) in rows {
      text.beginRow()
      text.cell()
      text.usd(cents)
      text.cell()
      text.count(count)
      text.cell()
      text.escaped(raw)
      text.cell()
      text.code(raw)
      text.endRow()
    }
    let expected = Markdown.table(
      header, rows.map { [Markdown.usd($0.0), Markdown.count($0.1), Markdown.escape($0.2), Markdown.code($0.2)] }, alignRight: [0, 1])
    #expect(String(decoding: text.bytes, as: UTF8.self) == expected)
  }
}
