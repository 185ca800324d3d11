/// Where on a creator's profile a link was shown (CONTRACT §2): its spelling in logs and in
/// `daily_metrics`, and its code in a staged segment.
public enum Placement: UInt8, CaseIterable, Sendable {
  case post = 0
  case bio = 1

  /// The spelling in logs (matched case-insensitively) and in `daily_metrics`.
  public var name: String {
    switch self {
    case .post: "post"
    case .bio: "bio"
    }
  }
}
