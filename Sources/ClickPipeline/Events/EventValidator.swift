/// Turns the fields of one line into an ``Event`` or the reason it is rejected (CONTRACT §2).
///
/// Rules are checked in the order of the contract's field table, so a line with several
/// problems reports the first: `type`, `event_id`, `ts`, `creator_id`, … `status`.
struct EventValidator {
  /// Currency codes with an FX rate (uppercase); anything else is `bad_value:currency`.
  let currencies: Set<String>

  /// The largest accepted `quantity`.
  static let maxQuantity: Int64 = 1_000_000_000

  func validate(_ f: FieldSlots, line: Int) -> Result<Event, RejectReason> {
    // type
    guard f[.type] != .absent else { return .failure(.missingField(.type)) }
    guard f[.type] == .string,
      let kindIndex = EventValidator.match(f.bytes(.type), ["view", "click", "conversion"]),
      let kind = EventKind(rawValue: kindIndex)
    else { return .failure(.badValue(.type)) }

    // event_id, ts
    let eventID: String
    switch id(f, .eventID, required: true) {
    case .failure(let reason): return .failure(reason)
    case .success(let value): eventID = value
    }
    let ts: Int64
    switch f[.ts] {
    case .absent: return .failure(.missingField(.ts))
    case .integer:
      guard let ms = Timestamp.parseEpochMilliseconds(f.bytes(.ts)) else {
        return .failure(.badValue(.ts))
      }
      ts = ms
    case .string:
      let bytes = f.bytes(.ts)
      guard let ms = Timestamp.parseEpochMilliseconds(bytes) ?? Timestamp.parseRFC3339(bytes) else {
        return .failure(.badValue(.ts))
      }
      ts = ms
    default: return .failure(.badValue(.ts))
    }

    var event = Event(kind: kind, eventID: eventID, ts: ts)
    event.line = line
    return kind == .conversion ? conversion(f, event) : viewOrClick(f, event)
  }

  private func viewOrClick(_ f: FieldSlots, _ base: Event) -> Result<Event, RejectReason> {
    var event = base
    do {
      event.creatorID = try id(f, .creatorID, required: true).get()
      let postID = try id(f, .postID, required: false).get()
      if f[.placement] != .absent {
        guard f[.placement] == .string,
          let p = EventValidator.match(f.bytes(.placement), ["post", "bio"])
        else { throw RejectReason.badValue(.placement) }
        event.placement = p == 0 ? "post" : "bio"
      } else {
        event.placement = postID.isEmpty ? "bio" : "post"
      }
      event.viewerID = try id(f, .viewerID, required: false).get()
      event.productID = try id(f, .productID, required: event.kind == .click).get()
      let platform = try platformAndStore(f, required: !event.productID.isEmpty)
      if !event.productID.isEmpty {
        (event.platform, event.store) = platform
      }
      if f[.userAgent] != .absent {
        guard f[.userAgent] == .string else { throw RejectReason.badValue(.userAgent) }
        event.userAgent = f.string(.userAgent)
      }
    } catch let reason as RejectReason {
      return .failure(reason)
    } catch {
      return .failure(.malformed)
    }
    return .success(event)
  }

  private func conversion(_ f: FieldSlots, _ base: Event) -> Result<Event, RejectReason> {
    var event = base
    do {
      event.viewerID = try id(f, .viewerID, required: false).get()
      event.productID = try id(f, .productID, required: true).get()
      (event.platform, event.store) = try platformAndStore(f, required: true)
      event.orderID = try id(f, .orderID, required: true).get()
      event.clickID = try id(f, .clickID, required: false).get()
      switch f[.quantity] {
      case .absent: event.quantity = 1
      case .integer, .string:
        guard let q = EventValidator.positiveInteger(f.bytes(.quantity)), q >= 1,
          q <= EventValidator.maxQuantity
        else { throw RejectReason.badValue(.quantity) }
        event.quantity = q
      default: throw RejectReason.badValue(.quantity)
      }
      switch f[.amount] {
      case .absent: throw RejectReason.missingField(.amount)
      case .integer, .number, .string:
        guard let amount = ExactDecimal.parse(f.bytes(.amount)), !amount.isNegative else {
          throw RejectReason.badValue(.amount)
        }
        event.amount = amount
      default: throw RejectReason.badValue(.amount)
      }
      switch f[.currency] {
      case .absent: event.currency = "USD"
      case .string:
        let code = String(decoding: f.bytes(.currency).map { EventValidator.upper($0) }, as: UTF8.self)
        guard currencies.contains(code) else { throw RejectReason.badValue(.currency) }
        event.currency = code
      default: throw RejectReason.badValue(.currency)
      }
      switch f[.status] {
      case .absent: event.isRefund = false
      case .string:
        guard let s = EventValidator.match(f.bytes(.status), ["ordered", "refunded"]) else {
          throw RejectReason.badValue(.status)
        }
        event.isRefund = s == 1
      default: throw RejectReason.badValue(.status)
      }
    } catch let reason as RejectReason {
      return .failure(reason)
    } catch {
      return .failure(.malformed)
    }
    return .success(event)
  }

  /// `platform` (required or not) and `store` (required for brand_store, `""` for amazon).
  private func platformAndStore(_ f: FieldSlots, required: Bool) throws(RejectReason) -> (String, String) {
    guard f[.platform] != .absent else {
      if required { throw .missingField(.platform) }
      return ("", "")
    }
    guard f[.platform] == .string,
      // Spelled as the cases of ``Platform``, in their order (matched case-insensitively, as bytes).
      let p = EventValidator.match(f.bytes(.platform), ["amazon", "brand_store"])
    else { throw .badValue(.platform) }
    if Platform.allCases[p] == .amazon { return (Platform.amazon.rawValue, "") }
    let store = try id(f, .store, required: required).get()
    return (Platform.brandStore.rawValue, store)
  }

  /// An id: a JSON string or integer, without control characters.
  private func id(_ f: FieldSlots, _ field: Field, required: Bool) -> Result<String, RejectReason> {
    switch f[field] {
    case .absent:
      return required ? .failure(.missingField(field)) : .success("")
    case .integer:
      return .success(f.string(field))
    case .string:
      let bytes = f.bytes(field)
      for byte in bytes where byte < 0x20 || byte == 0x7F { return .failure(.badValue(field)) }
      return .success(String(decoding: bytes, as: UTF8.self))
    default:
      return .failure(.badValue(field))
    }
  }

  /// The index in `options` of the case-insensitive match of `bytes`.
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
