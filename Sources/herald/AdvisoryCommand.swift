import ArgumentParser
import Foundation
import HeraldCore
import HeraldStore

struct AdvisoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "advisory",
        abstract: "Advisories and their embargoes.",
        discussion: """
            An advisory with --embargo is scheduled: approved providers get the early notice at --early-notice, \
            public channels a date-only pre-announcement at --pre-announce, and everything goes public at the \
            embargo instant. Without --embargo it is a draft. Every change of content or dates is a new revision.
            """,
        subcommands: [
            Create.self, List.self, Show.self, Readiness.self, Preview.self, Reschedule.self, Revise.self, Publish.self,
            Cancel.self, Invite.self, Exclude.self, Decline.self,
        ]
    )

    /// The content flags of `create` and `revise`.
    struct ContentOptions: ParsableArguments {
        @Option(help: "One-line title.") var title: String?
        @Option(help: "A paragraph for feeds and previews.") var summary: String?
        @Option(help: "File with the full text (- for standard input).") var bodyFile: String?
        @Option(help: "A CVE id; repeat for more (on revise, the list replaces the old one).") var cve: [String] = []
        @Option(help: "low, moderate (or CVSS's word, medium), high or critical.") var severity: String?
        @Option(help: "CVSS v3.1 or v4.0 vector.") var cvss: String?
        @Option(help: "Affected versions.") var affected: String?
        @Option(help: "Fixed versions.") var fixed: String?
        @Option(
            help:
                "TYPE=URL: a fix commit, release notes … (FIX, WEB, REPORT, ARTICLE …); repeat for more (on revise, replaces the list)."
        )
        var reference: [String] = []
        @Option(help: "Embargo terms: may the fix be deployed before the release? allowed or not-allowed.")
        var deployment: String?
        @Option(
            name: .customLong("patch"), help: "Embargo terms: is the patch itself under embargo? embargoed or public.")
        var patchTerms: String?
        @Option(help: "Embargo terms: the TLP label of the private notices (default AMBER+STRICT).") var tlp: String?

        /// The terms the flags give, starting from `base` (the advisory's, else its project's); nil without flags.
        func terms(from base: EmbargoTerms) throws -> EmbargoTerms? {
            guard deployment != nil || patchTerms != nil || tlp != nil else { return nil }
            return try base.changed(deployment: deployment, patch: patchTerms, tlp: tlp)
        }

        func patch() throws -> AdvisoryPatch {
            try Validate.count(
                reference, field: "reference", max: AdvisoryContent.maxReferences, noun: "references per advisory")
            return AdvisoryPatch(
                title: title, summary: summary, body: try bodyFile.map { try readInput($0, field: "body-file") },
                cves: cve.isEmpty ? nil : cve, severity: try severity.map(Severity.parse),
                cvss: cvss, affected: affected, fixed: fixed,
                references: reference.isEmpty ? nil : try reference.map { try Reference($0) })
        }
    }

    /// The instant flags of `create` and `reschedule`.
    struct ScheduleOptions: ParsableArguments {
        @Option(help: "Early notice to approved providers: 'now' or an instant before the embargo.") var earlyNotice:
            String?
        @Option(help: "Public date-only pre-announcement: 'now' or an instant before the embargo.") var preAnnounce:
            String?

        func apply(to schedule: Schedule, embargo: Date?, in context: Context) throws -> Schedule {
            var next = schedule
            next.embargo = embargo ?? schedule.embargo
            if let early = try context.instant(earlyNotice, field: "early-notice", allowNow: true) {
                next.earlyNotice = early
            }
            if let pre = try context.instant(preAnnounce, field: "pre-announce", allowNow: true) {
                next.preAnnounce = pre
            }
            return next
        }
    }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an advisory (scheduled with --embargo, a draft without).")
        @OptionGroup var db: DatabaseOptions
        @Option(help: "The project's slug.") var project: String
        @OptionGroup var content: ContentOptions
        @Option(help: "The release instant.") var embargo: String?
        @OptionGroup var schedule: ScheduleOptions
        @Option(help: "Why the release instant is outside the project's release window (audited).")
        var outsideWindow: String?
        @Flag(help: "Say who would get what and how many; write nothing.") var dryRun = false
        @OptionGroup var output: OutputOptions

        func run() throws {
            guard let title = content.title else { throw Refusal.invalid(field: "title", rule: "is required") }
            let patch = try content.patch()
            let body = try AdvisoryContent(
                title: title, summary: patch.summary ?? "", body: patch.body ?? "", cves: patch.cves ?? [],
                severity: patch.severity, cvss: patch.cvss, affected: patch.affected ?? "", fixed: patch.fixed ?? "",
                references: patch.references ?? [])
            let context = try db.open()
            let plan = try schedule.apply(
                to: Schedule(), embargo: try context.instant(embargo, field: "embargo"), in: context)
            try perform(context, output, verb: "created", dryRun: dryRun) {
                try context.advisories.create(
                    project: project, content: body, schedule: plan, actor: context.actor,
                    typedZone: embargo.flatMap(Instant.zone(of:)), outsideWindow: outsideWindow)
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List advisories, newest first.")
        @OptionGroup var db: DatabaseOptions
        @Option(help: "Only this project's.") var project: String?
        @Option(help: "draft, scheduled, published or cancelled.") var state: String?
        @OptionGroup var output: OutputOptions

        func run() throws {
            let state = try choice(state, field: "state", as: AdvisoryState.self)
            let context = try db.open()
            let advisories = try context.advisoryRecords.list(project: project, state: state)
            if output.json { return try Output.json(advisories) }
            let zones = try zonesBySlug(context)
            // The release instant, or for a published advisory when it was published (an embargo
            // broken early is not the instant that was planned).
            Output.table(
                ["ID", "PROJECT", "STATE", "REV", "RELEASE", "TITLE"],
                advisories.map { advisory in
                    let zone = zones[advisory.projectSlug] ?? .gmt
                    let release =
                        advisory.publishedAt.map { "published " + Instant.local($0, in: zone) }
                        ?? advisory.schedule.embargo.map { Instant.local($0, in: zone) } ?? "-"
                    return [
                        String(advisory.id), advisory.projectSlug, advisory.state.rawValue, String(advisory.revision),
                        release, advisory.content.title,
                    ]
                },
                empty:
                    "No advisories. Create one with: herald advisory create --project SLUG --title TITLE --embargo INSTANT"
            )
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show an advisory with its revisions and audit trail.")
        @OptionGroup var db: DatabaseOptions
        @Argument(help: "The advisory's id.") var id: Int64
        @OptionGroup var output: OutputOptions

        func run() throws {
            let context = try db.open()
            let detail = try context.advisoryRecords.detail(id)
            if output.json { return try Output.json(detail) }
            let (advisory, revisions, audit, deliveries) = (
                detail.advisory, detail.revisions, detail.audit, detail.deliveries
            )
            let (acknowledgements, alerts) = (detail.acknowledgements, detail.alerts)
            let zone = try context.projects.require(advisory.projectSlug).zone
            func local(_ date: Date?) -> String { date.map { Instant.local($0, in: zone) } ?? "" }
            let c = advisory.content
            // Who is ready comes first: it is what a release manager opens this to learn.
            if !detail.readiness.participants.isEmpty { print("participants: \(detail.readiness.totals)\n") }
            Output.fields([
                ("advisory", "\(advisory.id) (\(advisory.publicID))"), ("project", advisory.projectSlug),
                ("state", advisory.state.rawValue), ("revision", String(advisory.revision)), ("title", c.title),
                ("cve", c.cves.joined(separator: ", ")), ("severity", c.severity?.rawValue ?? ""),
                ("cvss", c.cvss.map(CVSS.scored) ?? ""),
                ("affected", c.affected), ("fixed", c.fixed), ("embargo", local(advisory.schedule.embargo)),
                ("early notice", local(advisory.schedule.earlyNotice)),
                ("pre-announce", local(advisory.schedule.preAnnounce)),
                ("published", local(advisory.publishedAt)), ("cancelled", local(advisory.cancelledAt)),
                (
                    "terms",
                    context.settings.writer(for: try context.projects.require(advisory.projectSlug)).terms(detail.terms)
                ),
                ("summary", c.summary),
            ])
            if !c.body.isEmpty { print("\n" + c.body) }
            // Failing private notices first: they are what a release manager must act on before the instant.
            for alert in alerts {
                print("\nALERT (\(Instant.utc(alert.createdAt))): \(alert.detail) Failing deliveries are listed below.")
            }
            print("\nRevisions:")
            Output.table(
                ["REV", "AT", "BY", "EMBARGO", "REASON"],
                revisions.map {
                    [String($0.revision), Instant.utc($0.createdAt), $0.actor, local($0.schedule.embargo), $0.reason]
                }, empty: "none")
            print("\nDeliveries:")
            printDeliveries(deliveries.reversed())
            let maildirs = Set(deliveries.compactMap(\.deliveredVia).filter { $0.hasPrefix("maildir:") })
            for maildir in maildirs.sorted() {
                print(
                    "E-mail went to the Maildir \(maildir.dropFirst("maildir:".count)) because HERALD_SMTP_URL is unset; read it with mutt -f."
                )
            }
            print("\nAcknowledgements:")
            Output.table(
                ["AT", "ORGANIZATION", "NOTICE", "REV"],
                acknowledgements.map {
                    [Instant.utc($0.acknowledgedAt), $0.organization, $0.notice, String($0.revision)]
                }, empty: "none yet")
            print("\nAudit:")
            printAudit(audit.reversed())
        }
    }

    struct Readiness: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Who takes part in an advisory and how far each has come: notified, seen, acknowledged, answered."
        )
        @OptionGroup var db: DatabaseOptions
        @Argument(help: "The advisory's id.") var id: Int64
        @OptionGroup var output: OutputOptions

        func run() throws {
            let context = try db.open()
            let readiness = try context.stores.participation.readiness(id)
            if output.json { return try Output.json(readiness) }
            let zone = try context.projects.require(try context.advisories.get(id).projectSlug).zone
            func local(_ date: Date?) -> String { date.map { Instant.local($0, in: zone) } ?? "-" }
            print(readiness.totals + "\n")
            Output.table(
                ["PROVIDER", "ORGANIZATION", "TAKES PART", "NOTIFIED", "SEEN", "ACKNOWLEDGED", "ANSWER", "NOTE"],
                readiness.participants.map { p in
                    let takesPart =
                        p.decision == .excluded
                        ? "excluded"
                        : p.providerStatus != .active
                            ? p.providerStatus.rawValue : p.decision == .invited ? "invited" : "yes"
                    let notified =
                        p.notifiedRevision.map {
                            "revision \($0), \(local(p.notifiedAt)) by \(p.notifiedVia.joined(separator: "+"))"
                        }
                        ?? (p.failed > 0 ? "not reached (\(p.failed) failed)" : p.waiting > 0 ? "on its way" : "-")
                    let answer =
                        p.status == .unknown
                        ? "-"
                        : p.status.rawValue + (p.proposedInstant.map { " until \(local($0))" } ?? "")
                    // The note is the exclusion's reason, else the statement (shared ones marked).
                    let note = p.reason.isEmpty ? (p.shareable ? "[shared] " : "") + p.statement : p.reason
                    return [
                        String(p.providerID), p.organization, takesPart, notified, local(p.seenAt),
                        local(p.acknowledgedAt), answer,
                        String(note.replacingOccurrences(of: "\n", with: " ").prefix(60)),
                    ]
                },
                empty: "No participants yet: the early notice has not gone out, and no one was invited.")
            let keyless = readiness.addressesWithoutKey
            guard readiness.encryption != .off, !keyless.isEmpty else { return }
            let count = "\(keyless.count) address\(keyless.count == 1 ? " has" : "es have") no usable OpenPGP key"
            print(
                "\nencryption \(readiness.encryption.rawValue): \(count) and "
                    + (readiness.encryption == .required
                        ? "get only a pointer to the portal:" : "get private notices in plain text:"))
            for address in keyless {
                print("  \(address.organization) (\(address.providerID)): \(address.email)")
            }
        }
    }

    struct Invite: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a provider take part in an advisory (it need not follow the project).",
            discussion: """
                It gets the early notice when it goes out, or, when that went out already, the current revision at once. \
                An earlier exclusion is undone. Audited.
                """)
        @OptionGroup var db: DatabaseOptions
        @Argument(help: "The advisory's id.") var id: Int64
        @Option(help: "The provider's id.") var provider: Int64

        func run() throws {
            let context = try db.open()
            let participant = try context.stores.participation.invite(id, provider: provider, actor: context.actor)
            print(
                "provider \(participant.providerID) (\(participant.organization)) takes part in advisory \(id)"
                    + (participant.notifiedRevision == nil && participant.waiting > 0
                        ? "; its notice is on its way" : ""))
        }
    }

    struct Exclude: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "End a provider's part in an advisory: it gets nothing more of it (audited, with the reason).")
        @OptionGroup var db: DatabaseOptions
        @Argument(help: "The advisory's id.") var id: Int64
        @Option(help: "The provider's id.") var provider: Int64
        @Option(help: "Why (the audit log keeps it; the provider is not told).") var reason: String

        func run() throws {
            let context = try db.open()
            let participant = try context.stores.participation.exclude(
                id, provider: provider, reason: reason, actor: context.actor)
            print("provider \(participant.providerID) (\(participant.organization)) is excluded from advisory \(id)")
        }
    }

    struct Decline: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Decline a participant's request for more time: the release stays, and it is told why.",
            discussion: "To accept one instead, reschedule the advisory: every participant gets the new instant.")
        @OptionGroup var db: DatabaseOptions
        @Argument(help: "The advisory's id.") var id: Int64
        @Option(help: "The provider's id.") var provider: Int64
        @Option(help: "Why the instant stays: mailed to the provider's addresses (private).") var note: String

        func run() throws {
            let context = try db.open()
            let participant = try context.stores.participation.decline(
                id, provider: provider, note: note, actor: context.actor)
            print(
                "provider \(participant.providerID) (\(participant.organization)): its proposal is declined; the note goes to its addresses"
            )
        }
    }

    struct Preview: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print exactly what a notice would send, headers included, before anything is sent.",
            discussion: """
                --as provider shows the private notice a provider gets (the early notice while it has not gone out, \
                the now-public notice once published); --as public what public channels get (the publication, or \
                the pre-announcement with --notice pre-announcement). Links made per recipient show a placeholder.
                """
        )
        @OptionGroup var db: DatabaseOptions
        @Argument(help: "The advisory's id.") var id: Int64
        @Option(name: .customLong("as"), help: "provider or public.") var audience = "provider"
        @Option(help: "email, slack, mattermost, discord, teams, matrix or webhook.") var format = "email"
        @Option(help: "early-notice, revision, pre-announcement, publication or cancellation (default: the next one).")
        var notice: String?
        @Option(help: "en, nl or da (default: the project's language).") var language: String?

        func run() throws {
            let language = try language.map(Language.parse)
            guard ["provider", "public"].contains(audience) else {
                throw Refusal.invalid(field: "as", rule: "\(Validate.quoted(audience)) must be provider or public")
            }
            let webhook = format == "email" ? nil : try choice(format, field: "format", as: WebhookKind.self)
            let chosen = try choice(notice, field: "notice", as: NoticeKind.self)
            let allowed: [NoticeKind] = [.earlyNotice, .revision, .preAnnouncement, .publication, .cancellation]
            if let chosen, !allowed.contains(chosen) {
                throw Refusal.invalid(
                    field: "notice", rule: "must be one of \(allowed.map(\.rawValue).joined(separator: ", "))")
            }
            let context = try db.open()
            let advisory = try context.advisories.get(id)
            let project = try context.projects.require(advisory.projectSlug)
            let kind =
                chosen
                ?? (audience == "public" || advisory.state == .published
                    ? .publication
                    : advisory.state == .cancelled ? .cancellation : .earlyNotice)
            if advisory.schedule.embargo == nil && kind != .publication {
                throw Refusal.invalid(
                    field: "notice",
                    rule:
                        "advisory \(id) is a draft with no release instant; give it one first (herald advisory reschedule \(id) --embargo INSTANT)"
                )
            }
            if audience == "public" && (kind == .earlyNotice || kind == .revision) {
                throw Refusal.invalid(
                    field: "notice", rule: "a \(kind.rawValue) goes to providers only; public channels never get it")
            }
            let bytes = context.outbox.preview(
                kind, advisory: advisory, project: project,
                audience: audience == "public" ? .publicChannel : .provider(organization: ""), format: webhook,
                language: language)
            FileHandle.standardOutput.write(Data(bytes))
            if bytes.last != UInt8(ascii: "\n") { print() }
        }
    }

    struct Reschedule: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move the release instant (a new revision; earlier recipients are told).")
        @OptionGroup var db: DatabaseOptions
        @Argument(help: "The advisory's id.") var id: Int64
        @Option(help: "The new release instant.") var embargo: String
        @OptionGroup var schedule: ScheduleOptions
        @Option(help: "Why the release instant is outside the project's release window (audited).")
        var outsideWindow: String?
        @OptionGroup var notes: NoteOptions
        @Flag(help: "Say who would get what and how many; write nothing.") var dryRun = false
        @OptionGroup var output: OutputOptions

        func run() throws {
            let notes = try notes.notes(reasonRequired: false)
            let context = try db.open()
            let embargo = try context.instant(embargo, field: "embargo")
            let current = try context.advisories.get(id)
            let plan = try schedule.apply(to: current.schedule, embargo: embargo, in: context)
            try perform(context, output, verb: "rescheduled", dryRun: dryRun) {
                try context.advisories.reschedule(
                    id, to: { _ in plan }, notes: notes, actor: context.actor,
                    typedZone: Instant.zone(of: self.embargo),
                    outsideWindow: outsideWindow)
            }
        }
    }

    struct Revise: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change the content (a new revision; earlier recipients are told).")
        @OptionGroup var db: DatabaseOptions
        @Argument(help: "The advisory's id.") var id: Int64
        @OptionGroup var content: ContentOptions
        @OptionGroup var notes: NoteOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            var patch = try content.patch()
            let notes = try notes.notes(reasonRequired: false)
            let context = try db.open()
            let current = try context.advisories.get(id)
            patch.terms = try content.terms(
                from: current.content.terms ?? context.projects.require(current.projectSlug).terms)
            let advisory = try context.advisories.revise(id, patch, notes: notes, actor: context.actor)
            writeRest(of: advisory, context)
            try report(advisory, context, output, verb: "revised")
        }
    }

    struct Publish: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Break the embargo: publish now (a leak, an exploit in the wild).",
            discussion:
                "Scheduled advisories publish themselves at their instant; this is only for publishing early, so --now is required."
        )
        @OptionGroup var db: DatabaseOptions
        @Argument(help: "The advisory's id.") var id: Int64
        @Flag(help: "Confirms publishing before the embargo instant.") var now = false
        @OptionGroup var notes: NoteOptions
        @Flag(help: "Say who would get what and how many; write nothing.") var dryRun = false
        @OptionGroup var output: OutputOptions

        func run() throws {
            guard now else {
                throw Refusal.invalid(
                    field: "now",
                    rule: "is required: publish breaks the embargo at once; scheduled advisories publish by themselves")
            }
            let notes = try notes.notes(reasonRequired: true)
            let context = try db.open()
            try perform(context, output, verb: "published", dryRun: dryRun) {
                try context.advisories.publishNow(id, notes: notes, actor: context.actor)
            }
        }
    }

    struct Cancel: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cancel before release; recipients of earlier notices are told.")
        @OptionGroup var db: DatabaseOptions
        @Argument(help: "The advisory's id.") var id: Int64
        @OptionGroup var notes: NoteOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let notes = try notes.notes(reasonRequired: true)
            let context = try db.open()
            let advisory = try context.advisories.cancel(id, notes: notes, actor: context.actor)
            writeRest(of: advisory, context)
            try report(advisory, context, output, verb: "cancelled")
        }
    }
}

