import Foundation
import HeraldCore

/// The early-notice list as release managers keep it: add, import, sync, approve, suspend,
/// remove and edit providers. Whoever becomes an active follower of a project during an
/// embargo (added, imported, approved, edited to follow it) is told what the others were told,
/// in the same transaction; every change has its audit row.
public struct ProviderAdministration {
    let work: any UnitOfWork
    let providers: any ProviderRepository
    let projects: any ProjectDirectory
    let briefing: any EmbargoBriefing
    let mail: any ProviderMail
    let audit: any AuditTrail
    let fingerprints: any CredentialFingerprints
    let clock: any Clock

    /// Creates the use cases over their ports.
    public init(
        work: any UnitOfWork, providers: any ProviderRepository, projects: any ProjectDirectory,
        briefing: any EmbargoBriefing, mail: any ProviderMail, audit: any AuditTrail,
        fingerprints: any CredentialFingerprints, clock: any Clock
    ) {
        self.work = work
        self.providers = providers
        self.projects = projects
        self.briefing = briefing
        self.mail = mail
        self.audit = audit
        self.fingerprints = fingerprints
        self.clock = clock
    }

    /// Adds a provider as `status`: pending approval, or active (`--approve`), which is told
    /// of advisories under embargo at once.
    public func add(_ provider: NewProvider, status: ProviderStatus, actor: String) throws -> Provider {
        let now = clock.now
        return try work.write {
            let projectIDs = try provider.projects.map { try projects.require($0, field: "project").id }
            try requireUnique(provider.organization)
            let id = try providers.insert(provider, status: status, projectIDs: projectIDs, at: now)
            try audit.entry(
                "provider.add", subjectType: "provider", subjectID: id, at: now, actor: actor, reason: "",
                details: [
                    "organization": provider.organization, "status": status.rawValue,
                    "emails": provider.emails.joined(separator: ","),
                    "projects": provider.projects.joined(separator: ","),
                ])
            if status == .active { try briefing.brief(provider: id) }
            return try providers.get(id)
        }
    }

    /// `importList`, told as a sync's report is: each provider added with its addresses, and
    /// the secrets of the webhooks it made (shown this once).
    public func importReport(_ list: ProviderImport, actor: String) throws -> ProviderSync.Report {
        var report = ProviderSync.Report()
        for provider in try importList(list, actor: actor) {
            report.added.append(try added(provider))
            report.newSecrets += provider.webhooks.compactMap { hook in
                hook.secret.map { .init(provider: provider.organization, url: hook.url, secret: $0) }
            }
        }
        return report
    }

    /// A provider added, as reports say it: its name and addresses, and the names on the list
    /// it looks like (an import activates at once, so the preview is where an impostor shows).
    func added(_ provider: Provider) throws -> String {
        let alikes = try providers.lookAlikes(of: provider)
        let warning =
            alikes.isEmpty
            ? ""
            : " — looks like \(alikes.map { "‘\($0)’" }.joined(separator: ", ")) on the list: check it is not an impostor"
        return "\(provider.organization) (\(provider.emails.joined(separator: ", ")))\(warning)"
    }

    /// Imports a whole list as active providers in one transaction: every problem is reported
    /// with its line, and nothing is written unless every line is good.
    public func importList(_ list: ProviderImport, actor: String) throws -> [Provider] {
        let now = clock.now
        return try work.write {
            let projectIDs = try projectIDsBySlug()
            var problems: [(line: Int, refusal: Refusal)] = []
            for entry in list.entries {
                for (slug, line) in entry.projectLines where projectIDs[slug] == nil {
                    problems.append((line, Self.noProject(slug)))
                }
                do { try requireUnique(entry.provider.organization) } catch let refusal as Refusal {
                    problems.append((entry.line, refusal))
                }
            }
            guard problems.isEmpty else { throw LineRefusals(problems) }
            var ids: [Int64] = []
            for entry in list.entries {
                ids.append(
                    try providers.insert(
                        entry.provider, status: .active,
                        projectIDs: entry.provider.projects.compactMap { projectIDs[$0] },
                        at: now))
            }
            // The row names what it added, so the log answers "where did this provider come from".
            let added = zip(ids, list.entries).map { "\($0) \($1.provider.organization)" }.joined(separator: "; ")
            try audit.entry(
                "provider.import", subjectType: "provider", subjectID: nil, at: now, actor: actor, reason: "",
                details: [
                    "providers": String(ids.count), "added": added,
                    "contacts": String(list.entries.reduce(0) { $0 + $1.provider.emails.count }),
                ])
            for id in ids { try briefing.brief(provider: id) }
            // Inside this transaction no one else inserts, so the new ids form one range.
            guard let first = ids.first, let last = ids.last else { return [] }
            return try providers.providers(from: first, through: last)
        }
    }

