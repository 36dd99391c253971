import Foundation

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
    /// Through what its private notices reached it: `email`, `webhook`.
    public var notifiedVia: [String] = []
    /// Its deliveries still on their way (pending or retrying).
    public var waiting: Int
    /// Its deliveries that failed for good.
    public var failed: Int
    /// When it first acknowledged a notice of the advisory (answering counts).
    public var acknowledgedAt: Date?
    /// When it first opened a link of the advisory's notices (or the portal's page of it).
    public var seenAt: Date?
    /// Its latest answer; `unknown` until it answers.
    public var status: ResponseStatus = .unknown
    /// When it gave its latest answer.
    public var answeredAt: Date?
    /// With `needsMoreTime`: the instant it proposes.
    public var proposedInstant: Date?
    /// Its words with the latest answer; for release managers, and for the other participants
    /// only when `shareable`.
    public var statement: String = ""
    /// Whether the other participants may read `statement`.
    public var shareable: Bool = false

    /// Creates the row.
    public init(
        providerID: Int64, organization: String, providerStatus: ProviderStatus, decision: Decision?, reason: String,
        notifiedRevision: Int?, notifiedAt: Date?, waiting: Int, failed: Int, acknowledgedAt: Date?
    ) {
        self.providerID = providerID
        self.organization = organization
        self.providerStatus = providerStatus
        self.decision = decision
        self.reason = reason
        self.notifiedRevision = notifiedRevision
        self.notifiedAt = notifiedAt
        self.waiting = waiting
        self.failed = failed
        self.acknowledgedAt = acknowledgedAt
    }

    /// Whether it takes part: active and not excluded.
    public var takesPart: Bool { providerStatus == .active && decision != .excluded }
}
