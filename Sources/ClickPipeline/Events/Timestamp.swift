/// Timestamp parsing and civil-date arithmetic (CONTRACT §2 `ts`, §6), without Foundation.
///
/// ```swift
/// Timestamp.parseRFC3339("2026-11-01T10:00:00.1239+07:00")  // 1761966000123 (ms, truncated)
/// Timestamp.civilDate(daysSinceEpoch: 20393)                 // "2025-10-31"
/// ```
public enum Timestamp {
  /// The latest accepted instant, 9999-12-31T23:59:59.999Z, in epoch milliseconds.
  public static let maxMilliseconds: Int64 = 253_402_300_799_999

  /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` (`T` may be `t` or a space, `Z` may be `z`)
  /// into Unix epoch milliseconds; extra fraction digits are truncated. Returns `nil` when invalid.
  public static func parseRFC3339(_ b: UnsafeRawBufferPointer) -> Int64? {
    let n = b.count
    guard n >= 20 else { return nil }
    guard let year = fourDigits(b, 0), b[4] == UInt8(ascii: "-"),
      let month = twoDigits(b, 5), b[7] == UInt8(ascii: "-"),
      let day = twoDigits(b, 8),
      b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t") || b[10] == UInt8(ascii: " "),
      let hour = twoDigits(b, 11), b[13] == UInt8(ascii: ":"),
      let minute = twoDigits(b, 14), b[16] == UInt8(ascii: ":"),
      let second = twoDigits(b, 17)
    else { return nil }
    guard (1...12).contains(month), day >= 1, day <= daysInMonth(year: year, month: month),
      hour <= 23, minute <= 59, second <= 59
    else { return nil }
    var i = 19
    var millis = 0
    if b[i] == UInt8(ascii: ".") {
      i += 1
      var fractionDigits = 0
      while i < n, b[i] &- 48 < 10 {
        if fractionDigits < 3 { millis = millis * 10 + Int(b[i] &- 48) }
        fractionDigits += 1
        i += 1
      }
      guard fractionDigits > 0 else { return nil }
      if fractionDigits < 3 {
        for _ in fractionDigits..<3 { millis *= 10 }
      }
    }
    guard i < n else { return nil }
    var offsetMinutes = 0
    if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") {
      i += 1
    } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
      guard n - i >= 6, let oh = twoDigits(b, i + 1), b[i + 3] == UInt8(ascii: ":"),
        let om = twoDigits(b, i + 4), oh <= 23, om <= 59
      else { return nil }
      offsetMinutes = (oh * 60 + om) * (b[i] == UInt8(ascii: "-") ? -1 : 1)
      i += 6
    } else {
      return nil
    }
    guard i == n else { return nil }
    let days = daysSinceEpoch(year: year, month: month, day: day)
    let seconds =
      Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
      - Int64(offsetMinutes * 60)
    let ms = seconds * 1000 + Int64(millis)
    guard ms >= 0, ms <= maxMilliseconds else { return nil }
    return ms
  }

  /// The two decimal digits at `at` (the caller checked the bounds), or `nil`.
  @inline(__always)
  private static func twoDigits(_ b: UnsafeRawBufferPointer, _ at: Int) -> Int? {
    let high = b[at] &- 48
    let low = b[at + 1] &- 48
    guard high < 10, low < 10 else { return nil }
    return Int(high) * 10 + Int(low)
  }

  @inline(__always)
  private static func fourDigits(_ b: UnsafeRawBufferPointer, _ at: Int) -> Int? {
    guard let high = twoDigits(b, at), let low = twoDigits(b, at + 2) else { return nil }
    return high * 100 + low
  }

  /// Parses unsigned decimal digits as epoch milliseconds (`0...maxMilliseconds`).
  public static func parseEpochMilliseconds(_ b: UnsafeRawBufferPointer) -> Int64? {
    guard !b.isEmpty, b.count <= 16 else { return nil }
    var value: Int64 = 0
    for byte in b {
      let d = byte &- 48
      guard d < 10 else { return nil }
      value = value * 10 + Int64(d)
    }
    return value <= maxMilliseconds ? value : nil
  }

  public static func isLeapYear(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

  public static func daysInMonth(year: Int, month: Int) -> Int {
    switch month {
    case 2: isLeapYear(year) ? 29 : 28
    case 4, 6, 9, 11: 30
    default: 31
    }
  }

  /// Days from 1970-01-01 to the given proleptic Gregorian date (Howard Hinnant's algorithm).
  public static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let mp = (month + 9) % 12
    let doy = (153 * mp + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146_097 + doe - 719_468
  }

  /// The date `daysSinceEpoch` days after 1970-01-01.
  public static func civil(daysSinceEpoch z0: Int) -> (year: Int, month: Int, day: Int) {
    let z = z0 + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let day = doy - (153 * mp + 2) / 5 + 1
    let month = mp < 10 ? mp + 3 : mp - 9
    return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
  }

  /// `YYYY-MM-DD` for a day number.
  public static func civilDate(daysSinceEpoch: Int) -> String {
    let (y, m, d) = civil(daysSinceEpoch: daysSinceEpoch)
    func pad(_ v: Int, _ width: Int) -> String {
      let s = String(v)
      return String(repeating: "0", count: max(0, width - s.count)) + s
    }
    return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))"
  }

  /// `YYYY-MM-DDTHH:MM:SSZ` (UTC) for milliseconds since 1970, with `.mmm` when they are not 0.
  public static func rfc3339(milliseconds ms: Int64) -> String {
    let day = ms >= 0 ? ms / 86_400_000 : (ms - 86_399_999) / 86_400_000
    let rest = ms - day * 86_400_000
    func pad(_ v: Int64, _ width: Int) -> String {
      let s = String(v)
      return String(repeating: "0", count: max(0, width - s.count)) + s
    }
    let seconds = rest / 1000
    let fraction = rest % 1000
    return civilDate(daysSinceEpoch: Int(day)) + "T" + pad(seconds / 3600, 2) + ":" + pad(seconds / 60 % 60, 2) + ":"
      + pad(seconds % 60, 2) + (fraction == 0 ? "" : "." + pad(fraction, 3)) + "Z"
  }

  /// The day number of a `YYYY-MM-DD` string.
  public static func dayNumber(_ text: String) -> Int? {
    var copy = text
    return copy.withUTF8 { u -> Int? in
      let b = UnsafeRawBufferPointer(u)
      guard b.count == 10, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-") else { return nil }
      var parts = [0, 0, 0]
      for (index, range) in [0..<4, 5..<7, 8..<10].enumerated() {
        for i in range {
          let d = b[i] &- 48
          guard d < 10 else { return nil }
          parts[index] = parts[index] * 10 + Int(d)
        }
      }
      guard (1...12).contains(parts[1]), parts[2] >= 1,
        parts[2] <= daysInMonth(year: parts[0], month: parts[1])
      else { return nil }
      return daysSinceEpoch(year: parts[0], month: parts[1], day: parts[2])
    }
  }
}
