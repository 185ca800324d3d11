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
}
