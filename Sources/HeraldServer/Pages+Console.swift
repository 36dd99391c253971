import Foundation
import HeraldApp
import HeraldCore
import HeraldMarkdown
import HeraldStore
import HeraldTemplates

/// The release managers' console's pages.
extension Pages {
    func consoleSignIn(csrf: String, error: String = "") -> String {
        page("console-sign-in", ["csrf": csrf, "error": error])
    }

    /// The second step: the enrolment (with the key as a QR code) or the code alone.
    func consoleCode(
        session: ConsoleSession, enrolment: (secret: String, uri: String)?, error: String = ""
    ) -> String {
        page(
            "console-code",
            [
                "email": session.account.email, "csrf": session.csrf, "error": error, "enrol": enrolment != nil,
                "secret": enrolment?.secret ?? "", "uri": enrolment?.uri ?? "",
                "qr": enrolment.flatMap { QRCode.svg($0.uri) } ?? "",
            ])
    }

    func consoleRecovery(codes: [String]) -> String {
        page("console-recovery", ["codes": codes.map { ["code": $0] }])
    }

    /// One row of the dashboard.
    struct ConsoleRow {
        var advisory: Advisory
        var project: Project?
        var counts: Readiness.Counts
        var failing: Int
    }

    /// The readiness totals in the page's language: those `Readiness.Counts.shown` names, a
    /// proposal's instant in `zone`.
    func totals(_ counts: Readiness.Counts, zone: String) -> String {
        let latest = counts.latestProposal.map { language.dateTime($0, in: TimeZone(identifier: zone) ?? .gmt) } ?? ""
        return counts.shown.map { total, count in
            // Two of them say their number in the singular or the plural.
            let number = total == .participants || total == .moreTime ? (count == 1 ? "-one" : "-other") : ""
            return word("totals-\(total.rawValue)\(number)", ["count": String(count), "latest": latest])
        }.joined(separator: " · ")
    }

    func consoleDashboard(session: ConsoleSession, rows: [ConsoleRow], now: Date) -> String {
        let items: [[String: Any]] = rows.map { row in
            let zone = row.project?.timezone ?? "UTC"
            var item: [String: Any] = [
                "href": "/console/advisories/\(row.advisory.id)",
                "project": row.project?.name ?? row.advisory.projectSlug, "title": row.advisory.content.title,
                "state": word("state-\(row.advisory.state.rawValue)"), "totals": totals(row.counts, zone: zone),
                "failing": row.failing > 0 ? String(row.failing) : "",
            ]
            if let instant = row.advisory.schedule.embargo {
                item.merge(when(instant, zone: zone)) { $1 }
                item["release"] = item["when"]
                item["utc"] = Instant.utc(instant)
                item["countdown"] = Self.countdown(from: now, to: instant)
            }
            return item
        }
        return page(
            "console",
            [
                "email": session.account.email, "role": session.account.role.rawValue, "csrf": session.csrf,
                "read-only": session.account.role < .releaseManager, "advisories": items,
                "any-advisories": !items.isEmpty,
            ])
    }

