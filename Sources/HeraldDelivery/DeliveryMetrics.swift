import Foundation
import HeraldCore
import Metrics
import Synchronization

/// The delivery counters `/metrics` shows, through swift-metrics (a no-op until a backend is
/// bootstrapped, so libraries and tests need not care).
public enum DeliveryMetrics {
    /// Counts one attempt's outcome: `delivered`, `retry`, `dead`, `gone`.
    public static func attempt(transport: TransportKind, outcome: String) {
        counter(transport: transport, outcome: outcome).increment()
    }

    /// The outcomes `attempt` counts.
    static let outcomes = ["delivered", "retry", "dead", "gone"]

    /// Makes every counter and lag recorder once, at start, after the backend is bootstrapped:
    /// a scrape shows each at zero from the start (so a rate or an alert on `dead` works before
    /// the first one), and the first publication does not pay for making them (about a
    /// millisecond of its first sends, measured, in the backend's first histogram and counter).
    public static func prepare() {
        for transport in TransportKind.allCases {
            for outcome in outcomes { _ = counter(transport: transport, outcome: outcome) }
        }
        for kind in timedKinds { _ = lagRecorder(kind: kind.rawValue) }
        failing.record(0)
    }

    /// The notices fired at an instant (the scheduler's), whose lag is recorded.
    static let timedKinds: [NoticeKind] = [
        .preAnnouncement, .earlyNotice, .reminder, .finalNotice, .publication,
    ]

    private static func counter(transport: TransportKind, outcome: String) -> Counter {
        attempts.withLock { counters in
            let key = AttemptKey(transport: transport.rawValue, outcome: outcome)
            if let counter = counters[key] { return counter }
            let counter = Counter(
                label: "herald_deliveries_total", dimensions: [("transport", transport.rawValue), ("outcome", outcome)])
            counters[key] = counter
            return counter
        }
    }

    // Made once per label set: asking the backend for a counter per delivery costs more than
    // the increment. Bootstrapping comes first in `serve`, so the cached ones are the real ones.
    private struct AttemptKey: Hashable {
        var transport: String
        var outcome: String
    }

    private static let attempts = Mutex<[AttemptKey: Counter]>([:])

    // Queue depth and the oldest waiting delivery are read from the database when /metrics is
    // scraped (OutboxStore.queueDepth), so they are right even while no worker runs.

    /// Advisories whose due notice failed and waits to be tried again (the scheduler's backoff).
    /// Here, behind the metrics token, not on /healthz: a public count would tell that private
    /// notices exist.
    public static func failingNotices(_ count: Int) {
        failing.record(count)
    }

    private static let failing = Gauge(label: "herald_notices_failing")

    /// Seconds from a notice's instant to its fan-out (publication lag).
    public static func noticeLag(kind: String, seconds: TimeInterval) {
        lagRecorder(kind: kind).record(seconds)
    }

    private static func lagRecorder(kind: String) -> Recorder {
        lags.withLock { recorders in
            if let recorder = recorders[kind] { return recorder }
            let recorder = Recorder(label: "herald_notice_lag_seconds", dimensions: [("kind", kind)], aggregate: true)
            recorders[kind] = recorder
            return recorder
        }
    }

    private static let lags = Mutex<[String: Recorder]>([:])
}
