import Foundation

/// Expands the command line's paths into input files (CONTRACT §1).
public enum InputDiscovery {
  /// A file stays a file; a directory means every regular file below it, recursively, skipping
  /// names that start with `.`. The result is sorted by path (byte order) and without repeats.
  /// A path that does not exist is an error; so is finding no file at all.
  public static func files(for paths: [String]) throws(PipelineError) -> (files: [String], warnings: [String]) {
    var found: [String] = []
    var warnings: [String] = []
    let fm = FileManager.default
    for path in paths {
      var isDirectory: ObjCBool = false
      guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else {
        throw PipelineError.input(path: path, reason: "no such file or directory; check the path (nothing was ingested)")
      }
      guard isDirectory.boolValue else {
        found.append(path)
        continue
      }
      var below: [String] = []
      walk(path, into: &below)
      if below.isEmpty { warnings.append("\(path): directory contains no input files") }
      found += below
    }
    var seen = Set<String>()
    let unique = found.filter { seen.insert($0).inserted }
      .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    guard !unique.isEmpty else {
      throw PipelineError.input(
        path: paths.joined(separator: " "),
        reason: "no input files found (directories are searched recursively; names starting with '.' are skipped)")
    }
    return (unique, warnings)
  }

  private static func walk(_ directory: String, into result: inout [String]) {
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
      // An unreadable directory: list it as a file so that it is reported as failed.
      result.append(directory)
      return
    }
    for name in names where !name.hasPrefix(".") {
      let child = directory.hasSuffix("/") ? directory + name : directory + "/" + name
      var st = stat()
      guard lstat(child, &st) == 0 else { continue }
      switch st.st_mode & S_IFMT {
      case S_IFDIR: walk(child, into: &result)
      case S_IFREG: result.append(child)
      case S_IFLNK:
        // Follow links to regular files and directories.
        var target = stat()
        guard stat(child, &target) == 0 else { continue }
        if target.st_mode & S_IFMT == S_IFDIR {
          walk(child, into: &result)
        } else if target.st_mode & S_IFMT == S_IFREG {
          result.append(child)
        }
      default: continue
      }
    }
  }
}
