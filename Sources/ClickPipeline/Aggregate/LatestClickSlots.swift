/// Rule 2's candidates for the orders of one (viewer, platform, store, product), kept as the
/// clicks stream by: only a click that is the latest before some order can be chosen, so
/// memory follows the orders, not the viewer's clicks.
///
/// The orders' distinct timestamps `o0 < o1 < …` cut time into slots `(o(j-1), oj]`; each slot
/// keeps its latest click (ties to the greatest event id). An order at `oj` takes the latest
/// click at or before it: the kept click of the nearest non-empty slot at or before `j`.
struct LatestClickSlots<Click> {
  private let times: [Int64]
  private var best: [(ts: Int64, eventID: [UInt8], click: Click)?]

  init(orderTimes: [Int64]) {
    times = Array(Set(orderTimes)).sorted()
    best = Array(repeating: nil, count: times.count)
  }

  /// Offers a click at `ts` with event id `eventID`; `make` builds it only if it is kept.
  mutating func offer(ts: Int64, eventID: UnsafeRawBufferPointer, _ make: () -> Click) {
    // The first order at or after the click.
    var low = 0
    var high = times.count
    while low < high {
      let mid = (low + high) / 2
      if times[mid] < ts { low = mid + 1 } else { high = mid }
    }
    guard low < times.count else { return }
    if let kept = best[low] {
      guard ts > kept.ts || (ts == kept.ts && kept.eventID.lexicographicallyPrecedes(eventID)) else { return }
    }
    best[low] = (ts, Array(eventID), make())
  }

  /// The latest click at or before `ts` (an order's timestamp given at `init`), with its
  /// timestamp; `nil` if none came.
  func latest(atOrBefore ts: Int64) -> (ts: Int64, click: Click)? {
    var low = 0
    var high = times.count
    while low < high {
      let mid = (low + high) / 2
      if times[mid] <= ts { low = mid + 1 } else { high = mid }
    }
    var j = low - 1
    while j >= 0 {
      if let kept = best[j] { return (kept.ts, kept.click) }
      j -= 1
    }
    return nil
  }
}
