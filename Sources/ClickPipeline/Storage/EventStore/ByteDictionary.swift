#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The distinct values of one column of a segment being built, coded 0, 1, 2, … in order of
/// first appearance: what turns a row's bytes into a small integer on the parse thread.
///
/// Open addressing at most half full. A slot holds a value of up to 16 bytes inline (two
/// words, zero-padded, and its length), so a lookup of a short id costs one hash and one slot
/// compare, without touching the value store; a longer value (a user agent) keeps its hash
/// and offset in the slot and is compared byte for byte. The values are also kept one after
/// another in code order, which is how the segment stores its dictionary.
///
/// ```swift
/// let d = ByteDictionary()
/// d.code(for: "c-001")  // 0
/// d.code(for: "c-002")  // 1
/// d.code(for: "c-001")  // 0
/// ```
final class ByteDictionary {
  private struct Slot {
    /// Inline value (up to 16 bytes) or, for longer values, its hash and arena offset.
    var w0: UInt64
    var w1: UInt64
    /// length << 32 | (code + 1); 0 marks a free slot.
    var meta: UInt64
  }

  private var slots: UnsafeMutablePointer<Slot>
  private var capacity: Int
  private var arena: UnsafeMutableRawPointer
  private var arenaCapacity: Int
  private(set) var arenaUsed = 0
  /// End offset in the arena of each code's value.
  private(set) var ends: [UInt32] = []

  var count: Int { ends.count }

  init(capacity: Int = 1024) {
    self.capacity = capacity
    slots = .allocate(capacity: capacity)
    slots.initialize(repeating: Slot(w0: 0, w1: 0, meta: 0), count: capacity)
    arenaCapacity = 1 << 14
    arena = .allocate(byteCount: arenaCapacity, alignment: 8)
  }

  deinit {
    slots.deallocate()
    arena.deallocate()
  }

  /// Forgets every value, keeping the memory.
  func removeAll() {
    guard !ends.isEmpty else { return }
    memset(slots, 0, capacity * MemoryLayout<Slot>.stride)
    ends.removeAll(keepingCapacity: true)
    arenaUsed = 0
  }

  /// The code of `value`, given a new code if it is new.
  @inline(__always)
  func code(for value: UnsafeRawBufferPointer) -> UInt32 {
    if (ends.count + 1) * 2 > capacity { grow() }
    let n = value.count
    if n <= 16 {
      var w0: UInt64 = 0
      var w1: UInt64 = 0
      if let base = value.baseAddress {
        withUnsafeMutableBytes(of: &w0) { _ = memcpy($0.baseAddress!, base, min(n, 8)) }
        if n > 8 { withUnsafeMutableBytes(of: &w1) { _ = memcpy($0.baseAddress!, base + 8, n - 8) } }
      }
      let h = Self.hashShort(w0, w1, n)
      let mask = capacity - 1
      var i = Int(truncatingIfNeeded: h) & mask
      let wanted = UInt64(n) << 32
      while true {
        let slot = slots[i]
        if slot.meta == 0 {
          let code = append(value)
          slots[i] = Slot(w0: w0, w1: w1, meta: wanted | UInt64(code + 1))
          return code
        }
        if slot.meta & 0xFFFF_FFFF_0000_0000 == wanted && slot.w0 == w0 && slot.w1 == w1 {
          return UInt32(truncatingIfNeeded: slot.meta) - 1
        }
        i = (i + 1) & mask
      }
    }
    let h = Self.hashLong(value)
    let mask = capacity - 1
    var i = Int(truncatingIfNeeded: h) & mask
    let wanted = UInt64(n) << 32
    while true {
      let slot = slots[i]
      if slot.meta == 0 {
        let offset = arenaUsed
        let code = append(value)
        slots[i] = Slot(w0: h, w1: UInt64(offset), meta: wanted | UInt64(code + 1))
        return code
      }
      if slot.meta & 0xFFFF_FFFF_0000_0000 == wanted && slot.w0 == h
        && memcmp(arena + Int(slot.w1), value.baseAddress!, n) == 0
      {
        return UInt32(truncatingIfNeeded: slot.meta) - 1
      }
      i = (i + 1) & mask
    }
  }

  /// The bytes of the value with `code`.
  func withValue<R>(_ code: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    let start = code == 0 ? 0 : Int(ends[code - 1])
    return body(UnsafeRawBufferPointer(start: arena + start, count: Int(ends[code]) - start))
  }

  /// Every value's bytes, one after another in code order.
  var values: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: arena, count: arenaUsed) }

  private func append(_ value: UnsafeRawBufferPointer) -> UInt32 {
    if arenaUsed + value.count > arenaCapacity {
      var bigger = arenaCapacity * 2
      while arenaUsed + value.count > bigger { bigger *= 2 }
      let grown = UnsafeMutableRawPointer.allocate(byteCount: bigger, alignment: 8)
      grown.copyMemory(from: arena, byteCount: arenaUsed)
      arena.deallocate()
      arena = grown
      arenaCapacity = bigger
    }
    if let base = value.baseAddress { (arena + arenaUsed).copyMemory(from: base, byteCount: value.count) }
    arenaUsed += value.count
    ends.append(UInt32(arenaUsed))
    return UInt32(ends.count - 1)
  }

  private func grow() {
    let old = slots
    let oldCapacity = capacity
    capacity *= 2
    slots = .allocate(capacity: capacity)
    slots.initialize(repeating: Slot(w0: 0, w1: 0, meta: 0), count: capacity)
    let mask = capacity - 1
    for k in 0..<oldCapacity where old[k].meta != 0 {
      let slot = old[k]
      let n = Int(slot.meta >> 32)
      let h = n <= 16 ? Self.hashShort(slot.w0, slot.w1, n) : slot.w0
      var i = Int(truncatingIfNeeded: h) & mask
      while slots[i].meta != 0 { i = (i + 1) & mask }
      slots[i] = slot
    }
    old.deallocate()
  }

  @inline(__always)
  private static func hashShort(_ w0: UInt64, _ w1: UInt64, _ n: Int) -> UInt64 {
    var h = (w0 ^ 0x9E37_79B9_7F4A_7C15) &* 0xBF58_476D_1CE4_E5B9
    h ^= h >> 29
    h = (h ^ w1 ^ UInt64(n)) &* 0x94D0_49BB_1331_11EB
    return h ^ (h >> 32)
  }

  @inline(__always)
  private static func hashLong(_ value: UnsafeRawBufferPointer) -> UInt64 {
    EventKeyHash.hash(value)
  }
}
