/// The three kinds of log events (CONTRACT §2).
public enum EventKind: Int, Sendable, CaseIterable {
  case view = 0
  case click = 1
  case conversion = 2

  public var name: String {
    switch self {
    case .view: "view"
    case .click: "click"
    case .conversion: "conversion"
    }
  }
}

/// A validated, normalized event with owned values: a conversion on its way to `conversions`,
/// or a line of `ingest --emit`. (Views and clicks go from ``EventView`` straight to a segment.)
///
/// Absent dimensions are empty strings, enumerations are lowercase, `ts` is Unix epoch
/// milliseconds, and `amount` is kept as exact decimal text.
///
/// ```swift
/// // {"type":"Click","event_id":42,"ts":"2026-11-01T10:00:00+07:00","creator_id":"c1",
/// //  "product_id":"p1","platform":"AMAZON","user_agent":"Mozilla/5.0"}
/// // becomes kind .click, eventID "42", ts 1761966000000, placement .bio, platform .amazon, store ""
/// ```
public struct Event: Sendable, Equatable {
  public var kind: EventKind
  public let eventID: String
  public var ts: Int64
  /// Views and clicks only; `""` for conversions.
  public var creatorID: String = ""
  /// Views and clicks only; `""` when absent.
  public var postID: String = ""
  /// Views and clicks only; `nil` for conversions.
  public var placement: Placement?
  public var viewerID: String = ""
  public var productID: String = ""
  /// `nil` only for a view without a product.
  public var platform: Platform?
  /// The brand store id; `""` for Amazon and for views without a product.
  public var store: String = ""
  public var userAgent: String = ""
  public var orderID: String = ""
  public var clickID: String = ""
  public var quantity: Int64 = 1
  /// The exact decimal amount (conversions only).
  public var amount: ExactDecimal = .zero
  public var currency: String = ""
  /// `true` for `status = refunded`.
  public var isRefund: Bool = false
  /// 1-based line number in the decompressed file.
  public var line: Int = 0

  public init(kind: EventKind, eventID: String, ts: Int64) {
    self.kind = kind
    self.eventID = eventID
    self.ts = ts
  }
}
