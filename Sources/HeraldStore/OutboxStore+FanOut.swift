import Foundation
import HeraldCore
import HeraldMarkdown

/// The fan-out writer: the notice, one rendered delivery per recipient the plan names, inside
/// the caller's transaction; and the messages that are no advisory's (tests, welcomes, alerts).
extension OutboxStore {

    /// Writes `kind` about `advisory` and one delivery per recipient. Call inside the
    /// transaction of the change that causes it; returns the notice id, or nil when it was
    /// already sent for this revision.
    @discardableResult
    public func fanOut(
        _ kind: NoticeKind, advisory: Advisory, project: Project, notes: ChangeNotes = .none, dueAt: Date? = nil,
        previous: Advisory? = nil
    ) throws -> Int64? {
        let already = try database.first(
            "SELECT id FROM notices WHERE advisory_id = ? AND kind = ? AND revision = ?",
            .integer(advisory.id), .text(kind.rawValue), .int(advisory.revision)
        ) { $0.int(0) }
        if already != nil { return nil }
        // A notice of this advisory still being written reaches all its providers before the
        // next is written: a revision or a publication goes to everyone the last one told. A
        // cancellation instead stops it: those not yet written were not told, and are not now.
        // Its public channels (a pre-announcement's) are all written first: a channel told of
        // the advisory is told it is cancelled.
        if kind == .cancellation {
            try database.run("DELETE FROM provider_fan_outs WHERE advisory_id = ?", .integer(advisory.id))
            try finishChannelFanOuts(advisory: advisory.id)
        } else {
            try finishFanOuts(advisory: advisory.id)
        }
        let writer = settings.writer(for: project)
        // Who it reaches and in which language is the plan's to say (FanOutPlan, pure); this
        // reads the candidates the plan's rules ask for, the first share of them, and writes
        // what it says. The rest of a large audience is written a share per transaction after.
        let audience = FanOutPlan.providers(for: kind)
        var share = try providerShare(audience, advisory: advisory.id, project: project.id, after: 0)
        // A share whose candidates all left (suspended, excluded) says nothing about the next.
        while share.providers.isEmpty, let next = share.next {
            share = try providerShare(audience, advisory: advisory.id, project: project.id, after: next)
        }
        let preAnnounced =
            try kind == .cancellation
            && database.first(
                "SELECT 1 FROM notices WHERE advisory_id = ? AND kind = 'pre-announcement'", .integer(advisory.id)
            ) { _ in true } != nil
        let plan = FanOutPlan(
            kind, providers: share.providers,
            channels: FanOutPlan.reachesChannels(kind, preAnnounced: preAnnounced) ? try channelGroups(project) : [],
            preAnnounced: preAnnounced, projectLanguage: writer.language)
        if plan.isEmpty && !plan.recordedWhenEmpty { return nil }

        let notice = try insertNotice(
            kind, advisory: advisory.id, revision: advisory.revision, recipients: 0, dueAt: dueAt)
        let noticeID = notice.id
        let event = "herald.\(kind.rawValue)"
        // What providers are told is the same for all of one language but the per-recipient links:
        // written once per language.
        let providerContent = Memo { (language: Language) in
            var content = writer.speaking(language).content(
                kind, advisory: advisory, audience: .provider(organization: ""), notes: notes,
                ackURL: kind.isEmbargoed ? "" : nil, previous: previous)
            content.bodyHTML = Self.rendered(content.body)
            return content
        }
        var count = try deliver(
            providerContent.get, of: kind, notice: notice, to: plan.providers,
            rest: share.next.map { (audience, after: $0) }, advisory: advisory, project: project)
        // Every public channel of one language gets the same content; each format's bytes are rendered once.
        let publicContent = Memo { (language: Language) in
            var content = writer.speaking(language).content(
                kind, advisory: advisory, audience: .publicChannel, notes: notes)
            content.bodyHTML = Self.rendered(content.body)
            return content
        }
        // A pre-announcement names no advisory: not even its id.
        let publicID = kind == .publication ? advisory.publicID : nil
        // Chat and webhook channels are written a share at a time: the first share now, with the
        // notice, and the rest by `continueFanOut` right after, up to the last channel there is
        // now. A project's thousands of endpoints then get their first sends within
        // milliseconds of the instant, not after every row is written.
        var lastChannel: Int64 = 0
        var firstShare = ChannelShare(end: 0)
        if !plan.channels.isEmpty {
            lastChannel =
                try database.first(
                    "SELECT coalesce(max(id), 0) FROM channels WHERE project_id = ?", .integer(project.id)
                ) { $0.int(0) } ?? 0
            firstShare = try nextChannelShare(
                project: project.id, after: 0, size: settings.channelsFirstShare, last: lastChannel,
                addedBy: clock.now)
        }
        let firstShareEnd = firstShare.end
        var channelGroups: [JSON] = []
        var handed: [ClaimedDelivery] = []
        for audience in plan.channels {
            let content = publicContent.get(audience.language)
            guard let format = WebhookKind(rawValue: audience.kind.rawValue) else {
                // Mailing lists: each its own message (its own Message-ID).
                let lists = try database.query(
                    """
                    SELECT \(ChannelStore.columns)
                    WHERE p.slug = ? AND c.kind = 'email' AND coalesce(c.language, ?) = ? AND c.disabled_at IS NULL ORDER BY c.id
                    """, [.text(project.slug), .text(writer.language.rawValue), .text(audience.language.rawValue)],
                    map: ChannelStore.channel)
                for channel in lists {
                    let mail = message(
                        content, to: channel.target, notice: notice, owner: "c\(channel.id)", headers: [])
                    try insertDelivery(
                        notice: noticeID, provider: nil, channel: channel.id, transport: .email, format: "email",
                        recipient: channel.target, host: "mail", messageID: mail.messageID,
                        payload: try insertPayload(mail.rendered))
                    count += 1
                }
                continue
            }
            // Chat and webhook channels: one body per format and language, and their rows written
            // set-wise (a project may have thousands of endpoints; one statement is far cheaper than one each).
            let body = ChatPayload.render(
                content, as: format, event: event, project: project.slug,
                advisoryID: publicID, revision: advisory.revision, at: clock.now)
            let group = ChannelGroup(format: format, language: audience.language, payload: try insertPayload(body))
            let written = try writeChannels(
                group, notice: notice, project: project.id, projectLanguage: writer.language, after: 0,
                share: firstShare, addedBy: clock.now)
            count += written.count
            handed += firstShare.leased(written.leased, format: format, body: body)
            channelGroups.append(group.json)
        }
        if let handoff, !handed.isEmpty { database.afterCommit { handoff.hand(handed) } }
        if firstShareEnd < lastChannel && !channelGroups.isEmpty {
            try database.run(
                """
                INSERT INTO channel_fan_outs (notice_id, advisory_id, project_id, after_channel, last_channel, groups,
                                              project_language)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
                [
                    .integer(noticeID), .integer(advisory.id), .integer(project.id), .integer(firstShareEnd),
                    .integer(lastChannel), .text(JSON.array(channelGroups).text), .text(writer.language.rawValue),
                ])
        }
        try database.run(
            "UPDATE notices SET recipients = recipients + ? WHERE id = ?", .int(count), .integer(noticeID))
        return noticeID
    }

    /// The chat and webhook channels of one format and language, which share one body.
    private struct ChannelGroup {
        var format: WebhookKind
        var language: Language
        var payload: Int64

        var json: JSON { .array([.string(format.rawValue), .string(language.rawValue), .int(Int(payload))]) }
    }

    /// Writes the rows of `group`'s channels with ids in `after...share.end` added by `addedBy`
    /// (the notice's instant: a channel removed and added again between two shares may get an
    /// id that was taken), set-wise (a project may have thousands of endpoints; one statement is
    /// far cheaper than one each), leased when the share is; returns how many, and the leased
    /// rows as SQLite gives them back (read again, they cost the scheduler a join a row).
    private func writeChannels(
        _ group: ChannelGroup, notice: NoticeRef, project: Int64, projectLanguage: Language, after: Int64,
        share: ChannelShare, addedBy: Date
    ) throws -> (count: Int, leased: [LeasedRow]) {
        let sql = """
            INSERT INTO deliveries (notice_id, channel_id, transport, format, recipient, host, message_id, payload_id,
                                    state, next_attempt_at, created_at, lease_until, attempts)
            SELECT ?1, c.id, 'webhook', ?2, c.target, herald_host(c.target), 'msg_' || ?6 || '_c' || c.id, ?3,
                   'pending', ?4, ?4, ?12, CASE WHEN ?12 IS NULL THEN 0 ELSE 1 END
            FROM channels c
            WHERE c.project_id = ?5 AND c.id > ?9 AND c.id <= ?10 AND c.kind = ?2 AND c.disabled_at IS NULL
              AND coalesce(c.language, ?7) = ?8 AND c.created_at <= ?11
            ORDER BY c.id
            """
        let values: [SQLValue] = [
            .integer(notice.id), .text(group.format.rawValue), .integer(group.payload), .date(clock.now),
            .integer(project), .text(notice.key), .text(projectLanguage.rawValue),
            .text(group.language.rawValue), .integer(after), .integer(share.end), .date(addedBy),
            share.lease.map { .date(clock.now.addingTimeInterval($0)) } ?? .null,
        ]
        guard share.lease != nil else { return (try database.run(sql, values), []) }
        // In no particular order, SQLite says: sorted, they go in the order they were written.
        let leased = try database.query(sql + "\nRETURNING id, channel_id, recipient, host, message_id", values) {
            LeasedRow(id: $0.int(0), channel: $0.int(1), recipient: $0.text(2), host: $0.text(3), messageID: $0.text(4))
        }.sorted { $0.id < $1.id }
        return (leased.count, leased)
    }

    /// A channel row written leased for the worker, as `RETURNING` gives it back.
    private struct LeasedRow {
        var id: Int64, channel: Int64, recipient: String, host: String, messageID: String
    }

    /// Where a share of chat and webhook channels ends, the lease its rows are written with,
    /// and the signing secrets of its channels when they are leased.
    private struct ChannelShare {
        var end: Int64
        var lease: TimeInterval?
        var secrets: [Int64: String] = [:]

        /// `rows` of a group with `format` and `body` as the worker sends them, as a claim would
        /// have read them: each its channel's secret, its first attempt. None is to be stopped:
        /// their channels were read in this transaction.
        func leased(_ rows: [LeasedRow], format: WebhookKind, body: [UInt8]) -> [ClaimedDelivery] {
            rows.map { row in
                ClaimedDelivery(
                    id: row.id, transport: .webhook, format: format, recipient: row.recipient, host: row.host,
                    messageID: row.messageID, payload: body, secret: secrets[row.channel], attempts: 1)
            }
        }
    }

    /// The next share of `project`'s chat and webhook channels after channel `after` (through
    /// `last`, added by `addedBy`): `size` of them, or as many of the first as the worker of this
    /// process has room for (`DeliveryHandoff`), leased for it. Cut to its room, a share goes
    /// to the worker as it commits and the next is written as room frees up; written whole and
    /// unleased, its rows waited for the worker's next claim, a write transaction on the thread
    /// that starts the sends (1,000 endpoints: the second share, 256 rows against room for 192,
    /// was claimed 1-2 ms after it was written). Fewer than `channelsLeasedAtLeast` fit (a host
    /// that holds its backlog): the share is written whole and unleased, for the worker to claim.
    private func nextChannelShare(project: Int64, after: Int64, size: Int, last: Int64, addedBy: Date) throws
        -> ChannelShare
    {
        let channels = try database.query(
            """
            SELECT id, target, secret FROM channels
            WHERE project_id = ? AND id > ? AND id <= ? AND kind <> 'email' AND disabled_at IS NULL AND created_at <= ?
            ORDER BY id LIMIT ?
            """, [.integer(project), .integer(after), .integer(last), .date(addedBy), .int(size)]
        ) { (id: $0.int(0), target: $0.text(1), secret: $0.optionalText(2)) }
        // Fewer than `size` left (or none asked for): the share runs to the last channel.
        let end = channels.count < size || channels.isEmpty ? last : channels[channels.count - 1].id
        guard let handoff,
            let (count, lease) = handoff.reserve(
                prefixOf: channels.map { Self.host(of: $0.target) }, atLeast: settings.channelsLeasedAtLeast)
        else { return ChannelShare(end: end) }
        var secrets: [Int64: String] = [:]
        for channel in channels.prefix(count) { secrets[channel.id] = channel.secret }
        return ChannelShare(end: count < channels.count ? channels[count - 1].id : end, lease: lease, secrets: secrets)
    }

    /// Writes the next share of channels of a notice still being written to them; returns whether
    /// more remain, and whether its rows were handed to the worker (leased for it).
    @discardableResult
    private func writeNextChannelShare(of noticeID: Int64) throws -> (more: Bool, handed: Bool) {
        guard
            let (project, after, last, storedGroups, projectLanguage, key, instant) = try database.first(
                """
                SELECT f.project_id, f.after_channel, f.last_channel, f.groups, f.project_language, n.key, n.created_at
                FROM channel_fan_outs f JOIN notices n ON n.id = f.notice_id WHERE f.notice_id = ?
                """, .integer(noticeID),
                map: { ($0.int(0), $0.int(1), $0.int(2), $0.text(3), $0.text(4), $0.text(5), $0.date(6)) })
        else { return (false, false) }
        let share = try nextChannelShare(
            project: project, after: after, size: settings.channelsPerTransaction, last: last, addedBy: instant)
        var written = 0
        var handed: [ClaimedDelivery] = []
        let groups = try database.query(
            "SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each(?)", .text(storedGroups)
        ) { row in
            WebhookKind(rawValue: row.text(0)).map {
                ChannelGroup(
                    format: $0, language: Language(rawValue: row.text(1)) ?? settings.defaultLanguage,
                    payload: row.int(2))
            }
        }
        for case let group? in groups {
            let rows = try writeChannels(
                group, notice: NoticeRef(id: noticeID, key: key), project: project,
                projectLanguage: Language(rawValue: projectLanguage) ?? settings.defaultLanguage, after: after,
                share: share, addedBy: instant)
            written += rows.count
            if !rows.leased.isEmpty {
                let body = try database.first("SELECT body FROM payloads WHERE id = ?", .integer(group.payload)) {
                    $0.blob(0)
                }
                handed += share.leased(rows.leased, format: group.format, body: body ?? [])
            }
        }
        if let handoff, !handed.isEmpty { database.afterCommit { handoff.hand(handed) } }
        let end = share.end
        try database.run(
            "UPDATE notices SET recipients = recipients + ? WHERE id = ?", .int(written), .integer(noticeID))
        guard end < last else {
            try database.run("DELETE FROM channel_fan_outs WHERE notice_id = ?", .integer(noticeID))
            return (false, share.lease != nil)
        }
        try database.run(
            "UPDATE channel_fan_outs SET after_channel = ? WHERE notice_id = ?", .integer(end), .integer(noticeID))
        return (true, share.lease != nil)
    }

    /// Writes one provider notice's deliveries to `providers`: each address with its own
    /// acknowledgement and unsubscribe links, each webhook, in the provider's language; returns
    /// how many. With `rest`, `providers` is the first share of `audience`: the rest of it,
    /// after provider `after`, is left to `continueFanOut`, and the templates and webhooks are
    /// written now for all of it.
    private func deliver(
        _ providerContent: (Language) -> NoticeContent, of kind: NoticeKind, notice: NoticeRef,
        to providers: [FanOutPlan.Provider], rest: (audience: FanOutPlan.Providers, after: Int64)? = nil,
        advisory: Advisory, project: Project
    ) throws -> Int {
        guard !providers.isEmpty else { return 0 }
        let languages =
            try rest.map { try audienceLanguages($0.audience, advisory: advisory.id, project: project.id) }
            ?? Set(providers.map(\.language))
        let templates = try writeTemplates(providerContent, of: kind, languages: languages, project: project)
        var count = try writeAddresses(of: providers.map(\.id), notice: notice, templates: templates)
        // Webhooks are few: each provider's share one acknowledgement link, made now.
        let hooks = try providerWebhooks(
            rest.map { .audience($0.audience, advisory: advisory.id, project: project.id) }
                ?? .listed(providers.map(\.id)))
        var previous: (provider: Int64, content: NoticeContent)?
        for hook in hooks {
            // Written already: a provider told again after its webhooks went with the first share.
            if try database.first(
                "SELECT 1 FROM deliveries WHERE notice_id = ? AND provider_id = ? AND recipient = ?",
                .integer(notice.id), .integer(hook.provider), .text(hook.url), map: { _ in true }) != nil
            {
                continue
            }
            let content: NoticeContent
            if let previous, previous.provider == hook.provider {
                content = previous.content
            } else {
                var own = providerContent(hook.language)
                if kind.isEmbargoed {
                    let ack = try newLinkToken(.ack, provider: hook.provider, notice: notice.id, email: nil)
                    own.linkToken(ack, publicURL: settings.publicURL)
                }
                content = own
                previous = (hook.provider, own)
            }
            try insertWebhook(
                content, format: hook.kind, url: hook.url, notice: notice, provider: hook.provider,
                channel: nil, event: "herald.\(kind.rawValue)", project: project, advisoryID: advisory.publicID,
                revision: advisory.revision)
            count += 1
        }
        if let rest {
            try database.run(
                """
                INSERT INTO provider_fan_outs (notice_id, advisory_id, project_id, audience, after_provider, templates,
                                               waiting_templates, fallback_language, key_required)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [
                    .integer(notice.id), .integer(advisory.id), .integer(project.id), .text(rest.audience.rawValue),
                    .integer(rest.after), .text(templates.byLanguage), .text(templates.waiting),
                    .text(templates.fallbackLanguage), .int(templates.keyRequired ? 1 : 0),
                ])
        }
        return count
    }

