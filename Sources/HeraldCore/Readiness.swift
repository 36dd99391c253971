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

    /// How many have come how far: what the totals line says, for pages that say it in the
    /// reader's language. Silent: taking part, and neither acknowledged nor answered.
    public struct Counts: Sendable, Equatable {
        /// Taking part: active and not excluded.
        public var participants = 0
        /// Told of the advisory's latest revision.
        public var notified = 0
        /// Who opened the notice in the portal.
        public var seen = 0
        /// Who acknowledged or answered.
        public var acknowledged = 0
        /// Who answered ready.
        public var ready = 0
        /// Who answered not affected.
        public var notAffected = 0
        /// Who answered affected.
        public var affected = 0
        /// Who asked for more time.
        public var needMoreTime = 0
        /// The latest instant proposed by those who need more time.
        public var latestProposal: Date?
        /// Taking part, neither acknowledged nor answered.
        public var silent = 0
        /// Not told: every delivery to them failed.
        public var notReached = 0
        /// Excluded by a release manager.
        public var excluded = 0

        /// What the totals line names.
        public enum Total: String, Sendable {
            case participants, notified, seen, acknowledged, ready, affected, silent, excluded
            case notAffected = "not-affected"
            case moreTime = "more-time"
            case notReached = "not-reached"
        }

        /// The totals the line shows, in its order: the first four and silent always, the
        /// others only when there are some. Every language's line is made from this.
        public var shown: [(total: Total, count: Int)] {
            var shown: [(total: Total, count: Int)] = [
                (.participants, participants), (.notified, notified), (.seen, seen), (.acknowledged, acknowledged),
            ]
            shown += [(.ready, ready), (.notAffected, notAffected), (.affected, affected)].filter { $0.count > 0 }
            if latestProposal != nil { shown.append((.moreTime, needMoreTime)) }
            shown.append((.silent, silent))
            shown += [(.notReached, notReached), (.excluded, excluded)].filter { $0.count > 0 }
            return shown
        }
    }

    /// The counts of the totals line.
    public var counts: Counts {
        let taking = self.taking
        var counts = Counts()
        counts.participants = taking.count
        counts.notified = taking.filter { $0.notifiedRevision != nil }.count
        counts.seen = taking.filter { $0.seenAt != nil }.count
        counts.acknowledged = taking.filter { $0.acknowledgedAt != nil || $0.answeredAt != nil }.count
        let count = { (status: ResponseStatus) in taking.filter { $0.status == status }.count }
        counts.ready = count(.ready)
        counts.notAffected = count(.notAffected)
        counts.affected = count(.affected)
        let proposals = taking.compactMap { $0.status == .needsMoreTime ? $0.proposedInstant : nil }
        counts.needMoreTime = proposals.count
        counts.latestProposal = proposals.max()
        counts.silent = taking.count - counts.acknowledged
        counts.notReached = taking.filter { $0.notifiedRevision == nil && $0.failed > 0 }.count
        counts.excluded = participants.filter { $0.decision == .excluded }.count
        return counts
    }

    /// "15 participants · 14 notified · 12 seen · 11 acknowledged · 9 ready · 2 need more time
    /// (latest proposal 2026-12-09 16:00:00 +01:00) · 4 silent": what a release manager reads
    /// first, in English (the CLI's and the API's). Counts that are zero are left out after the
    /// first four, silent excepted.
    public var totals: String {
        let counts = self.counts
        let zone = TimeZone(identifier: timezone) ?? .gmt
        let latest = counts.latestProposal.map { Instant.local($0, in: zone) } ?? ""
        return counts.shown.map { total, count in
            switch total {
            case .participants: "\(count) participant\(count == 1 ? "" : "s")"
            case .moreTime: "\(count) need\(count == 1 ? "s" : "") more time (latest proposal \(latest))"
            default: "\(count) \(total.rawValue.replacingOccurrences(of: "-", with: " "))"
            }
        }.joined(separator: " · ")
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
