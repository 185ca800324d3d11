/// A set of UUIDs in their 16-byte form, for the click search's test of every click row of
/// every segment it reads: open addressing on the UUID's own bits, where `Set` would run
/// `Hasher` (SipHash, with its seeding and finalising) for each probe.
struct UUIDWordSet {
  /// Empty slots hold the all-zero UUID, which is kept apart (`holdsZero`).
  private var slots = [UUIDText.Words](repeating: UUIDText.Words(high: 0, low: 0), count: 16)
  private var stored = 0
  private var holdsZero = false

  var count: Int { stored + (holdsZero ? 1 : 0) }

  mutating func insert(_ words: UUIDText.Words) {
    guard !Self.isZero(words) else {
      holdsZero = true
      return
    }
    if (stored + 1) * 2 > slots.count { grow() }
    if place(words, in: &slots) { stored += 1 }
  }

  func contains(_ words: UUIDText.Words) -> Bool {
    guard !Self.isZero(words) else { return holdsZero }
    let mask = slots.count - 1
    var i = Self.slot(words, mask)
    while true {
      let s = slots[i]
      if s == words { return true }
      if Self.isZero(s) { return false }
      i = (i + 1) & mask
    }
  }

  /// Puts `words` in `table`; `false` if it was there.
  private func place(_ words: UUIDText.Words, in table: inout [UUIDText.Words]) -> Bool {
    let mask = table.count - 1
    var i = Self.slot(words, mask)
    while true {
      let s = table[i]
      if s == words { return false }
      if Self.isZero(s) {
        table[i] = words
        return true
      }
      i = (i + 1) & mask
    }
  }

  private mutating func grow() {
    var table = [UUIDText.Words](repeating: UUIDText.Words(high: 0, low: 0), count: slots.count * 2)
    for words in slots where !Self.isZero(words) { _ = place(words, in: &table) }
    slots = table
  }

  @inline(__always)
  private static func isZero(_ w: UUIDText.Words) -> Bool { w.high | w.low == 0 }

  @inline(__always)
  private static func slot(_ w: UUIDText.Words, _ mask: Int) -> Int {
    Int(truncatingIfNeeded: ((w.high ^ w.low &* 0xBF58_476D_1CE4_E5B9) &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
  }
}
