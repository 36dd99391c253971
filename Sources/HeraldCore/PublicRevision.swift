import Foundation

/// What the public page may show of a revision: when, and the public note. Nothing else of a
/// revision (its reason, its note to providers, who made it) is in this type, so no public
/// surface can show it by mistake.
public struct PublicRevision: Equatable, Sendable {
    /// Which revision this was.
    public var revision: Int
    /// When the change was made.
    public var createdAt: Date
    /// What the release manager chose to say in public; may be empty.
    public var publicNote: String

    /// The public part of `revision`; the rest of it is left behind.
    public init(_ revision: AdvisoryRevision) {
        self.revision = revision.revision
        createdAt = revision.createdAt
        publicNote = revision.publicNote
    }
}
