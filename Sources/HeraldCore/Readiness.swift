import Foundation

/// Who takes part in an advisory and how far each has come, with the totals a release manager
/// reads first.
public struct Readiness: Sendable, Equatable, Codable {
    /// The advisory's database id.
    public var advisoryID: Int64
    /// Everyone told, invited or excluded, by organisation.
    public var participants: [Participant]
    /// The project's time zone, in which proposed instants are shown.
    public var timezone: String = "UTC"
    /// The project's policy for private e-mail.
    public var encryption: EncryptionPolicy = .whenAvailable
    /// The addresses of active participants that have no usable OpenPGP key: under `required`
    /// they get only a pointer to the portal, under `when-available` plain text.
    public var addressesWithoutKey: [AddressWithoutKey] = []

    /// A participant's address that has no usable key.
    public struct AddressWithoutKey: Sendable, Equatable, Codable {
        /// The provider's database id.
        public var providerID: Int64
        /// Its organisation.
        public var organization: String
        /// The address.
        public var email: String

        /// Creates the value.
        public init(providerID: Int64, organization: String, email: String) {
            self.providerID = providerID
            self.organization = organization
            self.email = email
        }
    }

    /// Those taking part (active, not excluded).
    public var taking: [Participant] { participants.filter(\.takesPart) }

    /// "15 participants · 14 notified · 12 seen · 11 acknowledged · 9 ready · 2 need more time
    /// (latest proposal 2026-12-09 16:00:00 +01:00) · 4 silent": what a release manager reads
    /// first. Silent: taking part, and neither acknowledged nor answered. Counts that are zero
    /// are left out after the first four.
    public var totals: String {
        let taking = self.taking
        let notified = taking.filter { $0.notifiedRevision != nil }.count
        let seen = taking.filter { $0.seenAt != nil }.count
        let acknowledged = taking.filter { $0.acknowledgedAt != nil || $0.answeredAt != nil }.count
        let excluded = participants.filter { $0.decision == .excluded }.count
        var parts = [
            "\(taking.count) participant\(taking.count == 1 ? "" : "s")", "\(notified) notified", "\(seen) seen",
            "\(acknowledged) acknowledged",
        ]
        let count = { (status: ResponseStatus) in taking.filter { $0.status == status }.count }
        if count(.ready) > 0 { parts.append("\(count(.ready)) ready") }
        if count(.notAffected) > 0 { parts.append("\(count(.notAffected)) not affected") }
        if count(.affected) > 0 { parts.append("\(count(.affected)) affected") }
        let proposals = taking.compactMap { $0.status == .needsMoreTime ? $0.proposedInstant : nil }
        if let latest = proposals.max() {
            let zone = TimeZone(identifier: timezone) ?? .gmt
            parts.append(
                "\(proposals.count) need\(proposals.count == 1 ? "s" : "") more time (latest proposal \(Instant.local(latest, in: zone)))"
            )
        }
        parts.append("\(taking.count - acknowledged) silent")
        let failing = taking.filter { $0.notifiedRevision == nil && $0.failed > 0 }.count
        if failing > 0 { parts.append("\(failing) not reached") }
        if excluded > 0 { parts.append("\(excluded) excluded") }
        return parts.joined(separator: " · ")
    }

    private enum CodingKeys: String, CodingKey { case advisoryID, timezone, participants, totals }

    /// Encodes the participants with the totals line.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(advisoryID, forKey: .advisoryID)
        try container.encode(timezone, forKey: .timezone)
        try container.encode(participants, forKey: .participants)
        try container.encode(totals, forKey: .totals)
    }

    /// Decodes what `encode` wrote (the totals are computed again).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        advisoryID = try container.decode(Int64.self, forKey: .advisoryID)
        timezone = try container.decodeIfPresent(String.self, forKey: .timezone) ?? "UTC"
        participants = try container.decode([Participant].self, forKey: .participants)
    }

    /// Creates the table.
    public init(advisoryID: Int64, participants: [Participant], timezone: String = "UTC") {
        self.advisoryID = advisoryID
        self.participants = participants
        self.timezone = timezone
    }
}
