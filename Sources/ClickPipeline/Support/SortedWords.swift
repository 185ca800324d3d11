/// Sorted 64-bit words whose top bits are a uniform hash, searched through a directory of
/// where each value of their top `directoryBits` bits starts.
///
/// A binary search of a megabyte of words misses the cache at most of its 17 steps; a lookup
/// here reads one directory entry (about 1 byte per word, so it stays in cache) and searches
/// the few words that share those top bits. Words whose top bits are not uniform (tests make
/// every hash collide) fall in one bucket and are searched as before: the answers are the same,
/// only slower.
struct SortedWords {
  let words: [UInt64]
  /// `starts[b]`: the first index whose word's top bits are `b` or more; `starts[buckets]` is
  /// `words.count`.
  private let starts: [UInt32]
  private let shift: UInt64

  /// `words` must be sorted.
  init(_ words: [UInt64]) {
    precondition(words.count < Int(UInt32.max), "more than 2^32 words")
    // About four words per bucket: a bucket's words share a cache line or two.
    var bits = 0
    while bits < 24 && (1 << (bits + 2)) < words.count { bits += 1 }
    self.words = words
    shift = UInt64(64 - bits)
    var starts = [UInt32](repeating: 0, count: (1 << bits) + 1)
    var bucket = 0
    for (index, word) in words.enumerated() {
      let b = Int(word >> shift)
      while bucket < b {
        bucket += 1
        starts[bucket] = UInt32(index)
      }
    }
    for b in (bucket + 1)..<starts.count { starts[b] = UInt32(words.count) }
    self.starts = starts
  }

  var count: Int { words.count }

  /// Bytes held.
  var bytes: Int { words.count * 8 + starts.count * 4 }

  subscript(index: Int) -> UInt64 { words[index] }

  /// The first index whose word is not below `value` (`orEqual`: above it).
  func lowerBound(_ value: UInt64, orEqual: Bool = false) -> Int {
    let b = Int(value >> shift)
    var low = Int(starts[b])
    var high = Int(starts[b + 1])
    while low < high {
      let mid = (low + high) / 2
      if words[mid] < value || (orEqual && words[mid] == value) { low = mid + 1 } else { high = mid }
    }
    return low
  }
}
