import ClickPipeline
import Foundation

/// A one-line progress display on a terminal: files, MB/s, events/s and ETA, redrawn in place.
public final class ProgressLine: @unchecked Sendable {
  private let stage: String
  private var lastDraw = 0.0
  private let lock = NSLock()

  public init(stage: String) { self.stage = stage }

  public func update(_ p: IngestProgress) {
    lock.lock()
    defer { lock.unlock() }
    guard p.seconds - lastDraw >= 0.2 || p.filesDone == p.filesTotal else { return }
    lastDraw = p.seconds
    let mbps = p.seconds > 0 ? Double(p.bytesDone) / 1e6 / p.seconds : 0
    let eps = p.seconds > 0 ? Double(p.events) / p.seconds : 0
    let remaining = mbps > 0 ? Double(p.bytesTotal - p.bytesDone) / 1e6 / mbps : 0
    let text = String(
      format: "\r%@: %d/%d files  %.0f/%.0f MB  %.1f MB/s  %@ events/s  ETA %.0fs   ",
      stage, p.filesDone, p.filesTotal, Double(p.bytesDone) / 1e6, Double(p.bytesTotal) / 1e6, mbps,
      grouped(Int(eps)), remaining)
    FileHandle.standardError.write(Data(text.utf8))
  }

  /// Progress over days (aggregate): days done, ETA.
  public func days(_ done: Int, _ total: Int, _ seconds: Double) {
    lock.lock()
    defer { lock.unlock() }
    guard seconds - lastDraw >= 0.2 || done == total else { return }
    lastDraw = seconds
    let remaining = done > 0 ? seconds / Double(done) * Double(total - done) : 0
    let text = String(format: "\r%@: %d/%d days  %.1f s  ETA %.0fs   ", stage, done, total, seconds, remaining)
    FileHandle.standardError.write(Data(text.utf8))
  }

  public func finish() {
    FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
  }
}
