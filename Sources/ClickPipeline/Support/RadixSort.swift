/// Stable least-significant-digit radix sorts of 64-bit keys: the sort behind deduplication
/// (``EventKeys``), distinct viewers and row order (``DayComputer``), where millions of keys are
/// sorted per day and a comparison sort cost several times as much.
///
/// Digits are 8 bits. One read of the keys counts every digit's buckets; then each digit whose
/// keys do not all fall in one bucket moves them once. A 256-bucket pass writes to 256 places,
/// which a core's cache and write buffers follow; 16-bit digits need half the passes but write
/// to 65,536 places with half a megabyte of counters, and every move misses the cache.
enum RadixSort {
  private static let digitBits = 8
  private static let buckets = 1 << digitBits

  /// Sorts `keys` by their bits `lowBit..<64`, keeping the order of keys equal in those bits.
  static func sort(_ keys: inout [UInt64], fromBit lowBit: Int = 0) {
    var none: [UInt32] = []
    sort(&keys, carrying: &none, fromBit: lowBit)
  }

  /// Sorts `keys` as ``sort(_:fromBit:)`` and moves `payload[i]` with `keys[i]` (`payload` is
  /// either empty or as long as `keys`).
  static func sort(_ keys: inout [UInt64], carrying payload: inout [UInt32], fromBit lowBit: Int = 0) {
    let n = keys.count
    guard n > 1 else { return }
    let carry = !payload.isEmpty
    precondition(!carry || payload.count == n)
    precondition(lowBit >= 0 && lowBit < 64)
    let digits = (64 - lowBit + digitBits - 1) / digitBits
    let mask = UInt64(buckets - 1)
    var counts = [Int](repeating: 0, count: digits * buckets)
    counts.withUnsafeMutableBufferPointer { c in
      keys.withUnsafeBufferPointer { k in
        for key in k {
          var x = key >> UInt64(lowBit)
          for d in 0..<digits {
            c[d &* buckets &+ Int(x & mask)] &+= 1
            x >>= UInt64(digitBits)
          }
        }
      }
    }
    var otherKeys = [UInt64](repeating: 0, count: n)
    var otherPayload = carry ? [UInt32](repeating: 0, count: n) : []
    for d in 0..<digits {
      let shift = UInt64(lowBit + d * digitBits)
      let base = d * buckets
      // A digit where every key falls in one bucket changes nothing.
      guard counts[base + Int((keys[0] >> shift) & mask)] != n else { continue }
      var total = 0
      for b in base..<base + buckets {
        let count = counts[b]
        counts[b] = total
        total += count
      }
      counts.withUnsafeMutableBufferPointer { c in
        keys.withUnsafeBufferPointer { k in
          otherKeys.withUnsafeMutableBufferPointer { to in
            // One loop for both cases: `move` carries the payload (or nothing) with each key.
            @inline(__always) func scatter(_ move: (_ from: Int, _ to: Int) -> Void) {
              for i in 0..<n {
                let key = k[i]
                let b = base &+ Int((key >> shift) & mask)
                let at = c[b]
                c[b] = at &+ 1
                to[at] = key
                move(i, at)
              }
            }
            if carry {
              payload.withUnsafeBufferPointer { p in
                otherPayload.withUnsafeMutableBufferPointer { toPayload in scatter { toPayload[$1] = p[$0] } }
              }
            } else {
              scatter { _, _ in }
            }
          }
        }
      }
      swap(&keys, &otherKeys)
      if carry { swap(&payload, &otherPayload) }
    }
  }
}