/// The words that go with a change, one flag per audience (DESIGN.md, "Reasons have three audiences").
struct NoteOptions: ParsableArguments {
    @Option(help: "Why: for the audit log and release managers only; never sent to anyone.") var reason = ""
    @Option(help: "A note that goes into the private notice to providers.") var noteToProviders = ""
    @Option(help: "A note shown on the public page after publication.") var publicNote = ""

    func notes(reasonRequired: Bool) throws -> ChangeNotes {
        try ChangeNotes(
            reason: reason, toProviders: noteToProviders, publicNote: publicNote, reasonRequired: reasonRequired)
    }
}

private func zonesBySlug(_ context: Context) throws -> [String: TimeZone] {
    Dictionary(uniqueKeysWithValues: try context.projects.list().map { ($0.slug, $0.zone) })
}

/// Runs a change, or with `dryRun` rehearses it: the same code runs, writes and all, then
/// every write is undone, and what its notices would reach is said instead. The notices the
/// change makes due at once (an early notice or a pre-announcement "now") are rehearsed too,
/// as the scheduler would fire them a moment later.
private func perform(
    _ context: Context, _ output: OutputOptions, verb: String, dryRun: Bool,
    _ change: () throws -> Advisory
) throws {
    guard dryRun else {
        let advisory = try change()
        writeRest(of: advisory, context)
        return try report(advisory, context, output, verb: verb)
    }
    let (advisory, reach) = try context.database.rehearse { () throws -> (Advisory, [OutboxStore.Reach]) in
        let before = try context.outbox.lastDeliveryID()
        let advisory = try change()
        // One notice fires per advisory and pass; a few passes fire all that are due.
        for _ in 0..<4 where try !context.advisories.fireDue().isEmpty {}
        // The rest of a large notice is counted, not written: the lock is held for a share.
        return (advisory, try context.outbox.reach(advisory: advisory.id, after: before))
    }
    if output.json { return try Output.json(DryRun(advisory: advisory, notices: reach)) }
    try report(advisory, context, output, verb: "dry run, nothing written: would be \(verb);")
    for line in reach { print("  " + line.sentence) }
    if reach.isEmpty { print("  no notice would go out now") }
}

