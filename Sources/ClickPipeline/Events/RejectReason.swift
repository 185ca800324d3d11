/// Why a line was rejected (CONTRACT §2 "Rejected lines"); `code` is what the `rejects` table stores.
public enum RejectReason: Error, Sendable, Equatable, Hashable, CustomStringConvertible {
  /// Not a JSON object, a CSV row with the wrong number of cells, or invalid UTF-8.
  case malformed
  /// Longer than ``LineReader/maxLineBytes``.
  case lineTooLong
  case missingField(Field)
  case badValue(Field)

  /// The reason code: `malformed`, `line_too_long`, `missing_field:<name>`, `bad_value:<name>`.
  public var code: String {
    switch self {
    case .malformed: "malformed"
    case .lineTooLong: "line_too_long"
    case .missingField(let field): "missing_field:\(field.name)"
    case .badValue(let field): "bad_value:\(field.name)"
    }
  }

  public var description: String { code }
}

/// The event fields of CONTRACT §2, in the order their rules are checked.
public enum Field: Int, Sendable, CaseIterable {
  case type, eventID, ts, creatorID, postID, placement, viewerID, productID, platform, store
  case userAgent, orderID, clickID, quantity, amount, currency, status

  /// The NDJSON key and CSV column name.
  public var name: String { Field.names[rawValue] }

  static let names = [
    "type", "event_id", "ts", "creator_id", "post_id", "placement", "viewer_id", "product_id",
    "platform", "store", "user_agent", "order_id", "click_id", "quantity", "amount", "currency",
    "status",
  ]

  /// The field named by these UTF-8 bytes, if any.
  static func named(_ bytes: UnsafeRawBufferPointer) -> Field? {
    for (index, name) in utf8Names.enumerated() where name.count == bytes.count {
      if name.withUnsafeBytes({ $0.elementsEqual(bytes) }) { return Field(rawValue: index) }
    }
    return nil
  }

  private static let utf8Names: [[UInt8]] = names.map { Array($0.utf8) }
}