    /// The stored templates of one provider notice, by language, that its addresses' rows refer to.
    private struct ProviderTemplates {
        /// `{language: payload id}`.
        var byLanguage: String
        /// `{language: payload id}` of the message that names no advisory, for an address
        /// without a usable key where the project requires one.
        var waiting: String
        /// The language whose templates a provider gets when its own has none (it changed its
        /// language after the notice's first share): the project's where written, else the first.
        var fallbackLanguage: String
        var keyRequired: Bool
    }

    /// Stores the provider notice's message once per language, as a `MailTemplate`.
    private func writeTemplates(
        _ providerContent: (Language) -> NoticeContent, of kind: NoticeKind, languages: Set<Language>,
        project: Project
    ) throws -> ProviderTemplates {
        // The link key exists from now on, so a queued message can be shown as it will be sent.
        _ = try DeliveryLinks.make(database)
        var templates: [String: JSON] = [:]
        var waitingTemplates: [String: JSON] = [:]
        // Where the project sends private notices only encrypted, an address without a usable
        // key gets a message that names no advisory and points to the portal instead.
        // Private: what the embargoed notices say, and the cancellation of an advisory the public never saw.
        let isPrivate = kind.isEmbargoed || kind == .cancellation
        let keyRequired = isPrivate && project.encryption == .required
        func template(_ content: NoticeContent, outerSubject: String?) throws -> Int64 {
            // Its stand-ins at random: no text of the advisory can hold one (DeliveryLinks fills
            // the first token slot with the acknowledge link, the second with unsubscribe).
            let slots = MailTemplate.Slots(random: (0..<4).map { _ in Secrets.token(prefix: "") })
            var content = content
            if kind.isEmbargoed && outerSubject != nil {
                content.linkToken(slots.tokens[0], publicURL: settings.publicURL)
            }
            let mail = message(
                content, to: slots.recipient, messageID: slots.messageID,
                headers: providerHeaders(
                    project, unsubscribeURL: "\(settings.publicURL)/unsubscribe?token=\(slots.tokens[1])"))
            return try insertPayload(
                MailTemplate.stored(Array(mail.rendered.utf8), slots: slots), template: true,
                outerSubject: outerSubject,
                project: project.id)
        }
        for language in languages.sorted(by: { $0.rawValue < $1.rawValue }) {
            let writer = settings.writer(for: project).speaking(language)
            // A private notice carries the subject an encrypted copy shows outside; the claim
            // encrypts it for each address that has a usable key.
            let id = try template(
                providerContent(language), outerSubject: isPrivate ? writer.privateNoticeSubject() : nil)
            templates[language.rawValue] = .int(Int(id))
            if keyRequired {
                waitingTemplates[language.rawValue] = .int(
                    Int(try template(writer.privateNoticeWaiting(), outerSubject: nil)))
            }
        }
        let projectLanguage = settings.writer(for: project).language
        let fallback =
            languages.contains(projectLanguage) ? projectLanguage : languages.min { $0.rawValue < $1.rawValue }
        return ProviderTemplates(
            byLanguage: JSON.object(templates).text, waiting: JSON.object(waitingTemplates).text,
            fallbackLanguage: (fallback ?? projectLanguage).rawValue, keyRequired: keyRequired)
    }

