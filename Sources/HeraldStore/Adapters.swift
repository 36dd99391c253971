import Foundation
import HeraldApp
import HeraldCore

// The SQLite adapter behind the application's ports: each conformance says which store does
// a port's job, so the use cases in HeraldApp never see SQL.

extension Database: UnitOfWork {}

extension ProjectStore: ProjectDirectory {}

extension OutboxStore: NoticeOutbox {}

extension AuditLog: AuditTrail {
    /// Records one action on any subject.
    public func entry(
        _ action: String, subjectType: String, subjectID: Int64?, at: Date, actor: String, reason: String,
        details: [String: String]
    ) throws {
        try record(
            at: at, actor: actor, action: action, subjectType: subjectType, subjectID: subjectID, reason: reason,
            details: details)
    }

    /// Records one action on an advisory.
    public func advisoryAction(_ action: String, advisory: Int64, at: Date, actor: String, details: [String: String])
        throws
    {
        try record(at: at, actor: actor, action: action, subjectType: "advisory", subjectID: advisory, details: details)
    }
}

/// Ids from the system's secure random source.
public struct SecureRandomIDs: RandomIDs {
    /// Creates the source.
    public init() {}

    /// `length` readable random characters.
    public func readableID(length: Int) -> String { Secrets.readableID(length: length) }
}

extension OutboxStore: LinkTokens, ProviderMail {
    /// A new link token (OutboxStore.newLinkToken).
    public func issueLink(_ purpose: LinkPurpose, provider: Int64, notice: Int64?, expires: Date?, email: String?)
        throws
        -> String
    {
        try newLinkToken(purpose, provider: provider, notice: notice, expires: expires, email: email)
    }

    /// The stored link behind `token`, looked up by its hash, when unused and unexpired.
    public func useLink(_ token: String, purpose: LinkPurpose, at now: Date, consume: Bool) throws -> LinkUse? {
        let hash = Secrets.hash(token)
        guard
            let row = try database.first(
                "SELECT provider_id, notice_id, expires_at, used_at, email FROM link_tokens WHERE hash = ? AND purpose = ?",
                .blob(hash), .text(purpose.rawValue),
                map: { ($0.int(0), $0.optionalInt(1), $0.optionalDate(2), $0.optionalDate(3), $0.optionalText(4)) })
        else { return try useDeliveryLink(token, hash: hash, purpose: purpose, at: now, consume: consume) }
        if row.3 != nil || (row.2.map { $0 < now } ?? false) { return nil }
        if consume { try database.run("UPDATE link_tokens SET used_at = ? WHERE hash = ?", .date(now), .blob(hash)) }
        return LinkUse(provider: row.0, notice: row.1, email: row.4)
    }

    /// A link of a fan-out message, derived from its delivery (DeliveryLinks): about that
    /// delivery's provider, notice and address. Used up, it is stored as a used token.
    private func useDeliveryLink(_ token: String, hash: [UInt8], purpose: LinkPurpose, at now: Date, consume: Bool)
        throws -> LinkUse?
    {
        // Only a provider's message assembled from a template ever carried such a link.
        let rows = "FROM deliveries d JOIN payloads p ON p.id = d.payload_id AND p.is_template = 1 WHERE d.id = ?"
        guard let links = try DeliveryLinks.existing(database),
            let id = try links.delivery(
                of: token, purpose: purpose,
                messageID: { try database.first("SELECT d.message_id \(rows)", .integer($0)) { $0.text(0) } }),
            let link = try database.first(
                "SELECT d.provider_id, d.notice_id, d.recipient \(rows) AND d.provider_id IS NOT NULL", .integer(id),
                map: { LinkUse(provider: $0.int(0), notice: $0.int(1), email: $0.text(2)) })
        else { return nil }
        if consume {
            try database.run(
                """
                INSERT INTO link_tokens (hash, purpose, provider_id, notice_id, expires_at, used_at, email)
                VALUES (?, ?, ?, ?, NULL, ?, ?)
                """, .blob(hash), .text(purpose.rawValue), .integer(link.provider),
                link.notice.map(SQLValue.integer) ?? .null,
                .date(now), .optionalText(link.email))
        }
        return link
    }

