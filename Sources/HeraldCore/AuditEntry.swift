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
