import Foundation

/// Kinds of public channel an advisory is announced on.
public enum ChannelKind: String, Codable, Sendable, CaseIterable {
    /// A mailing list address.
    case email
    case slack, mattermost, discord, teams, matrix
    /// Generic JSON signed with Standard Webhooks headers.
    case webhook
}

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

/// A channel as a user asks for it, validated.
public struct NewChannel: Equatable, Sendable {
    /// The project it announces.
    public let projectSlug: String
    /// The service it posts to.
    public let kind: ChannelKind
    /// An e-mail address for `email`, otherwise a URL; for Matrix, the room's.
    public let target: String
    /// Nil for a generic webhook means "generate one".
    public let secret: String?
    /// Nil: its project's language.
    public let language: Language?

    /// Validates the target and secret for `kind`; throws the first rule broken.
    public init(projectSlug: String, kind: ChannelKind, target: String, secret: String?, language: Language? = nil)
        throws(Refusal)
    {
        self.projectSlug = try Slug.validate(projectSlug, field: "project")
        self.language = language
        self.kind = kind
        switch kind {
        case .email:
            self.target = try Address.email(target, field: "target")
            guard secret == nil else { throw .invalid(field: "secret", rule: "an e-mail channel takes no secret") }
            self.secret = nil
        case .webhook:
            self.target = try Address.webURL(target, field: "target")
            if let secret { try WebhookSecret.validate(secret) }
            self.secret = secret
        case .matrix:
            self.target = try Address.webURL(target, field: "target")
            guard self.target.contains("/rooms/") else {
                throw .invalid(
                    field: "target",
                    rule:
                        "a Matrix target is the room URL, like https://matrix.example.org/_matrix/client/v3/rooms/!abc:example.org"
                )
            }
            guard let secret, !secret.isEmpty else {
                throw .invalid(field: "secret", rule: "a Matrix channel needs the bot's access token")
            }
            self.secret = try Validate.line(secret, field: "secret", maxLength: 500)
        case .slack, .mattermost, .discord, .teams:
            self.target = try Address.webURL(target, field: "target")
            guard secret == nil else {
                throw .invalid(
                    field: "secret", rule: "a \(kind.rawValue) channel takes no secret; its URL is the secret")
            }
            self.secret = nil
        }
    }
}

/// Standard Webhooks signing secrets: `whsec_` and base64 of 24 to 64 random bytes.
public enum WebhookSecret {
    /// Accepts `whsec_` followed by base64 of 24–64 bytes.
    public static func validate(_ secret: String) throws(Refusal) {
        guard secret.hasPrefix("whsec_"), let key = Data(base64Encoded: String(secret.dropFirst(6))),
            (24...64).contains(key.count)
        else {
            throw .invalid(
                field: "secret",
                rule: "must be whsec_ followed by base64 of 24 to 64 bytes (leave it out and Herald makes one)")
        }
    }

    /// The secret for `key` bytes.
    public static func make(key: [UInt8]) -> String { "whsec_" + Data(key).base64EncodedString() }
}