    /// One advisory: the instant, readiness, the delivery timeline and the same as tables.
    func consoleAdvisory(
        _ advisory: Advisory, project: Project?, readiness: Readiness, deliveries: [DeliveryRecord],
        earlyNoticeSent: Bool, session: ConsoleSession, now: Date
    ) -> String {
        let zone = project?.timezone ?? "UTC"
        let at = { (date: Date?) in date.map { Instant.utc($0) } ?? "—" }
        let open = advisory.state == .draft || advisory.state == .scheduled
        let canAct = open && session.account.role >= .releaseManager
        let typed = { (date: Date) in String(Instant.local(date, in: project?.zone ?? .gmt).prefix(16)) + " \(zone)" }
        var rows: [Timeline.Row] = []
        var participants: [[String: Any]] = []
        let byOrganization = Dictionary(grouping: deliveries.filter { $0.organization != nil }, by: \.organization!)
        for participant in readiness.participants {
            let own = byOrganization[participant.organization] ?? []
            var marks = Self.deliveryMarks(own)
            if let seen = participant.seenAt { marks.append(.init(kind: .seen, at: seen)) }
            if let acknowledged = participant.acknowledgedAt {
                marks.append(.init(kind: .acknowledged, at: acknowledged))
            }
            let answer = word("status-\(participant.status.rawValue)")
            if let answered = participant.answeredAt {
                marks.append(.init(kind: .answered, at: answered, note: answer))
            }
            rows.append(Timeline.Row(label: participant.organization, marks: marks))
            let delivered = own.compactMap(\.deliveredAt).max()
            participants.append([
                "organization": participant.organization,
                "notified": participant.notifiedRevision.map { "r\($0) · \(at(participant.notifiedAt))" } ?? "—",
                "delivered": at(delivered), "seen": at(participant.seenAt),
                "acknowledged": at(participant.acknowledgedAt),
                "answer": participant.answeredAt == nil ? answer : "\(answer) · \(at(participant.answeredAt))",
                "statement": participant.statement,
                "failing": participant.failed > 0 ? String(participant.failed) : "",
                "can-decide": canAct && participant.status == .needsMoreTime && participant.proposedInstant != nil,
                "provider-id": String(participant.providerID),
                "proposal": participant.proposedInstant.map { when($0, zone: zone)["when"] as? String ?? "" } ?? "",
                "typed-proposal": participant.proposedInstant.map(typed) ?? "",
            ])
        }
        // Public channels: deliveries to no provider, one row per destination.
        let public_ = deliveries.filter { $0.organization == nil }
        var destinations: [String: [DeliveryRecord]] = [:]
        for record in public_ { destinations[Self.destination(record), default: []].append(record) }
        for (label, records) in destinations.sorted(by: { $0.key < $1.key }) {
            rows.append(Timeline.Row(label: label, marks: Self.deliveryMarks(records)))
        }
        let channels: [[String: Any]] = public_.sorted { $0.id < $1.id }.map {
            [
                "channel": Self.destination($0), "notice": "\($0.notice) r\($0.revision)", "state": $0.state.rawValue,
                "delivered": at($0.deliveredAt),
            ]
        }
        let timeline = Timeline(
            rows: rows, instant: advisory.schedule.embargo, now: now,
            words: Dictionary(
                uniqueKeysWithValues: ["title", "instant", "now"].map { ($0, word("timeline-\($0)")) }
                    + Timeline.Kind.allCases.map { ($0.rawValue, word("timeline-\($0.rawValue)")) }))
        var values: [String: Any] = [
            "project": project?.name ?? advisory.projectSlug, "title": advisory.content.title,
            "state": word("state-\(advisory.state.rawValue)"),
            "totals": totals(readiness.counts, zone: readiness.timezone), "timeline": timeline.svg,
            "participants": participants, "any-participants": !participants.isEmpty, "channels": channels,
            "any-channels": !channels.isEmpty,
        ]
        let failures: [[String: Any]] = deliveries.filter { $0.state == .retrying || $0.state == .dead }.map {
            [
                "delivery-id": String($0.id),
                "recipient": ($0.organization.map { "\($0): " } ?? "") + Self.destination($0),
                "notice": "\($0.notice) r\($0.revision)", "state": $0.state.rawValue, "attempts": String($0.attempts),
                "error": $0.lastError ?? "",
            ]
        }
        values["failures"] = failures
        values["any-failures"] = !failures.isEmpty
        values["can-act"] = canAct
        values["read-only"] = open && session.account.role < .releaseManager
        values["can-send-early"] =
            advisory.state == .scheduled && session.account.role >= .releaseManager && !earlyNoticeSent
            && (advisory.schedule.embargo.map { $0 > now } ?? false)
            && (advisory.schedule.earlyNotice.map { $0 > now } ?? true)  // due already: the scheduler has it
        values["cvss-score"] = advisory.content.cvss.map(CVSS.scored) ?? ""
        values["window"] =
            project.flatMap { project in project.releaseWindow.map { "\($0) \(project.timezone)" } } ?? ""
        values["csrf"] = session.csrf
        values["id"] = String(advisory.id)
        // The instant as a person in the project's zone would type it.
        values["typed-instant"] = advisory.schedule.embargo.map(typed) ?? ""
        if let instant = advisory.schedule.embargo {
            values["release"] = when(instant, zone: zone)["when"]
            values["utc"] = Instant.utc(instant)
            values["countdown"] = Self.countdown(from: now, to: instant)
        }
        return page("console-advisory", values)
    }

