import Foundation

/// A public announcement channel of a project: it receives pre-announcements and publications,
/// never embargoed details.
public struct Channel: Equatable, Sendable, Codable {
    /// Database id.
    public var id: Int64
    /// The project it announces.
    public var projectSlug: String
    /// The service it posts to, which decides the payload's shape.
    public var kind: ChannelKind
    /// An e-mail address for `email`, otherwise a URL.
    public var target: String
    /// `whsec_…` signing secret (webhook) or access token (matrix).
    public var secret: String?
    /// When it was added.
    public var createdAt: Date
    /// Set when the endpoint answered 410 Gone; a disabled channel gets nothing more.
    public var disabledAt: Date?
    /// The language its messages are written in; nil: its project's.
    public var language: Language?

    /// Creates a channel value without a language of its own (set `language` after).
    public init(
        id: Int64, projectSlug: String, kind: ChannelKind, target: String, secret: String?, createdAt: Date,
        disabledAt: Date? = nil
    ) {
        self.id = id
        self.projectSlug = projectSlug
        self.kind = kind
        self.target = target
        self.secret = secret
        self.createdAt = createdAt
        self.disabledAt = disabledAt
    }
}
