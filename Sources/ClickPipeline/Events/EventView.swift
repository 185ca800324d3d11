/// A validated event as byte ranges into the line it came from (or into static text): what
/// ``EventValidator`` hands to the stage that consumes lines, without a `String` or a copy.
///
/// Valid only during the callback that receives it (the bytes belong to the parser's line
/// buffer). Absent values are empty; enumerations are decoded; `ts` is Unix epoch
/// milliseconds. Conversions are copied as bytes (``StagedConversions``); ``Event/init(_:)``
/// makes an owned copy for `ingest --emit`.
struct EventView {
  var kind: EventKind
  var eventID: UnsafeRawBufferPointer
  var ts: Int64
  /// 1-based line number in the decompressed file.
  var line: Int
  /// Views and clicks only.
  var creatorID = EventView.empty
  var postID = EventView.empty
  var placement = Placement.bio
  var viewerID = EventView.empty
  var productID = EventView.empty
  /// `nil` for a view without a product.
  var platform: Platform?
  /// The brand store id; empty for Amazon and for views without a product.
  var store = EventView.empty
  var userAgent = EventView.empty
  /// Conversions only.
  var orderID = EventView.empty
  var clickID = EventView.empty
  var quantity: Int64 = 1
  var amount = ExactDecimal.zero
  /// The ISO 4217 code as written (any case; conversions only). Bytes, not a `String`: the
  /// view holds no reference, so passing it around costs no reference counting.
  var currency = EventView.empty
  var isRefund = false

  init(kind: EventKind, eventID: UnsafeRawBufferPointer, ts: Int64, line: Int) {
    self.kind = kind
    self.eventID = eventID
    self.ts = ts
    self.line = line
  }

  static var empty: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: nil, count: 0) }
}

extension Event {
  /// An owned copy of a validated event.
  init(_ view: EventView) {
    self.init(kind: view.kind, eventID: String(decoding: view.eventID, as: UTF8.self), ts: view.ts)
    line = view.line
    viewerID = String(decoding: view.viewerID, as: UTF8.self)
    productID = String(decoding: view.productID, as: UTF8.self)
    platform = view.platform
    store = String(decoding: view.store, as: UTF8.self)
    if view.kind == .conversion {
      orderID = String(decoding: view.orderID, as: UTF8.self)
      clickID = String(decoding: view.clickID, as: UTF8.self)
      quantity = view.quantity
      amount = view.amount
      currency = String(decoding: view.currency.map { EventValidator.upper($0) }, as: UTF8.self)
      isRefund = view.isRefund
    } else {
      creatorID = String(decoding: view.creatorID, as: UTF8.self)
      postID = String(decoding: view.postID, as: UTF8.self)
      placement = view.placement
      userAgent = String(decoding: view.userAgent, as: UTF8.self)
    }
  }
}