    /// The confirmation of a console action: what it does and whom it reaches, the form's
    /// values carried in hidden fields, one button that does it.
    func consoleConfirm(
        action: String, advisory: Advisory, participants: Int, channels: Int, instant: String,
        fields: [(String, String)], csrf: String
    ) -> String {
        let values: [String: Any] = [
            "title": advisory.content.title, "participants": String(participants), "channels": String(channels),
            "instant": instant,
        ]
        return page(
            "console-confirm",
            [
                "question": templates.page("console-confirm", "question-\(action)", in: language, values),
                "button": templates.page("console-confirm", "button-\(action)", in: language, values),
                "action": "/console/advisories/\(advisory.id)/\(action)", "back": "/console/advisories/\(advisory.id)",
                "csrf": csrf, "fields": fields.map { ["name": $0.0, "value": $0.1] },
            ])
    }

    /// One previewed message: what it is, its subject (e-mail), its text or payload.
    struct PreviewSection {
        var heading: String
        var subject: String
        var text: String
    }

    func consolePreview(advisory: Advisory, project: Project?, private: [PreviewSection], public: [PreviewSection])
        -> String
    {
        let list = { (sections: [PreviewSection]) in
            sections.map { ["heading": $0.heading, "subject": $0.subject, "text": $0.text] }
        }
        return page(
            "console-preview",
            [
                "project": project?.name ?? advisory.projectSlug, "title": advisory.content.title,
                "back": "/console/advisories/\(advisory.id)", "private": list(`private`), "public": list(`public`),
                "any-public": !`public`.isEmpty,
            ])
    }

    /// The approval queue (look-alike names flagged) and the list.
    func consoleProviders(_ providers: [Provider], session: ConsoleSession) -> String {
        let row = { (provider: Provider) -> [String: Any] in
            [
                "id": String(provider.id), "organization": provider.organization,
                "contacts": provider.emails.joined(separator: ", "),
                "projects": provider.projects.joined(separator: ", "),
                "status": provider.status.rawValue, "requested": Instant.utc(provider.createdAt),
                "looks-like": (provider.looksLike ?? []).map { "‘\($0)’" }.joined(separator: ", "),
                "active": provider.status == .active,
            ]
        }
        let pending = providers.filter { $0.status == .pendingApproval }.map(row)
        let members = providers.filter { $0.status == .active || $0.status == .suspended }.map(row)
        return page(
            "console-providers",
            [
                "csrf": session.csrf, "is-admin": session.account.role >= .admin, "pending": pending,
                "any-pending": !pending.isEmpty, "members": members, "any-members": !members.isEmpty,
            ])
    }

    /// One provider: what it is, its endpoints by fingerprint, its addresses' keys; for an
    /// admin, the forms that edit it, replace a broken endpoint and keep its keys.
    func consoleProvider(_ provider: Provider, keys: [ProviderKey]?, session: ConsoleSession) -> String {
        page(
            "console-provider",
            [
                "csrf": session.csrf, "is-admin": session.account.role >= .admin, "id": String(provider.id),
                // A removed provider is shown, not changed.
                "can-edit": session.account.role >= .admin && provider.status != .removed,
                "updated": String(Int64(provider.updatedAt.timeIntervalSince1970 * 1000)),
                "organization": provider.organization, "status": provider.status.rawValue,
                "contacts": provider.emails.map { ["email": $0] },
                "emails-text": provider.emails.joined(separator: "\n"),
                "projects-text": provider.projects.joined(separator: ", "), "listed": provider.listed,
                "languages": Language.allCases.map {
                    ["code": $0.rawValue, "name": $0.ownName, "selected": $0 == provider.language] as [String: Any]
                },
                "webhooks": provider.redacted.webhooks.enumerated().map { position, hook in
                    [
                        "url": hook.url, "kind": hook.kind.rawValue, "position": String(position),
                        "disabled": hook.disabledAt.map(Instant.utc) ?? "",
                    ]
                },
                "any-webhooks": !provider.webhooks.isEmpty, "reads-keys": keys != nil,
                "keys": (keys ?? []).map { key -> [String: Any] in
                    [
                        "email": key.email, "fingerprint": key.key.fingerprint, "algorithm": key.key.algorithm,
                        "expires": key.key.expires.map(Instant.utc) ?? "",
                    ]
                },
                "any-keys": !(keys ?? []).isEmpty,
            ])
    }

