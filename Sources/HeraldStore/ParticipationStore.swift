import Foundation
import HeraldCore

/// Who takes part in each advisory's coordination, and how far each has come: release managers
/// invite or exclude a provider, and read the readiness table.
public struct ParticipationStore {
    let database: Database
    let clock: any Clock
    let settings: OutboxSettings

    /// Creates a store over `database`; `settings` render the notice an invited provider gets at once.
    public init(database: Database, clock: any Clock, settings: OutboxSettings) {
        self.database = database
        self.clock = clock
        self.settings = settings
    }

    /// Makes an active provider a participant of an advisory it may not follow the project of:
    /// it gets the early notice when it goes out, or, when that went out already, the current
    /// revision at once. Undoes an exclusion. Audited.
    public func invite(_ advisoryID: Int64, provider providerID: Int64, actor: String) throws -> Participant {
        let now = clock.now
        return try database.write {
            let (advisory, provider) = try open(advisoryID, providerID)
            guard provider.status == .active else {
                throw Refusal.invalid(
                    field: "provider",
                    rule:
                        "provider \(providerID) (\(provider.organization)) is \(provider.status.rawValue); approve it first"
                )
            }
            try decide(advisory.id, providerID, .invited, reason: "", at: now, actor: actor)
            try AuditLog(database: database).record(
                at: now, actor: actor, action: "advisory.invite", subjectType: "advisory", subjectID: advisory.id,
                details: ["provider": String(providerID), "organization": provider.organization])
            // Invited again after an exclusion: what the exclusion stopped of the newest notice goes
            // after all (a new row could not: its message id is the one the stopped row has).
            try database.run(
                """
                UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = ?1, last_error = NULL, lease_until = NULL
                WHERE provider_id = ?2 AND state = 'dead' AND last_error = 'not sent: the provider was excluded from the advisory'
                  AND notice_id = (SELECT max(n.id) FROM notices n WHERE n.advisory_id = ?3 AND n.kind IN ('early-notice', 'revision'))
                """, [.date(now), .integer(providerID), .integer(advisory.id)])
            try OutboxStore(database: database, clock: clock, settings: settings).deliverUnderEmbargo(
                to: providerID, actor: actor)
            return try readiness(advisory.id).participants.first { $0.providerID == providerID }!
        }
    }

    /// Ends a provider's participation in an advisory, with the reason: it gets nothing more of
    /// it, and what still waits to be sent to it is stopped when claimed. Audited.
    public func exclude(_ advisoryID: Int64, provider providerID: Int64, reason: String, actor: String) throws
        -> Participant
    {
        let reason = try Validate.reason(reason, required: true)
        let now = clock.now
        return try database.write {
            let (advisory, provider) = try open(advisoryID, providerID)
            try decide(advisory.id, providerID, .excluded, reason: reason, at: now, actor: actor)
            try AuditLog(database: database).record(
                at: now, actor: actor, action: "advisory.exclude", subjectType: "advisory", subjectID: advisory.id,
                reason: reason, details: ["provider": String(providerID), "organization": provider.organization])
            return try readiness(advisory.id).participants.first { $0.providerID == providerID }!
        }
    }

    /// Declines a participant's proposal of another instant: the release stays, and the
    /// provider's addresses get `note` (why) in a private message. Audited. Refused when its
    /// latest answer proposes nothing.
    public func decline(_ advisoryID: Int64, provider providerID: Int64, note: String, actor: String) throws
        -> Participant
    {
        let note = try Validate.text(note, field: "note", maxLength: 2000)
        guard !note.isEmpty else { throw Refusal.invalid(field: "note", rule: "say why the instant stays") }
        let now = clock.now
        return try database.write {
            let (advisory, provider) = try open(advisoryID, providerID)
            // Only to a participant: an excluded provider, or one that left, hears nothing more of it.
            guard provider.status == .active,
                let participant = try readiness(advisory.id).participants.first(where: { $0.providerID == providerID }),
                participant.takesPart
            else {
                throw Refusal.conflict(
                    field: "provider",
                    rule:
                        "provider \(providerID) (\(provider.organization)) does not take part in advisory \(advisory.id)"
                )
            }
            guard let proposed = try latestProposal(advisory: advisory.id, provider: providerID) else {
                throw Refusal.conflict(
                    field: "provider",
                    rule:
                        "provider \(providerID) (\(provider.organization)) has not asked for more time; nothing to decline"
                )
            }
            let project = try ProjectStore(database: database, clock: clock).require(advisory.projectSlug)
            try OutboxStore(database: database, clock: clock, settings: settings).enqueueProviderMail(
                .proposalDeclined, provider: provider, project: project, isPrivate: true
            ) { $0.proposalDeclined(advisory: advisory, proposed: proposed, note: note) }
            try AuditLog(database: database).record(
                at: now, actor: actor, action: "advisory.decline", subjectType: "advisory", subjectID: advisory.id,
                reason: note,
                details: ["provider": String(providerID), "proposed": Instant.utc(proposed), "project": project.slug])
            return try readiness(advisory.id).participants.first { $0.providerID == providerID }!
        }
    }

