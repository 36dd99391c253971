import Foundation
import HeraldCore
import HeraldMarkdown
import HeraldTemplates

/// What the outbox needs to render messages: where links point and who mail is from.
public struct OutboxSettings: Sendable, Equatable {
    /// Base of every link (`HERALD_PUBLIC_URL`).
    public var publicURL: String
    /// Sender address (`HERALD_MAIL_FROM`).
    public var mailFrom: String
    /// Sender display name.
    public var mailFromName: String
    /// The words of every message (the templates, with any overrides).
    public var wording: any Wording
    /// The language of a project without one of its own (`default-language`).
    public var defaultLanguage: Language

    /// What `HERALD_PUBLIC_URL` and `HERALD_MAIL_FROM` default to, here and in the CLI.
    public static let defaultPublicURL = "http://127.0.0.1:8080"
    /// The sender when `HERALD_MAIL_FROM` is not set.
    public static let defaultMailFrom = "herald@localhost.localdomain"

    /// Drops a trailing slash from `publicURL`; the defaults suit a trial on one machine.
    public init(
        publicURL: String = defaultPublicURL, mailFrom: String = defaultMailFrom, mailFromName: String = "Herald",
        wording: any Wording = Templates.standard, defaultLanguage: Language = .english
    ) {
        self.publicURL = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
        self.mailFrom = mailFrom
        self.mailFromName = mailFromName
        self.wording = wording
        self.defaultLanguage = defaultLanguage
    }

    /// Equal when they render links and senders alike; the wording is compared by its overrides.
    public static func == (lhs: OutboxSettings, rhs: OutboxSettings) -> Bool {
        lhs.publicURL == rhs.publicURL && lhs.mailFrom == rhs.mailFrom && lhs.mailFromName == rhs.mailFromName
            && lhs.defaultLanguage == rhs.defaultLanguage
            && (lhs.wording as? Templates)?.overridden == (rhs.wording as? Templates)?.overridden
    }

    /// A writer of `project`'s messages in its own language.
    func writer(for project: Project) -> NoticeWriter {
        NoticeWriter(
            project: project, publicURL: publicURL, wording: wording, language: project.language ?? defaultLanguage)
    }

    /// The domain of the sender, for Message-ID and List-Id.
    var domain: String { mailFrom.split(separator: "@").last.map(String.init) ?? "localhost" }
}

/// A delivery handed to a worker: everything needed to send it, nothing to look up.
public final class ClaimedDelivery: Sendable, Equatable {
    // A class, immutable: a claimed row passes through queues, closures and the engine, and a
    // reference is one count to keep where a struct of strings is one per field.
    /// Database id of the delivery.
    public let id: Int64
    /// Which transport sends it: e-mail or webhook.
    public let transport: TransportKind
    /// What kind of webhook receives the payload; nil for e-mail.
    public let format: WebhookKind?
    /// An e-mail address or a webhook URL.
    public let recipient: String
    /// The lane the per-host limit counts it in: the URL's host for a webhook, `mail` for e-mail.
    public let host: String
    /// The same on every attempt, so receivers can drop repeats: Message-ID, `webhook-id`, Matrix's transaction id.
    public let messageID: String
    /// The bytes to send: the whole mail, or the request body.
    public let payload: [UInt8]
    /// A generic webhook's signing secret or a Matrix access token; nil otherwise.
    public let secret: String?
    /// Attempts so far, this one included.
    public let attempts: Int

    /// A delivery as claimed; `attempts` counts this one.
    public init(
        id: Int64, transport: TransportKind, format: WebhookKind?, recipient: String, host: String, messageID: String,
        payload: [UInt8], secret: String?, attempts: Int
    ) {
        self.id = id
        self.transport = transport
        self.format = format
        self.recipient = recipient
        self.host = host
        self.messageID = messageID
        self.payload = payload
        self.secret = secret
        self.attempts = attempts
    }

    /// Equal when every field is: the same row, claimed for the same attempt.
    public static func == (a: ClaimedDelivery, b: ClaimedDelivery) -> Bool {
        (a.id, a.transport, a.format, a.recipient, a.host) == (b.id, b.transport, b.format, b.recipient, b.host)
            && (a.messageID, a.payload, a.secret, a.attempts) == (b.messageID, b.payload, b.secret, b.attempts)
    }
}

/// What happened to one attempt.
public enum DeliveryOutcome: Sendable, Equatable {
    /// Sent; `via` says where to (`smtp://relay:587`, `maildir:./var/mail`).
    case delivered(id: Int64, at: Date, via: String)
    /// Failed; try again at `at`.
    case retry(id: Int64, at: Date, error: String)
    /// Failed for good (last attempt, or a permanent refusal).
    case dead(id: Int64, error: String)
    /// The endpoint answered 410 Gone: the delivery is dead and the endpoint disabled.
    case gone(id: Int64, url: String, error: String)
    /// Not attempted (shutting down): give the lease back.
    case released(id: Int64)
}

