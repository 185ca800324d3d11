/// An exact, non-binary decimal number: `significand / 10^scale`.
///
/// Amounts, FX rates and commission rates travel from text to cents through this type and
/// never through `Double`, so `19.99` is exactly 19.99 (CONTRACT §5, §9).
///
/// ```swift
/// let amount = ExactDecimal("19.99")!          // significand 1999, scale 2
/// let rate = ExactDecimal("1.08")!
/// amount.roundedProduct(rate, times: 100)      // 2159 (21.5892 cents → 2159)
/// ```
public struct ExactDecimal: Sendable, Hashable, CustomStringConvertible {
  /// The digits, sign included.
  public let significand: Int128
  /// The number of digits after the decimal point, `0...maxScale`; trailing zeros are removed.
  public let scale: Int

  /// The most fractional digits kept; text with more significant fractional digits is rejected.
  public static let maxScale = 18
  /// Exclusive bound on the magnitude of parsed numbers: keeps every product below in range.
  public static let maxMagnitude: Int128 = 1_000_000_000_000  // 10^12

  public static let zero = ExactDecimal(normalizing: 0, scale: 0)

  /// Creates `significand / 10^scale`, removing trailing fractional zeros.
  public init(normalizing significand: Int128, scale: Int) {
    var s = significand
    var k = scale
    while k > 0 && s % 10 == 0 {
      s /= 10
      k -= 1
    }
    self.significand = s
    self.scale = k
  }

  /// An integer value.
  public init(_ integer: Int) {
    self.init(normalizing: Int128(integer), scale: 0)
  }

  /// Parses decimal text such as `19.99`, `-0.5`, `7`, `1.5e2`.
  ///
  /// Returns `nil` for anything else, for more than ``maxScale`` significant fractional digits,
  /// and for magnitudes of ``maxMagnitude`` or more.
  public init?(_ text: some StringProtocol) {
    var copy = String(text)
    let parsed = copy.withUTF8 { ExactDecimal.parse(UnsafeRawBufferPointer($0)) }
    guard let parsed else { return nil }
    self = parsed
  }

