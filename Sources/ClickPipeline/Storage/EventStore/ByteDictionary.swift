import CSupport

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The distinct values of one column of a segment being built, coded 0, 1, 2, … in order of
/// first appearance: what turns a row's bytes into a small integer on the parse thread.
///
/// Open addressing with linear probing, at most 70 % full. The tables of a segment's columns
/// (thousands of creators, tens of thousands of products) must stay in a core's cache to be
/// fast, so a slot is 16 bytes: the value's first 8 bytes (zero-padded), and a word holding a
/// 16-bit tag of the hash, the length and the code. A value of up to 8 bytes is compared in
/// the slot alone; up to 16 bytes, also its second word (kept per code, in code order); longer
/// values (user agents) byte for byte. The values are also kept one after another in code
/// order, which is how the segment stores its dictionary.
///
/// ```swift
/// let d = ByteDictionary()
/// d.code(for: "c-001")  // 0
/// d.code(for: "c-002")  // 1
/// d.code(for: "c-001")  // 0
/// ```
final class ByteDictionary {
  private struct Slot {
    /// The value's first 8 bytes, zero-padded.
    var head: UInt64
    /// tag (16 bits) << 48 | length (16 bits) << 32 | (code + 1); 0 marks a free slot.
    var meta: UInt64
  }

  private var slots: UnsafeMutablePointer<Slot>
  private var capacity: Int
  /// Per code: the value's second 8 bytes (values of 9 to 16 bytes), else 0.
  private var second: [UInt64] = []
  private var arena: UnsafeMutableRawPointer
  private var arenaCapacity: Int
  private(set) var arenaUsed = 0
  /// End offset in the arena of each code's value.
  private(set) var ends: [UInt32] = []

  var count: Int { ends.count }

  init(capacity: Int = 1024) {
    self.capacity = capacity
    slots = .allocate(capacity: capacity)
    slots.initialize(repeating: Slot(head: 0, meta: 0), count: capacity)
    arenaCapacity = 1 << 14
    arena = .allocate(byteCount: arenaCapacity, alignment: 8)
  }

  deinit {
    chunk.deallocate()
    slots.deallocate()
    arena.deallocate()
  }

  /// Forgets every value, keeping the memory.
  func removeAll() {
    guard !ends.isEmpty else { return }
    memset(slots, 0, capacity * MemoryLayout<Slot>.stride)
    ends.removeAll(keepingCapacity: true)
    second.removeAll(keepingCapacity: true)
    arenaUsed = 0
  }

  /// The code of `value`, given a new code if it is new.
  @inline(__always)
  func code(for value: UnsafeRawBufferPointer) -> UInt32 {
    code(for: value, Self.key(of: value))
  }

  /// The code of each value of `values`, in order, into `codes` (as ``code(for:)`` one by one
  /// would give them). A chunk of values' keys is worked out first, then the table is searched
  /// for them in a loop that does nothing else and asks for each slot a few values ahead, so
  /// that its cache misses overlap: a segment's table of thousands of listings is not in a
  /// core's cache while lines are parsed, nor a day's table of tens of thousands of creators
  /// while a segment's dictionary is translated.
  func code<Values: IndexedValues>(_ values: Values, into codes: UnsafeMutablePointer<UInt32>) {
    var start = 0
    while start < values.count {
      let end = min(start + Self.chunkSize, values.count)
      for i in start..<end { chunk[i - start] = Self.key(of: values.value(i)) }
      for i in start..<end {
        if i + Self.prefetchDistance < end {
          cp_prefetch_for_write(slots + (Int(truncatingIfNeeded: chunk[i + Self.prefetchDistance - start].hash) & (capacity - 1)))
        }
        codes[i] = code(for: values.value(i), chunk[i - start])
      }
      start = end
    }
  }

  private static let chunkSize = 256
  /// How many values ahead a slot is prefetched in ``code(_:into:)``.
  private static let prefetchDistance = 8
  /// The keys of a chunk of values (``code(_:into:)``).
  private let chunk = UnsafeMutablePointer<Key>.allocate(capacity: ByteDictionary.chunkSize)