    /// The import form, with the CSV as typed, and what importing it did or would do.
    func consoleImport(
        session: ConsoleSession, csv: String = "", sync: Bool = false, report: ProviderSync.Report? = nil,
        applied: Bool = false, previewed: String = "", error: String = ""
    ) -> String {
        let lines = { (list: [String]) in list.map { ["line": $0] } }
        return page(
            "console-import",
            [
                "csrf": session.csrf, "is-admin": session.account.role >= .admin, "csv": csv, "sync": sync,
                "previewed": applied ? "" : previewed,
                "error": error, "reported": report != nil, "applied": applied,
                "added": lines(report?.added ?? []), "changed": lines(report?.changed ?? []),
                "removed": lines(report?.removed ?? []),
                "any-added": !(report?.added ?? []).isEmpty, "any-changed": !(report?.changed ?? []).isEmpty,
                "any-removed": !(report?.removed ?? []).isEmpty,
                "unchanged": report.map { $0.added.isEmpty && $0.changed.isEmpty && $0.removed.isEmpty } ?? false,
                "secrets": (report?.newSecrets ?? []).map {
                    ["provider": $0.provider, "url": $0.url, "secret": $0.secret]
                },
                "any-secrets": !(report?.newSecrets ?? []).isEmpty,
            ])
    }

    /// The templates in use, each with the line that says what it is and whether it is an
    /// override; `selected` shown whole.
    func consoleTemplates(_ templates: Templates, selected: String?) -> String {
        let sources = templates.sources
        let overridden = Set(templates.overridden)
        let rows: [[String: Any]] = sources.keys.sorted().map { name in
            [
                "name": name, "about": sources[name]?.prefix { $0 != "\n" }.description ?? "",
                "overridden": overridden.contains(name),
                "href": "/console/templates?name="
                    + (name.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""),
            ]
        }
        return page(
            "console-templates",
            [
                "templates": rows, "selected": selected ?? "",
                "text": selected.flatMap { sources[$0] } ?? "",
                "selected-overridden": selected.map(overridden.contains) ?? false,
            ])
    }

    func consoleSettings(_ values: [Setting: String], templates: String) -> String {
        page(
            "console-settings",
            [
                "settings": Setting.allCases.map { ["key": $0.rawValue, "value": values[$0] ?? ""] },
                "templates": templates,
            ])
    }

    func consoleAudit(_ entries: [AuditEntry], actor: String, advisory: String) -> String {
        let rows: [[String: Any]] = entries.map { entry in
            [
                "when": Instant.utc(entry.at), "who": entry.actor, "what": entry.action,
                "subject": entry.subjectID.map { "\(entry.subjectType) \($0)" } ?? entry.subjectType,
                "why": entry.reason,
            ]
        }
        return page(
            "console-audit",
            ["actor": actor, "advisory": advisory, "entries": rows, "any-entries": !rows.isEmpty])
    }

    /// What the editor's form holds, as typed.
    struct EditorInput {
        var project = ""
        var title = ""
        var summary = ""
        var body = ""
        var cves = ""
        var severity = ""
        var cvss = ""
        var affected = ""
        var fixed = ""
        var embargo = ""
        var early = false
        var reason = ""
        var note = ""

        init() {}

        init(_ form: Form) {
            let field = { (name: String) in form.first(name) ?? "" }
            project = field("project")
            title = field("title")
            summary = field("summary")
            body = field("body")
            cves = field("cves")
            severity = field("severity")
            cvss = field("cvss")
            affected = field("affected")
            fixed = field("fixed")
            embargo = field("embargo")
            early = form.first("early") == "yes"
            reason = field("reason")
            note = field("note_to_providers")
        }

