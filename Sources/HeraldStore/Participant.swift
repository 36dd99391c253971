import Foundation
import HeraldCore

/// One provider's part in an advisory.
public struct Participant: Sendable, Equatable, Codable {
    /// A release manager's decision about it.
    public enum Decision: String, Sendable, Codable {
        case invited, excluded
    }

    /// The provider's database id.
    public var providerID: Int64
    /// The provider's organisation.
    public var organization: String
    /// Whether it is still active: a suspended or removed provider takes part no more.
    public var providerStatus: ProviderStatus
    /// Invited or excluded by a release manager; nil: by the rule (it follows the project).
    public var decision: Decision?
    /// Why it was excluded.
    public var reason: String
    /// The newest revision delivered to it; nil: nothing delivered yet.
    public var notifiedRevision: Int?
    /// When the first private notice reached it.
    public var notifiedAt: Date?
    /// Its deliveries still on their way (pending or retrying).
    public var waiting: Int
    /// Its deliveries that failed for good.
    public var failed: Int
    /// When it first acknowledged a notice of the advisory.
    public var acknowledgedAt: Date?

    /// Whether it takes part: active and not excluded.
    public var takesPart: Bool { providerStatus == .active && decision != .excluded }
}
