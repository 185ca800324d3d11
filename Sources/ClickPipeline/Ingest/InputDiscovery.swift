import Foundation

/// Expands the command line's paths into input files (CONTRACT §1).
public enum InputDiscovery {
  /// What the command line's paths expand to.
  public struct Found: Sendable {
    /// Input files, sorted by path (byte order), without repeats.
    public var files: [String] = []
    /// Things worth a word that do not stop the run (an empty directory).
    public var warnings: [String] = []
    /// Entries that cannot be ingested and make the run exit 2 (a name that is not UTF-8).
    public var refused: [String] = []
  }

  /// A file stays a file; a directory means every regular file below it, recursively, skipping
  /// names that start with `.` and following symbolic links, each real directory visited once
  /// (by device and inode) whatever links loop back into it. A path that does not exist is an
  /// error; so is finding no file at all.
  public static func files(for paths: [String]) throws(PipelineError) -> Found {
    var found = Found()
    var visited = Set<DirectoryID>()
    var listed: [String] = []
    for path in paths {
      var st = stat()
      guard stat(path, &st) == 0 else {
        let hint = path.contains("\u{FFFD}") ? " (its name is not valid UTF-8 as given; rename the file)" : ""
        throw PipelineError.input(path: path, reason: "no such file or directory\(hint); check the path (nothing was ingested)")
      }
      guard (st.st_mode & S_IFMT) == S_IFDIR else {
        listed.append(path)
        continue
      }
      var below: [String] = []
      walk(path, st, visited: &visited, into: &below, refused: &found.refused, warnings: &found.warnings)
      if below.isEmpty { found.warnings.append("\(path): directory contains no input files") }
      listed += below
    }
    var seen = Set<String>()
    found.files = listed.filter { seen.insert($0).inserted }
      .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    guard !found.files.isEmpty || !found.refused.isEmpty else {
      throw PipelineError.input(
        path: paths.joined(separator: " "),
        reason: "no input files found (directories are searched recursively; names starting with '.' are skipped)")
    }
    return found
  }

  private struct DirectoryID: Hashable {
    var device: UInt64
    var inode: UInt64
    init(_ st: stat) {
      device = UInt64(st.st_dev)
      inode = UInt64(st.st_ino)
    }
  }

  private static func walk(
    _ directory: String, _ st: stat, visited: inout Set<DirectoryID>, into result: inout [String], refused: inout [String],
    warnings: inout [String]
  ) {
    guard visited.insert(DirectoryID(st)).inserted else { return }  // reached again through a link
    guard let handle = opendir(directory) else {
      // An unreadable directory: list it as a file so that it is reported as failed.
      result.append(directory)
      return
    }
    var names: [[UInt8]] = []
    while let entry = readdir(handle) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
      if name.first == UInt8(ascii: ".") { continue }
      names.append(name)
    }
    closedir(handle)
    let prefix = directory.hasSuffix("/") ? directory : directory + "/"
    for bytes in names {
      guard let name = String(validating: bytes, as: UTF8.self) else {
        let shown = bytes.map { $0 < 0x80 && $0 >= 0x20 ? String(UnicodeScalar($0)) : "\\x" + String($0, radix: 16, uppercase: true) }
          .joined()
        refused.append("\(prefix)\(shown): the name is not valid UTF-8, so it cannot be recorded; rename it to ingest it")
        continue
      }
      let child = prefix + name
      var target = stat()
      guard stat(child, &target) == 0 else {
        let why = errno
        if let destination = danglingLink(child) {
          let what =
            switch why {
            case ELOOP: "which leads back to itself"
            case EACCES: "which cannot be reached (permission denied)"
            default: "which does not exist"
            }
          warnings.append("\(child): a symbolic link to \(destination), \(what); skipped (fix or remove the link)")
        } else if why == EACCES {
          warnings.append("\(child): cannot be reached (permission denied); skipped (fix the permissions of its folder)")
        }
        continue
      }
      switch target.st_mode & S_IFMT {
      case S_IFDIR: walk(child, target, visited: &visited, into: &result, refused: &refused, warnings: &warnings)
      case S_IFREG: result.append(child)
      default: continue
      }
    }
  }

  /// Where the symbolic link at `path` points, if it is one whose target cannot be reached.
  private static func danglingLink(_ path: String) -> String? {
    var st = stat()
    guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFLNK else { return nil }
    var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX))
    let n = readlink(path, &buffer, buffer.count)
    return n < 0 ? "an unreadable target" : String(decoding: buffer[..<n], as: UTF8.self)
  }
}
