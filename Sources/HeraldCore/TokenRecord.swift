import Foundation

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
