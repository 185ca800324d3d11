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