    /// Writes one row per address of `providers` that has none of this notice yet (a provider
    /// that joined meanwhile was told already); returns how many.
    private func writeAddresses(of providers: [Int64], notice: NoticeRef, templates: ProviderTemplates) throws -> Int {
        // The addresses of one language share one template (MailTemplate); their rows are
        // written set-wise, each with its address and Message-ID; its links are derived from its
        // id when it is sent. So 100,000 recipients are a few statements, not 100,000 messages.
        // The Message-ID as `messageID(_:owner:recipient:)` makes it, by the same function in SQL;
        // the language's template (the plan's languages are the providers' own, so one is there).
        try database.run(
            """
            INSERT INTO deliveries (notice_id, provider_id, transport, format, recipient, host, message_id, payload_id,
                                    state, next_attempt_at, created_at)
            SELECT ?1, p.id, 'email', 'email', pc.email, 'mail',
                   'herald.' || ?2 || '.' || herald_fingerprint('p' || p.id || ' ' || pc.email) || '@' || ?3,
                   CASE WHEN ?8 AND NOT EXISTS (
                            SELECT 1 FROM provider_keys k WHERE k.provider_id = p.id AND k.email = pc.email
                                                            AND (k.expires_at IS NULL OR k.expires_at > ?5))
                        THEN coalesce(?9 ->> p.language, ?9 ->> ?7) ELSE coalesce(?4 ->> p.language, ?4 ->> ?7) END,
                   'pending', ?5, ?5
            FROM json_each(?6) j JOIN providers p ON p.id = j.value JOIN provider_contacts pc ON pc.provider_id = p.id
            WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.notice_id = ?1 AND d.provider_id = p.id AND d.transport = 'email')
            ORDER BY j.key, pc.id
            """,
            [
                .integer(notice.id), .text(notice.key), .text(settings.domain), .text(templates.byLanguage),
                .date(clock.now), .text(Self.jsonList(providers)), .text(templates.fallbackLanguage),
                .int(templates.keyRequired ? 1 : 0), .text(templates.waiting),
            ])
    }

