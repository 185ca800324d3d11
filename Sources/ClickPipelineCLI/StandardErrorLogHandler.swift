import Foundation
import Logging

/// A swift-log handler writing one line per message to standard error, as text or JSON.
public struct StandardErrorLogHandler: LogHandler {
  public var metadata: Logger.Metadata = [:]
  public var logLevel: Logger.Level = .info
  let label: String
  let format: LogFormat

  public init(label: String, format: LogFormat) {
    self.label = label
    self.format = format
  }

  public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { metadata[key] }
    set { metadata[key] = newValue }
  }

  public func log(event: LogEvent) {
    var all = metadata
    if let extra = event.metadata { all.merge(extra) { $1 } }
    let line: String
    switch format {
    case .text:
      let details = all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
      let prefix = event.level >= .error ? "error: " : event.level == .warning ? "warning: " : ""
      line = "\(label): \(prefix)\(event.message)" + (details.isEmpty ? "" : " (\(details))")
    case .json:
      var fields: [(String, String)] = [
        ("time", Self.timestamp()), ("level", event.level.rawValue), ("logger", label), ("message", "\(event.message)"),
      ]
      for (key, value) in all.sorted(by: { $0.key < $1.key }) { fields.append((key, "\(value)")) }
      line = "{" + fields.map { "\"\(Self.escape($0.0))\":\"\(Self.escape($0.1))\"" }.joined(separator: ",") + "}"
    }
    FileHandle.standardError.write(Data((line + "\n").utf8))
  }

  static func escape(_ s: String) -> String {
    var out = ""
    for scalar in s.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      default:
        if scalar.value < 0x20 {
          out += String(format: "\\u%04x", scalar.value)
        } else {
          out.unicodeScalars.append(scalar)
        }
      }
    }
    return out
  }

  static func timestamp() -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter.string(from: Date())
  }
}
