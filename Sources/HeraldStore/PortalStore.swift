import Foundation
import HeraldApp
import HeraldCore

/// The provider portal's rows: sign-in links and sessions (hashes of their tokens only), and
/// what a provider may read of the advisories it has notices of.
public struct PortalStore {
    let database: Database
    let clock: any Clock
    let settings: OutboxSettings

    /// Creates a store over `database`.
    public init(database: Database, clock: any Clock, settings: OutboxSettings) {
        self.database = database
        self.clock = clock
        self.settings = settings
    }
}

extension PortalStore: PortalAccess {
    /// The active providers with this contact address (ignoring case).
    public func activeProviders(withContact email: String) throws -> [Int64] {
        try database.query(
            """
            SELECT DISTINCT p.id FROM providers p JOIN provider_contacts c ON c.provider_id = p.id
            WHERE lower(c.email) = lower(?) AND p.status = 'active' ORDER BY p.id
            """, .text(email)
        ) { $0.int(0) }
    }

    /// Requests counted per address, known or not.
    public func signInsRequested(email: String, since: Date) throws -> Int {
        Int(
            try database.first(
                "SELECT count(*) FROM portal_sign_ins WHERE email = lower(?) AND created_at >= ?", .text(email),
                .date(since)
            ) { $0.int(0) } ?? 0)
    }

    /// One row per request; the token opens something only with a provider.
    public func recordSignIn(email: String, provider: Int64?, at: Date, expires: Date) throws -> String {
        let token = Secrets.token(prefix: "")
        try database.run(
            "INSERT INTO portal_sign_ins (hash, email, provider_id, created_at, expires_at) VALUES (?, lower(?), ?, ?, ?)",
            .blob(Secrets.hash(token)), .text(email), provider.map(SQLValue.integer) ?? .null, .date(at),
            .date(expires))
        return token
    }

    /// Marks the token used, once.
    public func useSignIn(_ token: String, at: Date) throws -> (provider: Int64, email: String)? {
        let hash = Secrets.hash(token)
        guard
            let row = try database.first(
                """
                SELECT provider_id, email FROM portal_sign_ins
                WHERE hash = ? AND used_at IS NULL AND expires_at > ? AND provider_id IS NOT NULL
                """, .blob(hash), .date(at), map: { ($0.int(0), $0.text(1)) })
        else { return nil }
        try database.run("UPDATE portal_sign_ins SET used_at = ? WHERE hash = ?", .date(at), .blob(hash))
        return row
    }

    /// A new session with its own CSRF token.
    public func startSession(provider: Int64, email: String, at: Date) throws -> (token: String, csrf: String) {
        let token = Secrets.token(prefix: "")
        let csrf = Secrets.token(prefix: "")
        try database.run(
            """
            INSERT INTO portal_sessions (hash, provider_id, email, csrf, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?)
            """, .blob(Secrets.hash(token)), .integer(provider), .text(email), .text(csrf), .date(at), .date(at))
        return (token, csrf)
    }

    /// A live session, touched.
    public func session(_ token: String, at: Date, idle: TimeInterval, absolute: TimeInterval) throws
        -> PortalSession?
    {
        let hash = Secrets.hash(token)
        guard
            let session = try database.first(
                """
                SELECT provider_id, email, csrf FROM portal_sessions
                WHERE hash = ? AND ended_at IS NULL AND last_seen_at > ? AND created_at > ?
                """, .blob(hash), .date(at - idle), .date(at - absolute),
                map: { PortalSession(providerID: $0.int(0), email: $0.text(1), csrf: $0.text(2)) })
        else { return nil }
        try database.run("UPDATE portal_sessions SET last_seen_at = ? WHERE hash = ?", .date(at), .blob(hash))
        return session
    }

    /// Ends one session.
    public func endSession(_ token: String, at: Date) throws {
        try database.run(
            "UPDATE portal_sessions SET ended_at = ? WHERE hash = ? AND ended_at IS NULL", .date(at),
            .blob(Secrets.hash(token)))
    }

    /// Ends every session of a provider.
    public func endSessions(ofProvider provider: Int64, at: Date) throws {
        try database.run(
            "UPDATE portal_sessions SET ended_at = ? WHERE provider_id = ? AND ended_at IS NULL", .date(at),
            .integer(provider))
    }
}

extension PortalStore {
    /// A request to add an address; the token confirms it.
    public func recordContactConfirmation(provider: Int64, email: String, by: String, at: Date, expires: Date) throws
        -> String
    {
        let token = Secrets.token(prefix: "")
        try database.run(
            """
            INSERT INTO contact_confirmations (hash, provider_id, email, requested_by, created_at, expires_at)
            VALUES (?, ?, ?, ?, ?, ?)
            """, .blob(Secrets.hash(token)), .integer(provider), .text(email), .text(by), .date(at), .date(expires))
        return token
    }

