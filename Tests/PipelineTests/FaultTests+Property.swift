import Foundation
import Testing

@testable import ClickPipeline

extension FaultTests {
  /// Property: whatever the bytes, FileParser does not crash and every non-blank line is
  /// exactly one event or one reject with a known reason (a CSV header that is accepted is
  /// neither). Valid NDJSON and CSV lines are mutated with a fixed seed — bit flips,
  /// truncation, splices, random bytes, inserted NUL/CR/LF/quotes/commas/braces — so a failure
  /// reproduces; the iteration count bounds the time (about a second in a debug build).
  @Suite struct Property {
    static let iterations = 1_500
    static let currencies: Set<String> = ["USD", "EUR", "GBP", "JPY", "IDR", "SGD", "MYR"]

    /// Every reason code the contract allows.
    static let knownReasons: Set<String> = {
      var codes: Set<String> = ["malformed", "line_too_long"]
      for field in Field.allCases {
        codes.insert("missing_field:\(field.name)")
        codes.insert("bad_value:\(field.name)")
      }
      return codes
    }()

    /// The non-blank lines of `bytes` by number, counted as CONTRACT §1 says (LF or CRLF, a
    /// BOM at the start, blank = only spaces and tabs), independently of LineReader.
    static func nonBlankLines(_ bytes: [UInt8]) -> [Int] {
      var result: [Int] = []
      var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
      if bytes.last == 0x0A { lines.removeLast() }
      for (index, var line) in lines.enumerated() {
        if index == 0, line.starts(with: [0xEF, 0xBB, 0xBF]) { line.removeFirst(3) }
        if line.last == 0x0D { line.removeLast() }
        if line.contains(where: { $0 != 0x20 && $0 != 0x09 }) { result.append(index + 1) }
      }
      return result
    }

    static func seedLines(_ rng: inout SeededRandom) -> (ndjson: [[UInt8]], csvHeader: [UInt8], csv: [[UInt8]]) {
      let generated = Workload.ndjson(.init(lines: 200, seed: rng.next(), prefix: "p", creators: 5, products: 5, viewers: 10)).bytes
      let ndjson = generated.split(separator: 0x0A).map(Array.init)
      let header = Array(
        "type,event_id,ts,creator_id,post_id,placement,viewer_id,product_id,platform,store,user_agent,order_id,click_id,quantity,amount,currency,status"
          .utf8)
      let csv: [[UInt8]] = [
        "view,v1,2026-11-01T10:00:00Z,c1,p1,,u1,B1,amazon,,Mozilla/5.0,,,,,,",
        "click,k1,1793498400000,c1,,bio,u1,B1,AMAZON,,\"Mozilla/5.0 (X11; Linux x86_64)\",,,,,,",
        "conversion,o1,2026-11-01 11:00:00.123+07:00,,,,u1,B1,amazon,,,O-1,k1,2,19.99,EUR,",
        "conversion,o2,2026-11-01T11:00:00Z,,,,u1,LS-1,brand_store,lumi-skin,,O-2,,,\"5.00\",usd,refunded",
        "view,\"v\"\"2\",2026-11-01T10:00:00Z,\"c,2\",,,,,,,,,,,,,",
      ].map { Array($0.utf8) }
      return (ndjson, header, csv)
    }

    static let specials: [UInt8] = [0x00, 0x0D, 0x0A, 0x22, 0x2C, 0x7B, 0x7D, 0x5B, 0x5D, 0x5C, 0x3A, 0x20, 0x09, 0xFF, 0xC3, 0xED]

