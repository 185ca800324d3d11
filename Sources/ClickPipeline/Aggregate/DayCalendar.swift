import Foundation

/// Calendar days in the configured IANA time zone (CONTRACT §6), as day numbers since 1970-01-01.
public struct DayCalendar: Sendable {
  public let timeZone: TimeZone

  public init(identifier: String) {
    timeZone = TimeZone(identifier: identifier) ?? TimeZone(secondsFromGMT: 0) ?? .current
  }

  /// Offset from UTC at an instant, in milliseconds.
  func offsetMilliseconds(at ms: Int64) -> Int64 {
    let date = Date(timeIntervalSince1970: TimeInterval(ms / 1000))
    return Int64(timeZone.secondsFromGMT(for: date)) * 1000
  }

  /// The local day number of an instant.
  public func day(ofMilliseconds ms: Int64) -> Int {
    let local = ms + offsetMilliseconds(at: ms)
    return Int(local >= 0 ? local / 86_400_000 : (local - 86_399_999) / 86_400_000)
  }

  /// The first instant (epoch ms) of local day `day`; a day always spans `start(day)..<start(day+1)`.
  public func start(ofDay day: Int) -> Int64 {
    // First millisecond whose local day is >= `day`, by binary search around the naive guess.
    let guess = Int64(day) * 86_400_000
    var low = guess - 30 * 3_600_000
    var high = guess + 30 * 3_600_000
    while low < high {
      let mid = low + (high - low) / 2
      if self.day(ofMilliseconds: mid) >= day { high = mid } else { low = mid + 1 }
    }
    return low
  }

  /// `YYYY-MM-DD` of a day number.
  public func text(ofDay day: Int) -> String { Timestamp.civilDate(daysSinceEpoch: day) }
}
