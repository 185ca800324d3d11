import Foundation

/// An error that ends a stage, with the exit status cron sees (CONTRACT §10).
///
/// Each message names what went wrong and what to do about it.
public enum PipelineError: Error, CustomStringConvertible {
  case configuration(ConfigurationError)
  case database(path: String, DatabaseError)
  case unusableDatabase(path: String, reason: String)
  case locked(path: String, holder: String)
  case input(path: String, reason: String)
  case output(path: String, reason: String)

  /// `error` as a stage's error about the database at `path`: a ``PipelineError`` as it is,
  /// a ``DatabaseError`` (or anything else) as ``database(path:_:)``.
  public init(_ error: any Error, databasePath path: String) {
    switch error {
    case let error as PipelineError: self = error
    case let error as DatabaseError: self = .database(path: path, error)
    default: self = .database(path: path, DatabaseError(code: 1, message: "\(error)"))
    }
  }

  /// A system error in words for people: `permission denied`, `no space left on device`;
  /// never Foundation's `Error Domain=… UserInfo={…}` dump.
  public static func systemReason(_ error: any Error) -> String {
    if let posix = error as? POSIXError { return String(cString: strerror(posix.code.rawValue)).lowercased() }
    let ns = error as NSError
    if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))).lowercased() }
    if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
      return String(cString: strerror(Int32(underlying.code))).lowercased()
    }
    if ns.domain == NSCocoaErrorDomain {
      switch ns.code {
      case NSFileWriteNoPermissionError, NSFileReadNoPermissionError: return "permission denied"
      case NSFileWriteOutOfSpaceError: return "no space left on device"
      case NSFileWriteVolumeReadOnlyError: return "read-only file system"
      case NSFileNoSuchFileError, NSFileReadNoSuchFileError: return "no such file or directory"
      default: break
      }
    }
    return ns.localizedDescription
  }

  /// 1: nothing was changed; 75: another run holds the database (EX_TEMPFAIL).
  public var exitCode: Int32 {
    switch self {
    case .locked: 75
    default: 1
    }
  }

  public var description: String {
    switch self {
    case .configuration(let error):
      return "configuration error: \(error)"
    case .database(let path, let error):
      let primary = error.code & 0xFF
      if primary == 13 {  // SQLITE_FULL
        return "database \(path): the disk is full (\(error.message)); free space and run again — nothing was changed"
      }
      if primary == 26 {  // SQLITE_NOTADB
        return "database \(path) is not a SQLite database (or is encrypted or damaged); check the --db path — nothing was changed"
      }
      if primary == 8 || primary == 14 || primary == 3 {  // READONLY, CANTOPEN, PERM
        return
          "database \(path): cannot write (\(error.message)); check the file and folder permissions and free space — nothing was changed"
      }
      return "database \(path): \(error); nothing was changed"
    case .unusableDatabase(let path, let reason):
      return "database \(path) cannot be used: \(reason)"
    case .locked(let path, let holder):
      return "database \(path) is in use by another run (\(holder)); try again later, or pass --wait SECONDS to wait for it"
    case .input(let path, let reason):
      return "\(path): \(reason)"
    case .output(let path, let reason):
      return "cannot write \(path): \(reason)"
    }
  }
}