    static func mutate(_ line: [UInt8], with other: [UInt8], _ rng: inout SeededRandom) -> [UInt8] {
      var b = line
      for _ in 0...rng.below(3) {
        switch rng.below(8) {
        case 0 where !b.isEmpty:  // bit flip
          b[rng.below(b.count)] ^= UInt8(1) << UInt8(rng.below(8))
        case 1 where !b.isEmpty:  // truncation
          b = Array(b.prefix(rng.below(b.count)))
        case 2:  // splice with another line
          let cut = rng.below(b.count + 1)
          let from = rng.below(other.count + 1)
          b = Array(b.prefix(cut)) + Array(other.suffix(from: from))
        case 3:  // random bytes
          let at = rng.below(b.count + 1)
          b.insert(contentsOf: (0..<(1 + rng.below(6))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: at)
        case 4:  // a special byte: NUL, CR, LF, quote, comma, braces…
          b.insert(specials[rng.below(specials.count)], at: rng.below(b.count + 1))
        case 5 where !b.isEmpty:  // delete a range
          let at = rng.below(b.count)
          b.removeSubrange(at..<min(b.count, at + 1 + rng.below(10)))
        case 6 where !b.isEmpty:  // duplicate a range
          let at = rng.below(b.count)
          let range = at..<min(b.count, at + 1 + rng.below(20))
          b.insert(contentsOf: b[range], at: range.upperBound)
        default:  // replace a byte with a special one
          if !b.isEmpty { b[rng.below(b.count)] = specials[rng.below(specials.count)] }
        }
      }
      return b
    }

    @Test func mutatedLinesAreAcceptedOrRejectedWithAReason() throws {
      let dir = try TemporaryDirectory()
      var rng = SeededRandom(seed: 0x0C11_C4B1)
      let seeds = Self.seedLines(&rng)
      let parser = FileParser(currencies: Self.currencies)
      let path = dir.file("mutated.log")
      var totals = (files: 0, lines: 0, events: 0, rejects: 0)
      var failures = 0
      for iteration in 0..<Self.iterations where failures < 5 {
        let csv = rng.chance(35)
        let pool = csv ? seeds.csv : seeds.ndjson
        var lines: [[UInt8]] = csv ? [seeds.csvHeader] : []
        for _ in 0..<(1 + rng.below(25)) {
          var line = pool[rng.below(pool.count)]
          if rng.chance(60) { line = Self.mutate(line, with: pool[rng.below(pool.count)], &rng) }
          lines.append(line)
        }
        if csv && rng.chance(10) { lines[0] = Self.mutate(lines[0], with: lines[0], &rng) }
        var bytes: [UInt8] = rng.chance(5) ? [0xEF, 0xBB, 0xBF] : []
        for line in lines { bytes += line + (rng.chance(20) ? [0x0D, 0x0A] : [0x0A]) }
        if rng.chance(30), bytes.last == 0x0A { bytes.removeLast() }
        try Data(bytes).write(to: URL(fileURLWithPath: path))

        var eventLines: [Int] = []
        var rejects: [RejectedLine] = []
        let summary: ParsedFileSummary
        do {
          summary = try parser.parse(path: path) { chunk in
            eventLines += chunk.events.map(\.line)
            rejects += chunk.rejects
          }
        } catch {
          // A plain file can only fail to be read if it looks like gzip.
          #expect(bytes.starts(with: [0x1F, 0x8B]), "iteration \(iteration): \(error)")
          continue
        }
        let expected = Self.nonBlankLines(bytes)
        var covered = (eventLines + rejects.map(\.line)).sorted()
        if summary.format == .csv, let first = expected.first, !rejects.contains(where: { $0.line == first }) {
          covered.insert(first, at: 0)  // the header row
        }
        let unknown = rejects.filter { !Self.knownReasons.contains($0.reason.code) || $0.raw.count > 1024 }
        let ok =
          covered == expected && summary.lines == expected.count && unknown.isEmpty
          && summary.events == eventLines.count && summary.rejected == rejects.count
        if !ok {
          failures += 1
          Issue.record(
            """
            iteration \(iteration) (\(csv ? "CSV" : "NDJSON")): non-blank lines \(expected), covered \(covered), \
            summary lines \(summary.lines), unknown reasons \(unknown.map(\.reason.code)); file bytes (hex): \
            \(bytes.prefix(600).map { String(format: "%02x", $0) }.joined())
            """)
        }
        totals.files += 1
        totals.lines += expected.count
        totals.events += eventLines.count
        totals.rejects += rejects.count
      }
      print(
        "FaultTests.Property: \(totals.files) files, \(totals.lines) non-blank lines, \(totals.events) events, \(totals.rejects) rejects")
      // The mutations must exercise both outcomes a lot, or the property says little.
      #expect(totals.events > totals.lines / 5 && totals.rejects > totals.lines / 5, "\(totals)")
    }
  }
}
