import Foundation
import Logging
import Testing

@testable import ClickPipeline

/// The recompute rule (``DirtyHours``) on its own, on a fresh database: which local days a
/// marked hour makes aggregate recompute, through the click windows, the time zone and the
/// refunds of orders on a recomputed day.
@Suite struct DirtyHoursTests {
  struct Case: CustomTestStringConvertible, Sendable {
    var name: String
    var ts: String
    var click: Platform?
    var zone = "UTC"
    var days: [String]
    var testDescription: String { name }
  }

  static let cases: [Case] = [
    Case(name: "a view: its own day", ts: "2026-11-02T10:00:00Z", click: nil, days: ["2026-11-02"]),
    Case(name: "an Amazon click: 24 hours on", ts: "2026-11-02T10:00:00Z", click: .amazon, days: ["2026-11-02", "2026-11-03"]),
    Case(
      name: "a brand-store click: 168 hours on", ts: "2026-11-02T10:00:00Z", click: .brandStore,
      days: (2...9).map { "2026-11-0\($0)" }),
    Case(name: "a day behind UTC", ts: "2026-11-03T06:00:00Z", click: nil, zone: "America/Los_Angeles", days: ["2026-11-02"]),
    Case(name: "a day ahead of UTC", ts: "2026-11-02T20:00:00Z", click: nil, zone: "Asia/Jakarta", days: ["2026-11-03"]),
    Case(
      name: "an hour that straddles two local days", ts: "2026-11-02T18:00:00Z", click: nil, zone: "Asia/Kolkata",
      days: ["2026-11-02", "2026-11-03"]),
  ]

  static func ms(_ text: String) -> Int64 {
    var text = text
    return text.withUTF8 { Timestamp.parseRFC3339(UnsafeRawBufferPointer($0))! }
  }

  @Test(arguments: cases) func markedHoursBecomeLocalDays(_ c: Case) throws {
    let dir = try TemporaryDirectory()
    let db = try Schema.open(path: dir.file("db.sqlite"))
    var dirty = DirtyHours()
    dirty.mark(Self.ms(c.ts), click: c.click)
    try dirty.write(to: db)
    var configuration = PipelineConfiguration.default
    configuration.timeZoneIdentifier = c.zone
    let calendar = DayCalendar(identifier: c.zone)
    #expect(try DirtyHours.days(db, calendar, configuration).map(calendar.text(ofDay:)) == c.days)
  }

  /// Recomputing an order's day recomputes the days of its refunds (they carry its attribution).
  @Test func anOrdersRefundsFollowIt() throws {
    let dir = try TemporaryDirectory()
    let path = dir.file("db.sqlite")
    let logs = try dir.write(
      "a.ndjson",
      [
        #"{"type":"conversion","event_id":"o1","ts":"2026-11-02T10:00:00Z","order_id":"O1","product_id":"p1","platform":"amazon","amount":"10"}"#,
        #"{"type":"conversion","event_id":"r1","ts":"2026-11-10T10:00:00Z","order_id":"O1","product_id":"p1","platform":"amazon","amount":"4","status":"refunded"}"#,
      ].joined(separator: "\n") + "\n")
    _ = try IngestRunner(
      options: IngestOptions(databasePath: path, inputPaths: [logs], configuration: .default), logger: Logger(label: "test")
    )
    .run()
    let db = try SQLiteDatabase(path: path)
    try db.execute("DELETE FROM dirty_hours")
    var dirty = DirtyHours()
    dirty.mark(Self.ms("2026-11-02T10:00:00Z"))
    try dirty.write(to: db)
    let calendar = DayCalendar(identifier: "UTC")
    #expect(try DirtyHours.days(db, calendar, .default).map(calendar.text(ofDay:)) == ["2026-11-02", "2026-11-10"])
  }

  /// Forgetting a conversion marks every other copy of its order, and the conversions that
  /// name a forgotten click (``DirtyHours/ConversionHours``).
  @Test func theOtherConversionsOfAChange() throws {
    let dir = try TemporaryDirectory()
    let path = dir.file("db.sqlite")
    let logs = try dir.write(
      "a.ndjson",
      [
        #"{"type":"conversion","event_id":"o1","ts":"2026-11-02T10:00:00Z","order_id":"O1","product_id":"p1","platform":"amazon","amount":"10","click_id":"k9"}"#,
        #"{"type":"conversion","event_id":"o2","ts":"2026-11-05T10:00:00Z","order_id":"O1","product_id":"p1","platform":"amazon","amount":"10"}"#,
      ].joined(separator: "\n") + "\n")
    _ = try IngestRunner(
      options: IngestOptions(databasePath: path, inputPaths: [logs], configuration: .default), logger: Logger(label: "test")
    )
    .run()
    let db = try SQLiteDatabase(path: path)
    try db.execute("DELETE FROM dirty_hours")
    let lookups = try DirtyHours.ConversionHours(db: db)
    var dirty = DirtyHours()
    try lookups.markOrder(platform: "amazon", orderID: "O1", in: &dirty)
    #expect(try lookups.markConversionsNaming(click: "k9", in: &dirty))
    #expect(try !lookups.markConversionsNaming(click: "k0", in: &dirty))
    try dirty.write(to: db)
    let calendar = DayCalendar(identifier: "UTC")
    #expect(try DirtyHours.days(db, calendar, .default).map(calendar.text(ofDay:)) == ["2026-11-02", "2026-11-05"])
  }
}
