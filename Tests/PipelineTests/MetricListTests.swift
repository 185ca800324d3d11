import Foundation
import Testing

@testable import ClickPipeline

/// The metric columns are declared once (`MetricsRow.columnNames`): the table, the report's
/// totals, the Spark job and the Parquet loader follow that list or are checked against it
/// here, so adding a metric cannot leave one of them behind.
@Suite struct MetricListTests {
  /// The strings of the Python list assigned to `name` in `file` (`NAME = [ "a", "b", ... ]`).
  static func pythonList(_ name: String, in file: String) throws -> [String] {
    let text = try String(contentsOfFile: SampleDataTests.root + "/" + file, encoding: .utf8)
    guard let start = text.range(of: "\n\(name) = ["), let end = text.range(of: "]", range: start.upperBound..<text.endIndex)
    else { return [] }
    let body = text[start.upperBound..<end.lowerBound]
    return body.split(separator: "\"", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 1 }.map {
      String($0.element)
    }
  }

  @Test(arguments: ["spark/clickpipeline_job.py", "spark/load_daily_metrics.py"])
  func theSparkFilesListTheSameColumns(file: String) throws {
    #expect(try Self.pythonList("METRICS", in: file) == MetricsRow.columnNames)
    #expect(try Self.pythonList("DIMENSIONS", in: file) == MetricsRow.dimensionNames)
  }

  @Test func theTableHasTheDeclaredColumns() throws {
    let dir = try TemporaryDirectory()
    let db = try Schema.open(path: dir.file("db.sqlite"))
    let columns = try db.rows("SELECT name FROM pragma_table_info('daily_metrics') ORDER BY cid").map(\.[0].textValue)
    #expect(columns == MetricsRow.dimensionNames + MetricsRow.columnNames)
    #expect(MetricsRow.summedColumnNames == MetricsRow.columnNames.filter { $0 != "unique_viewers" && $0 != "unique_clickers" })
  }

  /// The report's grand totals are added with overflow checks: a sum past 2^63-1 is refused
  /// and changes nothing (the report then stops with what to do).
  @Test func checkedSumsRefuseAnOverflowAndChangeNothing() {
    var total = MetricsRow()
    total.revenueCents = Int64.max - 1
    total.views = 5
    var one = MetricsRow()
    one.revenueCents = 1
    one.views = 1
    let fitted = total.addChecked(one)
    #expect(fitted)
    #expect(total.revenueCents == Int64.max && total.views == 6)
    let overflowed = !total.addChecked(one)
    #expect(overflowed)
    #expect(total.revenueCents == Int64.max && total.views == 6)
  }

  /// The spool's row format: every metric, in `columnNames` order, 8 little-endian bytes each.
  @Test func spooledValuesFollowTheDeclaredColumns() {
    var row = MetricsRow()
    (row.views, row.uniqueViewers, row.botViews, row.clicks, row.uniqueClickers, row.botClicks) = (1, 2, 3, 4, 5, 6)
    (row.orders, row.units, row.revenueCents, row.commissionCents) = (7, 8, 9, 10)
    (row.refunds, row.refundedCents, row.reversedCommissionCents) = (11, 12, -13)
    var bytes: [UInt8] = []
    row.appendValues(to: &bytes)
    #expect(bytes.count == 8 * MetricsRow.columnNames.count)
    let values = (0..<bytes.count / 8).map { i in
      bytes.withUnsafeBytes { Int64(littleEndian: $0.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)) }
    }
    #expect(values == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, -13])
  }
}
