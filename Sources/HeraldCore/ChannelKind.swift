import Foundation

/// Kinds of public channel an advisory is announced on.
public enum ChannelKind: String, Codable, Sendable, CaseIterable {
    /// A mailing list address.
    case email
    case slack, mattermost, discord, teams, matrix
    /// Generic JSON signed with Standard Webhooks headers.
    case webhook
}
