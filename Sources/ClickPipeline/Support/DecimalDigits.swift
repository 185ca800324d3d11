/// The decimal digits of an unsigned integer, written once into a fixed 24-byte buffer (20
/// digits at most): what the report's CSV and Markdown cells are made of, with no `String`
/// per number.
struct DecimalDigits {
  private var buffer: (UInt64, UInt64, UInt64) = (0, 0, 0)
  /// How many digits (at least 1: `0` is one digit).
  private(set) var count = 0

  init(_ value: UInt64) {
    var rest = value
    var n = 0
    withUnsafeMutableBytes(of: &buffer) { bytes in
      repeat {
        bytes[23 - n] = UInt8(ascii: "0") + UInt8(rest % 10)
        rest /= 10
        n += 1
      } while rest > 0
    }
    count = n
  }

  /// Calls `body` with the digits' ASCII bytes, most significant first.
  func withBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
    withUnsafeBytes(of: buffer) { body(UnsafeRawBufferPointer(rebasing: $0[(24 - count)...])) }
  }
}
