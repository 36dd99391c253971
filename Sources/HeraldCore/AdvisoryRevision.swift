import Foundation

/// An advisory as it was at one revision, kept for the history and for "who got which revision".
public struct AdvisoryRevision: Equatable, Sendable, Codable {
    /// The revision number this snapshot is of.
    public var revision: Int
    /// The advisory's state at that revision.
    public var state: AdvisoryState
    /// Its content at that revision.
    public var content: AdvisoryContent
    /// Its instants at that revision.
    public var schedule: Schedule
    /// Why, for the audit log and release managers only.
    public var reason: String
    /// What the private notice of this change told the providers.
    public var noteToProviders: String
    /// What the public page shows of this change after publication.
    public var publicNote: String
    /// Who made the change, as in the audit log (`cli:<user>`, `token:<name>`, `scheduler`).
    public var actor: String
    /// When the change was made.
    public var createdAt: Date

    /// A snapshot of `advisory` as it is now, with the words that came with the change.
    public init(of advisory: Advisory, notes: ChangeNotes, actor: String) {
        revision = advisory.revision
        state = advisory.state
        content = advisory.content
        schedule = advisory.schedule
        reason = notes.reason
        noteToProviders = notes.toProviders
        publicNote = notes.publicNote
        self.actor = actor
        createdAt = advisory.updatedAt
    }

    // Snapshots written before notes existed have none: their reason stays private.
    /// Decodes a stored snapshot.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        revision = try c.decode(Int.self, forKey: .revision)
        state = try c.decode(AdvisoryState.self, forKey: .state)
        content = try c.decode(AdvisoryContent.self, forKey: .content)
        schedule = try c.decode(Schedule.self, forKey: .schedule)
        reason = try c.decodeIfPresent(String.self, forKey: .reason) ?? ""
        noteToProviders = try c.decodeIfPresent(String.self, forKey: .noteToProviders) ?? ""
        publicNote = try c.decodeIfPresent(String.self, forKey: .publicNote) ?? ""
        actor = try c.decode(String.self, forKey: .actor)
        createdAt = try c.decode(Date.self, forKey: .createdAt)
    }
}