    /// The double opt-in message, to the address that asked.
    public func sendConfirmation(to provider: Provider, address: String, link: String) throws {
        try enqueueProviderMail(.confirmation, provider: provider, to: [address]) {
            $0.confirmation(organization: provider.organization, link: link)
        }
    }

    /// Tells the provider's other addresses that one left.
    public func sendContactLeft(_ provider: Provider, address: String, remaining: [String]) throws {
        try enqueueProviderMail(.contactLeft, provider: provider, to: remaining) {
            $0.contactLeft(organization: provider.organization, address: address, remaining: remaining)
        }
    }

    /// The portal's sign-in link, to the address that asked only.
    public func sendSignInLink(to provider: Provider, address: String, link: String) throws {
        try enqueueProviderMail(.signIn, provider: provider, to: [address]) {
            $0.signIn(organization: provider.organization, link: link, minutes: Int(Portal.signInValidity / 60))
        }
    }

    /// The link that confirms a new address, to that address only.
    /// Not yet the provider's address, so not sent as the provider's mail (the claim would stop it).
    public func sendContactConfirmation(to provider: Provider, address: String, link: String) throws {
        guard let slug = provider.projects.first else { return }
        let project = try ProjectStore(database: database, clock: clock).require(slug)
        try enqueueMail(
            .confirmation, to: address, project: project,
            content: settings.writer(for: project).speaking(provider.language).contactConfirmation(
                organization: provider.organization, address: address, link: link))
    }

    /// The welcome of an approved provider, at every address.
    public func sendWelcome(to provider: Provider) throws {
        try enqueueProviderMail(.welcome, provider: provider) { $0.welcome(organization: provider.organization) }
    }
}

extension OutboxStore: EmbargoBriefing, DeliveryQueue {
    /// The late notices of a provider that joins during an embargo (OutboxStore.deliverUnderEmbargo).
    public func brief(provider id: Int64) throws {
        try deliverUnderEmbargo(to: id)
    }
}

/// Credentials by fingerprint, as listings show them (Redaction).
public struct RedactedFingerprints: CredentialFingerprints {
    /// Creates the value.
    public init() {}

    /// Where a URL goes, not what opens it.
    public func url(_ url: String) -> String { Redaction.url(url) }
}

extension ProviderStore: ProviderRepository {
    /// Ends portal sessions of the provider, or of one of its addresses.
    public func endPortalSessions(ofProvider provider: Int64, address: String?, at: Date) throws {
        try database.run(
            """
            UPDATE portal_sessions SET ended_at = ?1
            WHERE provider_id = ?2 AND ended_at IS NULL AND (?3 IS NULL OR lower(email) = lower(?3))
            """, [.date(at), .integer(provider), address.map(SQLValue.text) ?? .null])
    }

    /// Removes requests never confirmed since before `cutoff`.
    public func expireUnconfirmed(before cutoff: Date, at now: Date) throws -> Int {
        try database.run(
            """
            UPDATE providers SET status = 'removed', updated_at = ?1 WHERE status = 'pending-confirmation' AND created_at < ?2
            """, [.date(now), .date(cutoff)])
    }
}

extension AcknowledgementStore: NoticeRecords {
    /// Records the first acknowledgement; false when there was one.
    public func acknowledge(notice: Int64, provider: Int64, at: Date) throws -> Bool {
        try database.run(
            "INSERT OR IGNORE INTO acknowledgements (provider_id, notice_id, acknowledged_at) VALUES (?, ?, ?)",
            .integer(provider), .integer(notice), .date(at))
        return database.changes > 0
    }

    /// Whether the provider follows the notice's advisory's project or was invited, and was not excluded.
    public func takesPart(provider: Int64, inAdvisoryOf notice: Int64) throws -> Bool {
        try database.first(
            """
            SELECT 1 FROM notices n JOIN advisories a ON a.id = n.advisory_id
            WHERE n.id = ?1 AND \(ParticipationStore.takesPart(provider: "?2", advisory: "a.id", project: "a.project_id"))
            """, .integer(notice), .integer(provider)
        ) { _ in true } ?? false
    }

