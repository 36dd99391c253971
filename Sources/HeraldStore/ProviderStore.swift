import Foundation
import HeraldCore

/// The early-notice list: providers, their contacts, webhooks and subscriptions.
public struct ProviderStore {
    let database: Database
    let clock: any Clock

    /// Creates a store over `database`.
    public init(database: Database, clock: any Clock) {
        self.database = database
        self.clock = clock
    }

    /// Takes one address off a provider, with its audit row; call inside `database.write`.
    public func removeContact(_ id: Int64, address: String, at now: Date, actor: String, reason: String) throws {
        try database.run(
            "DELETE FROM provider_contacts WHERE provider_id = ? AND lower(email) = lower(?)", .integer(id),
            .text(address))
        try database.run(
            "DELETE FROM provider_keys WHERE provider_id = ? AND lower(email) = lower(?)", .integer(id), .text(address))
        try database.run("UPDATE providers SET updated_at = ? WHERE id = ?", .date(now), .integer(id))
        try AuditLog(database: database).record(
            at: now, actor: actor, action: "provider.contact-remove", subjectType: "provider", subjectID: id,
            reason: reason, details: ["email": address])
    }

    /// The provider with `id`.
    public func get(_ id: Int64) throws -> Provider {
        guard let provider = try load(where: "p.id = ?", [.integer(id)]).first else {
            throw Refusal.notFound(subject: "provider", id: String(id))
        }
        return provider
    }

    /// Providers, optionally of one status; removed ones only when asked for.
    /// Webhook URLs and secrets come by fingerprint; whole only when `revealedTo` names who
    /// asks, which is audited.
    public func list(status: ProviderStatus? = nil, revealedTo actor: String? = nil) throws -> [Provider] {
        var providers =
            try status.map { try load(where: "p.status = ?", [.text($0.rawValue)]) }
            ?? load(where: "p.status <> 'removed'", [])
        if let actor {
            try AuditLog(database: database).record(
                at: clock.now, actor: actor, action: "secrets.reveal", subjectType: "provider", subjectID: nil)
        } else {
            providers = providers.map(\.redacted)
        }
        if providers.contains(where: { $0.status == .pendingApproval }) {
            // Every name's skeleton once, not once per request.
            let names = try database.query(
                "SELECT id, organization FROM providers WHERE status IN ('active', 'suspended', 'pending-approval')"
            ) {
                ($0.int(0), $0.text(1))
            }
            let bySkeleton = Dictionary(grouping: names, by: { Confusable.skeleton($0.1) })
            for index in providers.indices where providers[index].status == .pendingApproval {
                let name = providers[index].organization
                let alikes = (bySkeleton[Confusable.skeleton(name)] ?? []).filter {
                    $0.0 != providers[index].id && Confusable.lookAlike($0.1, name)
                }
                if !alikes.isEmpty { providers[index].looksLike = alikes.map(\.1) }
            }
        }
        return providers
    }

    /// The providers with these ids, in id order.
    func providers(ids: [Int64]) throws -> [Provider] {
        try load(where: "p.id IN (SELECT value FROM json_each(?))", [.text(OutboxStore.jsonList(ids))])
    }

    /// Members and requests whose names look like `provider`'s without being it (Unicode TS #39
    /// skeletons): shown to the release manager who approves it, since an impostor would pick
    /// a name like a member's.
    public func lookAlikes(of provider: Provider) throws -> [String] {
        let skeleton = Confusable.skeleton(provider.organization)
        return try database.query(
            "SELECT organization FROM providers WHERE status IN ('active', 'suspended', 'pending-approval') AND id <> ?",
            .integer(provider.id)
        ) { $0.text(0) }
        .filter { Confusable.lookAlike($0, provider.organization) && Confusable.skeleton($0) == skeleton }
    }

