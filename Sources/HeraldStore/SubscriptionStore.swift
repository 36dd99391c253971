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
            for slug in request.projects { _ = try ProjectStore(database: database, clock: clock).require(slug, field: "projects") }
            let provider = try ProviderStore(database: database, clock: clock).add(request, status: .pendingConfirmation, actor: "subscriber", inTransaction: true)
            let outbox = OutboxStore(database: database, clock: clock, settings: settings)
            let token = try outbox.newLinkToken(.confirm, provider: provider.id, expires: now + Self.confirmationValidity)
            try outbox.enqueueProviderMail(.confirmation, provider: provider, to: [provider.emails[0]]) {
                $0.confirmation(organization: provider.organization, link: "\(settings.publicURL)/subscriptions/confirm?token=\(token)")
            }
        }
    }

    /// Marks requests unconfirmed for longer than the link's validity as removed; returns how many.
    @discardableResult
    public func expireUnconfirmed(now: Date) throws -> Int {
        let expired = try database.run("""
            UPDATE providers SET status = 'removed', updated_at = ?1 WHERE status = 'pending-confirmation' AND created_at < ?2
            """, [.date(now), .date(now - Self.confirmationValidity)])
        if expired > 0 {
            try AuditLog(database: database).record(at: now, actor: "subscriber", action: "provider.expire", subjectType: "provider", subjectID: nil,
                                                    reason: "not confirmed within 48 hours", details: ["count": String(expired)])
        }
        return expired
    }

    /// Confirms the address behind a confirmation link: the request waits for approval.
    public func confirm(token: String) throws -> Provider {
        try database.write {
            let link = try use(token, purpose: .confirm, consume: true)
            return try ProviderStore(database: database, clock: clock).transitionInTransaction(link.provider, .confirm, reason: "", actor: "subscriber", outbox: nil)
        }
    }

    /// Checks a link without using it (the page before the button); throws when it is not valid.
    public func check(token: String, purpose: OutboxStore.LinkPurpose) throws {
        _ = try use(token, purpose: purpose, consume: false)
    }

    /// The provider an unsubscribe link belongs to, without changing anything (for the GET page).
    public func provider(unsubscribe token: String) throws -> Provider {
        let link = try use(token, purpose: .unsubscribe, consume: false)
        return try ProviderStore(database: database, clock: clock).get(link.provider)
    }

    /// Leaves the list (RFC 8058 one-click). Leaving twice is fine.
    public func unsubscribe(token: String) throws -> Provider {
        try database.write {
            let link = try use(token, purpose: .unsubscribe, consume: false)
            let store = ProviderStore(database: database, clock: clock)
            let provider = try store.get(link.provider)
            if provider.status == .removed { return provider }
            return try store.transitionInTransaction(link.provider, .remove, reason: "unsubscribed", actor: "subscriber", outbox: nil)
        }
    }

    /// Records that the provider acknowledged the notice of an ack link; returns the advisory's
    /// public title context: the notice kind and revision. Acknowledging twice keeps the first time.
    public func acknowledge(token: String) throws -> (kind: String, revision: Int) {
        let now = clock.now
        return try database.write {
            let link = try use(token, purpose: .ack, consume: false)
            guard let notice = link.notice else { throw Refusal.invalid(field: "token", rule: "this link is not valid") }
            try database.run("INSERT OR IGNORE INTO acknowledgements (provider_id, notice_id, acknowledged_at) VALUES (?, ?, ?)",
                             .integer(link.provider), .integer(notice), .date(now))
            if database.changes > 0 {
                let advisory = try database.first("SELECT advisory_id FROM notices WHERE id = ?", .integer(notice)) { $0.optionalInt(0) } ?? nil
                try AuditLog(database: database).record(at: now, actor: "provider:\(link.provider)", action: "notice.acknowledge",
                                                        subjectType: "advisory", subjectID: advisory, details: ["notice": String(notice)])
            }
            return try database.first("SELECT kind, revision FROM notices WHERE id = ?", .integer(notice)) { ($0.text(0), Int($0.int(1))) } ?? ("", 0)
        }
    }

    private func use(_ token: String, purpose: OutboxStore.LinkPurpose, consume: Bool) throws -> (provider: Int64, notice: Int64?) {
        let invalid = Refusal.invalid(field: "token", rule: "this link is not valid, was used already, or has expired")
        guard (20...100).contains(token.count) else { throw invalid }
        let hash = Secrets.hash(token)
        guard let row = try database.first("SELECT provider_id, notice_id, expires_at, used_at FROM link_tokens WHERE hash = ? AND purpose = ?",
                                           .blob(hash), .text(purpose.rawValue), map: { ($0.int(0), $0.optionalInt(1), $0.optionalDate(2), $0.optionalDate(3)) })
        else { throw invalid }
        if row.3 != nil || (row.2.map { $0 < clock.now } ?? false) { throw invalid }
        if consume { try database.run("UPDATE link_tokens SET used_at = ? WHERE hash = ?", .date(clock.now), .blob(hash)) }
        return (row.0, row.1)
    }
}

/// A provider's acknowledgement of a notice.
public struct Acknowledgement: Codable, Sendable, Equatable {
    public var organization: String
    public var notice: String
    public var revision: Int
    public var acknowledgedAt: Date
}

/// Reads acknowledgements for `advisory show` and the API.
public struct AcknowledgementStore {
    let database: Database
    let clock: any Clock

    public init(database: Database, clock: any Clock) {
        self.database = database
        self.clock = clock
    }

    /// The acknowledgements of the advisory's notices, oldest first.
    public func list(advisory id: Int64) throws -> [Acknowledgement] {
        try database.query("""
            SELECT p.organization, n.kind, n.revision, k.acknowledged_at FROM acknowledgements k
            JOIN notices n ON n.id = k.notice_id JOIN providers p ON p.id = k.provider_id
            WHERE n.advisory_id = ? ORDER BY k.acknowledged_at
            """, .integer(id)) { Acknowledgement(organization: $0.text(0), notice: $0.text(1), revision: Int($0.int(2)), acknowledgedAt: $0.date(3)) }
    }
}