    /// Whose webhooks a provider notice writes: listed providers, or an audience's.
    private enum WebhookOwners {
        case listed([Int64])
        case audience(FanOutPlan.Providers, advisory: Int64, project: Int64)
    }

    private func providerWebhooks(_ owners: WebhookOwners) throws -> [(
        provider: Int64, url: String, kind: WebhookKind, language: Language
    )] {
        let (from, rule, values): (String, String, [SQLValue]) =
            switch owners {
            case .listed(let ids):
                (
                    "json_each(?1) j JOIN providers p ON p.id = j.value JOIN provider_webhooks w ON w.provider_id = p.id",
                    "1", [.text(Self.jsonList(ids))]
                )
            case .audience(let audience, let advisory, let project):
                // From the webhooks, which are few, not from an audience of 100,000 providers.
                (
                    "provider_webhooks w CROSS JOIN providers p ON p.id = w.provider_id", Self.audienceRule(audience),
                    [.integer(advisory), .integer(project)]
                )
            }
        return try database.query(
            """
            SELECT w.provider_id, w.url, w.kind, p.language FROM \(from)
            WHERE w.disabled_at IS NULL AND \(rule) ORDER BY p.id, w.id
            """, values
        ) {
            (
                provider: $0.int(0), url: $0.text(1), kind: WebhookKind(rawValue: $0.text(2)) ?? .webhook,
                language: Language(rawValue: $0.text(3)) ?? settings.defaultLanguage
            )
        }
    }

    /// Writes the next share of public channels of the oldest notice still being written to
    /// them, else of providers of the oldest provider notice still being written (of `advisory`,
    /// when given), in one transaction. Returns nil when none is, else whether any is still
    /// being written after it.
    public func continueFanOut(advisory: Int64? = nil) throws -> Bool? {
        try writeShare(advisory: advisory)?.more
    }

    /// What one share of a fan-out wrote: whether any notice is still being written after it,
    /// and whether it wrote rows for the worker to claim (not all of them handed to it).
    public struct ShareWritten: Sendable, Equatable {
        /// A notice is still being written after this share.
        public var more: Bool
        /// Rows were written unleased: the worker finds them only by a claim.
        public var toClaim: Bool

        /// What a share wrote.
        public init(more: Bool, toClaim: Bool) {
            self.more = more
            self.toClaim = toClaim
        }
    }

    /// `continueFanOut`, saying whether the worker has rows to claim: the scheduler calls it
    /// between instants, and rings the worker only then.
    public func writeShare(advisory: Int64? = nil) throws -> ShareWritten? {
        // Looked at first without the write lock: a pass with nothing to write must not wait
        // for another writer.
        guard try isWritingFanOut(advisory: advisory) else { return nil }
        let only = advisory.map(SQLValue.integer) ?? .null
        return try database.write {
            var toClaim = true
            // A release's (or pre-announcement's) channels first: their endpoints wait on them since the instant.
            if let notice = try database.first(
                "SELECT notice_id FROM channel_fan_outs WHERE ?1 IS NULL OR advisory_id = ?1 ORDER BY notice_id LIMIT 1",
                only, map: { $0.int(0) })
            {
                toClaim = try !writeNextChannelShare(of: notice).handed
            } else if let notice = try database.first(
                "SELECT notice_id FROM provider_fan_outs WHERE ?1 IS NULL OR advisory_id = ?1 ORDER BY notice_id LIMIT 1",
                only, map: { $0.int(0) })
            {
                try writeNextShare(of: notice)
            } else {
                return nil
            }
            return ShareWritten(more: try isWritingFanOut(advisory: advisory), toClaim: toClaim)
        }
    }