    /// Writes a provider with its addresses, webhooks (each with a new signing secret) and
    /// follows; returns its id. The caller audits it.
    public func insert(_ provider: NewProvider, status: ProviderStatus, projectIDs: [Int64], at now: Date) throws
        -> Int64
    {
        try database.run(
            "INSERT INTO providers (organization, status, listed, language, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
            .text(provider.organization), .text(status.rawValue), .int(provider.listed ? 1 : 0),
            .text(provider.language.rawValue),
            .date(now), .date(now))
        let id = database.lastInsertID
        for email in provider.emails {
            try database.run(
                "INSERT INTO provider_contacts (provider_id, email) VALUES (?, ?)", .integer(id), .text(email))
        }
        for hook in provider.webhooks {
            let secret = hook.kind == .webhook ? Secrets.webhookSecret() : nil
            try database.run(
                "INSERT INTO provider_webhooks (provider_id, url, kind, secret) VALUES (?, ?, ?, ?)",
                .integer(id), .text(hook.url), .text(hook.kind.rawValue), .optionalText(secret))
        }
        for projectID in projectIDs {
            try database.run(
                "INSERT INTO subscriptions (provider_id, project_id, created_at) VALUES (?, ?, ?)",
                .integer(id), .integer(projectID), .date(now))
        }
        return id
    }

    /// Sets a provider's status; the caller audits it.
    public func setStatus(_ id: Int64, to status: ProviderStatus, at now: Date) throws {
        try database.run(
            "UPDATE providers SET status = ?, updated_at = ? WHERE id = ?", .text(status.rawValue), .date(now),
            .integer(id))
    }

    /// Members: active and suspended providers.
    public func members() throws -> [Provider] {
        try load(where: "p.status IN ('active', 'suspended')", [])
    }

    /// The id of a member (active or suspended) named `organization`, ignoring case, other than `except`.
    public func memberID(named organization: String, except id: Int64?) throws -> Int64? {
        try database.first(
            """
            SELECT id FROM providers WHERE lower(organization) = lower(?1) AND id IS NOT ?2 AND status IN ('active', 'suspended')
            """, .text(organization), id.map(SQLValue.integer) ?? .null, map: { $0.int(0) })
    }

    /// The providers with ids `first` through `last`.
    public func providers(from first: Int64, through last: Int64) throws -> [Provider] {
        try load(where: "p.id BETWEEN ? AND ?", [.integer(first), .integer(last)])
    }

    /// Writes a change the use case has checked: name, language, listing, addresses, webhooks
    /// and follows. A replaced webhook keeps its secret and is enabled again, and what failed
    /// to the old URL goes again to the new one (unless its advisory was cancelled; the claim
    /// checks it is still theirs). Returns the new webhooks' secrets and how many went again.
    public func apply(
        _ change: ProviderEdit, to id: Int64, addProjectIDs: [Int64], removeProjectIDs: [Int64], at now: Date
    ) throws -> (newSecrets: [String: String], sentAgain: Int) {
        let current = try get(id)
        if let organization = change.organization {
            try database.run("UPDATE providers SET organization = ? WHERE id = ?", .text(organization), .integer(id))
        }
        if let language = change.language {
            try database.run("UPDATE providers SET language = ? WHERE id = ?", .text(language.rawValue), .integer(id))
        }
        if let listed = change.listed {
            try database.run("UPDATE providers SET listed = ? WHERE id = ?", .int(listed ? 1 : 0), .integer(id))
        }
        for email in change.removeEmails {
            try database.run(
                "DELETE FROM provider_contacts WHERE provider_id = ? AND lower(email) = lower(?)", .integer(id),
                .text(email))
            // Its key goes with it: an address added back later does not bring an old key back.
            try database.run(
                "DELETE FROM provider_keys WHERE provider_id = ? AND lower(email) = lower(?)", .integer(id),
                .text(email))
        }
        for email in change.addEmails where !current.emails.contains(where: { $0.lowercased() == email.lowercased() }) {
            try database.run(
                "INSERT INTO provider_contacts (provider_id, email) VALUES (?, ?)", .integer(id), .text(email))
        }
        for url in change.removeWebhooks {
            try database.run(
                "DELETE FROM provider_webhooks WHERE provider_id = ? AND url = ?", .integer(id), .text(url))
        }
        var secrets: [String: String] = [:]
        for hook in change.addWebhooks where !current.webhooks.contains(where: { $0.url == hook.url }) {
            let secret = hook.kind == .webhook ? Secrets.webhookSecret() : nil
            try database.run(
                "INSERT INTO provider_webhooks (provider_id, url, kind, secret) VALUES (?, ?, ?, ?)",
                .integer(id), .text(hook.url), .text(hook.kind.rawValue), .optionalText(secret))
            if let secret { secrets[hook.url] = secret }
        }
        var sentAgain = 0
        if let replace = change.replaceWebhook {
            try database.run(
                "UPDATE provider_webhooks SET url = ?, disabled_at = NULL WHERE provider_id = ? AND url = ?",
                .text(replace.to), .integer(id), .text(replace.from))
            sentAgain = try database.run(
                """
                UPDATE deliveries SET recipient = ?1, host = herald_host(?1), state = 'pending', attempts = 0, next_attempt_at = ?4,
                                      lease_until = NULL, last_error = NULL
                WHERE provider_id = ?2 AND recipient = ?3 AND state IN ('dead', 'retrying') AND (lease_until IS NULL OR lease_until <= ?4)
                  AND NOT EXISTS (SELECT 1 FROM notices n JOIN advisories a ON a.id = n.advisory_id
                                  WHERE n.id = deliveries.notice_id AND a.state = 'cancelled')
                """, [.text(replace.to), .integer(id), .text(replace.from), .date(now)])
        }
        for projectID in addProjectIDs {
            try database.run(
                "INSERT OR IGNORE INTO subscriptions (provider_id, project_id, created_at) VALUES (?, ?, ?)",
                .integer(id), .integer(projectID), .date(now))
        }
        for projectID in removeProjectIDs {
            try database.run(
                "DELETE FROM subscriptions WHERE provider_id = ? AND project_id = ?", .integer(id), .integer(projectID))
        }
        try database.run("UPDATE providers SET updated_at = ? WHERE id = ?", .date(now), .integer(id))
        return (secrets, sentAgain)
    }

