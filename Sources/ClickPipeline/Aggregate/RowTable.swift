import CSupport

/// Numbers 64-bit row keys 0, 1, 2, … in order of first appearance, and counts each row's
/// traffic (views, bot views, clicks, bot clicks) beside its number. The day's `daily_metrics`
/// rows are numbered here from their dictionary codes (``DayComputer``).
///
/// Open addressing with linear probing, at most 70 % full. A slot is 32 bytes, aligned so that
/// it never straddles a cache line: the key, its number and its four counters. Counting a view
/// or a click is then one cache miss into a table of a day's rows (tens of megabytes at the
/// 50,000-creator scale), where a separate array of rows would be a second one.
///
/// ```swift
/// let t = RowTable()
/// t.count(7, next: 0, .views)    // (number: 0, inserted: true)
/// t.count(7, next: 1, .clicks)   // (number: 0, inserted: false)
/// t.traffic(of: 7)               // Traffic(views: 1, botViews: 0, clicks: 1, botClicks: 0)
/// ```
final class RowTable {
  /// What ``count(_:next:_:)`` adds one to.
  enum Counter: Int {
    case views = 0
    case botViews = 1
    case clicks = 2
    case botClicks = 3
  }

  /// A row's counted traffic. Counts fit in 32 bits: a pass reads fewer than 2^16 segments of
  /// at most 2^16 rows (``DayComputer``).
  struct Traffic: Equatable {
    var views: UInt32 = 0
    var botViews: UInt32 = 0
    var clicks: UInt32 = 0
    var botClicks: UInt32 = 0
  }

  private struct Slot {
    var key: UInt64
    /// number + 1; 0 marks a free slot.
    var number: UInt32
    var traffic: Traffic
  }

  private static let slotAlignment = 32
  private var slots: UnsafeMutablePointer<Slot>
  private var capacity: Int
  private(set) var count = 0

  init(capacity: Int = 1024) {
    precondition(MemoryLayout<Slot>.stride == Self.slotAlignment, "a slot is 32 bytes")
    self.capacity = capacity
    slots = Self.allocate(capacity)
  }

  deinit { slots.deallocate() }

  /// The number of `key`; `inserted` is true when it is new and got `next`.
  @inline(__always)
  func insert(_ key: UInt64, next: Int) -> (number: Int, inserted: Bool) {
    let (i, inserted) = find(key, next: next)
    return (Int(slots[i].number) - 1, inserted)
  }

  /// The number of `key` (as ``insert(_:next:)``), with one added to its `counter`.
  @inline(__always)
  func count(_ key: UInt64, next: Int, _ counter: Counter) -> (number: Int, inserted: Bool) {
    let (i, inserted) = find(key, next: next)
    withUnsafeMutableBytes(of: &slots[i].traffic) { counts in
      counts.storeBytes(
        of: counts.load(fromByteOffset: counter.rawValue * 4, as: UInt32.self) &+ 1, toByteOffset: counter.rawValue * 4,
        as: UInt32.self)
    }
    return (Int(slots[i].number) - 1, inserted)
  }

  /// Starts loading the slot where `key` would be found: called a few keys ahead of
  /// ``count(_:next:_:)``, it overlaps the slots' cache misses.
  @inline(__always)
  func prefetch(_ key: UInt64) {
    cp_prefetch_for_write(slots + (Int(truncatingIfNeeded: Self.hash(key)) & (capacity - 1)))
  }

  /// The traffic counted for `key`, which the table holds (found by its hash: prefetching
  /// `key` a few rows ahead overlaps the miss).
  @inline(__always)
  func traffic(of key: UInt64) -> Traffic {
    let mask = capacity - 1
    var i = Int(truncatingIfNeeded: Self.hash(key)) & mask
    while slots[i].key != key || slots[i].number == 0 {
      precondition(slots[i].number != 0, "traffic(of:) of a key the table does not hold")
      i = (i + 1) & mask
    }
    return slots[i].traffic
  }

  /// Forgets every key, keeping the memory.
  func removeAll() {
    guard count > 0 else { return }
    for i in 0..<capacity { slots[i].number = 0 }
    count = 0
  }

  @inline(__always)
  private func find(_ key: UInt64, next: Int) -> (slot: Int, inserted: Bool) {
    if (count + 1) * 10 > capacity * 7 { grow() }
    let mask = capacity - 1
    var i = Int(truncatingIfNeeded: Self.hash(key)) & mask
    while true {
      let number = slots[i].number
      if number == 0 {
        slots[i] = Slot(key: key, number: UInt32(next + 1), traffic: Traffic())
        count += 1
        return (i, true)
      }
      if slots[i].key == key { return (i, false) }
      i = (i + 1) & mask
    }
  }

  private func grow() {
    let old = slots
    let oldCapacity = capacity
    capacity *= 2
    slots = Self.allocate(capacity)
    let mask = capacity - 1
    for k in 0..<oldCapacity where old[k].number != 0 {
      var i = Int(truncatingIfNeeded: Self.hash(old[k].key)) & mask
      while slots[i].number != 0 { i = (i + 1) & mask }
      slots[i] = old[k]
    }
    old.deallocate()
  }

  private static func allocate(_ capacity: Int) -> UnsafeMutablePointer<Slot> {
    let raw = UnsafeMutableRawPointer.allocate(byteCount: capacity * slotAlignment, alignment: 64)
    let slots = raw.bindMemory(to: Slot.self, capacity: capacity)
    slots.initialize(repeating: Slot(key: 0, number: 0, traffic: Traffic()), count: capacity)
    return slots
  }

  @inline(__always)
  private static func hash(_ key: UInt64) -> UInt64 {
    var h = key &* 0x9E37_79B9_7F4A_7C15
    h ^= h >> 29
    return h &* 0xBF58_476D_1CE4_E5B9 ^ (h >> 32)
  }
}
