import Foundation

/// Where a participant stands on an advisory, as it answers (CERT/CC VINCE's vendor status,
/// with Kubernetes' "ready" and a request for more time).
public enum ResponseStatus: String, Codable, Sendable, CaseIterable {
    /// No answer yet.
    case unknown
    /// Its deployments are affected.
    case affected
    /// Its deployments are not affected.
    case notAffected = "not-affected"
    /// Fixed and ready to deploy at the instant.
    case ready
    /// Cannot be ready by the instant; proposes a later one.
    case needsMoreTime = "needs-more-time"

    /// The statuses a participant can answer with (`unknown` is where everyone starts).
    public static let answers: [ResponseStatus] = [.ready, .notAffected, .needsMoreTime, .affected]
    /// The answers every private notice links to directly.
    public static let linked: [ResponseStatus] = [.ready, .notAffected, .needsMoreTime]
}
