/// A batch of a file's conversions as a parse thread hands them to the writer: the numbers in
/// arrays and every text of every conversion in one byte buffer. Neither thread makes a
/// `String` per conversion, and the writer binds the texts where they are
/// (``insert(into:firstRow:fileID:step:)``).
struct StagedConversions: Sendable {
  private var ts: [Int64] = []
  private var platforms: [Platform] = []
  private var quantities: [Int64] = []
  private var refunded: [Bool] = []
  private var lines: [Int64] = []
  private var bytes: [UInt8] = []
  /// Where each text ends in `bytes`: conversion `i`'s text `t` at `ends[i * texts + t]`.
  private var ends: [Int] = []
  private static let texts = ConversionRow.Text.allCases.count

  var count: Int { ts.count }

  /// Appends a validated conversion (``EventValidator`` requires its platform). Its amount is
  /// stored in its exact form (trailing zeros dropped) and its currency in upper case.
  mutating func append(_ v: EventView) {
    guard let platform = v.platform else { preconditionFailure("EventValidator requires a conversion's platform") }
    for text in ConversionRow.Text.allCases {
      switch text {
      case .eventID: bytes.append(contentsOf: v.eventID)
      case .viewerID: bytes.append(contentsOf: v.viewerID)
      case .productID: bytes.append(contentsOf: v.productID)
      case .store: bytes.append(contentsOf: v.store)
      case .orderID: bytes.append(contentsOf: v.orderID)
      case .clickID: bytes.append(contentsOf: v.clickID)
      case .amount: bytes.append(contentsOf: v.amount.description.utf8)
      case .currency: for c in v.currency { bytes.append(EventValidator.upper(c)) }
      }
      ends.append(bytes.count)
    }
    ts.append(v.ts)
    platforms.append(platform)
    quantities.append(v.quantity)
    refunded.append(v.isRefund)
    lines.append(Int64(v.line))
  }

  /// Forgets the conversions, keeping the memory.
  mutating func removeAll() {
    ts.removeAll(keepingCapacity: true)
    platforms.removeAll(keepingCapacity: true)
    quantities.removeAll(keepingCapacity: true)
    refunded.removeAll(keepingCapacity: true)
    lines.removeAll(keepingCapacity: true)
    bytes.removeAll(keepingCapacity: true)
    ends.removeAll(keepingCapacity: true)
  }

  /// Binds each conversion in turn to `s` (``ConversionRow/insertSQL``), numbered from
  /// `firstRow`, as from file `fileID`, and calls `step` after each: the texts are bound
  /// without a copy, valid until `step` returns.
  func insert(
    into s: Statement, firstRow: Int64, fileID: Int64, step: () throws(DatabaseError) -> Void
  ) throws(DatabaseError) {
    var failure: DatabaseError?
    bytes.withUnsafeBytes { all in
      for i in 0..<count {
        func text(_ t: ConversionRow.Text) -> UnsafeRawBufferPointer {
          let at = i * Self.texts + t.rawValue
          return UnsafeRawBufferPointer(rebasing: all[(at == 0 ? 0 : ends[at - 1])..<ends[at]])
        }
        s.reset()
        ConversionRow.bind(
          s, row: firstRow + Int64(i), ts: ts[i], platform: platforms[i], quantity: quantities[i], refunded: refunded[i],
          fileID: fileID, line: lines[i],
          keys: (
            ConversionKeys.event(text(.eventID)), ConversionKeys.order(platform: platforms[i], orderID: text(.orderID)),
            ConversionKeys.click(text(.clickID))
          )
        ) { index, t in s.bindText(index, text(t)) }
        do throws(DatabaseError) {
          try step()
        } catch {
          failure = error
          return
        }
      }
    }
    s.reset()
    if let failure { throw failure }
  }
}
