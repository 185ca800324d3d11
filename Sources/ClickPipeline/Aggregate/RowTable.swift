/// Numbers 64-bit row keys 0, 1, 2, … in order of first appearance: open addressing with
/// linear probing, at most half full, the key and its number side by side in a 16-byte slot.
/// The day's `daily_metrics` rows are numbered here from their dictionary codes (``DayComputer``).
struct RowTable {
  private struct Slot {
    var key: UInt64
    /// number + 1; 0 marks a free slot.
    var number: UInt32
  }

  private var slots = [Slot](repeating: Slot(key: 0, number: 0), count: 1024)
  private var count = 0

  /// The number of `key`; `inserted` is true when it is new and got `next`.
  @inline(__always)
  mutating func insert(_ key: UInt64, next: Int) -> (number: Int, inserted: Bool) {
    if (count + 1) * 2 > slots.count { grow() }
    let mask = slots.count - 1
    var i = Int(truncatingIfNeeded: Self.hash(key)) & mask
    while true {
      let slot = slots[i]
      if slot.number == 0 {
        slots[i] = Slot(key: key, number: UInt32(next + 1))
        count += 1
        return (next, true)
      }
      if slot.key == key { return (Int(slot.number) - 1, false) }
      i = (i + 1) & mask
    }
  }

  /// Forgets every key, keeping the memory.
  mutating func removeAll() {
    guard count > 0 else { return }
    for i in slots.indices { slots[i].number = 0 }
    count = 0
  }

  private mutating func grow() {
    let old = slots
    slots = [Slot](repeating: Slot(key: 0, number: 0), count: old.count * 2)
    let mask = slots.count - 1
    for slot in old where slot.number != 0 {
      var i = Int(truncatingIfNeeded: Self.hash(slot.key)) & mask
      while slots[i].number != 0 { i = (i + 1) & mask }
      slots[i] = slot
    }
  }

  @inline(__always)
  private static func hash(_ key: UInt64) -> UInt64 {
    var h = key &* 0x9E37_79B9_7F4A_7C15
    h ^= h >> 29
    return h &* 0xBF58_476D_1CE4_E5B9 ^ (h >> 32)
  }
}