        init(_ advisory: Advisory) {
            let content = advisory.content
            title = content.title
            summary = content.summary
            body = content.body
            cves = content.cves.joined(separator: " ")
            severity = content.severity?.rawValue ?? ""
            cvss = content.cvss ?? ""
            affected = content.affected
            fixed = content.fixed
        }

        /// The content typed, validated as the CLI's is.
        func content() throws(Refusal) -> AdvisoryContent {
            try AdvisoryContent(
                title: title, summary: summary, body: body,
                cves: cves.split(whereSeparator: { $0 == "," || $0.isWhitespace }).map(String.init),
                severity: severity.isEmpty ? nil : try Severity.parse(severity), cvss: cvss.isEmpty ? nil : cvss,
                affected: affected, fixed: fixed)
        }

        /// Every field of `content` as the revision's, the references and terms kept.
        func patch(_ content: AdvisoryContent) -> AdvisoryPatch {
            AdvisoryPatch(
                title: content.title, summary: content.summary, body: content.body, cves: content.cves,
                severity: content.severity, cvss: content.cvss, affected: content.affected, fixed: content.fixed)
        }
    }

    func consoleEditor(
        creating: Bool, input: EditorInput, id: Int64?, projects: [Project], csrf: String, error: String = "",
        preview: Bool = false
    ) -> String {
        let previewHTML = preview && !input.body.isEmpty ? Markdown.html(String(input.body.prefix(200_000))) : ""
        return page(
            "console-editor",
            [
                "creating": creating,
                "action": id.map { "/console/advisories/\($0)/edit" } ?? "/console/advisories/new",
                "back": id.map { "/console/advisories/\($0)" } ?? "/console", "csrf": csrf, "error": error,
                "projects": projects.map {
                    ["slug": $0.slug, "name": $0.name, "selected": $0.slug == input.project] as [String: Any]
                },
                "title": input.title, "summary": input.summary, "body": input.body, "cves": input.cves,
                "severities": ([""] + Severity.allCases.map(\.rawValue)).map {
                    [
                        "value": $0, "label": $0.isEmpty ? "—" : word($0), "selected": $0 == input.severity,
                    ] as [String: Any]
                },
                "cvss": input.cvss, "affected": input.affected, "fixed": input.fixed, "embargo": input.embargo,
                "early": input.early, "reason": input.reason, "note": input.note, "preview-html": previewHTML,
                "cvss-score": preview ? (try? CVSS.validate(input.cvss)).map(CVSS.scored) ?? "" : "",
                "has-preview": !previewHTML.isEmpty,
            ])
    }

    /// Sent, delivered and failing marks of some deliveries.
    static func deliveryMarks(_ records: [DeliveryRecord]) -> [Timeline.Mark] {
        records.flatMap { record -> [Timeline.Mark] in
            let note = "\(record.notice) r\(record.revision)"
            var marks = [Timeline.Mark(kind: .sent, at: record.createdAt, note: note)]
            if let delivered = record.deliveredAt { marks.append(.init(kind: .delivered, at: delivered, note: note)) }
            if record.state == .retrying || record.state == .dead {
                marks.append(.init(kind: .failing, at: record.nextAttemptAt ?? record.createdAt, note: note))
            }
            return marks
        }
    }

    /// A public channel as the console names it: a list's address, a webhook's host (its URL
    /// may carry a secret, as Slack's do).
    static func destination(_ record: DeliveryRecord) -> String {
        record.transport == .email ? record.recipient : URLComponents(string: record.recipient)?.host ?? "webhook"
    }

    /// "T−2d 03h 05m" before the instant, "T+…" after: the same in every language.
    static func countdown(from now: Date, to instant: Date) -> String {
        let seconds = Int(instant.timeIntervalSince(now).rounded())
        let total = abs(seconds) / 60
        let (days, hours, minutes) = (total / 1440, total % 1440 / 60, total % 60)
        let text = days > 0 ? "\(days)d \(hours)h \(minutes)m" : hours > 0 ? "\(hours)h \(minutes)m" : "\(minutes)m"
        return (seconds >= 0 ? "T−" : "T+") + text
    }
}