    /// Whether a notice (of `advisory`, when given) is still being written to its providers or channels.
    public func isWritingFanOut(advisory: Int64? = nil) throws -> Bool {
        try database.first(
            """
            SELECT EXISTS (SELECT 1 FROM provider_fan_outs WHERE ?1 IS NULL OR advisory_id = ?1)
                OR EXISTS (SELECT 1 FROM channel_fan_outs WHERE ?1 IS NULL OR advisory_id = ?1)
            """, advisory.map(SQLValue.integer) ?? .null
        ) { $0.int(0) != 0 } ?? false
    }

    /// The URLs of the first `limit` chat and webhook channels of the advisory's project, in the
    /// order a publication's rows are written and claimed: where its first sends go.
    public func firstPublicEndpoints(advisory: Int64, limit: Int) throws -> [String] {
        try database.query(
            """
            SELECT c.target FROM channels c JOIN advisories a ON a.project_id = c.project_id
            WHERE a.id = ? AND c.kind <> 'email' AND c.disabled_at IS NULL ORDER BY c.id LIMIT ?
            """, [.integer(advisory), .int(limit)]
        ) { $0.text(0) }
    }

    /// Whether a release or pre-announcement is still being written to its channels: the scheduler writes the
    /// next share of those at once, not after the pause it leaves a notice that just fired.
    public func isWritingChannels() throws -> Bool {
        try database.first("SELECT 1 FROM channel_fan_outs LIMIT 1") { _ in true } ?? false
    }

    /// Writes the rest of the provider notices of `advisory` still being written, a share per
    /// transaction with the scheduler's pause between: what a CLI command that fanned out
    /// leaves written when it exits.
    public func writeRestOfFanOuts(advisory: Int64) throws {
        while try continueFanOut(advisory: advisory) == true {
            Thread.sleep(forTimeInterval: 0.002)
        }
    }

    /// Who the rest of the provider notices of `advisory` still being written would reach,
    /// per notice, counted without writing it: a dry run that wrote a 100,000-provider notice
    /// whole held the write lock half a second, and a publication due then waited for it.
    /// Its webhooks went with the first share (their providers are counted there); the rest is
    /// addresses, as `writeAddresses` writes them.
    func restReach(advisory: Int64) throws -> [Int64: Reach] {
        let rest = try database.query(
            """
            SELECT f.notice_id, n.kind, f.audience, f.project_id, f.after_provider
            FROM provider_fan_outs f JOIN notices n ON n.id = f.notice_id WHERE f.advisory_id = ? ORDER BY f.notice_id
            """, .integer(advisory)
        ) { ($0.int(0), $0.text(1), FanOutPlan.Providers(rawValue: $0.text(2)) ?? .none, $0.int(3), $0.int(4)) }
        var reach: [Int64: Reach] = [:]
        for (notice, kind, audience, project, after) in rest {
            reach[notice] = try database.first(
                """
                SELECT count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.notice_id = ?4 AND d.provider_id = p.id)),
                       coalesce(sum((SELECT count(*) FROM provider_contacts pc WHERE pc.provider_id = p.id)) FILTER (
                           WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.notice_id = ?4 AND d.provider_id = p.id
                                                                         AND d.transport = 'email')), 0),
                       json_group_array(p.organization)
                FROM providers p WHERE p.id > ?3 AND \(Self.audienceRule(audience))
                """, .integer(advisory), .integer(project), .integer(after), .integer(notice)
            ) {
                Reach(
                    notice: kind, providers: Int($0.int(0)), addresses: Int($0.int(1)), providerWebhooks: 0,
                    channels: 0, organizations: $0.strings(2))
            }
        }
        // Channels not written yet: those there were at the notice's instant, still enabled.
        for (notice, kind, channels) in try database.query(
            """
            SELECT f.notice_id, n.kind,
                   (SELECT count(*) FROM channels c WHERE c.project_id = f.project_id AND c.id > f.after_channel
                                                      AND c.id <= f.last_channel AND c.kind <> 'email' AND c.disabled_at IS NULL
                                                      AND c.created_at <= n.created_at)
            FROM channel_fan_outs f JOIN notices n ON n.id = f.notice_id WHERE f.advisory_id = ?
            """, .integer(advisory), map: { ($0.int(0), $0.text(1), Int($0.int(2))) })
        {
            reach[
                notice,
                default: Reach(
                    notice: kind, providers: 0, addresses: 0, providerWebhooks: 0, channels: 0, organizations: [])
            ]
            .channels += channels
        }
        return reach
    }

    /// Writes the public channels of `advisory`'s notices still being written to the end,
    /// inside the caller's transaction.
    private func finishChannelFanOuts(advisory: Int64) throws {
        for notice in try database.query(
            "SELECT notice_id FROM channel_fan_outs WHERE advisory_id = ? ORDER BY notice_id", .integer(advisory),
            map: { $0.int(0) })
        {
            while try writeNextChannelShare(of: notice).more {}
        }
    }

    /// Writes the provider notices of `advisory` still being written to the end, inside the
    /// caller's transaction.
    private func finishFanOuts(advisory: Int64) throws {
        try finishChannelFanOuts(advisory: advisory)
        let notices = try database.query(
            "SELECT notice_id FROM provider_fan_outs WHERE advisory_id = ? ORDER BY notice_id", .integer(advisory)
        ) { $0.int(0) }
        for notice in notices {
            while try writeNextShare(of: notice) {}
        }
    }

    /// Writes the next share of providers of a notice still being written; returns whether more remain.
    @discardableResult
    private func writeNextShare(of noticeID: Int64) throws -> Bool {
        guard
            let (audience, advisory, project, after, key, templates) = try database.first(
                """
                SELECT f.audience, f.advisory_id, f.project_id, f.after_provider, n.key, f.templates, f.waiting_templates,
                       f.fallback_language, f.key_required
                FROM provider_fan_outs f JOIN notices n ON n.id = f.notice_id WHERE f.notice_id = ?
                """, .integer(noticeID),
                map: {
                    (
                        FanOutPlan.Providers(rawValue: $0.text(0)) ?? .none, $0.int(1), $0.int(2), $0.int(3),
                        $0.text(4),
                        ProviderTemplates(
                            byLanguage: $0.text(5), waiting: $0.text(6), fallbackLanguage: $0.text(7),
                            keyRequired: $0.int(8) != 0)
                    )
                })
        else { return false }
        let share = try providerShare(audience, advisory: advisory, project: project, after: after)
        let written = try writeAddresses(
            of: share.providers.map(\.id), notice: NoticeRef(id: noticeID, key: key), templates: templates)
        try database.run(
            "UPDATE notices SET recipients = recipients + ? WHERE id = ?", .int(written), .integer(noticeID))
        guard let next = share.next else {
            try database.run("DELETE FROM provider_fan_outs WHERE notice_id = ?", .integer(noticeID))
            return false
        }
        try database.run(
            "UPDATE provider_fan_outs SET after_provider = ? WHERE notice_id = ?", .integer(next), .integer(noticeID))
        return true
    }

