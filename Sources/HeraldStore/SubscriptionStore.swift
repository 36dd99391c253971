import Foundation
import HeraldCore

/// Provider self-service: subscribe (double opt-in), confirm, unsubscribe, acknowledge. Every
/// link is a random token stored only as its hash; looking it up by hash means no comparison
/// ever runs over the secret itself.
public struct SubscriptionStore {
    let database: Database
    let clock: any Clock
    let settings: OutboxSettings

    /// How long a confirmation link works.
    public static let confirmationValidity: TimeInterval = 48 * 3600

    /// Creates a store over `database`; `settings` make the links and the confirmation mail.
    public init(database: Database, clock: any Clock, settings: OutboxSettings) {
        self.database = database
        self.clock = clock
        self.settings = settings
    }

    /// Records a subscription request as pending confirmation and queues the confirmation
    /// mail, whatever the list holds: the same row, mail and work for a new name and for a
    /// member's, so neither the answer, nor the mail, nor the time it takes tells who is on the
    /// list. A request never blocks anyone; whether the organisation is a duplicate is the
    /// approving release manager's question. Requests left unconfirmed expire after 48 hours.
    public func subscribe(_ request: NewProvider) throws {
        let now = clock.now
        try database.write {
            try expireUnconfirmed(now: now)
            for slug in request.projects {
                _ = try ProjectStore(database: database, clock: clock).require(slug, field: "projects")
            }
            let provider = try ProviderStore(database: database, clock: clock).add(
                request, status: .pendingConfirmation, actor: "subscriber", inTransaction: true)
            let outbox = OutboxStore(database: database, clock: clock, settings: settings)
            let token = try outbox.newLinkToken(
                .confirm, provider: provider.id, expires: now + Self.confirmationValidity)
            try outbox.enqueueProviderMail(.confirmation, provider: provider, to: [provider.emails[0]]) {
                $0.confirmation(
                    organization: provider.organization,
                    link: "\(settings.publicURL)/subscriptions/confirm?token=\(token)")
            }
        }
    }

    /// Marks requests unconfirmed for longer than the link's validity as removed; returns how many.
    @discardableResult
    public func expireUnconfirmed(now: Date) throws -> Int {
        let expired = try database.run(
            """
            UPDATE providers SET status = 'removed', updated_at = ?1 WHERE status = 'pending-confirmation' AND created_at < ?2
            """, [.date(now), .date(now - Self.confirmationValidity)])
        if expired > 0 {
            try AuditLog(database: database).record(
                at: now, actor: "subscriber", action: "provider.expire", subjectType: "provider", subjectID: nil,
                reason: "not confirmed within 48 hours", details: ["count": String(expired)])
        }
        return expired
    }

    /// Confirms the address behind a confirmation link: the request waits for approval.
    public func confirm(token: String) throws -> Provider {
        try database.write {
            let link = try use(token, purpose: .confirm, consume: true)
            return try ProviderStore(database: database, clock: clock).transitionInTransaction(
                link.provider, .confirm, reason: "", actor: "subscriber", outbox: nil)
        }
    }

    /// What a link is about, for the page before its button: the organisation, the address,
    /// and for an acknowledgement the advisory's title and revision. Changes nothing; throws
    /// when the link is not valid.
    public struct LinkSubject: Sendable, Equatable {
        /// The provider's organisation.
        public var organization: String
        /// The address the link speaks for; nil when it names none.
        public var address: String?
        /// For an acknowledgement: the advisory's title.
        public var advisoryTitle: String?
        /// For an acknowledgement: the kind of notice, such as `early-notice`.
        public var notice: String?
        /// For an acknowledgement: the advisory's revision the notice told of.
        public var revision: Int?
    }

    /// Checks a link without using it and says what it is about.
    public func subject(of token: String, purpose: OutboxStore.LinkPurpose) throws -> LinkSubject {
        let link = try use(token, purpose: purpose, consume: false)
        let provider = try ProviderStore(database: database, clock: clock).get(link.provider)
        var subject = LinkSubject(
            organization: provider.organization,
            address: link.email ?? (purpose == .confirm ? provider.emails.first : nil))
        // An address that left the list no longer speaks for the organisation.
        if purpose == .ack, let address = link.email,
            !provider.emails.contains(where: { $0.lowercased() == address.lowercased() })
        {
            throw Refusal.invalid(field: "token", rule: "this link is not valid, was used already, or has expired")
        }
        if let notice = link.notice,
            let row = try database.first(
                """
                SELECT n.kind, n.revision, a.title FROM notices n LEFT JOIN advisories a ON a.id = n.advisory_id WHERE n.id = ?
                """, .integer(notice), map: { ($0.text(0), Int($0.int(1)), $0.optionalText(2)) })
        {
            (subject.notice, subject.revision, subject.advisoryTitle) = (row.0, row.1, row.2)
        }
        return subject
    }

