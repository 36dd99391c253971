import Foundation
import Metrics

/// The delivery counters `/metrics` shows, through swift-metrics (a no-op until a backend is
/// bootstrapped, so libraries and tests need not care).
public enum DeliveryMetrics {
    /// Counts one attempt's outcome: `delivered`, `retry`, `dead`, `gone`.
    public static func attempt(transport: String, outcome: String) {
        Counter(label: "herald_deliveries_total", dimensions: [("transport", transport), ("outcome", outcome)]).increment()
    }

    // Queue depth and the oldest waiting delivery are read from the database when /metrics is
    // scraped (OutboxStore.queueDepth), so they are right even while no worker runs.

    /// Seconds from a notice's instant to its fan-out (publication lag).
    public static func noticeLag(kind: String, seconds: TimeInterval) {
        Recorder(label: "herald_notice_lag_seconds", dimensions: [("kind", kind)], aggregate: true).record(seconds)
    }
}