    /// A provider that joins while advisories of its projects are under embargo (approved, or
    /// following a project it did not follow) gets each one's current revision at once, as the
    /// others had it: added to that notice, which it then counts among. Inside the caller's
    /// transaction; returns the advisories it was told of.
    @discardableResult
    func deliverUnderEmbargo(to providerID: Int64, actor: String = "delivery") throws -> [Int64] {
        let store = ProviderStore(database: database, clock: clock)
        let provider = try store.get(providerID)
        guard provider.status == .active else { return [] }
        // Each scheduled advisory whose early notice went out, of its projects or that it was
        // invited to and not excluded from, with its newest provider notice, when this provider
        // has no address's row of that notice yet (a notice written share-wise may have written
        // its webhooks, and its address's share passed it by while it was away).
        let rows = try database.query(
            """
            SELECT a.id, n.id, n.key, n.kind FROM advisories a
            JOIN notices n ON n.id = (SELECT max(n2.id) FROM notices n2 WHERE n2.advisory_id = a.id AND n2.kind IN ('early-notice', 'revision'))
            WHERE a.state = 'scheduled'
              AND \(ParticipationStore.takesPart(provider: "?1", advisory: "a.id", project: "a.project_id"))
              AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.notice_id = n.id AND d.provider_id = ?1 AND d.transport = 'email')
            ORDER BY a.id
            """, [.integer(providerID)]
        ) { ($0.int(0), NoticeRef(id: $0.int(1), key: $0.text(2)), NoticeKind(rawValue: $0.text(3)) ?? .earlyNotice) }
        let recipient = FanOutPlan.Provider(id: provider.id, language: provider.language)
        var told: [Int64] = []
        for (advisoryID, notice, _) in rows {
            let advisory = try AdvisoryStore(database: database, clock: clock, settings: settings).get(advisoryID)
            let project = try ProjectStore(database: database, clock: clock).require(advisory.projectSlug)
            // What it gets is the advisory as it stands, told as the early notice it missed.
            let writer = settings.writer(for: project).speaking(provider.language)
            var content = writer.content(
                .earlyNotice, advisory: advisory, audience: .provider(organization: ""), ackURL: "")
            content.bodyHTML = Self.rendered(content.body)
            let added = try deliver(
                { _ in content }, of: .earlyNotice, notice: notice, to: [recipient], advisory: advisory,
                project: project)
            guard added > 0 else { continue }
            told.append(advisoryID)
            try database.run(
                "UPDATE notices SET recipients = recipients + ? WHERE id = ?", .int(added), .integer(notice.id))
            try AuditLog(database: database).record(
                at: clock.now, actor: actor, action: "advisory.late-notice", subjectType: "advisory",
                subjectID: advisoryID, details: ["provider": String(providerID), "revision": String(advisory.revision)])
        }
        return told
    }

    /// Queues `herald channel test` for one channel, with its audit row.
    public func enqueueTest(channel id: Int64, actor: String) throws -> Int64 {
        let now = clock.now
        return try database.write {
            let channel = try ChannelStore(database: database, clock: clock).get(id)
            let project = try ProjectStore(database: database, clock: clock).require(channel.projectSlug)
            let language = channel.language ?? project.language ?? settings.defaultLanguage
            let content = settings.writer(for: project).speaking(language).test()
            let notice = try insertNotice(.channelTest, advisory: nil, revision: 0, recipients: 1, dueAt: nil)
            if channel.kind == .email {
                let mail = message(content, to: channel.target, notice: notice, owner: "c\(id)", headers: [])
                try insertDelivery(
                    notice: notice.id, provider: nil, channel: id, transport: .email, format: "email",
                    recipient: channel.target,
                    host: "mail", messageID: mail.messageID, payload: try insertPayload(mail.rendered))
            } else {
                try insertWebhook(
                    content, format: WebhookKind(rawValue: channel.kind.rawValue) ?? .webhook, url: channel.target,
                    notice: notice, provider: nil, channel: id, event: "herald.channel-test", project: project,
                    advisoryID: nil, revision: 0)
            }
            // The delivery's id, for `deliveries retry`: taken before the audit row is written.
            let delivery = database.lastInsertID
            try AuditLog(database: database).record(
                at: now, actor: actor, action: "channel.test", subjectType: "channel", subjectID: id,
                details: ["delivery": String(delivery)])
            return delivery
        }
    }

    /// Queues a message to every address of one provider (confirmation, welcome), inside the
    /// caller's transaction. `project` names the sender, else the first project the provider follows.
    func enqueueProviderMail(
        _ kind: NoticeKind, provider: Provider, to addresses: [String]? = nil, project given: Project? = nil,
        isPrivate: Bool = false, content: (NoticeWriter) -> NoticeContent
    ) throws {
        let projects = ProjectStore(database: database, clock: clock)
        // About an advisory, its project speaks; otherwise the first project the provider follows.
        guard let project = try given ?? provider.projects.first.flatMap({ try projects.find($0) }) else { return }
        let writer = settings.writer(for: project).speaking(provider.language)
        let message = content(writer)
        // Private words (an advisory under embargo) go encrypted like the notices, by the project's policy.
        let outerSubject = isPrivate ? writer.privateNoticeSubject() : nil
        let recipients = addresses ?? provider.emails
        let notice = try insertNotice(kind, advisory: nil, revision: 0, recipients: recipients.count, dueAt: nil)
        for email in recipients {
            let mail = self.message(message, to: email, notice: notice, owner: "p\(provider.id)", headers: [])
            try insertDelivery(
                notice: notice.id, provider: provider.id, channel: nil, transport: .email, format: "email",
                recipient: email,
                host: "mail", messageID: mail.messageID,
                payload: try insertPayload(
                    Array(mail.rendered.utf8), outerSubject: outerSubject, project: isPrivate ? project.id : nil))
        }
    }

    /// Queues one message to an address that is no provider's or channel's (the release
    /// managers' contact address), inside the caller's transaction.
    func enqueueMail(_ kind: NoticeKind, to address: String, project: Project, content: NoticeContent) throws {
        let notice = try insertNotice(kind, advisory: nil, revision: 0, recipients: 1, dueAt: nil)
        let mail = message(content, to: address, notice: notice, owner: "project\(project.id)", headers: [])
        try insertDelivery(
            notice: notice.id, provider: nil, channel: nil, transport: .email, format: "email", recipient: address,
            host: "mail", messageID: mail.messageID, payload: try insertPayload(mail.rendered))
    }

