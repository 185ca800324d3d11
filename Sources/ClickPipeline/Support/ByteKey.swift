/// Bytes as a dictionary key: equal when the bytes are equal (no Unicode equivalence, unlike
/// `String`), hashed once with ``EventKeyHash`` (a `[UInt8]` key is hashed byte by byte by
/// `Hasher`, which was several percent of `aggregate`).
struct ByteKey: Hashable, Sendable {
  let bytes: [UInt8]
  private let hash: UInt64

  init(_ bytes: [UInt8]) {
    self.bytes = bytes
    hash = bytes.withUnsafeBytes { EventKeyHash.hash($0) }
  }

  init(_ bytes: UnsafeRawBufferPointer) { self.init(Array(bytes)) }

  init(_ text: String) { self.init(Array(text.utf8)) }

  static func == (a: ByteKey, b: ByteKey) -> Bool { a.hash == b.hash && a.bytes == b.bytes }

  func hash(into hasher: inout Hasher) { hasher.combine(hash) }
}
