import Foundation

/// How a chat or webhook endpoint expects its payload.
public enum WebhookKind: String, Codable, Sendable, CaseIterable {
    case slack, mattermost, discord, teams, matrix
    /// Generic JSON signed with Standard Webhooks headers.
    case webhook
}