    /// What an unsubscribe did: the address that left, and whether the organisation left with it.
    public struct Departure: Sendable, Equatable {
        /// The provider's organisation.
        public var organization: String
        /// The address that left; nil for an old link that names none (the whole organisation left).
        public var address: String?
        /// Whether the organisation is off the list now: its last address left, the link named none, or it had gone.
        public var organizationLeft: Bool
    }

    /// Leaves the list (RFC 8058 one-click): the link's address only, unless it is the
    /// organisation's last; then the organisation leaves. The other addresses are told.
    /// Leaving twice is fine.
    public func unsubscribe(token: String) throws -> Departure {
        let now = clock.now
        return try database.write {
            let link = try use(token, purpose: .unsubscribe, consume: false)
            let store = ProviderStore(database: database, clock: clock)
            let provider = try store.get(link.provider)
            if provider.status == .removed {
                return Departure(organization: provider.organization, address: link.email, organizationLeft: true)
            }
            let remaining = provider.emails.filter { $0.lowercased() != link.email?.lowercased() }
            // Links from before addresses were named (no email), or the last address: the organisation leaves.
            guard let address = link.email, !remaining.isEmpty else {
                _ = try store.transitionInTransaction(
                    link.provider, .remove, reason: "unsubscribed", actor: "subscriber", outbox: nil)
                return Departure(organization: provider.organization, address: link.email, organizationLeft: true)
            }
            if remaining.count < provider.emails.count {
                try store.removeContact(
                    provider.id, address: address, at: now, actor: "subscriber", reason: "unsubscribed")
                let updated = try store.get(provider.id)
                try OutboxStore(database: database, clock: clock, settings: settings).enqueueProviderMail(
                    .contactLeft, provider: updated, to: remaining
                ) {
                    $0.contactLeft(organization: provider.organization, address: address, remaining: remaining)
                }
            }
            return Departure(organization: provider.organization, address: address, organizationLeft: false)
        }
    }

    /// Records that the provider acknowledged the notice of an ack link; returns what was
    /// acknowledged. Acknowledging twice keeps the first time.
    public func acknowledge(token: String) throws -> LinkSubject {
        let now = clock.now
        return try database.write {
            let link = try use(token, purpose: .ack, consume: false)
            guard let notice = link.notice else {
                throw Refusal.invalid(field: "token", rule: "this link is not valid")
            }
            try database.run(
                "INSERT OR IGNORE INTO acknowledgements (provider_id, notice_id, acknowledged_at) VALUES (?, ?, ?)",
                .integer(link.provider), .integer(notice), .date(now))
            if database.changes > 0 {
                let advisory =
                    try database.first("SELECT advisory_id FROM notices WHERE id = ?", .integer(notice)) {
                        $0.optionalInt(0)
                    } ?? nil
                try AuditLog(database: database).record(
                    at: now, actor: "provider:\(link.provider)", action: "notice.acknowledge",
                    subjectType: "advisory", subjectID: advisory, details: ["notice": String(notice)])
            }
            return try subject(of: token, purpose: .ack)
        }
    }

    private func use(_ token: String, purpose: OutboxStore.LinkPurpose, consume: Bool) throws -> (
        provider: Int64, notice: Int64?, email: String?
    ) {
        let invalid = Refusal.invalid(field: "token", rule: "this link is not valid, was used already, or has expired")
        guard (20...100).contains(token.count) else { throw invalid }
        let hash = Secrets.hash(token)
        guard
            let row = try database.first(
                "SELECT provider_id, notice_id, expires_at, used_at, email FROM link_tokens WHERE hash = ? AND purpose = ?",
                .blob(hash), .text(purpose.rawValue),
                map: {
                    ($0.int(0), $0.optionalInt(1), $0.optionalDate(2), $0.optionalDate(3), $0.optionalText(4))
                })
        else { throw invalid }
        if row.3 != nil || (row.2.map { $0 < clock.now } ?? false) { throw invalid }
        if consume {
            try database.run("UPDATE link_tokens SET used_at = ? WHERE hash = ?", .date(clock.now), .blob(hash))
        }
        return (row.0, row.1, row.4)
    }
}