  /// Parses the bytes of decimal text (JSON number grammar, plus leading zeros and a
  /// leading `+`): `[+-]digits[.digits][(e|E)[+-]digits]`.
  public static func parse(_ bytes: UnsafeRawBufferPointer) -> ExactDecimal? {
    var i = 0
    let n = bytes.count
    guard n > 0 else { return nil }
    var negative = false
    if bytes[0] == UInt8(ascii: "-") || bytes[0] == UInt8(ascii: "+") {
      negative = bytes[0] == UInt8(ascii: "-")
      i = 1
    }
    var digits: Int128 = 0
    var significantDigits = 0
    var scale = 0
    var sawDigit = false
    // Integer part.
    while i < n, bytes[i] &- 48 < 10 {
      sawDigit = true
      let d = Int128(bytes[i] &- 48)
      if digits != 0 || d != 0 { significantDigits += 1 }
      if significantDigits > 36 { return nil }
      digits = digits * 10 + d
      i += 1
    }
    if i < n, bytes[i] == UInt8(ascii: ".") {
      i += 1
      var fractionDigits = 0
      while i < n, bytes[i] &- 48 < 10 {
        let d = Int128(bytes[i] &- 48)
        if digits != 0 || d != 0 { significantDigits += 1 }
        if significantDigits > 36 || scale > 60 { return nil }
        digits = digits * 10 + d
        scale += 1
        fractionDigits += 1
        i += 1
      }
      guard fractionDigits > 0 else { return nil }
    }
    guard sawDigit else { return nil }
    if i < n, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
      i += 1
      var expNegative = false
      if i < n, bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") {
        expNegative = bytes[i] == UInt8(ascii: "-")
        i += 1
      }
      var exponent = 0
      var expDigits = 0
      while i < n, bytes[i] &- 48 < 10 {
        exponent = exponent * 10 + Int(bytes[i] &- 48)
        expDigits += 1
        if exponent > 100 { return nil }
        i += 1
      }
      guard expDigits > 0 else { return nil }
      scale += expNegative ? exponent : -exponent
    }
    guard i == n else { return nil }
    // Remove trailing zeros while the scale is positive, then bring a negative scale to 0.
    while scale > 0 && digits != 0 && digits % 10 == 0 {
      digits /= 10
      scale -= 1
    }
    if digits == 0 { scale = 0 }
    while scale < 0 {
      let (product, overflow) = digits.multipliedReportingOverflow(by: 10)
      guard !overflow else { return nil }
      digits = product
      scale += 1
    }
    guard scale <= maxScale else { return nil }
    guard digits < maxMagnitude * pow10(scale) else { return nil }
    return ExactDecimal(exact: negative ? -digits : digits, scale: scale)
  }

  private init(exact significand: Int128, scale: Int) {
    self.significand = significand
    self.scale = scale
  }

  public var isNegative: Bool { significand < 0 }

  /// Canonical text: `19.99`, `0.045`, `7`, `-0.5`.
  public var description: String {
    let magnitude = significand.magnitude
    var text = String(magnitude)
    if scale > 0 {
      if text.count <= scale {
        text = String(repeating: "0", count: scale - text.count + 1) + text
      }
      text.insert(".", at: text.index(text.endIndex, offsetBy: -scale))
    }
    return significand < 0 ? "-" + text : text
  }

  /// `round_half_even(self × other × factor)` as an integer, or `nil` when it does not fit `Int64`.
  ///
  /// Computed in 256-bit intermediate precision, so it is exact for every value this type holds.
  public func roundedProduct(_ other: ExactDecimal, times factor: Int) -> Int64? {
    let negative = (significand < 0) != ((other.significand < 0) != (factor < 0))
    let divisor = UInt128(ExactDecimal.pow10(scale + other.scale))
    // a × b in 256 bits, divided by 10^(scales) first so that × factor stays in 128 bits.
    let wide = significand.magnitude.multipliedFullWidth(by: other.significand.magnitude)
    guard wide.high < divisor else { return nil }
    let (q1, r1) = divisor.dividingFullWidth(wide)
    let f = UInt128(factor.magnitude)
    let (scaledQuotient, o1) = q1.multipliedReportingOverflow(by: f)
    let (scaledRemainder, o2) = r1.multipliedReportingOverflow(by: f)
    guard !o1, !o2 else { return nil }
    let (quotient, o3) = scaledQuotient.addingReportingOverflow(scaledRemainder / divisor)
    guard !o3 else { return nil }
    let remainder = scaledRemainder % divisor
    var rounded = quotient
    let twice = remainder * 2  // remainder < 10^36, so this cannot overflow
    if twice > divisor || (twice == divisor && quotient % 2 == 1) {
      rounded += 1
    }
    guard rounded <= UInt128(Int64.max) else { return nil }
    let value = Int64(rounded)
    return negative ? -value : value
  }

  /// `round_half_even(integer × self)`, for commission on cents.
  public func roundedProduct(of integer: Int64) -> Int64? {
    roundedProduct(ExactDecimal(normalizing: Int128(integer), scale: 0), times: 1)
  }

  /// `self + other`, exactly, or `nil` when the sum does not fit 128 bits at the larger scale.
  public func adding(_ other: ExactDecimal) -> ExactDecimal? {
    let scale = max(self.scale, other.scale)
    let (a, o1) = significand.multipliedReportingOverflow(by: ExactDecimal.pow10(scale - self.scale))
    let (b, o2) = other.significand.multipliedReportingOverflow(by: ExactDecimal.pow10(scale - other.scale))
    let (sum, o3) = a.addingReportingOverflow(b)
    guard !o1, !o2, !o3 else { return nil }
    return ExactDecimal(normalizing: sum, scale: scale)
  }

  /// `10^exponent` for `0...38`.
  static func pow10(_ exponent: Int) -> Int128 {
    var result: Int128 = 1
    for _ in 0..<exponent { result *= 10 }
    return result
  }
}

extension ExactDecimal: Comparable {
  /// Compares exactly; scales to a common scale when that fits in 128 bits, else compares
  /// integer parts first (they cannot both overflow) and then the fractions.
  public static func < (lhs: ExactDecimal, rhs: ExactDecimal) -> Bool {
    let scale = max(lhs.scale, rhs.scale)
    let (a, o1) = lhs.significand.multipliedReportingOverflow(by: pow10(scale - lhs.scale))
    let (b, o2) = rhs.significand.multipliedReportingOverflow(by: pow10(scale - rhs.scale))
    if !o1 && !o2 { return a < b }
    let (li, lf) = lhs.significand.quotientAndRemainder(dividingBy: pow10(lhs.scale))
    let (ri, rf) = rhs.significand.quotientAndRemainder(dividingBy: pow10(rhs.scale))
    if li != ri { return li < ri }
    return ExactDecimal(normalizing: lf, scale: lhs.scale) < ExactDecimal(normalizing: rf, scale: rhs.scale)
  }
}
