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

    /// Adds a provider as `status` (a release manager adds as pending approval, or active with
    /// `--approve`; the public form adds as pending confirmation).
    /// With `outbox`, a provider added as active is told of advisories under embargo at once.
    public func add(
        _ provider: NewProvider, status: ProviderStatus, actor: String, inTransaction: Bool = false,
        outbox: OutboxSettings? = nil
    ) throws -> Provider {
        let now = clock.now
        let add = {
            let projects = try provider.projects.map { try ProjectStore(database: database, clock: clock).require($0) }
            // A subscriber's request is not checked at all (that would tell who is on the list);
            // a release manager's addition is checked against the members.
            if status != .pendingConfirmation { try requireUniqueOrganization(provider.organization) }
            let id = try insert(provider, status: status, projectIDs: projects.map(\.id), now: now)
            try AuditLog(database: database).record(
                at: now, actor: actor, action: "provider.add", subjectType: "provider", subjectID: id,
                details: [
                    "organization": provider.organization, "status": status.rawValue,
                    "emails": provider.emails.joined(separator: ","),
                    "projects": provider.projects.joined(separator: ","),
                ])
            try tellOfEmbargoes(id, if: status, outbox: outbox)
            return try get(id)
        }
        return try inTransaction ? add() : database.write(add)
    }

    /// Imports a whole list as active providers in one transaction: every problem is reported
    /// with its line, and nothing is written unless every line is good.
    public func importList(_ list: ProviderImport, actor: String, outbox: OutboxSettings? = nil) throws -> [Provider] {
        let now = clock.now
        return try database.write {
            let projectIDs = Dictionary(
                uniqueKeysWithValues: try ProjectStore(database: database, clock: clock).list().map { ($0.slug, $0.id) }
            )
            var problems: [(line: Int, refusal: Refusal)] = []
            for entry in list.entries {
                for (slug, line) in entry.projectLines where projectIDs[slug] == nil {
                    problems.append(
                        (
                            line,
                            .invalid(field: "project", rule: "no project '\(slug)'; `herald project list` shows them")
                        ))
                }
                do { try requireUniqueOrganization(entry.provider.organization) } catch let refusal as Refusal {
                    problems.append((entry.line, refusal))
                }
            }
            guard problems.isEmpty else { throw LineRefusals(problems) }
            var ids: [Int64] = []
            for entry in list.entries {
                ids.append(
                    try insert(
                        entry.provider, status: .active, projectIDs: entry.provider.projects.map { projectIDs[$0]! },
                        now: now))
            }
            // The row names what it added, so the log answers "where did this provider come from".
            let added = zip(ids, list.entries).map { "\($0) \($1.provider.organization)" }.joined(separator: "; ")
            try AuditLog(database: database).record(
                at: now, actor: actor, action: "provider.import", subjectType: "provider", subjectID: nil,
                details: [
                    "providers": String(ids.count), "added": added,
                    "contacts": String(list.entries.reduce(0) { $0 + $1.provider.emails.count }),
                ])
            for id in ids { try tellOfEmbargoes(id, if: .active, outbox: outbox) }
            // Inside this transaction no one else inserts, so the new ids form one range.
            guard let first = ids.first, let last = ids.last else { return [] }
            return try load(where: "p.id BETWEEN ? AND ?", [.integer(first), .integer(last)])
        }
    }

    /// Applies a status change with its audit row. With `outbox`, an approval also queues the
    /// welcome mail, in the same transaction.
    /// An approval of a name that looks like another provider's (`lookAlikes`) is refused
    /// unless `despiteLookAlike` says the release manager checked it is not an impostor.
    public func transition(
        _ id: Int64, _ action: ProviderAction, reason: String = "", actor: String,
        outbox: OutboxSettings? = nil, despiteLookAlike: Bool = false
    ) throws -> Provider {
        try database.write {
            if action == .approve, !despiteLookAlike, case let alikes = try lookAlikes(of: try get(id)), !alikes.isEmpty
            {
                throw Refusal.conflict(
                    field: "organization",
                    rule:
                        "the name looks like \(alikes.map { "'\($0)'" }.joined(separator: ", ")) on the list (Unicode look-alikes); check it is not an impostor, then approve again with --despite-look-alike"
                )
            }
            return try transitionInTransaction(id, action, reason: reason, actor: actor, outbox: outbox)
        }
    }

    /// A provider that becomes an active follower of a project (added, imported, approved, or
    /// edited to follow it) gets what that project's advisories under embargo told the others.
    private func tellOfEmbargoes(_ id: Int64, if status: ProviderStatus, outbox: OutboxSettings?) throws {
        guard status == .active, let outbox else { return }
        try OutboxStore(database: database, clock: clock, settings: outbox).deliverUnderEmbargo(to: id)
    }

    func transitionInTransaction(
        _ id: Int64, _ action: ProviderAction, reason: String, actor: String, outbox: OutboxSettings?
    ) throws -> Provider {
        let now = clock.now
        let provider = try get(id)
        let next = try provider.status.after(action, subject: "provider \(id) (\(provider.organization))")
        // Duplicates are decided here, where a release manager sees the answer, not at subscription.
        if next == .active { try requireUniqueOrganization(provider.organization, except: id) }
        try database.run(
            "UPDATE providers SET status = ?, updated_at = ? WHERE id = ?", .text(next.rawValue), .date(now),
            .integer(id))
        // What still waits to be sent to a suspended or removed provider is stopped when it is
        // claimed (OutboxStore.claimRows), the one place that decides whether a message may go.
        try AuditLog(database: database).record(
            at: now, actor: actor, action: "provider.\(action.rawValue)", subjectType: "provider",
            subjectID: id, reason: reason,
            details: ["from": provider.status.rawValue, "to": next.rawValue])
        if action == .approve, provider.status == .pendingApproval, let outbox {
            try OutboxStore(database: database, clock: clock, settings: outbox)
                .enqueueProviderMail(.welcome, provider: provider) { $0.welcome(organization: provider.organization) }
        }
        // Approved while its projects have advisories under embargo: it is told as the others were.
        if action == .approve { try tellOfEmbargoes(id, if: next, outbox: outbox) }
        return try get(id)
    }

    /// Applies `change` to a provider in one transaction with one audit row that names every
    /// change; returns the provider and the signing secrets of webhooks it added (shown once).
    /// A provider keeps at least one address and one project. Replacing a webhook keeps its
    /// secret, enables it again, and sends again what failed to the old URL.
    /// With `outbox`, an active provider that now follows a project with an advisory under
    /// embargo is told of it at once, as an approval does.
    public func edit(
        _ id: Int64, _ change: ProviderEdit, actor: String, reason: String = "",
        outbox: OutboxSettings? = nil
    ) throws -> (provider: Provider, newSecrets: [String: String]) {
        try database.write { try editInTransaction(id, change, actor: actor, reason: reason, outbox: outbox) }
    }

    func editInTransaction(
        _ id: Int64, _ change: ProviderEdit, actor: String, reason: String,
        outbox: OutboxSettings? = nil
    ) throws -> (provider: Provider, newSecrets: [String: String]) {
        let now = clock.now
        let current = try get(id)
        guard current.status != .removed else {
            throw Refusal.illegalTransition(
                subject: "provider \(id) (\(current.organization))", state: "removed", action: "edit",
                allowedFrom: ["pending-confirmation", "pending-approval", "active", "suspended"])
        }
        var details: [String: String] = [:]
        if let organization = change.organization, organization != current.organization {
            if current.status == .active || current.status == .suspended {
                try requireUniqueOrganization(organization, except: id)
            }
            try database.run("UPDATE providers SET organization = ? WHERE id = ?", .text(organization), .integer(id))
            details["organization"] = "\(current.organization) → \(organization)"
        }
        if let language = change.language, language != current.language {
            try database.run("UPDATE providers SET language = ? WHERE id = ?", .text(language.rawValue), .integer(id))
            details["language"] = language.rawValue
        }
        if let listed = change.listed, listed != current.listed {
            try database.run("UPDATE providers SET listed = ? WHERE id = ?", .int(listed ? 1 : 0), .integer(id))
            details["listed"] = String(listed)
        }
        for email in change.removeEmails {
            guard current.emails.contains(where: { $0.lowercased() == email.lowercased() }) else {
                throw Refusal.invalid(
                    field: "remove-email", rule: "\(Validate.quoted(email)) is not an address of provider \(id)")
            }
            try database.run(
                "DELETE FROM provider_contacts WHERE provider_id = ? AND lower(email) = lower(?)", .integer(id),
                .text(email))
        }
        for email in change.addEmails where !current.emails.contains(where: { $0.lowercased() == email.lowercased() }) {
            try database.run(
                "INSERT INTO provider_contacts (provider_id, email) VALUES (?, ?)", .integer(id), .text(email))
        }
        if !change.addEmails.isEmpty { details["added addresses"] = change.addEmails.joined(separator: ", ") }
        if !change.removeEmails.isEmpty { details["removed addresses"] = change.removeEmails.joined(separator: ", ") }
        for url in change.removeWebhooks {
            guard
                try database.run(
                    "DELETE FROM provider_webhooks WHERE provider_id = ? AND url = ?", .integer(id), .text(url)) == 1
            else {
                throw Refusal.invalid(
                    field: "remove-webhook",
                    rule: "\(Validate.quoted(Redaction.url(url))) is not a webhook of provider \(id)")
            }
        }
        var secrets: [String: String] = [:]
        for hook in change.addWebhooks where !current.webhooks.contains(where: { $0.url == hook.url }) {
            let secret = hook.kind == .webhook ? Secrets.webhookSecret() : nil
            try database.run(
                "INSERT INTO provider_webhooks (provider_id, url, kind, secret) VALUES (?, ?, ?, ?)",
                .integer(id), .text(hook.url), .text(hook.kind.rawValue), .optionalText(secret))
            if let secret { secrets[hook.url] = secret }
        }
        if !change.addWebhooks.isEmpty {
            details["added webhooks"] = change.addWebhooks.map { Redaction.url($0.url) }.joined(separator: ", ")
        }
        if !change.removeWebhooks.isEmpty {
            details["removed webhooks"] = change.removeWebhooks.map(Redaction.url).joined(separator: ", ")
        }
        if let replace = change.replaceWebhook {
            if replace.from != replace.to, try get(id).webhooks.contains(where: { $0.url == replace.to }) {
                throw Refusal.conflict(
                    field: "replace-webhook",
                    rule:
                        "provider \(id) has \(Validate.quoted(Redaction.url(replace.to))) already; remove one of the two instead"
                )
            }
            guard
                try database.run(
                    "UPDATE provider_webhooks SET url = ?, disabled_at = NULL WHERE provider_id = ? AND url = ?",
                    .text(replace.to), .integer(id), .text(replace.from)) == 1
            else {
                throw Refusal.invalid(
                    field: "replace-webhook",
                    rule: "\(Validate.quoted(Redaction.url(replace.from))) is not a webhook of provider \(id)")
            }
            // What failed to the old URL goes again to the new one (the claim checks it is still theirs).
            let resent = try database.run(
                """
                UPDATE deliveries SET recipient = ?1, host = herald_host(?1), state = 'pending', attempts = 0, next_attempt_at = ?4,
                                      lease_until = NULL, last_error = NULL
                WHERE provider_id = ?2 AND recipient = ?3 AND state IN ('dead', 'retrying') AND (lease_until IS NULL OR lease_until <= ?4)
                  -- Not notices that no longer matter: those of a cancelled advisory.
                  AND NOT EXISTS (SELECT 1 FROM notices n JOIN advisories a ON a.id = n.advisory_id
                                  WHERE n.id = deliveries.notice_id AND a.state = 'cancelled')
                """, [.text(replace.to), .integer(id), .text(replace.from), .date(now)])
            details["replaced webhook"] = "\(Redaction.url(replace.from)) → \(Redaction.url(replace.to))"
            details["sent again"] = String(resent)
        }
        let projects = ProjectStore(database: database, clock: clock)
        for slug in change.addProjects where !current.projects.contains(slug) {
            let project = try projects.require(slug, field: "add-project")
            try database.run(
                "INSERT INTO subscriptions (provider_id, project_id, created_at) VALUES (?, ?, ?)", .integer(id),
                .integer(project.id), .date(now))
        }
        for slug in change.removeProjects {
            guard let project = try projects.find(slug), current.projects.contains(slug) else {
                throw Refusal.invalid(
                    field: "remove-project", rule: "provider \(id) does not follow \(Validate.quoted(slug))")
            }
            try database.run(
                "DELETE FROM subscriptions WHERE provider_id = ? AND project_id = ?", .integer(id), .integer(project.id)
            )
        }
        if !change.addProjects.isEmpty { details["added projects"] = change.addProjects.joined(separator: ", ") }
        if !change.removeProjects.isEmpty {
            details["removed projects"] = change.removeProjects.joined(separator: ", ")
        }
        let edited = try get(id)
        guard !edited.emails.isEmpty else {
            throw Refusal.invalid(
                field: "remove-email", rule: "a provider keeps at least one address (remove the provider instead)")
        }
        guard !edited.projects.isEmpty else {
            throw Refusal.invalid(field: "remove-project", rule: "a provider follows at least one project")
        }
        guard edited.emails.count <= NewProvider.maxEmails, edited.webhooks.count <= NewProvider.maxWebhooks else {
            throw Refusal.invalid(
                field: "edit",
                rule: "at most \(NewProvider.maxEmails) addresses and \(NewProvider.maxWebhooks) webhooks per provider")
        }
        try database.run("UPDATE providers SET updated_at = ? WHERE id = ?", .date(now), .integer(id))
        try AuditLog(database: database).record(
            at: now, actor: actor, action: "provider.edit", subjectType: "provider", subjectID: id,
            reason: reason, details: details)
        if !change.addProjects.isEmpty { try tellOfEmbargoes(id, if: edited.status, outbox: outbox) }
        return (edited, secrets)
    }

    /// What `sync` did (or, rehearsed, would do): one line per provider.
    public struct SyncReport: Sendable, Equatable, Encodable {
        /// Providers added, each with its addresses.
        public var added: [String] = []
        /// Providers changed, each with a summary of the change.
        public var changed: [String] = []
        /// Providers that left: not in the file, and following no other project.
        public var removed: [String] = []
        /// New webhook secrets by URL: the only time they are shown.
        public var newSecrets: [String: String] = [:]
    }

    /// Brings the members (active and suspended providers) of the projects the file names up to
    /// date with `list`, all or nothing: a name not on the list yet is added (active); a member
    /// whose addresses, webhooks or projects (of those the file names) differ is changed to
    /// match, and its listing and language where the file says them; a member of those projects
    /// not in the file stops following them, and leaves when it follows nothing else. Members
    /// of other projects only, and requests waiting for confirmation or approval, are left alone.
    public func sync(_ list: ProviderImport, actor: String, outbox: OutboxSettings? = nil) throws -> SyncReport {
        let now = clock.now
        return try database.write {
            var report = SyncReport()
            let scope = list.projects
            let members = try load(where: "p.status IN ('active', 'suspended')", []).filter {
                !scope.isDisjoint(with: $0.projects)
            }
            var byName = Dictionary(
                members.map { ($0.organization.lowercased(), $0) }, uniquingKeysWith: { first, _ in first })
            let projectIDs = Dictionary(
                uniqueKeysWithValues: try ProjectStore(database: database, clock: clock).list().map { ($0.slug, $0.id) }
            )
            for entry in list.entries {
                let wanted = entry.provider
                guard let current = byName.removeValue(forKey: wanted.organization.lowercased()) else {
                    let ids = try wanted.projects.map { slug -> Int64 in
                        guard let id = projectIDs[slug] else {
                            throw Refusal.invalid(
                                field: "project", rule: "no project '\(slug)'; `herald project list` shows them")
                        }
                        return id
                    }
                    let id = try insert(wanted, status: .active, projectIDs: ids, now: now)
                    try AuditLog(database: database).record(
                        at: now, actor: actor, action: "provider.add", subjectType: "provider", subjectID: id,
                        reason: "provider import --sync", details: ["organization": wanted.organization])
                    try tellOfEmbargoes(id, if: .active, outbox: outbox)
                    for hook in try get(id).webhooks {
                        if let secret = hook.secret { report.newSecrets[hook.url] = secret }
                    }
                    report.added.append("\(wanted.organization) (\(wanted.emails.joined(separator: ", ")))")
                    continue
                }
                let lower = { (list: [String]) in Set(list.map { $0.lowercased() }) }
                let currentHooks = Set(current.webhooks.map(\.url))
                let wantedHooks = Set(wanted.webhooks.map(\.url))
                let change = ProviderChange(
                    addEmails: wanted.emails.filter { !lower(current.emails).contains($0.lowercased()) },
                    removeEmails: current.emails.filter { !lower(wanted.emails).contains($0.lowercased()) },
                    addWebhooks: wanted.webhooks.filter { !currentHooks.contains($0.url) },
                    removeWebhooks: current.webhooks.map(\.url).filter { !wantedHooks.contains($0) },
                    addProjects: wanted.projects.filter { !current.projects.contains($0) },
                    removeProjects: current.projects.filter { scope.contains($0) && !wanted.projects.contains($0) },
                    listed: entry.listed.flatMap { $0 != current.listed ? $0 : nil },
                    language: entry.language.flatMap { $0 != current.language ? $0 : nil })
                guard let edit = try change.edit() else { continue }
                let (_, secrets) = try editInTransaction(
                    current.id, edit, actor: actor, reason: "provider import --sync", outbox: outbox)
                report.newSecrets.merge(secrets) { $1 }
                report.changed.append("\(current.organization): \(change.summary)")
            }
            for gone in byName.values.sorted(by: { $0.id < $1.id }) {
                let others = gone.projects.filter { !scope.contains($0) }
                if others.isEmpty {
                    _ = try transitionInTransaction(
                        gone.id, .remove, reason: "not in the imported list (provider import --sync)", actor: actor,
                        outbox: nil)
                    report.removed.append(gone.organization)
                } else {
                    // It follows other projects too: it only stops following these.
                    let leaving = gone.projects.filter { scope.contains($0) }
                    _ = try editInTransaction(
                        gone.id, try ProviderEdit(removeProjects: leaving), actor: actor,
                        reason: "provider import --sync")
                    report.changed.append(
                        "\(gone.organization): " + leaving.map { "-project \($0)" }.joined(separator: ", "))
                }
            }
            try AuditLog(database: database).record(
                at: now, actor: actor, action: "provider.sync", subjectType: "provider", subjectID: nil,
                details: [
                    "added": String(report.added.count), "changed": String(report.changed.count),
                    "removed": String(report.removed.count),
                ])
            return report
        }
    }

    /// The difference between a member and its line in an imported list.
    private struct ProviderChange {
        var addEmails: [String], removeEmails: [String], addWebhooks: [ProviderWebhook], removeWebhooks: [String]
        var addProjects: [String], removeProjects: [String], listed: Bool?, language: Language?

        /// The edit that makes the member match, or nil when it matches already.
        func edit() throws -> ProviderEdit? {
            let none =
                addEmails.isEmpty && removeEmails.isEmpty && addWebhooks.isEmpty && removeWebhooks.isEmpty
                && addProjects.isEmpty
                && removeProjects.isEmpty && listed == nil && language == nil
            if none { return nil }
            return try ProviderEdit(
                addEmails: addEmails, removeEmails: removeEmails, addWebhooks: addWebhooks.map { ($0.url, $0.kind) },
                removeWebhooks: removeWebhooks, addProjects: addProjects, removeProjects: removeProjects,
                listed: listed, language: language)
        }

        /// "+b@x, -a@x, projects +other, listed" — what changes, in a few words.
        var summary: String {
            var parts = addEmails.map { "+\($0)" } + removeEmails.map { "-\($0)" }
            parts +=
                addWebhooks.map { "+webhook \(Redaction.url($0.url))" }
                + removeWebhooks.map { "-webhook \(Redaction.url($0))" }
            parts += addProjects.map { "+project \($0)" } + removeProjects.map { "-project \($0)" }
            if let listed { parts.append(listed ? "listed" : "not listed") }
            if let language { parts.append("language \(language.rawValue)") }
            return parts.joined(separator: ", ")
        }
    }

    /// Takes one address off a provider, with its audit row; call inside `database.write`.
    public func removeContact(_ id: Int64, address: String, at now: Date, actor: String, reason: String) throws {
        try database.run(
            "DELETE FROM provider_contacts WHERE provider_id = ? AND lower(email) = lower(?)", .integer(id),
            .text(address))
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

    /// Refuses an organisation that is a member already (active or suspended). Requests never
    /// count, confirmed or not: anyone can make one with a mailbox of their own, so a request
    /// must not block the real organisation; a duplicate request is refused at its approval.
    private func requireUniqueOrganization(_ organization: String, except id: Int64? = nil) throws {
        if let existing = try database.first(
            """
            SELECT id FROM providers WHERE lower(organization) = lower(?1) AND id IS NOT ?2 AND status IN ('active', 'suspended')
            """, .text(organization), id.map(SQLValue.integer) ?? .null, map: { $0.int(0) })
        {
            throw Refusal.conflict(
                field: "organization", rule: "'\(organization)' is on the list already as provider \(existing)")
        }
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

    private func insert(_ provider: NewProvider, status: ProviderStatus, projectIDs: [Int64], now: Date) throws -> Int64
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