    /// An unused, unexpired confirmation; `consume` uses it up.
    public func contactConfirmation(_ token: String, at: Date, consume: Bool) throws -> (
        provider: Int64, email: String
    )? {
        let hash = Secrets.hash(token)
        guard
            let row = try database.first(
                "SELECT provider_id, email FROM contact_confirmations WHERE hash = ? AND used_at IS NULL AND expires_at > ?",
                .blob(hash), .date(at), map: { ($0.int(0), $0.text(1)) })
        else { return nil }
        if consume {
            try database.run("UPDATE contact_confirmations SET used_at = ? WHERE hash = ?", .date(at), .blob(hash))
        }
        return row
    }
}

extension PortalStore: PortalRecords {
    /// Advisories with a notice addressed to the provider: its newest private revision, whether
    /// it takes part now, its latest answer.
    public func advisories(of provider: Int64) throws -> [PortalAdvisory] {
        try database.query(
            """
            WITH mine AS (
                SELECT n.advisory_id, max(CASE WHEN n.kind IN ('early-notice', 'revision', 'reminder', 'final-notice') THEN n.revision END) AS revision
                FROM deliveries d JOIN notices n ON n.id = d.notice_id
                WHERE d.provider_id = ?1 AND n.advisory_id IS NOT NULL
                GROUP BY n.advisory_id)
            SELECT a.id, a.state, m.revision,
                   (p.status = 'active'
                    AND \(ParticipationStore.takesPart(provider: "?1", advisory: "a.id", project: "a.project_id"))),
                   (SELECT r.status FROM responses r WHERE r.advisory_id = a.id AND r.provider_id = ?1 ORDER BY r.id DESC LIMIT 1)
            FROM mine m JOIN advisories a ON a.id = m.advisory_id JOIN providers p ON p.id = ?1
            ORDER BY a.id DESC
            """, [.integer(provider)]
        ) {
            PortalAdvisory(
                id: $0.int(0), state: AdvisoryState(rawValue: $0.text(1)) ?? .cancelled,
                entitledRevision: $0.optionalInt(2).map(Int.init), takesPart: $0.int(3) == 1,
                status: $0.optionalText(4).flatMap(ResponseStatus.init(rawValue:)) ?? .unknown)
        }
    }

    /// The stored snapshot of one revision.
    public func revision(_ revision: Int, ofAdvisory id: Int64) throws -> AdvisoryRevision? {
        try database.first(
            "SELECT snapshot FROM advisory_revisions WHERE advisory_id = ? AND revision = ?", .integer(id),
            .int(revision)
        ) { try JSONDecoder.herald.decode(AdvisoryRevision.self, from: Data($0.text(0).utf8)) }
    }

    /// The advisory now.
    public func advisory(_ id: Int64) throws -> Advisory {
        try AdvisoryStore(database: database, clock: clock, settings: settings).get(id)
    }

    /// The newest private notice of the advisory with a delivery to the provider.
    public func latestNotice(advisory: Int64, provider: Int64) throws -> Int64? {
        try database.first(
            """
            SELECT max(n.id) FROM notices n JOIN deliveries d ON d.notice_id = n.id
            WHERE n.advisory_id = ? AND d.provider_id = ? AND n.kind IN ('early-notice', 'revision', 'reminder', 'final-notice')
            """, .integer(advisory), .integer(provider)
        ) { $0.optionalInt(0) } ?? nil
    }

    /// Shared statements of the other providers that take part, by organisation.
    public func sharedStatements(advisory: Int64, except provider: Int64) throws -> [SharedStatement] {
        try database.query(
            """
            SELECT p.organization, r.status, r.statement FROM responses r JOIN providers p ON p.id = r.provider_id
            WHERE r.advisory_id = ?1 AND r.provider_id <> ?2 AND r.shareable = 1 AND p.status = 'active'
              AND r.id = (SELECT max(r2.id) FROM responses r2 WHERE r2.advisory_id = ?1 AND r2.provider_id = r.provider_id)
              AND NOT EXISTS (SELECT 1 FROM participation x WHERE x.advisory_id = ?1 AND x.provider_id = p.id AND x.decision = 'excluded')
            ORDER BY p.organization COLLATE NOCASE
            """, [.integer(advisory), .integer(provider)]
        ) {
            SharedStatement(
                organization: $0.text(0), status: ResponseStatus(rawValue: $0.text(1)) ?? .unknown,
                statement: $0.text(2))
        }
    }
}
