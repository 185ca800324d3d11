/// Turns the fields of one line into an ``EventView`` or the reason it is rejected (CONTRACT §2):
/// the one place where the contract's rules for a line are written.
///
/// Rules are checked in the order of the contract's field table, so a line with several
/// problems reports the first: `type`, `event_id`, `ts`, `creator_id`, … `status`.
struct EventValidator {
  /// Currency codes with an FX rate (uppercase); anything else is `bad_value:currency`.
  let currencies: Set<String>

  /// The largest accepted `quantity`.
  static let maxQuantity: Int64 = 1_000_000_000

  /// Validates the line in `f` (line number `line`) into `view`; returns why it is rejected, or
  /// `nil` when `view` holds the event. The view's bytes are valid while the line is.
  func validate(_ f: FieldSlots, line: Int, into view: inout EventView) -> RejectReason? {
    do throws(RejectReason) {
      // type
      guard f[.type] != .absent else { throw .missingField(.type) }
      guard f[.type] == .string,
        let kindIndex = EventValidator.match(f.bytes(.type), ["view", "click", "conversion"]),
        let kind = EventKind(rawValue: kindIndex)
      else { throw .badValue(.type) }
      // event_id, ts
      let eventID = try id(f, .eventID, required: true)
      let ts: Int64
      switch f[.ts] {
      case .absent: throw .missingField(.ts)
      case .integer:
        guard let ms = Timestamp.parseEpochMilliseconds(f.bytes(.ts)) else { throw .badValue(.ts) }
        ts = ms
      case .string:
        let bytes = f.bytes(.ts)
        guard let ms = Timestamp.parseRFC3339(bytes) ?? Timestamp.parseEpochMilliseconds(bytes) else {
          throw .badValue(.ts)
        }
        ts = ms
      default: throw .badValue(.ts)
      }
      view = EventView(kind: kind, eventID: eventID, ts: ts, line: line)
      if kind == .conversion {
        try conversion(f, &view)
      } else {
        try viewOrClick(f, &view)
      }
      return nil
    } catch {
      return error
    }
  }

  private func viewOrClick(_ f: FieldSlots, _ view: inout EventView) throws(RejectReason) {
    view.creatorID = try id(f, .creatorID, required: true)
    view.postID = try id(f, .postID, required: false)
    if f[.placement] != .absent {
      guard f[.placement] == .string, let p = EventValidator.match(f.bytes(.placement), ["post", "bio"]) else {
        throw .badValue(.placement)
      }
      view.placement = p == 0 ? .post : .bio
    } else {
      view.placement = view.postID.isEmpty ? .bio : .post
    }
    view.viewerID = try id(f, .viewerID, required: false)
    view.productID = try id(f, .productID, required: view.kind == .click)
    if !view.productID.isEmpty {
      (view.platform, view.store) = try platformAndStore(f)
    } else if f[.platform] != .absent {
      // Not required without a product, but still checked.
      _ = try platformAndStore(f, storeRequired: false)
    }
    if f[.userAgent] != .absent {
      guard f[.userAgent] == .string else { throw .badValue(.userAgent) }
      view.userAgent = f.bytes(.userAgent)
    }
  }

  private func conversion(_ f: FieldSlots, _ view: inout EventView) throws(RejectReason) {
    view.viewerID = try id(f, .viewerID, required: false)
    view.productID = try id(f, .productID, required: true)
    (view.platform, view.store) = try platformAndStore(f)
    view.orderID = try id(f, .orderID, required: true)
    view.clickID = try id(f, .clickID, required: false)
    switch f[.quantity] {
    case .absent: view.quantity = 1
    case .integer, .string:
      guard let q = EventValidator.positiveInteger(f.bytes(.quantity)), q >= 1, q <= EventValidator.maxQuantity
      else { throw .badValue(.quantity) }
      view.quantity = q
    default: throw .badValue(.quantity)
    }
    switch f[.amount] {
    case .absent: throw .missingField(.amount)
    case .integer, .number:
      guard let amount = ExactDecimal.parse(f.bytes(.amount)), !amount.isNegative else { throw .badValue(.amount) }
      view.amount = amount
    case .string:
      // Text: plain decimal digits with an optional fraction; no sign, no exponent.
      let bytes = f.bytes(.amount)
      guard EventValidator.isPlainDecimal(bytes), let amount = ExactDecimal.parse(bytes) else {
        throw .badValue(.amount)
      }
      view.amount = amount
    default: throw .badValue(.amount)
    }
    switch f[.currency] {
    case .absent: view.currency = EventValidator.usdText
    case .string:
      let bytes = f.bytes(.currency)
      guard currencies.contains(String(decoding: bytes.map { EventValidator.upper($0) }, as: UTF8.self)) else {
        throw .badValue(.currency)
      }
      view.currency = bytes
    default: throw .badValue(.currency)
    }
    switch f[.status] {
    case .absent: view.isRefund = false
    case .string:
      guard let s = EventValidator.match(f.bytes(.status), ["ordered", "refunded"]) else { throw .badValue(.status) }
      view.isRefund = s == 1
    default: throw .badValue(.status)
    }
  }

