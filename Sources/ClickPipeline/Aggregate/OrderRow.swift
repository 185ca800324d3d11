/// One row of `orders`: a counted ordered conversion or refund, its money, and the click and
/// rule that attributed it. Aggregate computes them with the day's `daily_metrics` rows and
/// spools them in this byte form (each text as a 32-bit length and its bytes, then the
/// integers), in sorted runs (``SortedRunMerge``), so a day's orders are never all in memory.
struct OrderRow {
  var eventID: String
  var refund: Bool
  var platform: String
  var store: String
  var orderID: String
  var productID: String
  var quantity: Int64
  var revenueCents: Int64
  var commissionCents: Int64
  var refundedCents: Int64
  var reversedCommissionCents: Int64
  var attribution: Attribution.Result
  /// The conversion as sent: its time, currency and amount, and the rates applied to it.
  var ts: Int64
  var currency: String
  var amount: String
  var fxUSDPerUnit: String
  var commissionRate: String

  /// The columns of `orders` after `day`, in the order ``encode(into:)`` writes them.
  static let columns = [
    "event_id", "kind", "platform", "store", "order_id", "product_id", "creator_id", "placement", "click_event_id", "rule",
    "post_id", "currency", "amount", "fx_usd_per_unit", "commission_rate",
    "quantity", "revenue_cents", "commission_cents", "refunded_cents", "reversed_commission_cents", "ts",
  ]
  static let textColumns = 15

  /// Appends the row's record to `buffer`: the texts, then the integers, in ``columns`` order
  /// (each text written as it is, without gathering them first).
  func encode(into buffer: inout [UInt8]) {
    func text(_ value: String) {
      var value = value
      value.withUTF8 { bytes in
        withUnsafeBytes(of: UInt32(bytes.count).littleEndian) { buffer.append(contentsOf: $0) }
        buffer.append(contentsOf: bytes)
      }
    }
    func integer(_ value: Int64) {
      withUnsafeBytes(of: value.littleEndian) { buffer.append(contentsOf: $0) }
    }
    text(eventID)
    text(refund ? "refund" : "ordered")
    text(platform)
    text(store)
    text(orderID)
    text(productID)
    text(attribution.creatorID)
    text(attribution.placement)
    text(attribution.clickEventID)
    text(attribution.rule.rawValue)
    text(attribution.postID)
    text(currency)
    text(amount)
    text(fxUSDPerUnit)
    text(commissionRate)
    integer(quantity)
    integer(revenueCents)
    integer(commissionCents)
    integer(refundedCents)
    integer(reversedCommissionCents)
    integer(ts)
  }

  /// Record `a` comes before `b` in `orders`' primary key within a day: by event id, the
  /// first text (a ``ByteKeyBuilder`` part).
  static func precedes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    ByteKeyBuilder.precedes(a, b, parts: 1)
  }

  /// Calls `body` with each row of `bytes` (``encode(into:)``), in ``precedes(_:_:)`` order.
  static func forEachSorted(
    _ bytes: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws(PipelineError) -> Void
  ) throws(PipelineError) {
    var rows: [Range<Int>] = []
    var offset = 0
    while offset < bytes.count {
      let start = offset
      for _ in 0..<textColumns {
        offset += 4 + Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
      }
      offset += 8 * (columns.count - textColumns)
      rows.append(start..<offset)
    }
    rows.sort { precedes(UnsafeRawBufferPointer(rebasing: bytes[$0]), UnsafeRawBufferPointer(rebasing: bytes[$1])) }
    for row in rows { try body(UnsafeRawBufferPointer(rebasing: bytes[row])) }
  }

  /// Calls `text(column, bytes)` for the texts and `integer(column, value)` for the integers
  /// of each row in `bytes`, then `rowDone()`.
  static func decode(
    _ bytes: UnsafeRawBufferPointer, text: (Int32, UnsafeRawBufferPointer) -> Void, integer: (Int32, Int64) -> Void,
    rowDone: () throws -> Void
  ) rethrows {
    var offset = 0
    while offset < bytes.count {
      for column in 0..<textColumns {
        let n = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
        offset += 4
        text(Int32(column), UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + n]))
        offset += n
      }
      for column in textColumns..<columns.count {
        integer(Int32(column), Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: Int64.self)))
        offset += 8
      }
      try rowDone()
    }
  }
}
