/// Stable least-significant-digit radix sorts of 64-bit keys, 16 bits a pass: the sort behind
/// deduplication (``EventKeys``) and distinct viewers (``DayComputer``), where millions of keys
/// are sorted per day and a comparison sort cost several times as much.
enum RadixSort {
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
    if n < 2048 {
      // Small: an index sort (stable through the index tie-break).
      let order = (0..<n).sorted {
        let a = keys[$0] >> UInt64(lowBit)
        let b = keys[$1] >> UInt64(lowBit)
        return a != b ? a < b : $0 < $1
      }
      keys = order.map { keys[$0] }
      if carry { payload = order.map { payload[$0] } }
      return
    }
    var otherKeys = [UInt64](repeating: 0, count: n)
    var otherPayload = carry ? [UInt32](repeating: 0, count: n) : []
    var counts = [Int](repeating: 0, count: 1 << 16)
    var shift = UInt64(lowBit)
    while shift < 64 {
      let width = min(16, 64 - shift)
      let mask = (UInt64(1) << width) - 1
      for k in 0..<Int(mask + 1) { counts[k] = 0 }
      for key in keys { counts[Int((key >> shift) & mask)] += 1 }
      // A pass where every key falls in one bucket changes nothing.
      if counts[Int((keys[0] >> shift) & mask)] != n {
        var total = 0
        for k in 0..<Int(mask + 1) {
          let c = counts[k]
          counts[k] = total
          total += c
        }
        for i in 0..<n {
          let key = keys[i]
          let bucket = Int((key >> shift) & mask)
          let at = counts[bucket]
          counts[bucket] = at + 1
          otherKeys[at] = key
          if carry { otherPayload[at] = payload[i] }
        }
        swap(&keys, &otherKeys)
        if carry { swap(&payload, &otherPayload) }
      }
      shift += width
    }
  }
}
