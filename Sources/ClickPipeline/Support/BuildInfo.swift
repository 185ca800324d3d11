import CGzip
import CSQLite

/// What a binary is and what it was built with, for `--version` and bug reports.
public enum BuildInfo {
  /// The project's version.
  public static let version = "0.9.0"

  /// The SQLite library in use, as it reports itself (`3.40.1`).
  public static var sqliteVersion: String { String(cString: sqlite3_libversion()) }

  /// The gzip decoder and its version (`isa-l 2.30.0`).
  public static var gzipBackend: String {
    "\(String(cString: cg_backend_name())) \(String(cString: cg_backend_version()))"
  }

  /// The `--version` text of a command:
  /// `ingest (ClickPipeline) 0.9.0, SQLite 3.40.1, gzip isa-l 2.30.0, crawler list crawler-user-agents 1.67.0 (1504 patterns)`.
  public static func versionText(command: String) -> String {
    "\(command) (ClickPipeline) \(version), SQLite \(sqliteVersion), gzip \(gzipBackend), crawler list \(CrawlerList.description)"
  }
}
