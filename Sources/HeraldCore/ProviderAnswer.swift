import Foundation

/// A participant's answer to an advisory, validated: its status, for "needs more time" the
/// instant it proposes, and a statement that only release managers read unless the
/// participant shares it with the other participants.
public struct ProviderAnswer: Sendable, Equatable, Codable {
    /// What it says.
    public let status: ResponseStatus
    /// The instant it proposes instead (only with `needsMoreTime`).
    public let proposedInstant: Date?
    /// Its words, at most `maxStatement` characters; may be empty.
    public let statement: String
    /// Whether the other participants may read the statement.
    public let shareable: Bool

    /// A statement is a paragraph or two: what is affected, what the plan is.
    public static let maxStatement = 2000

    /// Validates an answer to an advisory whose release instant is `release` (nil: none set),
    /// answered at `now`. "Needs more time" needs a proposed instant after the release instant
    /// and within a year; other answers take none.
    public init(
        status: ResponseStatus, proposedInstant: Date?, statement: String, shareable: Bool,
        release: Date?, now: Date
    ) throws(Refusal) {
        guard status != .unknown else {
            throw .invalid(
                field: "status",
                rule: "answer one of \(ResponseStatus.answers.map(\.rawValue).joined(separator: ", "))")
        }
        self.status = status
        self.statement = try Validate.text(statement, field: "statement", maxLength: Self.maxStatement)
        if statement.unicodeScalars.contains(where: Validate.isBidiControl) {
            throw .invalid(field: "statement", rule: "must not contain bidirectional control characters")
        }
        self.shareable = shareable && !self.statement.isEmpty
        switch (status, proposedInstant) {
        case (.needsMoreTime, nil):
            throw .invalid(field: "proposed", rule: "say which instant would give you enough time")
        case let (.needsMoreTime, proposed?):
            let after = max(release ?? now, now)
            guard proposed > after else {
                throw .invalid(
                    field: "proposed",
                    rule: "must be after the release instant (\(Instant.utc(after)))")
            }
            guard proposed <= now + 366 * 86_400 else {
                throw .invalid(field: "proposed", rule: "must be within a year")
            }
            self.proposedInstant = proposed
        case (_, .some):
            throw .invalid(field: "proposed", rule: "only an answer of needs-more-time proposes an instant")
        case (_, nil):
            self.proposedInstant = nil
        }
    }
}
