import Foundation
import HeraldCore

/// Who takes part in an advisory and how far each has come, with the totals a release manager
/// reads first.
public struct Readiness: Sendable, Equatable, Codable {
    /// The advisory's database id.
    public var advisoryID: Int64
    /// Everyone told, invited or excluded, by organisation.
    public var participants: [Participant]

    /// Those taking part (active, not excluded).
    public var taking: [Participant] { participants.filter(\.takesPart) }

    /// "4 participants · 3 notified · 2 acknowledged · 2 silent · 1 excluded".
    public var totals: String {
        let taking = self.taking
        let notified = taking.filter { $0.notifiedRevision != nil }.count
        let acknowledged = taking.filter { $0.acknowledgedAt != nil }.count
        let excluded = participants.filter { $0.decision == .excluded }.count
        var parts = [
            "\(taking.count) participant\(taking.count == 1 ? "" : "s")", "\(notified) notified",
            "\(acknowledged) acknowledged", "\(taking.count - acknowledged) silent",
        ]
        let failing = taking.filter { $0.notifiedRevision == nil && $0.failed > 0 }.count
        if failing > 0 { parts.append("\(failing) not reached") }
        if excluded > 0 { parts.append("\(excluded) excluded") }
        return parts.joined(separator: " · ")
    }

    private enum CodingKeys: String, CodingKey { case advisoryID, participants, totals }

    /// Encodes the participants with the totals line.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(advisoryID, forKey: .advisoryID)
        try container.encode(participants, forKey: .participants)
        try container.encode(totals, forKey: .totals)
    }

    /// Decodes what `encode` wrote (the totals are computed again).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        advisoryID = try container.decode(Int64.self, forKey: .advisoryID)
        participants = try container.decode([Participant].self, forKey: .participants)
    }

    /// Creates the table.
    public init(advisoryID: Int64, participants: [Participant]) {
        self.advisoryID = advisoryID
        self.participants = participants
    }
}