    /// The advisory and provider a decision is about; an advisory that is published or cancelled
    /// has no coordination left to take part in.
    private func open(_ advisoryID: Int64, _ providerID: Int64) throws -> (Advisory, Provider) {
        let advisory = try AdvisoryStore(database: database, clock: clock, settings: settings).get(advisoryID)
        guard advisory.state == .draft || advisory.state == .scheduled else {
            throw Refusal.illegalTransition(
                subject: "advisory \(advisoryID)", state: advisory.state.rawValue, action: "change its participants",
                allowedFrom: [AdvisoryState.draft.rawValue, AdvisoryState.scheduled.rawValue])
        }
        return (advisory, try ProviderStore(database: database, clock: clock).get(providerID))
    }

    private func decide(
        _ advisory: Int64, _ provider: Int64, _ decision: Participant.Decision, reason: String, at: Date,
        actor: String
    ) throws {
        try database.run(
            """
            INSERT INTO participation (advisory_id, provider_id, decision, reason, decided_at, decided_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
            ON CONFLICT (advisory_id, provider_id) DO UPDATE SET decision = ?3, reason = ?4, decided_at = ?5, decided_by = ?6
            """,
            [.integer(advisory), .integer(provider), .text(decision.rawValue), .text(reason), .date(at), .text(actor)])
    }

    /// Who takes part in the advisory and how far each has come: every provider told of it,
    /// invited to it or excluded from it, with the newest revision delivered to it and when, and
    /// its first acknowledgement.
    public func readiness(_ advisoryID: Int64) throws -> Readiness {
        let advisory = try AdvisoryStore(database: database, clock: clock, settings: settings).get(advisoryID)
        let timezone = try ProjectStore(database: database, clock: clock).require(advisory.projectSlug).timezone
        let participants = try database.query(
            """
            WITH told AS (
                SELECT d.provider_id, max(CASE WHEN d.state = 'delivered' THEN n.revision END) AS revision,
                       min(CASE WHEN d.state = 'delivered' THEN d.delivered_at END) AS delivered_at,
                       sum(d.state IN ('pending', 'retrying')) AS waiting, sum(d.state = 'dead') AS dead,
                       group_concat(DISTINCT CASE WHEN d.state = 'delivered' THEN d.transport END) AS via
                FROM deliveries d JOIN notices n ON n.id = d.notice_id
                WHERE n.advisory_id = ?1 AND n.kind IN ('early-notice', 'revision', 'reminder', 'final-notice') AND d.provider_id IS NOT NULL
                GROUP BY d.provider_id),
            who AS (SELECT provider_id FROM told UNION SELECT provider_id FROM participation WHERE advisory_id = ?1),
            latest AS (SELECT r.* FROM responses r
                       WHERE r.id = (SELECT max(r2.id) FROM responses r2 WHERE r2.advisory_id = ?1 AND r2.provider_id = r.provider_id))
            SELECT p.id, p.organization, p.status, x.decision, x.reason, t.revision, t.delivered_at,
                   coalesce(t.waiting, 0), coalesce(t.dead, 0),
                   (SELECT min(k.acknowledged_at) FROM acknowledgements k JOIN notices n ON n.id = k.notice_id
                    WHERE n.advisory_id = ?1 AND k.provider_id = p.id),
                   s.first_seen_at, l.status, l.answered_at, l.proposed_at, l.statement, l.shareable, t.via
            FROM who JOIN providers p ON p.id = who.provider_id
            LEFT JOIN told t ON t.provider_id = p.id
            LEFT JOIN participation x ON x.advisory_id = ?1 AND x.provider_id = p.id
            LEFT JOIN sightings s ON s.advisory_id = ?1 AND s.provider_id = p.id
            LEFT JOIN latest l ON l.provider_id = p.id
            ORDER BY p.organization COLLATE NOCASE, p.id
            """, [.integer(advisoryID)]
        ) { row in
            var participant = Participant(
                providerID: row.int(0), organization: row.text(1),
                providerStatus: ProviderStatus(rawValue: row.text(2)) ?? .removed,
                decision: row.optionalText(3).flatMap(Participant.Decision.init(rawValue:)),
                reason: row.optionalText(4) ?? "",
                notifiedRevision: row.optionalInt(5).map(Int.init), notifiedAt: row.optionalDate(6),
                waiting: Int(row.int(7)), failed: Int(row.int(8)), acknowledgedAt: row.optionalDate(9))
            participant.seenAt = row.optionalDate(10)
            participant.status = row.optionalText(11).flatMap(ResponseStatus.init(rawValue:)) ?? .unknown
            participant.answeredAt = row.optionalDate(12)
            participant.proposedInstant = row.optionalDate(13)
            participant.statement = row.optionalText(14) ?? ""
            participant.shareable = (row.optionalInt(15) ?? 0) == 1
            participant.notifiedVia = (row.optionalText(16) ?? "").split(separator: ",").map(String.init).sorted()
            return participant
        }
        var readiness = Readiness(advisoryID: advisoryID, participants: participants, timezone: timezone)
        readiness.encryption = try ProjectStore(database: database, clock: clock).require(advisory.projectSlug)
            .encryption
        // Who would read a private notice without encryption: the addresses of every active
        // provider that takes part (told or not yet), without a key usable now.
        readiness.addressesWithoutKey = try database.query(
            """
            SELECT p.id, p.organization, pc.email FROM advisories a
            JOIN providers p ON p.status = 'active'
            JOIN provider_contacts pc ON pc.provider_id = p.id
            WHERE a.id = ?1 AND \(Self.takesPart(provider: "p.id", advisory: "a.id", project: "a.project_id"))
              AND NOT EXISTS (SELECT 1 FROM provider_keys k WHERE k.provider_id = p.id AND k.email = pc.email
                                                              AND (k.expires_at IS NULL OR k.expires_at > ?2))
            ORDER BY p.organization COLLATE NOCASE, pc.email
            """, [.integer(advisoryID), .date(clock.now)]
        ) { Readiness.AddressWithoutKey(providerID: $0.int(0), organization: $0.text(1), email: $0.text(2)) }
        return readiness
    }

