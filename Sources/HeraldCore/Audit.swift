import Foundation

/// One line of the audit log: who did what to which subject, when and why.
public struct AuditEntry: Equatable, Sendable, Codable {
    /// Database id.
    public var id: Int64
    /// When it happened.
    public var at: Date
    /// `cli:<user>` for the command line, `token:<name>` for the API, `scheduler` for the clock.
    public var actor: String
    /// A dotted verb, like `advisory.reschedule`.
    public var action: String
    /// What kind of thing it concerns: `advisory`, `provider`, `channel`, `token`, ….
    public var subjectType: String
    /// The subject's database id; nil for a subject without one (the settings).
    public var subjectID: Int64?
    /// Why, in the actor's own words; empty when none was given.
    public var reason: String
    /// The details of the change, as names and values (a JSON object in `--json` and the API).
    public var details: [String: String]

    /// Creates an audit entry value.
    public init(
        id: Int64, at: Date, actor: String, action: String, subjectType: String, subjectID: Int64?, reason: String,
        details: [String: String]
    ) {
        self.id = id
        self.at = at
        self.actor = actor
        self.action = action
        self.subjectType = subjectType
        self.subjectID = subjectID
        self.reason = reason
        self.details = details
    }
}

/// What an API token may do. Ordered by what they include: admin ⊇ release-manager ⊇ auditor.
public enum TokenRole: String, Codable, Sendable, CaseIterable, Comparable {
    /// Everything, including providers, channels and tokens.
    case admin
    /// Advisories and deliveries.
    case releaseManager = "release-manager"
    /// Reads only.
    case auditor

    /// Whether `lhs` may do less than `rhs`.
    public static func < (lhs: TokenRole, rhs: TokenRole) -> Bool { lhs.rank < rhs.rank }

    private var rank: Int {
        switch self {
        case .auditor: 0
        case .releaseManager: 1
        case .admin: 2
        }
    }
}

/// An API token as stored: its hash, never the token.
public struct TokenRecord: Equatable, Sendable, Codable {
    /// Database id.
    public var id: Int64
    /// The name it is known by: unique among live tokens, so it can be revoked by name.
    public var name: String
    /// What it may do.
    public var role: TokenRole
    /// When it was issued.
    public var createdAt: Date
    /// When it was revoked; nil while it is live.
    public var revokedAt: Date?

    /// Creates a token record value.
    public init(id: Int64, name: String, role: TokenRole, createdAt: Date, revokedAt: Date?) {
        self.id = id
        self.name = name
        self.role = role
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}
