import Foundation

/// Where an advisory is in its life.
public enum AdvisoryState: String, Codable, Sendable, CaseIterable {
    /// Being written; no instant set, nothing sent.
    case draft
    /// Has an embargo instant; notices go out on their instants.
    case scheduled
    /// Public: on the feeds and pages, announced on the channels.
    case published
    /// Withdrawn before release; recipients of earlier notices are told.
    case cancelled
}
