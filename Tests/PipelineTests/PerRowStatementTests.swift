import Testing

@testable import ClickPipeline

/// Statements `aggregate` runs once per order or per row compile without a temporary B-tree:
/// SQLite builds one on every run of such a statement (a table created and two 16 KiB pages
/// zeroed), which made a tenth of aggregate's instructions. The program is the work done.
@Suite struct PerRowStatementTests {
  /// The opcodes of `sql` as `db` compiles it now.
  private func opcodes(_ db: SQLiteDatabase, _ sql: String) throws -> [String] {
    try db.rows("EXPLAIN " + sql).map { $0[1].textValue }
  }

  /// Ingest's statements run once per conversion, per order or per named click: none builds
  /// a temporary B-tree or sorts.
  @Test(arguments: [
    ConversionRow.insertSQL, StagingWriter.copiesOfIDSQL, DirtyHours.ConversionHours.ofOrderSQL,
    DirtyHours.ConversionHours.namingClickSQL,
  ])
  func perRowStatementsBuildNoTemporaryTable(sql: String) throws {
    let dir = try TemporaryDirectory()
    let db = try Schema.open(path: dir.file("db.sqlite"))
    let program = try opcodes(db, sql)
    #expect(!program.contains("OpenEphemeral") && !program.contains("SorterOpen"), "\(sql)")
  }

  /// An order's ordered rows are read unsorted; the earliest is chosen in Swift
  /// (`ORDER BY ts, event_id LIMIT 1` sorted them in a temporary B-tree per order).
  @Test func anOrdersRowsAreReadWithoutSorting() throws {
    let dir = try TemporaryDirectory()
    let db = try Schema.open(path: dir.file("db.sqlite"))
    let program = try opcodes(db, Attribution.orderedRowsSQL)
    #expect(!program.contains("OpenEphemeral") && !program.contains("SorterOpen"), "\(program)")
    let plan = try db.rows("EXPLAIN QUERY PLAN " + Attribution.orderedRowsSQL).map { $0.last?.textValue ?? "" }
    #expect(plan.contains { $0.contains("USING INDEX conversions_by_order (order_key=?)") }, "\(plan)")
  }

  /// While the writer writes, an `orders` row is inserted without evaluating
  /// `rule IN (four values)`, which SQLite does through a temporary table per row; once it is
  /// done, the connection checks constraints again.
  @Test func theWritersOrderInsertBuildsNoTemporaryTable() throws {
    let dir = try TemporaryDirectory()
    let path = dir.file("db.sqlite")
    let db = try Schema.open(path: path)
    _ = try StagedWrite(db: db)
    #expect(try opcodes(db, DayWriter.insertOrderSQL).contains("OpenEphemeral"))
    try db.beginWrite()
    let writer = try DayWriter(db: db, databasePath: path)
    #expect(try !opcodes(db, DayWriter.insertOrderSQL).contains("OpenEphemeral"))
    try writer.finish()
    #expect(try opcodes(db, DayWriter.insertOrderSQL).contains("OpenEphemeral"))
    try db.execute("ROLLBACK")
  }
}
