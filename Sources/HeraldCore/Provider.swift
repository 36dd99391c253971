import Foundation

/// A service provider on the early-notice list.
public struct Provider: Equatable, Sendable, Codable {
    /// Database id.
    public var id: Int64
    /// The organisation's name, as release managers and the members page show it.
    public var organization: String
    /// Where it stands on the list; only an `active` provider receives early notices.
    public var status: ProviderStatus
    /// Whether the organisation agreed to appear on the public members page.
    public var listed: Bool
    /// Role addresses; each gets its own copy of every notice.
    public var emails: [String]
    /// Chat or webhook endpoints; each gets its own copy of every notice.
    public var webhooks: [ProviderWebhook]
    /// Slugs of the projects it receives notices for.
    public var projects: [String]
    /// When it joined the list (subscribed or was added).
    public var createdAt: Date
    /// The last change to it.
    public var updatedAt: Date
    /// The language of its messages.
    public var language: Language = .english
    /// For a request waiting for approval: members whose names look like this one's (TS #39).
    public var looksLike: [String]?

    /// Creates a provider value; `language` and `looksLike` are set apart.
    public init(
        id: Int64, organization: String, status: ProviderStatus, listed: Bool, emails: [String],
        webhooks: [ProviderWebhook], projects: [String], createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.organization = organization
        self.status = status
        self.listed = listed
        self.emails = emails
        self.webhooks = webhooks
        self.projects = projects
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}