    /// Brings the members (active and suspended providers) of the projects the file names up to
    /// date with `list`, all or nothing (`ProviderSync` says how).
    public func sync(_ list: ProviderImport, actor: String) throws -> ProviderSync.Report {
        let now = clock.now
        let reason = "provider import --sync"
        return try work.write {
            let plan = try ProviderSync(members: providers.members(), list: list)
            let projectIDs = try projectIDsBySlug()
            // A name the file adds may be a member's already, one that follows only other
            // projects (the plan matches only the file's): refused on its line, as an import is.
            let adding = Set(plan.additions.map { $0.organization.lowercased() })
            var problems: [(line: Int, refusal: Refusal)] = []
            for entry in list.entries where adding.contains(entry.provider.organization.lowercased()) {
                do { try requireUnique(entry.provider.organization) } catch let refusal as Refusal {
                    problems.append((entry.line, refusal))
                }
            }
            guard problems.isEmpty else { throw LineRefusals(problems) }
            var report = ProviderSync.Report()
            for wanted in plan.additions {
                let ids = try wanted.projects.map { slug -> Int64 in
                    guard let id = projectIDs[slug] else { throw Self.noProject(slug) }
                    return id
                }
                let id = try providers.insert(wanted, status: .active, projectIDs: ids, at: now)
                try audit.entry(
                    "provider.add", subjectType: "provider", subjectID: id, at: now, actor: actor, reason: reason,
                    details: ["organization": wanted.organization])
                try briefing.brief(provider: id)
                report.newSecrets += try providers.get(id).webhooks.compactMap { hook in
                    hook.secret.map { .init(provider: wanted.organization, url: hook.url, secret: $0) }
                }
                report.added.append(try added(providers.get(id)))
            }
            for change in plan.changes {
                let (_, secrets) = try editInTransaction(change.member, change.edit, actor: actor, reason: reason)
                report.newSecrets += secrets.sorted { $0.key < $1.key }.map {
                    .init(provider: change.member.organization, url: $0.key, secret: $0.value)
                }
                report.changed.append("\(change.member.organization): \(change.summary(fingerprints.url))")
            }
            for gone in plan.removals {
                _ = try transitionInTransaction(
                    gone.id, .remove, reason: "not in the imported list (\(reason))", actor: actor)
                report.removed.append(gone.organization)
            }
            try audit.entry(
                "provider.sync", subjectType: "provider", subjectID: nil, at: now, actor: actor, reason: "",
                details: [
                    "added": String(report.added.count), "changed": String(report.changed.count),
                    "removed": String(report.removed.count),
                ])
            return report
        }
    }

    /// Moves a provider's status by `action` (approve, suspend, remove), with its audit row. An
    /// approval of a request welcomes it; any approval tells it of advisories under embargo.
    /// An approval of a name that looks like another provider's is refused unless
    /// `despiteLookAlike` says the release manager checked it is not an impostor.
    public func transition(
        _ id: Int64, _ action: ProviderAction, reason: String = "", actor: String, despiteLookAlike: Bool = false
    ) throws -> Provider {
        try work.write {
            if action == .approve, !despiteLookAlike, case let alikes = try providers.lookAlikes(of: providers.get(id)),
                !alikes.isEmpty
            {
                throw Refusal.conflict(
                    field: "organization",
                    rule:
                        "the name looks like \(alikes.map { "'\($0)'" }.joined(separator: ", ")) on the list (Unicode look-alikes); check it is not an impostor, then approve again with --despite-look-alike"
                )
            }
            return try transitionInTransaction(id, action, reason: reason, actor: actor)
        }
    }

    /// `transition` inside the caller's transaction (the portal's own use cases).
    func transitionInTransaction(_ id: Int64, _ action: ProviderAction, reason: String, actor: String) throws
        -> Provider
    {
        let before = try providers.get(id)
        // Duplicates are decided here, where a release manager sees the answer, not at subscription:
        // a request that becomes a member (approved, or suspended while waiting) may not share a name.
        let becomesMember =
            (action == .approve || action == .suspend) && before.status != .active && before.status != .suspended
        if becomesMember { try requireUnique(before.organization, except: id) }
        let after = try providers.move(id, action, reason: reason, actor: actor, at: clock.now, audit: audit)
        if action == .approve, before.status == .pendingApproval { try mail.sendWelcome(to: after) }
        // Approved while its projects have advisories under embargo: it is told as the others were.
        if after.status == .active { try briefing.brief(provider: id) }
        return after
    }

