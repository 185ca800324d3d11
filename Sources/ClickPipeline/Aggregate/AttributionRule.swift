/// Which rule of CONTRACT §4 decided an order's attribution, as stored in `orders.rule`.
public enum AttributionRule: String, Sendable, CaseIterable {
  /// `click_id` named an ingested, non-bot click.
  case clickID = "click_id"
  /// The latest non-bot click of the same viewer and product within the platform's window.
  case viewerWindow = "viewer window"
  /// `click_id` named a bot click: the order is unattributed.
  case botClick = "bot click"
  /// No click: unattributed.
  case none = "none"
}
