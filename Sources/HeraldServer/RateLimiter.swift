import Foundation
import HeraldCore
import HeraldStore
import Hummingbird

/// A token bucket per client address for public POST routes.
final class RateLimiter: @unchecked Sendable {
    private let lock = NSLock()
    private var buckets: [String: (tokens: Double, at: ContinuousClock.Instant)] = [:]
    private let perMinute: Double

    init(perMinute: Int) { self.perMinute = Double(max(1, perMinute)) }

    /// Throws 429 with Retry-After when `client` has used its share.
    func check(_ client: String) throws {
        let now = ContinuousClock.now
        let allowed = lock.withLock { () -> Bool in
            if buckets.count > 100_000 { buckets.removeAll() }  // bounded memory under a flood
            var bucket = buckets[client] ?? (perMinute, now)
            let elapsed =
                Double((now - bucket.at).components.seconds) + Double((now - bucket.at).components.attoseconds) / 1e18
            bucket.tokens = min(perMinute, bucket.tokens + elapsed * perMinute / 60)
            bucket.at = now
            let ok = bucket.tokens >= 1
            if ok { bucket.tokens -= 1 }
            buckets[client] = bucket
            return ok
        }
        guard allowed else {
            var problem = Problem(.tooManyRequests, "too many requests from this address; try again in a minute")
            problem.headers[.retryAfter] = String(Int(60 / perMinute) + 1)
            throw problem
        }
    }
}
