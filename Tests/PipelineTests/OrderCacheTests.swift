import Testing

@testable import ClickPipeline

/// ``OrderCache``: an order unknown, known with only refunds, or known with its kept copy,
/// and what survives ``OrderCache/keepOnly(_:)``.
@Suite struct OrderCacheTests {
  static func entry(_ id: String) -> Attribution.Attributed {
    Attribution.Attributed(canonicalEventID: id, result: Attribution.Result(creatorID: "c-\(id)", placement: "bio"))
  }

  @Test func unknownRefundOnlyAndKeptOrdersAreTold() {
    var cache = OrderCache()
    cache.add(ByteKey("amazon|O1"), Self.entry("e1"))
    cache.add(ByteKey("amazon|O2"), nil)
    #expect(cache.count == 2)
    #expect(cache[ByteKey("amazon|O1")]??.canonicalEventID == "e1")
    #expect(cache[ByteKey("amazon|O1")]??.result.creatorID == "c-e1")
    let refundOnly = cache[ByteKey("amazon|O2")]
    #expect(refundOnly != nil && refundOnly! == nil)
    #expect(cache[ByteKey("amazon|O3")] == nil)
  }

  @Test func keepOnlyKeepsTheGivenKeysWithTheirEntries() {
    var cache = OrderCache()
    for n in 0..<100 { cache.add(ByteKey("O\(n)"), n % 10 == 0 ? nil : Self.entry("e\(n)")) }
    cache.keepOnly([ByteKey("O7"), ByteKey("O20"), ByteKey("O100")])
    #expect(cache.count == 2)
    #expect(cache[ByteKey("O7")]??.canonicalEventID == "e7")
    #expect(cache[ByteKey("O20")].map { $0 == nil } == true)
    #expect(cache[ByteKey("O8")] == nil && cache[ByteKey("O100")] == nil)
    cache.add(ByteKey("O8"), Self.entry("e8"))
    #expect(cache[ByteKey("O8")]??.canonicalEventID == "e8" && cache.count == 3)
    cache.removeAll()
    #expect(cache.count == 0 && cache[ByteKey("O7")] == nil)
  }
}
