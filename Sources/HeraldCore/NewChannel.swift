import Foundation

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
