/// Where a staged event lives, in 64 bits: its kind (2 bits), then for a view or click its
/// segment (46 bits) and row in it (16 bits, ``EventSegment/maxRows``), for a conversion its
/// `conversion_row`.
struct EventRef: Hashable {
  let raw: UInt64

  init(raw: UInt64) { self.raw = raw }

  init(kind: EventKind, segmentID: Int64, row: Int) {
    precondition(kind != .conversion && row < EventSegment.maxRows && segmentID >= 0 && segmentID < 1 << 46)
    raw = UInt64(kind.rawValue) << 62 | UInt64(segmentID) << 16 | UInt64(row)
  }

  init(conversionRow: Int64) {
    precondition(conversionRow >= 0 && conversionRow < 1 << 62)
    raw = UInt64(EventKind.conversion.rawValue) << 62 | UInt64(conversionRow)
  }

  var kind: EventKind { EventKind(rawValue: Int(raw >> 62)) ?? .conversion }
  var segmentID: Int64 { Int64((raw >> 16) & (1 << 46 - 1)) }
  var row: Int { Int(raw & 0xFFFF) }
  var conversionRow: Int64 { Int64(raw & (1 << 62 - 1)) }
}

/// The UTC day number of a timestamp in epoch milliseconds (floor division: days before 1970
/// are negative).
@inline(__always)
func utcDay(ofMilliseconds ts: Int64) -> Int64 {
  ts >= 0 ? ts / 86_400_000 : (ts + 1) / 86_400_000 - 1
}
