import Foundation

/// When to try a failed delivery again: exponential steps with jitter, a server's
/// `Retry-After` honoured, and a last attempt after which the delivery is dead.
public struct RetryPolicy: Equatable, Sendable {
    /// Waits after the 1st, 2nd, … failed attempt.
    public var steps: [TimeInterval]
    /// Each wait is scaled by a random factor in 1 ± jitter, so a burst of failures does not
    /// come back as a burst.
    public var jitter: Double

    /// About 5 s, 1 min, 5 min, 30 min, 2 h, 6 h, 12 h, 24 h: nine attempts over about 45 hours.
    public static let standard = RetryPolicy(steps: [5, 60, 300, 1800, 7200, 21_600, 43_200, 86_400], jitter: 0.2)

    /// Creates a policy; `standard` is the one deliveries use.
    public init(steps: [TimeInterval], jitter: Double) {
        self.steps = steps
        self.jitter = jitter
    }

    /// The instant of the next attempt after `attempts` failed ones, or nil when the delivery
    /// is dead. `retryAfter` (seconds the server asked for) wins when longer, up to a day;
    /// `random` is in 0..<1.
    public func nextAttempt(after attempts: Int, now: Date, retryAfter: TimeInterval? = nil, random: Double) -> Date? {
        guard attempts >= 1, attempts <= steps.count else { return nil }
        let base = steps[attempts - 1] * (1 + jitter * (2 * random - 1))
        let wait = max(base, min(retryAfter ?? 0, 86_400))
        return now.addingTimeInterval(wait)
    }
}
