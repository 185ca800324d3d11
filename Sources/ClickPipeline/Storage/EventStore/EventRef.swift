/// Where a staged view or click lives, in 64 bits: its segment (48 bits) and its row in it
/// (16 bits, ``EventSegment/maxRows``). Segments are numbered in the order they are written,
/// so refs order events by arrival: the first copy of an event has the smallest ref.
struct EventRef: Hashable, Comparable, Sendable {
  let raw: UInt64

  init(raw: UInt64) { self.raw = raw }

  init(segmentID: Int64, row: Int) {
    precondition(row < EventSegment.maxRows && segmentID >= 0 && segmentID < 1 << 48)
    raw = UInt64(segmentID) << 16 | UInt64(row)
  }

  var segmentID: Int64 { Int64(raw >> 16) }
  var row: Int { Int(raw & 0xFFFF) }

  static func < (a: EventRef, b: EventRef) -> Bool { a.raw < b.raw }
}

/// The UTC day number of a timestamp in epoch milliseconds (floor division: days before 1970
/// are negative).
@inline(__always)
func utcDay(ofMilliseconds ts: Int64) -> Int64 {
  ts >= 0 ? ts / 86_400_000 : (ts + 1) / 86_400_000 - 1
}