  /// What a value is looked up by: its first 8 bytes (zero-padded), bytes 9 to 16 (zero-padded)
  /// and its hash.
  private struct Key {
    var head: UInt64
    var tail: UInt64
    var hash: UInt64
  }

  @inline(__always)
  private static func key(of value: UnsafeRawBufferPointer) -> Key {
    let n = value.count
    var head: UInt64 = 0
    var tail: UInt64 = 0
    if let base = value.baseAddress {
      if n >= 8 {
        head = base.loadUnaligned(as: UInt64.self)
        if n > 8 && n <= 16 {
          withUnsafeMutableBytes(of: &tail) { _ = memcpy($0.baseAddress!, base + 8, n - 8) }
        }
      } else {
        withUnsafeMutableBytes(of: &head) { _ = memcpy($0.baseAddress!, base, n) }
      }
    }
    return Key(head: head, tail: tail, hash: n <= 16 ? hashShort(head, tail, n) : EventKeyHash.hash(value))
  }

  @inline(__always)
  private func code(for value: UnsafeRawBufferPointer, _ key: Key) -> UInt32 {
    if (ends.count + 1) * 10 > capacity * 7 { grow() }
    let n = value.count
    let h = key.hash
    let wanted = (h >> 48) << 48 | UInt64(n) << 32
    let mask = capacity - 1
    var i = Int(truncatingIfNeeded: h) & mask
    while true {
      let slot = slots[i]
      if slot.meta == 0 {
        let code = append(value, second: key.tail)
        slots[i] = Slot(head: key.head, meta: wanted | UInt64(code + 1))
        return code
      }
      if slot.meta & 0xFFFF_FFFF_0000_0000 == wanted && slot.head == key.head {
        let code = Int(truncatingIfNeeded: slot.meta & 0xFFFF_FFFF) - 1
        if n <= 8 || (n <= 16 && second[code] == key.tail) || (n > 16 && equals(code, value)) {
          return UInt32(code)
        }
      }
      i = (i + 1) & mask
    }
  }

  /// The bytes of the value with `code`.
  func withValue<R>(_ code: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    body(value(code))
  }

  /// Every value's bytes, one after another in code order.
  var values: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: arena, count: arenaUsed) }

  @inline(__always)
  private func value(_ code: Int) -> UnsafeRawBufferPointer {
    let start = code == 0 ? 0 : Int(ends[code - 1])
    return UnsafeRawBufferPointer(start: arena + start, count: Int(ends[code]) - start)
  }

  private func equals(_ code: Int, _ other: UnsafeRawBufferPointer) -> Bool {
    let stored = value(code)
    return stored.count == other.count && memcmp(stored.baseAddress!, other.baseAddress!, other.count) == 0
  }

  private func append(_ value: UnsafeRawBufferPointer, second tail: UInt64) -> UInt32 {
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
    second.append(tail)
    return UInt32(ends.count - 1)
  }

  private func grow() {
    let old = slots
    let oldCapacity = capacity
    capacity *= 2
    slots = .allocate(capacity: capacity)
    slots.initialize(repeating: Slot(head: 0, meta: 0), count: capacity)
    let mask = capacity - 1
    for k in 0..<oldCapacity where old[k].meta != 0 {
      let slot = old[k]
      let code = Int(truncatingIfNeeded: slot.meta & 0xFFFF_FFFF) - 1
      let stored = value(code)
      let h = stored.count <= 16 ? Self.hashShort(slot.head, second[code], stored.count) : EventKeyHash.hash(stored)
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
}

/// Byte strings that can be read by index: what ``ByteDictionary/code(_:into:)`` codes.
protocol IndexedValues {
  var count: Int { get }
  /// The bytes of value `index`, valid while `self` is.
  func value(_ index: Int) -> UnsafeRawBufferPointer
}

extension ValueArena: IndexedValues {}