  /// `platform` and `store` (required for brand_store, empty for amazon), both present.
  private func platformAndStore(
    _ f: FieldSlots, storeRequired: Bool = true
  ) throws(RejectReason) -> (Platform?, UnsafeRawBufferPointer) {
    guard f[.platform] != .absent else { throw .missingField(.platform) }
    guard f[.platform] == .string, let platform = Platform(bytes: f.bytes(.platform)) else {
      throw .badValue(.platform)
    }
    guard platform.hasStores else { return (platform, EventView.empty) }
    return (platform, try id(f, .store, required: storeRequired))
  }

  /// An id: a JSON string without control characters, or a JSON integer in canonical decimal.
  @inline(__always)
  private func id(_ f: FieldSlots, _ field: Field, required: Bool) throws(RejectReason) -> UnsafeRawBufferPointer {
    switch f[field] {
    case .absent:
      if required { throw .missingField(field) }
      return EventView.empty
    case .integer:
      // The scanners accept only JSON's integer grammar: "-0" is the one non-canonical form.
      let bytes = f.bytes(field)
      return bytes.count == 2 && bytes[0] == UInt8(ascii: "-") && bytes[1] == UInt8(ascii: "0")
        ? EventValidator.zeroText : bytes
    case .string:
      let bytes = f.bytes(field)
      guard !EventValidator.hasControlCharacter(bytes) else { throw .badValue(field) }
      return bytes
    default:
      throw .badValue(field)
    }
  }

  /// `"0"`, for the integer id `-0`.
  nonisolated(unsafe) private static let zeroText = staticText("0")
  /// `"USD"`, the default currency.
  nonisolated(unsafe) static let usdText = staticText("USD")

  /// Bytes that live as long as the process, for views of fixed text.
  private static func staticText(_ text: String) -> UnsafeRawBufferPointer {
    let bytes = Array(text.utf8)
    let p = UnsafeMutableRawPointer.allocate(byteCount: bytes.count, alignment: 1)
    p.copyMemory(from: bytes, byteCount: bytes.count)
    return UnsafeRawBufferPointer(start: p, count: bytes.count)
  }

  /// Whether `b` holds a byte below 0x20 or 0x7F (DEL), eight bytes at a time.
  @inline(__always)
  static func hasControlCharacter(_ b: UnsafeRawBufferPointer) -> Bool {
    guard let p = b.baseAddress else { return false }
    let ones: UInt64 = 0x0101_0101_0101_0101
    var i = 0
    while i + 8 <= b.count {
      let w = p.loadUnaligned(fromByteOffset: i, as: UInt64.self)
      let del = w ^ (ones &* 0x7F)
      if ((w &- ones &* 0x20) & ~w | (del &- ones) & ~del) & (ones &* 0x80) != 0 { return true }
      i += 8
    }
    while i < b.count {
      let c = b[i]
      if c < 0x20 || c == 0x7F { return true }
      i += 1
    }
    return false
  }

  /// `digits[.digits]`: the form of an amount given as text.
  static func isPlainDecimal(_ b: UnsafeRawBufferPointer) -> Bool {
    var i = 0
    while i < b.count, b[i] &- 48 < 10 { i += 1 }
    guard i > 0 else { return false }
    if i == b.count { return true }
    guard b[i] == UInt8(ascii: ".") else { return false }
    i += 1
    let fraction = i
    while i < b.count, b[i] &- 48 < 10 { i += 1 }
    return i > fraction && i == b.count
  }

  /// The index in `options` of the case-insensitive match of `bytes`.
  @inline(__always)
  static func match(_ bytes: UnsafeRawBufferPointer, _ options: [StaticString]) -> Int? {
    outer: for (index, option) in options.enumerated() where option.utf8CodeUnitCount == bytes.count {
      let p = option.utf8Start
      for k in 0..<bytes.count where lower(bytes[k]) != p[k] { continue outer }
      return index
    }
    return nil
  }

  static func lower(_ c: UInt8) -> UInt8 { c &- 65 < 26 ? c | 0x20 : c }
  static func upper(_ c: UInt8) -> UInt8 { c &- 97 < 26 ? c & ~0x20 : c }

  static func positiveInteger(_ b: UnsafeRawBufferPointer) -> Int64? {
    guard !b.isEmpty, b.count <= 18 else { return nil }
    var v: Int64 = 0
    for c in b {
      guard c &- 48 < 10 else { return nil }
      v = v * 10 + Int64(c &- 48)
    }
    return v
  }
}