    /// Every answer a provider gave to an advisory, oldest first: the history behind its status.
    public func answers(_ advisoryID: Int64, provider providerID: Int64) throws -> [ProviderAnswerRecord] {
        try database.query(
            """
            SELECT status, proposed_at, statement, shareable, answered_at, answered_by FROM responses
            WHERE advisory_id = ? AND provider_id = ? ORDER BY id
            """, .integer(advisoryID), .integer(providerID)
        ) {
            ProviderAnswerRecord(
                status: ResponseStatus(rawValue: $0.text(0)) ?? .unknown, proposedInstant: $0.optionalDate(1),
                statement: $0.text(2), shareable: $0.int(3) == 1, answeredAt: $0.date(4), answeredBy: $0.text(5))
        }
    }
}

extension ParticipationStore {
    /// The one rule, in SQL, of whether a provider takes part in an advisory (its status is the
    /// caller's to check): it follows the advisory's project or was invited, and was not
    /// excluded. The arguments are SQL expressions for the provider's id, the advisory's id and
    /// its project's id, so every query that chooses participants says it the same way.
    static func takesPart(provider: String, advisory: String, project: String) -> String {
        """
        NOT EXISTS (SELECT 1 FROM participation x WHERE x.advisory_id = \(advisory) AND x.provider_id = \(provider) AND x.decision = 'excluded')
        AND (EXISTS (SELECT 1 FROM subscriptions s WHERE s.project_id = \(project) AND s.provider_id = \(provider))
             OR EXISTS (SELECT 1 FROM participation x WHERE x.advisory_id = \(advisory) AND x.provider_id = \(provider) AND x.decision = 'invited'))
        """
    }
}

/// One answer as stored, with who gave it and when.
public struct ProviderAnswerRecord: Sendable, Equatable, Codable {
    /// What it said.
    public var status: ResponseStatus
    /// With "needs more time": the instant it proposed.
    public var proposedInstant: Date?
    /// Its words.
    public var statement: String
    /// Whether other participants may read them.
    public var shareable: Bool
    /// When.
    public var answeredAt: Date
    /// Who: `provider:ID <address>`.
    public var answeredBy: String
}