    /// One share of the providers a notice goes to, by id, and the id the next share starts
    /// after (nil: this was the last).
    private struct ProviderShare {
        var providers: [FanOutPlan.Provider]
        var next: Int64?
    }

    /// The providers of `audience` after provider `after`, a transaction's share of them: the
    /// early notice to every active subscriber of the project; later provider notices to those
    /// who had an earlier one and are still active. A suspended or removed provider gets
    /// nothing more.
    private func providerShare(_ audience: FanOutPlan.Providers, advisory: Int64, project: Int64, after: Int64)
        throws -> ProviderShare
    {
        let limit = settings.providersPerTransaction
        func providers(_ sql: String, _ values: [SQLValue]) throws -> [FanOutPlan.Provider] {
            try database.query(sql, values) {
                FanOutPlan.Provider(id: $0.int(0), language: Language(rawValue: $0.text(1)) ?? settings.defaultLanguage)
            }
        }
        switch audience {
        case .none:
            return ProviderShare(providers: [], next: nil)
        case .activeFollowers:
            let share = try providers(
                "SELECT p.id, p.language FROM providers p WHERE p.id > ?3 AND \(Self.audienceRule(audience)) ORDER BY p.id LIMIT ?4",
                [.integer(advisory), .integer(project), .integer(after), .int(limit)])
            return ProviderShare(providers: share, next: share.count == limit ? share.last?.id : nil)
        case .toldBefore, .silentParticipants:
            // The candidates are those the advisory's private notices went to: each notice's
            // next `limit` providers by the (notice, provider) index, so a share costs the same
            // however many were told, and an advisory nobody was told of costs nothing. Past
            // the lowest last id of a notice that had more, another notice's are the next share's.
            let notices = try database.query(
                "SELECT id FROM notices WHERE advisory_id = ? AND kind IN ('early-notice', 'revision')",
                .integer(advisory)
            ) { $0.int(0) }
            var candidates = Set<Int64>()
            var bound: Int64?
            for notice in notices {
                let ids = try database.query(
                    """
                    SELECT provider_id FROM deliveries WHERE notice_id = ? AND provider_id > ?
                    GROUP BY provider_id ORDER BY provider_id LIMIT ?
                    """, [.integer(notice), .integer(after), .int(limit)]
                ) { $0.int(0) }
                candidates.formUnion(ids)
                if ids.count == limit, let last = ids.last { bound = min(bound ?? last, last) }
            }
            let ids = candidates.filter { $0 <= bound ?? .max }.sorted()
            let share = try providers(
                """
                SELECT p.id, p.language FROM json_each(?3) j JOIN providers p ON p.id = j.value
                WHERE \(Self.audienceRule(audience, told: false)) ORDER BY j.key
                """, [.integer(advisory), .integer(project), .text(Self.jsonList(ids))])
            return ProviderShare(providers: share, next: bound)
        }
    }

    /// The languages of `audience`: one template each.
    private func audienceLanguages(_ audience: FanOutPlan.Providers, advisory: Int64, project: Int64) throws
        -> Set<Language>
    {
        // Everyone told before gets a template in every language: finding which languages they
        // speak read the whole told list (60 ms for 100,000 providers) in the transaction of a
        // publication, at its instant, where two templates nobody uses cost a millisecond.
        // Whether any of the active followers speaks each language is one seek each by the
        // language index (the column holds no other), where a DISTINCT would read the audience.
        guard audience == .activeFollowers else { return Set(Language.allCases) }
        return try Set(
            Language.allCases.filter { language in
                try database.first(
                    "SELECT 1 FROM providers p WHERE p.language = ?3 AND \(Self.audienceRule(audience)) LIMIT 1",
                    .integer(advisory), .integer(project), .text(language.rawValue), map: { _ in true }) != nil
            })
    }

    /// `audience` as a condition on `providers p`, with ?1 the advisory's id and ?2 its project's;
    /// without `told`, whether a private notice went to it is the caller's to check. The told
    /// check is, per provider, one seek per private notice of the advisory by the (notice,
    /// provider) index, for a few providers: as a set it would read everyone told, whatever few
    /// are asked about, and by the provider index it would read the provider's whole history.
    private static func audienceRule(_ audience: FanOutPlan.Providers, told: Bool = true) -> String {
        let takesPart =
            "p.status = 'active' AND \(ParticipationStore.takesPart(provider: "p.id", advisory: "?1", project: "?2"))"
        switch audience {
        case .activeFollowers:
            return takesPart
        case .toldBefore, .silentParticipants:
            // Those who had a private notice and still take part; for the reminder, only those
            // who have neither acknowledged nor answered.
            let silentOnly =
                audience == .silentParticipants
                ? """
                AND NOT EXISTS (SELECT 1 FROM acknowledgements k JOIN notices n2 ON n2.id = k.notice_id
                                WHERE n2.advisory_id = ?1 AND k.provider_id = p.id)
                AND NOT EXISTS (SELECT 1 FROM responses r WHERE r.advisory_id = ?1 AND r.provider_id = p.id)
                """ : ""
            let toldBefore =
                told
                ? """
                AND EXISTS (SELECT 1 FROM deliveries d
                            WHERE d.provider_id = p.id
                              AND d.notice_id IN (SELECT n.id FROM notices n
                                                  WHERE n.advisory_id = ?1 AND n.kind IN ('early-notice', 'revision')))
                """ : ""
            return "\(takesPart) \(toldBefore) \(silentOnly)"
        case .none:
            return "0"
        }
    }

    /// The kinds and languages of the project's enabled public channels: a project may have
    /// thousands of endpoints, and their rows are written set-wise per group.
    private func channelGroups(_ project: Project) throws -> [FanOutPlan.ChannelGroup] {
        try database.query(
            """
            SELECT DISTINCT c.kind, c.language FROM channels c WHERE c.project_id = ? AND c.disabled_at IS NULL
            """, [.integer(project.id)]
        ) {
            FanOutPlan.ChannelGroup(
                kind: ChannelKind(rawValue: $0.text(0)) ?? .webhook,
                language: $0.optionalText(1).flatMap(Language.init(rawValue:)))
        }
    }

    /// A Markdown body as HTML, for formats that show HTML (Matrix); rendered once per notice.
    static func rendered(_ body: String) -> String { body.isEmpty ? "" : Markdown.html(body) }