    /// Applies `change` to a provider in one transaction with one audit row that names every
    /// change; returns the provider and the signing secrets of webhooks it added (shown once).
    /// A provider keeps at least one address and one project. Replacing a webhook keeps its
    /// secret, enables it again, and sends again what failed to the old URL. An active provider
    /// that now follows a project with an advisory under embargo is told of it at once.
    public func edit(_ id: Int64, _ change: ProviderEdit, actor: String, reason: String = "") throws
        -> (provider: Provider, newSecrets: [String: String])
    {
        try work.write { try editInTransaction(providers.get(id), change, actor: actor, reason: reason) }
    }

    /// `edit` inside the caller's transaction.
    func editInTransaction(_ current: Provider, _ change: ProviderEdit, actor: String, reason: String) throws
        -> (provider: Provider, newSecrets: [String: String])
    {
        let now = clock.now
        let id = current.id
        guard current.status != .removed else {
            throw Refusal.illegalTransition(
                subject: "provider \(id) (\(current.organization))", state: "removed", action: "edit",
                allowedFrom: ["pending-confirmation", "pending-approval", "active", "suspended"])
        }
        if let organization = change.organization, organization != current.organization,
            current.status == .active || current.status == .suspended
        {
            try requireUnique(organization, except: id)
        }
        let check = try ProviderEditCheck(current: current, change: change, redact: fingerprints.url)
        let added = try change.addProjects.filter { !current.projects.contains($0) }.map {
            try projects.require($0, field: "add-project").id
        }
        let removed = try change.removeProjects.map { try projects.require($0, field: "remove-project").id }
        for address in change.removeEmails {
            try providers.endPortalSessions(ofProvider: id, address: address, at: now)
        }
        let (secrets, sentAgain) = try providers.apply(
            change, to: id, addProjectIDs: added, removeProjectIDs: removed, at: now)
        var details = check.details(fingerprints.url)
        if change.replaceWebhook != nil { details["sent again"] = String(sentAgain) }
        try audit.entry(
            "provider.edit", subjectType: "provider", subjectID: id, at: now, actor: actor, reason: reason,
            details: details)
        let edited = try providers.get(id)
        // The check above decided on what the change says; this is what was written.
        guard !edited.emails.isEmpty, !edited.projects.isEmpty else {
            throw Refusal.invalid(field: "edit", rule: "a provider keeps at least one address and one project")
        }
        if !added.isEmpty, edited.status == .active { try briefing.brief(provider: id) }
        return (edited, secrets)
    }

    /// Refuses an organisation that is a member already (active or suspended). Requests never
    /// count, confirmed or not: anyone can make one with a mailbox of their own, so a request
    /// must not block the real organisation; a duplicate request is refused at its approval.
    private func requireUnique(_ organization: String, except id: Int64? = nil) throws {
        if let existing = try providers.memberID(named: organization, except: id) {
            throw Refusal.conflict(
                field: "organization", rule: "'\(organization)' is on the list already as provider \(existing)")
        }
    }

    private func projectIDsBySlug() throws -> [String: Int64] {
        Dictionary(uniqueKeysWithValues: try projects.list().map { ($0.slug, $0.id) })
    }

    static func noProject(_ slug: String) -> Refusal {
        .invalid(field: "project", rule: "no project '\(slug)'; `herald project list` shows them")
    }
}

extension ProviderRoster {
    /// Moves provider `id` by `action` as Core's rule allows, with its audit row; sends nothing.
    func move(
        _ id: Int64, _ action: ProviderAction, reason: String, actor: String, at now: Date, audit: any AuditTrail
    ) throws -> Provider {
        let provider = try get(id)
        let next = try provider.status.after(action, subject: "provider \(id) (\(provider.organization))")
        try setStatus(id, to: next, at: now)
        // Suspended or removed: its portal sessions end now, not at their next request.
        if next == .suspended || next == .removed { try endPortalSessions(ofProvider: id, address: nil, at: now) }
        // What still waits to be sent to a suspended or removed provider is stopped when it is
        // claimed, the one place that decides whether a message may go.
        try audit.entry(
            "provider.\(action.rawValue)", subjectType: "provider", subjectID: id, at: now, actor: actor,
            reason: reason, details: ["from": provider.status.rawValue, "to": next.rawValue])
        return try get(id)
    }
}
