import Foundation

/// The ``ClickDigest``s of a run, shared by its workers and kept within a memory budget, so
/// that each UTC day's click segments are read once per run while they fit.
///
/// Workers take days in ascending order and a day's orders need the clicks of the days just
/// before it, so when a new digest would pass the budget the digests of the earliest days go
/// first, but only those before the asking batch's first day; if that is not enough, the new
/// digest is used for the batch and not kept (it is built again when asked for again).
final class ClickDigests: @unchecked Sendable {
  let budgetBytes: Int
  /// Keeps only some hash bits (tests make every hash collide with 0).
  let hashMask: UInt64
  // Every access to the state below holds `condition`'s lock.
  private let condition = NSCondition()
  private var kept: [Int64: [ClickDigest]] = [:]
  private var building: Set<Int64> = []
  private var keptBytes = 0
  private var builds = 0

  init(budgetBytes: Int, hashMask: UInt64 = .max) {
    self.budgetBytes = budgetBytes
    self.hashMask = hashMask
  }

  /// Digests built so far (a day built again after it was dropped counts again).
  var daysBuilt: Int { condition.withLock { builds } }

  /// The digests of UTC day `day`, built with `build` unless kept (or being built by another
  /// worker, which is waited for). `firstNeeded`: the earliest day the asking batch needs.
  func digests(day: Int64, firstNeeded: Int64, build: () throws(DatabaseError) -> [ClickDigest]) throws(DatabaseError)
    -> [ClickDigest]
  {
    condition.lock()
    while building.contains(day) { condition.wait() }
    if let found = kept[day] {
      condition.unlock()
      return found
    }
    building.insert(day)
    builds += 1
    condition.unlock()
    let made: [ClickDigest]
    do {
      made = try build()
    } catch {
      condition.withLock {
        building.remove(day)
        condition.broadcast()
      }
      throw error
    }
    let bytes = made.reduce(0) { $0 + $1.bytes }
    condition.withLock {
      building.remove(day)
      if keptBytes + bytes > budgetBytes {
        for old in kept.keys.sorted() where old < firstNeeded && keptBytes + bytes > budgetBytes {
          keptBytes -= kept.removeValue(forKey: old)!.reduce(0) { $0 + $1.bytes }
        }
      }
      if keptBytes + bytes <= budgetBytes {
        kept[day] = made
        keptBytes += bytes
      }
      condition.broadcast()
    }
    return made
  }
}
