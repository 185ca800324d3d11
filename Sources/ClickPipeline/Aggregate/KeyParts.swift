/// The ``ByteKeyBuilder`` parts of each value of a dictionary, encoded once and kept back to
/// back in code order: a key made for many rows copies a value's parts instead of encoding
/// them row by row.
struct KeyParts {
  private var bytes: [UInt8] = []
  private var ends: [Int] = [0]

  /// The parts of `count` values: `parts(code, &key)` appends value `code`'s parts to an empty
  /// `key`.
  init(count: Int, _ parts: (Int, inout ByteKeyBuilder) -> Void) {
    var key = ByteKeyBuilder()
    ends.reserveCapacity(count + 1)
    for code in 0..<count {
      key.reset()
      parts(code, &key)
      bytes += key.bytes
      ends.append(bytes.count)
    }
  }

  /// Calls `body` with the parts of the value with `code`.
  @inline(__always)
  func withParts<R>(_ code: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    bytes.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[ends[code]..<ends[code + 1]])) }
  }

  /// Appends the parts of the value with `code` to `record`.
  func append(_ code: Int, to record: inout [UInt8]) {
    withParts(code) { record.append(contentsOf: $0) }
  }
}

extension ByteKeyBuilder {
  /// Appends a listing entry (``EventSegment``) as the key parts `daily_metrics` and the click
  /// search name it by: platform name (empty for none), store, product id.
  mutating func appendListing(_ entry: UnsafeRawBufferPointer) {
    EventSegment.splitListing(entry) { platform, store, product in
      append(platform?.rawValue ?? "")
      append(store)
      append(product)
    }
  }
}
