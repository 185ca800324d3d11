import Testing

@testable import ClickPipeline

/// The per-creator queries of the report and of closing a month read one creator's orders
/// through `orders_by_creator`, never the period's orders once per creator (the plan is the
/// work done: 5,000 creators × a scan of the period took a report from 1.2 s to 60 s).
@Suite struct PerCreatorQueryPlanTests {
  @Test(arguments: [ReportScan.postsSQL(only: true), MonthCloser.accountSQL, LedgerStore.changedOrdersSQL])
  func perCreatorQueriesUseTheCreatorIndex(sql: String) throws {
    let dir = try TemporaryDirectory()
    let db = try Schema.open(path: dir.file("db.sqlite"))
    let plan = try db.rows("EXPLAIN QUERY PLAN " + sql).map { $0.last?.textValue ?? "" }.joined(separator: "\n")
    #expect(plan.contains("USING INDEX orders_by_creator (creator_id=? AND day>? AND day<?)"), "\(plan)")
    #expect(!plan.contains("SCAN") && !plan.contains("USING PRIMARY KEY (day>? AND day<?)"), "\(plan)")
  }

  /// Every creator's posts come from one query over the period's days, walked beside the
  /// creators: not through `orders_by_creator`, which would search `orders` once per order.
  @Test func everyCreatorsPostsReadThePeriodOnce() throws {
    let dir = try TemporaryDirectory()
    let db = try Schema.open(path: dir.file("db.sqlite"))
    let plan = try db.rows("EXPLAIN QUERY PLAN " + ReportScan.postsSQL(only: false)).map { $0.last?.textValue ?? "" }
      .joined(separator: "\n")
    #expect(plan.contains("SEARCH orders USING PRIMARY KEY (day>? AND day<?)"), "\(plan)")
    #expect(!plan.contains("orders_by_creator") && !plan.contains("SCAN"), "\(plan)")
  }
}