/// A large notice's first share is written with the change; the rest now, a share per
/// transaction (a running serve may write some of it meanwhile). The change has committed: a
/// failure here is a warning, and serve writes the rest.
private func writeRest(of advisory: Advisory, _ context: Context) {
    do {
        try context.outbox.writeRestOfFanOuts(advisory: advisory.id)
    } catch {
        FileHandle.standardError.write(
            Data("warning: the rest of the notice is written when herald serve runs: \(error)\n".utf8))
    }
}

/// `--dry-run --json`: the advisory as it would be, and who its notices would reach.
struct DryRun: Encodable {
    var advisory: Advisory
    var notices: [OutboxStore.Reach]
}

/// One line (or JSON) after a change: what the advisory is now.
private func report(_ advisory: Advisory, _ context: Context, _ output: OutputOptions, verb: String) throws {
    if output.json { return try Output.json(advisory) }
    let zone = try context.projects.require(advisory.projectSlug).zone
    var line =
        "\(verb) advisory \(advisory.id) (\(advisory.publicID)), \(advisory.state.rawValue), revision \(advisory.revision)"
    if advisory.state == .scheduled, let embargo = advisory.schedule.embargo {
        line += ", embargo \(Instant.local(embargo, in: zone)) (\(zone.identifier))"
    }
    print(line)
    // A notice due now is the scheduler's to send: say so, rather than leave "now" looking ignored.
    if advisory.state == .scheduled,
        let due = advisory.schedule.due(
            at: context.clock.now, sent: try context.advisoryRecords.sentClockNotices(of: advisory.id)),
        due != .publication
    {
        print("the \(due.rawValue) is due now: herald serve sends it within a second while it runs")
    }
}