    /// Loads providers matching `condition` (on alias `p`) with their contacts, webhooks and
    /// projects: four queries in all, not four per provider.
    private func load(where condition: String, _ values: [SQLValue]) throws -> [Provider] {
        var providers = try database.query(
            """
            SELECT p.id, p.organization, p.status, p.listed, p.created_at, p.updated_at, p.language FROM providers p WHERE \(condition) ORDER BY p.id
            """, values
        ) { row in
            var provider = Provider(
                id: row.int(0), organization: row.text(1), status: ProviderStatus(rawValue: row.text(2)) ?? .suspended,
                listed: row.int(3) == 1, emails: [], webhooks: [], projects: [], createdAt: row.date(4),
                updatedAt: row.date(5))
            provider.language = Language(rawValue: row.text(6)) ?? .english
            return provider
        }
        guard !providers.isEmpty else { return [] }
        var index: [Int64: Int] = [:]
        for (i, provider) in providers.enumerated() { index[provider.id] = i }
        let scope = "provider_id IN (SELECT p.id FROM providers p WHERE \(condition))"
        for (id, email) in try database.query(
            "SELECT provider_id, email FROM provider_contacts WHERE \(scope) ORDER BY id", values,
            map: { ($0.int(0), $0.text(1)) })
        {
            if let i = index[id] { providers[i].emails.append(email) }
        }
        for (id, hook) in try database.query(
            "SELECT provider_id, url, kind, secret, disabled_at FROM provider_webhooks WHERE \(scope) ORDER BY id",
            values,
            map: {
                (
                    $0.int(0),
                    ProviderWebhook(
                        url: $0.text(1), kind: WebhookKind(rawValue: $0.text(2)) ?? .webhook,
                        secret: $0.optionalText(3), disabledAt: $0.optionalDate(4))
                )
            })
        {
            if let i = index[id] { providers[i].webhooks.append(hook) }
        }
        for (id, slug) in try database.query(
            """
            SELECT s.provider_id, pr.slug FROM subscriptions s JOIN projects pr ON pr.id = s.project_id WHERE s.\(scope) ORDER BY pr.slug
            """, values, map: { ($0.int(0), $0.text(1)) })
        {
            if let i = index[id] { providers[i].projects.append(slug) }
        }
        return providers
    }
}