    /// The notice's kind and revision, and its advisory's title as it was at that revision, and id.
    public func summary(of notice: Int64) throws -> NoticeSummary? {
        try database.first(
            """
            SELECT n.kind, n.revision,
                   coalesce((SELECT json_extract(r.snapshot, '$.content.title') FROM advisory_revisions r
                             WHERE r.advisory_id = n.advisory_id AND r.revision = n.revision), a.title),
                   n.advisory_id, pr.timezone, a.embargo_at
            FROM notices n LEFT JOIN advisories a ON a.id = n.advisory_id LEFT JOIN projects pr ON pr.id = a.project_id
            WHERE n.id = ?
            """, .integer(notice)
        ) {
            NoticeSummary(
                kind: $0.text(0), revision: Int($0.int(1)), title: $0.optionalText(2), advisoryID: $0.optionalInt(3),
                timezone: $0.optionalText(4), release: $0.optionalDate(5))
        }
    }
}

extension ParticipationStore: AnswerRecords {
    /// The advisory's state and release instant.
    public func standing(ofAdvisory id: Int64) throws -> (state: AdvisoryState, release: Date?)? {
        try database.first("SELECT state, embargo_at FROM advisories WHERE id = ?", .integer(id)) {
            (AdvisoryState(rawValue: $0.text(0)) ?? .cancelled, $0.optionalDate(1))
        }
    }

    /// One more row of the answer history.
    public func record(_ answer: ProviderAnswer, advisory: Int64, provider: Int64, at: Date, by: String) throws {
        try database.run(
            """
            INSERT INTO responses (advisory_id, provider_id, status, proposed_at, statement, shareable, answered_at, answered_by)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                .integer(advisory), .integer(provider), .text(answer.status.rawValue),
                answer.proposedInstant.map(SQLValue.date) ?? .null, .text(answer.statement),
                .int(answer.shareable ? 1 : 0), .date(at), .text(by),
            ])
    }

    /// The latest answer's proposal, if it was one.
    public func latestProposal(advisory: Int64, provider: Int64) throws -> Date? {
        try database.first(
            "SELECT proposed_at FROM responses WHERE advisory_id = ? AND provider_id = ? ORDER BY id DESC LIMIT 1",
            .integer(advisory), .integer(provider)
        ) { $0.optionalDate(0) } ?? nil
    }

    /// "Needs more time" answers since an instant.
    public func proposals(advisory: Int64, provider: Int64, since: Date) throws -> Int {
        Int(
            try database.first(
                """
                SELECT count(*) FROM responses
                WHERE advisory_id = ? AND provider_id = ? AND status = 'needs-more-time' AND answered_at >= ?
                """, .integer(advisory), .integer(provider), .date(since)
            ) { $0.int(0) } ?? 0)
    }

    /// The first sighting only.
    public func markSeen(advisory: Int64, provider: Int64, at: Date) throws {
        try database.run(
            "INSERT OR IGNORE INTO sightings (advisory_id, provider_id, first_seen_at) VALUES (?, ?, ?)",
            .integer(advisory), .integer(provider), .date(at))
    }
}

extension OutboxStore: ReleaseManagerMail {
    /// To the project's contact address, when it has one; `advisory readiness` shows it either way.
    public func sendMoreTimeRequested(advisory id: Int64, organization: String, proposed: Date, statement: String)
        throws
    {
        let advisory = try AdvisoryStore(database: database, clock: clock, settings: settings).get(id)
        let project = try ProjectStore(database: database, clock: clock).require(advisory.projectSlug)
        guard let contact = project.contact else { return }
        try enqueueMail(
            .alert, to: contact, project: project,
            content: settings.writer(for: project).moreTimeRequested(
                advisory: advisory, organization: organization, proposed: proposed, statement: statement,
                command: "herald advisory readiness \(id)"))
    }
}

extension OutboxStore: ConsoleMail {
    /// The console's sign-in link, in the deployment's language, from "Herald" rather than a project.
    public func sendConsoleSignInLink(to address: String, link: String, minutes: Int) throws {
        let service = Project(
            id: 0, slug: "herald", name: "Herald", timezone: "UTC", maxEmbargoDays: NewProject.defaultMaxEmbargoDays,
            createdAt: Date(timeIntervalSince1970: 0))
        try enqueueMail(
            .signIn, to: address, project: service,
            content: settings.writer(for: service).consoleSignIn(link: link, minutes: minutes))
    }
}
