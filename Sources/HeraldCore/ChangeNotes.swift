import Foundation

/// The words that go with a change, each for its own audience (DESIGN.md, "Reasons have three
/// audiences"); nothing moves from one audience to another by itself.
public struct ChangeNotes: Equatable, Sendable {
    /// Why: the audit log and release managers only.
    public var reason: String
    /// Goes into the private notice to providers.
    public var toProviders: String
    /// Shown on the public page after publication.
    public var publicNote: String

    /// Validates the notes; with `reasonRequired`, an empty reason is refused (the audit log needs one).
    public init(reason: String = "", toProviders: String = "", publicNote: String = "", reasonRequired: Bool = false)
        throws(Refusal)
    {
        self.reason = try Validate.reason(reason, required: reasonRequired)
        self.toProviders = try Validate.text(toProviders, field: "note-to-providers", maxLength: 2000)
        self.publicNote = try Validate.text(publicNote, field: "public-note", maxLength: 2000)
    }

    /// No words at all (the scheduler's own changes).
    public static let none = try! ChangeNotes()
}