    /// The list headers of every message to a provider (RFC 2919, RFC 8058).
    private func providerHeaders(_ project: Project, unsubscribeURL: String) -> [(name: String, value: String)] {
        [
            ("List-Id", "\(project.name) early notice <\(project.slug).early-notice.\(settings.domain)>"),
            ("List-Unsubscribe", "<\(unsubscribeURL)>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ]
    }

    /// What `kind` about `advisory` says to `audience` in `format` (nil: e-mail), rendered by
    /// the same code as the fan-out, for one stand-in recipient: `herald advisory preview`.
    /// Links that are made per recipient (acknowledge, unsubscribe) show a placeholder token.
    public func preview(
        _ kind: NoticeKind, advisory: Advisory, project: Project, audience: Audience, format: WebhookKind?,
        previous: Advisory? = nil, language: Language? = nil
    ) -> [UInt8] {
        let placeholder = Self.previewPlaceholder
        let notice = NoticeRef(id: 0, key: "0000000000000000")
        var content = previewContent(
            kind, advisory: advisory, project: project, audience: audience, previous: previous, language: language)
        content.bodyHTML = Self.rendered(content.body)
        guard let format else {
            let provider = audience != .publicChannel
            let mail = message(
                content, to: provider ? "security@provider.example" : "announce@lists.example", notice: notice,
                owner: "preview",
                headers: provider
                    ? providerHeaders(project, unsubscribeURL: "\(settings.publicURL)/unsubscribe?token=\(placeholder)")
                    : [])
            return Array(mail.rendered.utf8)
        }
        return ChatPayload.render(
            content, as: format, event: "herald.\(kind.rawValue)", project: project.slug,
            advisoryID: audience == .publicChannel && kind != .publication ? nil : advisory.publicID,
            revision: advisory.revision, at: clock.now)
    }

    /// What a preview shows in place of the links made for each recipient.
    static let previewPlaceholder = "PER-RECIPIENT-TOKEN"

    /// The words of `kind` for `audience` in `language` (default: the project's), as `preview`
    /// sends them: the text the message's plain part carries.
    public func previewContent(
        _ kind: NoticeKind, advisory: Advisory, project: Project, audience: Audience, previous: Advisory? = nil,
        language: Language? = nil
    ) -> NoticeContent {
        let base = settings.writer(for: project)
        let writer = base.speaking(language ?? base.language)
        if audience == .publicChannel { return writer.content(kind, advisory: advisory, audience: .publicChannel) }
        return writer.content(
            kind, advisory: advisory, audience: audience,
            ackURL: kind.isEmbargoed ? "\(settings.publicURL)/ack?token=\(Self.previewPlaceholder)" : nil,
            previous: previous)
    }

    /// How many providers the early notice of `advisory` would go to now.
    public func earlyNoticeAudience(advisory: Advisory, project: Project) throws -> Int {
        try database.first(
            "SELECT count(*) FROM providers p WHERE \(Self.audienceRule(.activeFollowers))",
            .integer(advisory.id), .integer(project.id)
        ) { Int($0.int(0)) } ?? 0
    }

    /// A notice's row id (for joins) and its random key (for message ids).
    struct NoticeRef {
        var id: Int64
        var key: String
    }

    /// Writes a notice row with a fresh random key. Message ids are made from the key, never
    /// from the row id: consecutive public ids would otherwise count the private notices between.
    private func insertNotice(_ kind: NoticeKind, advisory: Int64?, revision: Int, recipients: Int, dueAt: Date?) throws
        -> NoticeRef
    {
        let key = Secrets.noticeKey()
        try database.run(
            "INSERT INTO notices (advisory_id, kind, revision, recipients, created_at, due_at, key) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                advisory.map(SQLValue.integer) ?? .null, .text(kind.rawValue), .int(revision), .int(recipients),
                .date(clock.now),
                .date(dueAt), .text(key),
            ])
        return NoticeRef(id: database.lastInsertID, key: key)
    }

    /// `owner` is the provider or channel the recipient belongs to (`p12`, `c3`): two providers
    /// may share an address, and each copy needs an id of its own. It enters only the hash.
    private func messageID(_ notice: NoticeRef, owner: String, recipient: String) -> String {
        "herald.\(notice.key).\(Self.fingerprint(owner + " " + recipient))@\(settings.domain)"
    }

    private func message(
        _ content: NoticeContent, to recipient: String, notice: NoticeRef, owner: String,
        headers: [(name: String, value: String)]
    ) -> EmailMessage {
        message(
            content, to: recipient, messageID: messageID(notice, owner: owner, recipient: recipient), headers: headers)
    }

    private func message(
        _ content: NoticeContent, to recipient: String, messageID: String, headers: [(name: String, value: String)]
    ) -> EmailMessage {
        EmailMessage(
            from: settings.mailFrom, fromName: settings.mailFromName, to: recipient, subject: content.headline,
            text: content.plainText, messageID: messageID, date: clock.now, extraHeaders: headers)
    }

    private func insertWebhook(
        _ content: NoticeContent, format: WebhookKind, url: String, notice: NoticeRef, provider: Int64?,
        channel: Int64?, event: String, project: Project, advisoryID: String?, revision: Int
    ) throws {
        let body = ChatPayload.render(
            content, as: format, event: event, project: project.slug, advisoryID: advisoryID, revision: revision,
            at: clock.now)
        try insertDelivery(
            notice: notice.id, provider: provider, channel: channel, transport: .webhook, format: format.rawValue,
            recipient: url,
            host: Self.host(of: url),
            messageID:
                "msg_\(notice.key)_\(Self.fingerprint((provider.map { "p\($0)" } ?? "c\(channel ?? 0)") + " " + url))",
            payload: try insertPayload(body))
    }

    private func insertDelivery(
        notice: Int64, provider: Int64?, channel: Int64?, transport: TransportKind, format: String, recipient: String,
        host: String, messageID: String, payload: Int64
    ) throws {
        let now = clock.now
        try database.run(
            """
            INSERT INTO deliveries (notice_id, provider_id, channel_id, transport, format, recipient, host, message_id, payload_id,
                                    state, next_attempt_at, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)
            """,
            [
                .integer(notice), provider.map(SQLValue.integer) ?? .null, channel.map(SQLValue.integer) ?? .null,
                .text(transport.rawValue),
                .text(format), .text(recipient), .text(host), .text(messageID), .integer(payload), .date(now),
                .date(now),
            ])
    }

    /// Stores a message body (or a `MailTemplate`) once; deliveries refer to it by the returned id.
    private func insertPayload(
        _ body: [UInt8], template: Bool = false, outerSubject: String? = nil, project: Int64? = nil
    ) throws -> Int64 {
        try database.run(
            "INSERT INTO payloads (body, is_template, outer_subject, project_id) VALUES (?, ?, ?, ?)", .blob(body),
            .int(template ? 1 : 0), .optionalText(outerSubject), project.map(SQLValue.integer) ?? .null)
        return database.lastInsertID
    }

    private func insertPayload(_ text: String) throws -> Int64 {
        try insertPayload(Array(text.utf8))
    }
}