/// A delivery as `advisory show` and `deliveries list` show it.
public struct DeliveryRecord: Sendable, Equatable, Codable {
    /// Database id.
    public var id: Int64
    /// Database id of the notice it carries.
    public var noticeID: Int64
    /// The notice's kind, such as `early-notice` or `publication`.
    public var notice: String
    /// Database id of the advisory; nil for a message about none (a confirmation, a channel test).
    public var advisoryID: Int64?
    /// The advisory's revision the notice told of; 0 for a message about no advisory.
    public var revision: Int
    /// The provider it goes to; nil for a public channel or the release managers' address.
    public var organization: String?
    /// E-mail or webhook.
    public var transport: TransportKind
    /// An e-mail address, or a webhook's URL by fingerprint (the URL may be the credential).
    public var recipient: String
    /// Pending, retrying, delivered or dead.
    public var state: DeliveryState
    /// Attempts made so far.
    public var attempts: Int
    /// Why the last attempt failed; nil once delivered.
    public var lastError: String?
    /// When it is tried next; nil unless pending or retrying.
    public var nextAttemptAt: Date?
    /// When it was delivered.
    public var deliveredAt: Date?
    /// Where it went, as the transport names it: `smtp://relay:587`, `maildir:./var/mail`, `webhook`.
    public var deliveredVia: String?
    /// When the fan-out wrote it.
    public var createdAt: Date
}

/// The durable outbox: fan-out inside the caller's transaction, leases, outcomes in batches.
public struct OutboxStore {
    let database: Database
    let clock: any Clock
    let settings: OutboxSettings

    /// Creates a store over `database`; `settings` render the messages it fans out.
    public init(database: Database, clock: any Clock, settings: OutboxSettings) {
        self.database = database
        self.clock = clock
        self.settings = settings
    }

    // MARK: - Fan-out

    /// Writes `kind` about `advisory` and one delivery per recipient. Call inside the
    /// transaction of the change that causes it; returns the notice id, or nil when it was
    /// already sent for this revision.
    @discardableResult
    func fanOut(
        _ kind: NoticeKind, advisory: Advisory, project: Project, notes: ChangeNotes = .none, dueAt: Date? = nil,
        previous: Advisory? = nil
    ) throws -> Int64? {
        let already = try database.first(
            "SELECT id FROM notices WHERE advisory_id = ? AND kind = ? AND revision = ?",
            .integer(advisory.id), .text(kind.rawValue), .int(advisory.revision)
        ) { $0.int(0) }
        if already != nil { return nil }
        let writer = settings.writer(for: project)
        // Who it reaches and in which language is the plan's to say (FanOutPlan, pure); this
        // reads the candidates the plan's rules ask for and writes what it says.
        let providers = try providerRecipients(FanOutPlan.providers(for: kind), advisory: advisory, project: project)
        let preAnnounced =
            try kind == .cancellation
            && database.first(
                "SELECT 1 FROM notices WHERE advisory_id = ? AND kind = 'pre-announcement'", .integer(advisory.id)
            ) { _ in true } != nil
        let plan = FanOutPlan(
            kind, providers: providers.map { FanOutPlan.Provider(id: $0.id, language: $0.language) },
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
            providerContent.get, of: kind, notice: notice, to: providers, advisory: advisory, project: project)
        // Every public channel of one language gets the same content; each format's bytes are rendered once.
        let publicContent = Memo { (language: Language) in
            var content = writer.speaking(language).content(
                kind, advisory: advisory, audience: .publicChannel, notes: notes)
            content.bodyHTML = Self.rendered(content.body)
            return content
        }
        // A pre-announcement names no advisory: not even its id.
        let publicID = kind == .publication ? advisory.publicID : nil
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
            let body = try insertPayload(
                ChatPayload.render(
                    content, as: format, event: event, project: project.slug,
                    advisoryID: publicID, revision: advisory.revision, at: clock.now))
            count += try database.run(
                """
                INSERT INTO deliveries (notice_id, channel_id, transport, format, recipient, host, message_id, payload_id,
                                        state, next_attempt_at, created_at)
                SELECT ?1, c.id, 'webhook', ?2, c.target, herald_host(c.target), 'msg_' || ?6 || '_c' || c.id, ?3,
                       'pending', ?4, ?4
                FROM channels c JOIN projects p ON p.id = c.project_id
                WHERE p.slug = ?5 AND c.kind = ?2 AND c.disabled_at IS NULL AND coalesce(c.language, ?7) = ?8
                ORDER BY c.id
                """,
                [
                    .integer(noticeID), .text(format.rawValue), .integer(body), .date(clock.now), .text(project.slug),
                    .text(notice.key),
                    .text(writer.language.rawValue), .text(audience.language.rawValue),
                ])
        }
        try database.run("UPDATE notices SET recipients = ? WHERE id = ?", .int(count), .integer(noticeID))
        return noticeID
    }

    /// Writes one provider notice's deliveries to `providers`: each address with its own
    /// acknowledgement and unsubscribe links, each webhook, in the provider's language; returns how many.
    private func deliver(
        _ providerContent: (Language) -> NoticeContent, of kind: NoticeKind, notice: NoticeRef,
        to providers: [ProviderRecipient], advisory: Advisory, project: Project
    ) throws -> Int {
        var count = 0
        for provider in providers {
            let shared = providerContent(provider.language)
            // Each address and the webhooks have acknowledgement links of their own, so the page
            // can say who acknowledges.
            func content(acknowledging email: String?) throws -> NoticeContent {
                var content = shared
                if kind.isEmbargoed, let label = content.link?.label {
                    let ack = try newLinkToken(.ack, provider: provider.id, notice: notice.id, email: email)
                    content.link = (label, "\(settings.publicURL)/ack?token=\(ack)")
                }
                return content
            }
            for email in provider.emails {
                let content = try content(acknowledging: email)
                // Each address's own link: unsubscribing takes that address off, not the organisation.
                let unsubscribe = try newLinkToken(.unsubscribe, provider: provider.id, notice: notice.id, email: email)
                let mail = message(
                    content, to: email, notice: notice, owner: "p\(provider.id)",
                    headers: providerHeaders(
                        project, unsubscribeURL: "\(settings.publicURL)/unsubscribe?token=\(unsubscribe)"))
                try insertDelivery(
                    notice: notice.id, provider: provider.id, channel: nil, transport: .email, format: "email",
                    recipient: email, host: "mail", messageID: mail.messageID, payload: try insertPayload(mail.rendered)
                )
                count += 1
            }
            let hookContent = provider.webhooks.isEmpty ? shared : try content(acknowledging: nil)
            for hook in provider.webhooks {
                try insertWebhook(
                    hookContent, format: hook.kind, url: hook.url, notice: notice, provider: provider.id,
                    channel: nil, event: "herald.\(kind.rawValue)", project: project, advisoryID: advisory.publicID,
                    revision: advisory.revision)
                count += 1
            }
        }
        return count
    }

    /// A provider that joins while advisories of its projects are under embargo (approved, or
    /// following a project it did not follow) gets each one's current revision at once, as the
    /// others had it: added to that notice, which it then counts among. Inside the caller's
    /// transaction; returns the advisories it was told of.
    @discardableResult
    func deliverUnderEmbargo(to providerID: Int64) throws -> [Int64] {
        let store = ProviderStore(database: database, clock: clock)
        let provider = try store.get(providerID)
        guard provider.status == .active else { return [] }
        // Each scheduled advisory of its projects whose early notice went out, with its newest
        // provider notice, when this provider has nothing of that notice yet.
        let rows = try database.query(
            """
            SELECT a.id, n.id, n.key, n.kind FROM advisories a JOIN projects p ON p.id = a.project_id
            JOIN subscriptions s ON s.project_id = p.id AND s.provider_id = ?1
            JOIN notices n ON n.id = (SELECT max(n2.id) FROM notices n2 WHERE n2.advisory_id = a.id AND n2.kind IN ('early-notice', 'revision'))
            WHERE a.state = 'scheduled' AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.notice_id = n.id AND d.provider_id = ?1)
            ORDER BY a.id
            """, [.integer(providerID)]
        ) { ($0.int(0), NoticeRef(id: $0.int(1), key: $0.text(2)), NoticeKind(rawValue: $0.text(3)) ?? .earlyNotice) }
        let recipient = ProviderRecipient(provider)
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
            try database.run(
                "UPDATE notices SET recipients = recipients + ? WHERE id = ?", .int(added), .integer(notice.id))
            try AuditLog(database: database).record(
                at: clock.now, actor: "delivery", action: "advisory.late-notice", subjectType: "advisory",
                subjectID: advisoryID, details: ["provider": String(providerID), "revision": String(advisory.revision)])
        }
        return rows.map(\.0)
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
    /// caller's transaction. The first project the provider follows names the sender.
    func enqueueProviderMail(
        _ kind: NoticeKind, provider: Provider, to addresses: [String]? = nil,
        content: (NoticeWriter) -> NoticeContent
    ) throws {
        let projects = ProjectStore(database: database, clock: clock)
        guard let slug = provider.projects.first, let project = try projects.find(slug) else { return }
        let message = content(settings.writer(for: project).speaking(provider.language))
        let recipients = addresses ?? provider.emails
        let notice = try insertNotice(kind, advisory: nil, revision: 0, recipients: recipients.count, dueAt: nil)
        for email in recipients {
            let mail = self.message(message, to: email, notice: notice, owner: "p\(provider.id)", headers: [])
            try insertDelivery(
                notice: notice.id, provider: provider.id, channel: nil, transport: .email, format: "email",
                recipient: email,
                host: "mail", messageID: mail.messageID, payload: try insertPayload(mail.rendered))
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

    /// A new single-purpose link token for `provider`, valid until `expires` (nil: no expiry).
    /// With `email`, the link is about that address of the provider (unsubscribe links are).
    func newLinkToken(
        _ purpose: LinkPurpose, provider: Int64, notice: Int64? = nil, expires: Date? = nil, email: String? = nil
    ) throws -> String {
        let token = Secrets.token(prefix: "")
        try database.run(
            "INSERT INTO link_tokens (hash, purpose, provider_id, notice_id, expires_at, email) VALUES (?, ?, ?, ?, ?, ?)",
            .blob(Secrets.hash(token)), .text(purpose.rawValue), .integer(provider),
            notice.map(SQLValue.integer) ?? .null,
            .date(expires), .optionalText(email))
        return token
    }

    /// A provider as a notice goes to it: its addresses, its working webhooks, its language.
    struct ProviderRecipient {
        var id: Int64
        var organization: String
        var emails: [String]
        var webhooks: [ProviderWebhook]
        var language: Language

        init(_ provider: Provider) {
            id = provider.id
            organization = provider.organization
            emails = provider.emails
            webhooks = provider.webhooks.filter { $0.disabledAt == nil }
            language = provider.language
        }
    }

    /// Providers a notice goes to: the early notice to every active subscriber of the project;
    /// later provider notices to those who had an earlier one and are still active. A suspended
    /// or removed provider gets nothing more, embargoed or not.
    private func providerRecipients(_ audience: FanOutPlan.Providers, advisory: Advisory, project: Project) throws
        -> [ProviderRecipient]
    {
        let ids: [Int64]
        switch audience {
        case .activeFollowers:
            ids = try database.query(
                """
                SELECT p.id FROM providers p JOIN subscriptions s ON s.provider_id = p.id
                WHERE s.project_id = ? AND p.status = 'active' ORDER BY p.id
                """, .integer(project.id)
            ) { $0.int(0) }
        case .toldBefore:
            ids = try database.query(
                """
                SELECT DISTINCT d.provider_id FROM deliveries d JOIN notices n ON n.id = d.notice_id JOIN providers p ON p.id = d.provider_id
                WHERE n.advisory_id = ? AND n.kind IN ('early-notice', 'revision') AND p.status = 'active'
                ORDER BY d.provider_id
                """, .integer(advisory.id)
            ) { $0.int(0) }
        case .none:
            ids = []
        }
        guard !ids.isEmpty else { return [] }
        let store = ProviderStore(database: database, clock: clock)
        return try store.providers(ids: ids).map(ProviderRecipient.init)
    }

    /// The kinds and languages of the project's enabled public channels: a project may have
    /// thousands of endpoints, and their rows are written set-wise per group.
    private func channelGroups(_ project: Project) throws -> [FanOutPlan.ChannelGroup] {
        try database.query(
            """
            SELECT DISTINCT c.kind, c.language FROM channels c JOIN projects p ON p.id = c.project_id
            WHERE p.slug = ? AND c.disabled_at IS NULL
            """, [.text(project.slug)]
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
        let base = settings.writer(for: project)
        let writer = base.speaking(language ?? base.language)
        let placeholder = "PER-RECIPIENT-TOKEN"
        let notice = NoticeRef(id: 0, key: "0000000000000000")
        var content = writer.content(
            kind, advisory: advisory, audience: audience,
            ackURL: audience == .publicChannel || !kind.isEmbargoed
                ? nil : "\(settings.publicURL)/ack?token=\(placeholder)",
            previous: previous)
        if audience == .publicChannel { content = writer.content(kind, advisory: advisory, audience: .publicChannel) }
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
    private func message(
        _ content: NoticeContent, to recipient: String, notice: NoticeRef, owner: String,
        headers: [(name: String, value: String)]
    ) -> EmailMessage {
        EmailMessage(
            from: settings.mailFrom, fromName: settings.mailFromName, to: recipient, subject: content.headline,
            text: content.plainText,
            messageID: "herald.\(notice.key).\(Self.fingerprint(owner + " " + recipient))@\(settings.domain)",
            date: clock.now,
            extraHeaders: headers)
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

    /// Stores a message body once; deliveries refer to it by the returned id.
    private func insertPayload(_ body: [UInt8]) throws -> Int64 {
        try database.run("INSERT INTO payloads (body) VALUES (?)", .blob(body))
        return database.lastInsertID
    }

    private func insertPayload(_ text: String) throws -> Int64 {
        try insertPayload(Array(text.utf8))
    }

    /// What a link in a message does.
    public enum LinkPurpose: String, Sendable { case ack, unsubscribe, confirm }

    /// The host of a URL, lowercased, for the per-host limit. URLs were validated when their
    /// channel or provider was added; this is only the cheap cut a 100,000-endpoint fan-out
    /// needs (URLComponents costs several microseconds a call).
    static func host(of url: String) -> String {
        let bytes = Array(url.utf8)
        var start = 0
        if let colon = bytes.firstIndex(of: UInt8(ascii: ":")), bytes[colon...].starts(with: "://".utf8) {
            start = colon + 3
        }
        var end =
            bytes[start...].firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }
            ?? bytes.count
        if let at = bytes[start..<end].lastIndex(of: UInt8(ascii: "@")) { start = at + 1 }
        if start < end && bytes[start] == UInt8(ascii: "["),
            let close = bytes[start..<end].firstIndex(of: UInt8(ascii: "]"))
        {
            start += 1
            end = close
        } else if let colon = bytes[start..<end].lastIndex(of: UInt8(ascii: ":")) {
            end = colon
        }
        guard start < end else { return url }
        return String(decoding: bytes[start..<end].map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }, as: UTF8.self)
    }

    /// A short, stable fingerprint of a recipient (FNV-1a, 64 bits) for message ids: the same
    /// recipient of the same notice always gets the same id, so receivers can drop duplicates.
    static func fingerprint(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return String(hash, radix: 16)
    }

    // MARK: - Workers

    /// `[1,2,3]`, for `json_each`: one statement for a whole batch of ids.
    static func jsonList(_ ids: [Int64]) -> String {
        "[" + ids.map(String.init).joined(separator: ",") + "]"
    }

    /// Leases up to `limit` due deliveries for `lease`, at most `capacity(host)` of each host:
    /// `freeSlots` gives the free slots of hosts with sends in flight, and a host not in it may
    /// take `perHost`. So a claim never takes rows it cannot start, and one slow host's backlog
    /// is left in the table for later. Each claim counts as an attempt; a worker that dies
    /// leaves its rows to be claimed again when the lease ends.
    public func claim(limit: Int, lease: TimeInterval, freeSlots: [String: Int] = [:], perHost: Int = 8) throws
        -> [ClaimedDelivery]
    {
        try database.write { try claimRows(limit: limit, lease: lease, freeSlots: freeSlots, perHost: perHost) }
    }

    /// Records `outcomes` and claims, in one transaction: under load the worker does both
    /// many times a second, and the rows it records and claims often share pages.
    public func recordAndClaim(
        _ outcomes: [DeliveryOutcome], limit: Int, lease: TimeInterval, freeSlots: [String: Int] = [:],
        perHost: Int = 8
    ) throws -> [ClaimedDelivery] {
        try database.write {
            try recordRows(outcomes)
            return try claimRows(limit: limit, lease: lease, freeSlots: freeSlots, perHost: perHost)
        }
    }

    private func claimRows(limit: Int, lease: TimeInterval, freeSlots: [String: Int], perHost: Int) throws
        -> [ClaimedDelivery]
    {
        guard limit > 0 else { return [] }
        let now = clock.now
        // The hosts with waiting rows, by skip-scan over the (host, due) index: one seek per host.
        let hosts = try database.query(
            """
            WITH RECURSIVE waiting(host) AS (
                SELECT min(host) FROM deliveries WHERE state IN ('pending', 'retrying')
                UNION ALL
                SELECT (SELECT min(host) FROM deliveries WHERE state IN ('pending', 'retrying') AND host > waiting.host)
                FROM waiting WHERE waiting.host IS NOT NULL)
            SELECT host FROM waiting WHERE host IS NOT NULL
            """
        ) { $0.text(0) }
        var ids: [Int64] = []
        for host in hosts {
            let room = min(freeSlots[host] ?? perHost, limit - ids.count)
            guard room > 0 else { continue }
            ids += try database.query(
                """
                SELECT id FROM deliveries
                WHERE host = ?1 AND state IN ('pending', 'retrying') AND next_attempt_at <= ?2 AND (lease_until IS NULL OR lease_until <= ?2)
                ORDER BY next_attempt_at, id LIMIT ?3
                """, [.text(host), .date(now), .int(room)]
            ) { $0.int(0) }
            if ids.count >= limit { break }
        }
        guard !ids.isEmpty else { return [] }
        let list = Self.jsonList(ids)
        struct Row {
            var id: Int64, transport: TransportKind, format: WebhookKind?, recipient: String, host: String,
                messageID: String,
                payloadID: Int64, secret: String?, attempts: Int
        }
        // The signing secret or access token is read from where it lives (the channel, or the
        // provider's webhook) rather than kept in every delivery row.
        let leased = try database.query(
            """
            UPDATE deliveries SET lease_until = ?1, attempts = attempts + 1 WHERE id IN (SELECT value FROM json_each(?2))
            RETURNING id, transport, format, recipient, host, message_id, payload_id,
                      CASE WHEN transport = 'email' THEN NULL
                           WHEN channel_id IS NOT NULL THEN (SELECT c.secret FROM channels c WHERE c.id = channel_id)
                           ELSE (SELECT w.secret FROM provider_webhooks w WHERE w.provider_id = deliveries.provider_id AND w.url = recipient) END,
                      attempts
            """, [.date(now.addingTimeInterval(lease)), .text(list)]
        ) { row in
            Row(
                id: row.int(0), transport: TransportKind(rawValue: row.text(1)) ?? .webhook,
                format: WebhookKind(rawValue: row.text(2)), recipient: row.text(3),
                host: row.text(4), messageID: row.text(5), payloadID: row.int(6), secret: row.optionalText(7),
                attempts: Int(row.int(8)))
        }
        // Whether a message may still go is decided here, at the last moment, in one place: not
        // to a provider that is suspended or removed, nor to an address or webhook it no longer
        // has, nor to a channel that was removed (its secret went with it). Such rows are dead,
        // however they got here (queued before, in flight at the change, or retried by hand).
        let stopped = Set(
            try database.query(
                """
                UPDATE deliveries SET state = 'dead', lease_until = NULL, last_error = 'not sent: ' || CASE
                    WHEN channel_id IS NOT NULL THEN 'the channel was removed'
                    WHEN (SELECT status FROM providers WHERE id = deliveries.provider_id) IN ('suspended', 'removed')
                        THEN 'the provider is ' || (SELECT status FROM providers WHERE id = deliveries.provider_id)
                    ELSE 'the provider no longer has this address or webhook' END
                WHERE id IN (SELECT value FROM json_each(?1)) AND (
                    (channel_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM channels c WHERE c.id = deliveries.channel_id))
                    OR (provider_id IS NOT NULL AND (
                        (SELECT status FROM providers WHERE id = deliveries.provider_id) IN ('suspended', 'removed')
                        OR (transport = 'email' AND NOT EXISTS (SELECT 1 FROM provider_contacts pc
                                                                WHERE pc.provider_id = deliveries.provider_id AND pc.email = deliveries.recipient))
                        OR (transport = 'webhook' AND NOT EXISTS (SELECT 1 FROM provider_webhooks w
                                                                  WHERE w.provider_id = deliveries.provider_id AND w.url = deliveries.recipient)))))
                RETURNING id
                """, [.text(list)]
            ) { $0.int(0) })
        let claimed = stopped.isEmpty ? leased : leased.filter { !stopped.contains($0.id) }
        // Each body read once per claim: the public channels of one format share theirs.
        let payloadIDs = Array(Set(claimed.map(\.payloadID)))
        var bodies: [Int64: [UInt8]] = [:]
        for (id, body) in try database.query(
            "SELECT id, body FROM payloads WHERE id IN (SELECT value FROM json_each(?))",
            .text(Self.jsonList(payloadIDs)), map: { ($0.int(0), $0.blob(1)) })
        {
            bodies[id] = body
        }
        return claimed.map { row in
            ClaimedDelivery(
                id: row.id, transport: row.transport, format: row.format, recipient: row.recipient, host: row.host,
                messageID: row.messageID, payload: bodies[row.payloadID] ?? [], secret: row.secret,
                attempts: row.attempts)
        }
    }

    /// Records a batch of outcomes in one transaction: one fsync for many messages.
    public func record(_ outcomes: [DeliveryOutcome]) throws {
        guard !outcomes.isEmpty else { return }
        try database.write { try recordRows(outcomes) }
    }

    private func recordRows(_ outcomes: [DeliveryOutcome]) throws {
        guard !outcomes.isEmpty else { return }
        let now = clock.now
        // Most outcomes are deliveries: one statement for all of them, over a JSON list.
        let delivered = outcomes.compactMap { outcome -> JSON? in
            guard case let .delivered(id, at, via) = outcome else { return nil }
            return [.int(Int(id)), .int(Int(at.milliseconds)), .string(via)]
        }
        if !delivered.isEmpty {
            try database.run(
                """
                UPDATE deliveries SET state = 'delivered', delivered_at = d.value ->> 1, delivered_via = d.value ->> 2, lease_until = NULL,
                                      last_error = NULL
                FROM json_each(?) AS d WHERE deliveries.id = d.value ->> 0
                """, .text(JSON.array(delivered).text))
        }
        for outcome in outcomes {
            switch outcome {
            case .delivered:
                continue
            case let .retry(id, at, error):
                try database.run(
                    "UPDATE deliveries SET state = 'retrying', next_attempt_at = ?, lease_until = NULL, last_error = ? WHERE id = ?",
                    .date(at), .text(error), .integer(id))
            case let .dead(id, error):
                try database.run(
                    "UPDATE deliveries SET state = 'dead', lease_until = NULL, last_error = ? WHERE id = ?",
                    .text(error), .integer(id))
            case let .gone(id, url, error):
                try database.run(
                    "UPDATE deliveries SET state = 'dead', lease_until = NULL, last_error = ? WHERE id = ?",
                    .text(error), .integer(id))
                try database.run(
                    "UPDATE provider_webhooks SET disabled_at = ? WHERE url = ? AND disabled_at IS NULL", .date(now),
                    .text(url))
                try database.run(
                    "UPDATE channels SET disabled_at = ? WHERE target = ? AND disabled_at IS NULL", .date(now),
                    .text(url))
                // The URL may be the credential itself (a chat webhook): the log names it by fingerprint.
                try AuditLog(database: database).record(
                    at: now, actor: "delivery", action: "endpoint.disable", subjectType: "delivery",
                    subjectID: id, reason: "410 Gone", details: ["url": Redaction.url(url)])
            case let .released(id):
                try database.run(
                    "UPDATE deliveries SET lease_until = NULL, attempts = max(attempts - 1, 0) WHERE id = ?",
                    .integer(id))
            }
        }
    }

    /// Gives back every lease: called by `herald serve` at start, while it holds the instance
    /// lock, so any lease left in the database belongs to a process that died mid-send.
    /// Those sends may or may not have reached their recipients; they go again (at least once).
    public func releaseAllLeases() throws -> Int {
        try database.write {
            try database.run(
                "UPDATE deliveries SET lease_until = NULL WHERE lease_until IS NOT NULL AND state IN ('pending', 'retrying')"
            )
        }
    }

    /// The earliest instant a delivery becomes due (or its lease ends), for the worker's sleep.
    public func nextDue() throws -> Date? {
        try database.first(
            """
            SELECT min(max(next_attempt_at, coalesce(lease_until, 0))) FROM deliveries WHERE state IN ('pending', 'retrying')
            """
        ) { $0.optionalDate(0) } ?? nil
    }

    // MARK: - Reading and manual actions

    /// Deliveries, newest first, optionally of one advisory or state (`failing`: retrying or
    /// dead, from the first failed attempt on); a webhook's URL by fingerprint (it may be the credential).
    public func list(advisory: Int64? = nil, state filter: DeliveryFilter? = nil, limit: Int = 1000) throws
        -> [DeliveryRecord]
    {
        try database.query(
            """
            SELECT d.id, n.id, n.kind, n.advisory_id, n.revision, p.organization, d.transport, d.recipient, d.state, d.attempts, d.last_error,
                   d.next_attempt_at, d.delivered_at, d.created_at, d.delivered_via
            FROM deliveries d JOIN notices n ON n.id = d.notice_id LEFT JOIN providers p ON p.id = d.provider_id
            WHERE (?1 IS NULL OR n.advisory_id = ?1) AND (?2 IS NULL OR d.state IN (SELECT value FROM json_each(?2)))
            ORDER BY d.id DESC LIMIT ?3
            """,
            [
                advisory.map(SQLValue.integer) ?? .null,
                filter.map { .text("[" + $0.states.map { "\"\($0.rawValue)\"" }.joined(separator: ",") + "]") }
                    ?? .null,
                .int(limit),
            ]
        ) { row in
            let state = DeliveryState(rawValue: row.text(8)) ?? .dead
            return DeliveryRecord(
                id: row.int(0), noticeID: row.int(1), notice: row.text(2), advisoryID: row.optionalInt(3),
                revision: Int(row.int(4)),
                organization: row.optionalText(5), transport: TransportKind(rawValue: row.text(6)) ?? .webhook,
                recipient: row.text(7), state: state, attempts: Int(row.int(9)), lastError: row.optionalText(10),
                nextAttemptAt: state == .pending || state == .retrying ? row.optionalDate(11) : nil,
                deliveredAt: row.optionalDate(12), deliveredVia: row.optionalText(14), createdAt: row.date(13)
            ).redacted
        }
    }

    /// Who one notice reaches, counted: what `--dry-run` reports.
    public struct Reach: Sendable, Equatable, Encodable {
        /// The notice's kind, such as `revision`.
        public var notice: String
        /// Providers it reaches.
        public var providers: Int
        /// Their e-mail addresses it goes to.
        public var addresses: Int
        /// Their webhooks it goes to.
        public var providerWebhooks: Int
        /// Public channels it goes to.
        public var channels: Int
        /// The organisations it would reach, by name.
        public var organizations: [String]

        /// "the revision: 3 providers (4 addresses, 1 webhook)"
        public var sentence: String {
            var parts: [String] = []
            if providers > 0 {
                let names =
                    organizations.prefix(10).joined(separator: ", ")
                    + (organizations.count > 10 ? " and \(organizations.count - 10) more" : "")
                parts.append(
                    "\(providers) provider\(providers == 1 ? "" : "s") (\(addresses) address\(addresses == 1 ? "" : "es"), "
                        + "\(providerWebhooks) webhook\(providerWebhooks == 1 ? "" : "s"): \(names))")
            }
            if channels > 0 { parts.append("\(channels) public channel\(channels == 1 ? "" : "s")") }
            return "the \(notice) would go to " + (parts.isEmpty ? "no one" : parts.joined(separator: " and "))
        }
    }

    /// The highest delivery id so far: what a rehearsal wrote comes after it.
    public func lastDeliveryID() throws -> Int64 {
        try database.first("SELECT coalesce(max(id), 0) FROM deliveries") { $0.int(0) } ?? 0
    }

    /// Who the notices of `advisory` written after delivery `after` reach, per notice.
    public func reach(advisory: Int64, after: Int64) throws -> [Reach] {
        try database.query(
            """
            SELECT n.kind, count(DISTINCT d.provider_id), sum(d.provider_id IS NOT NULL AND d.transport = 'email'),
                   sum(d.provider_id IS NOT NULL AND d.transport = 'webhook'), sum(d.channel_id IS NOT NULL),
                   (SELECT json_group_array(organization) FROM (SELECT DISTINCT p.organization FROM deliveries d2 JOIN providers p ON p.id = d2.provider_id
                                                                WHERE d2.notice_id = n.id AND d2.id > ?1 ORDER BY p.organization))
            FROM deliveries d JOIN notices n ON n.id = d.notice_id
            WHERE d.id > ?1 AND n.advisory_id = ?2 GROUP BY n.id ORDER BY n.id
            """, [.integer(after), .integer(advisory)]
        ) {
            Reach(
                notice: $0.text(0), providers: Int($0.int(1)), addresses: Int($0.int(2)),
                providerWebhooks: Int($0.int(3)), channels: Int($0.int(4)),
                organizations: (try? JSONDecoder().decode([String].self, from: Data($0.text(5).utf8))) ?? [])
        }
    }

    /// Re-drives one delivery (dead or waiting to retry) now, with a fresh set of attempts.
    public func retry(_ id: Int64, actor: String) throws {
        let now = clock.now
        try database.write {
            guard
                let state = try database.first(
                    "SELECT state FROM deliveries WHERE id = ?", .integer(id),
                    map: { DeliveryState(rawValue: $0.text(0)) })
            else {
                throw Refusal.notFound(subject: "delivery", id: String(id))
            }
            guard let state, state == .dead || state == .retrying else {
                throw Refusal.illegalTransition(
                    subject: "delivery \(id)", state: state?.rawValue ?? "unknown", action: "retry",
                    allowedFrom: [DeliveryState.dead.rawValue, DeliveryState.retrying.rawValue])
            }
            try database.run(
                "UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = ?, lease_until = NULL WHERE id = ?",
                .date(now), .integer(id))
            try AuditLog(database: database).record(
                at: now, actor: actor, action: "delivery.retry", subjectType: "delivery", subjectID: id,
                details: ["from": state.rawValue])
        }
    }

    /// Re-drives every dead delivery; returns how many.
    public func retryDead(actor: String) throws -> Int {
        let now = clock.now
        return try database.write {
            let count = try database.run(
                "UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = ?, lease_until = NULL WHERE state = 'dead'",
                .date(now))
            try AuditLog(database: database).record(
                at: now, actor: actor, action: "delivery.retry-dead", subjectType: "delivery", subjectID: nil,
                details: ["count": String(count)])
            return count
        }
    }

    /// Deliveries waiting (pending or retrying) and the age of the oldest, for metrics.
    public func queueDepth() throws -> (count: Int, oldest: Date?) {
        try database.first("SELECT count(*), min(created_at) FROM deliveries WHERE state IN ('pending', 'retrying')") {
            (Int($0.int(0)), $0.optionalDate(1))
        } ?? (0, nil)
    }
}

/// A value made once per key on first use: a notice's content per language.
final class Memo<Key: Hashable, Value> {
    private var values: [Key: Value] = [:]
    private let make: (Key) -> Value

    init(_ make: @escaping (Key) -> Value) { self.make = make }

    func get(_ key: Key) -> Value {
        if let value = values[key] { return value }
        let value = make(key)
        values[key] = value
        return value
    }
}
