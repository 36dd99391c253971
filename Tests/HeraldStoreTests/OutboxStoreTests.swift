import Foundation
import HeraldCore
import HeraldTestSupport
import Testing

@testable import HeraldStore

@Suite struct OutboxStoreTests {
    func scheduled(_ db: TestDatabase, earlyNotice: Bool = true) throws -> Advisory {
        try db.advisories.create(
            project: "demo", content: AdvisoryContent(title: "Overflow"),
            schedule: Schedule(embargo: db.clock.now + 86_400, earlyNotice: earlyNotice ? db.clock.now : nil),
            actor: db.actor)
    }

    func addProvider(_ db: TestDatabase, _ name: String, emails: [String], status: ProviderStatus = .active) throws
        -> Provider
    {
        try db.providers.add(
            NewProvider(organization: name, emails: emails, projects: ["demo"]), status: status, actor: db.actor)
    }

    @Test func theStateChangeAndEveryOutboxRowAreOneTransaction() throws {
        let db = try TestDatabase()
        try db.addProject()
        _ = try db.channels.add(
            NewChannel(projectSlug: "demo", kind: .email, target: "announce@lists.example", secret: nil),
            actor: db.actor)
        _ = try db.channels.add(
            NewChannel(projectSlug: "demo", kind: .slack, target: "https://chat.example/hook", secret: nil),
            actor: db.actor)
        let advisory = try scheduled(db, earlyNotice: false)
        // The second row of the fan-out fails: nothing of the change may remain.
        try db.database.execute(
            """
            CREATE TRIGGER fail_second BEFORE INSERT ON deliveries WHEN NEW.recipient = 'https://chat.example/hook'
            BEGIN SELECT RAISE(ABORT, 'disk full, say'); END
            """)
        let before = try db.snapshot()
        #expect(throws: SQLiteError.self) {
            try db.advisories.publishNow(advisory.id, notes: try ChangeNotes(reason: "leak"), actor: db.actor)
        }
        #expect(try db.snapshot() == before)
        #expect(try db.advisories.get(advisory.id).state == .scheduled)

        try db.database.execute("DROP TRIGGER fail_second")
        _ = try db.advisories.publishNow(advisory.id, notes: try ChangeNotes(reason: "leak"), actor: db.actor)
        #expect(try db.advisories.get(advisory.id).state == .published)
        #expect(try db.count("deliveries") == 2)
        #expect(try db.count("notices") == 1)
    }

    @Test func earlyNoticeGoesToEachContactOfEveryActiveSubscriber() throws {
        let db = try TestDatabase()
        try db.addProject()
        try db.addProject("other")
        _ = try addProvider(db, "Acme", emails: ["a@acme.example", "b@acme.example"])
        _ = try addProvider(db, "Pending", emails: ["p@pending.example"], status: .pendingApproval)
        _ = try db.providers.add(
            NewProvider(organization: "Elsewhere", emails: ["e@else.example"], projects: ["other"]), status: .active,
            actor: db.actor)
        _ = try db.channels.add(
            NewChannel(projectSlug: "demo", kind: .email, target: "announce@lists.example", secret: nil),
            actor: db.actor)
        let advisory = try scheduled(db)
        let fired = try db.advisories.fireDue()
        #expect(fired.map(\.kind) == [.earlyNotice])
        let recipients = try db.outbox.list(advisory: advisory.id).map(\.recipient).sorted()
        // Public channels never get the early notice.
        #expect(recipients == ["a@acme.example", "b@acme.example"])
        #expect(try db.advisories.fireDue().isEmpty)  // once only
        #expect(try db.audit.list(limit: 1).first?.action == "advisory.early-notice")
    }

    @Test func aRevisionGoesToThoseWhoHadAnEarlierOne() throws {
        let db = try TestDatabase()
        try db.addProject()
        _ = try addProvider(db, "Acme", emails: ["a@acme.example"])
        let late = try addProvider(db, "Latecomer", emails: ["l@late.example"], status: .pendingApproval)
        let advisory = try scheduled(db)
        _ = try db.advisories.fireDue()
        // Active without having had the early notice (an approval tells it at once, so the row
        // is set as a database from before that rule holds it).
        try db.database.run("UPDATE providers SET status = 'active' WHERE id = ?", .integer(late.id))
        _ = try db.advisories.reschedule(
            advisory.id,
            to: { s in
                var s = s
                s.embargo! += 3600
                return s
            }, notes: try ChangeNotes(reason: "Dimpact asked", toProviders: "distros"), actor: db.actor)
        let revisions = try db.outbox.list(advisory: advisory.id).filter { $0.notice == "revision" }
        #expect(revisions.map(\.recipient) == ["a@acme.example"])
        #expect(revisions.first?.revision == 2)
        // The revision notice carries the note to providers, never the reason.
        let payload = try db.sentMessages("SELECT ?", .integer(revisions[0].id)).first
        #expect(payload?.contains("distros") == true)
        #expect(payload?.contains("Dimpact") == false)
    }

    @Test func aProviderApprovedDuringTheEmbargoIsToldAtOnceAndThenKeptInformed() throws {
        let db = try TestDatabase()
        try db.addProject()
        _ = try addProvider(db, "Acme", emails: ["a@acme.example"])
        let late = try addProvider(db, "Latecomer", emails: ["l@late.example"], status: .pendingApproval)
        let advisory = try scheduled(db)
        _ = try db.advisories.fireDue()
        _ = try db.providers.transition(late.id, .approve, actor: db.actor)
        let early = try db.outbox.list(advisory: advisory.id).filter { $0.notice == "early-notice" }
        #expect(early.map(\.recipient).sorted() == ["a@acme.example", "l@late.example"])
        #expect(try db.database.first("SELECT recipients FROM notices WHERE kind = 'early-notice'") { $0.int(0) } == 2)
        #expect(try db.audit.list(limit: 5).contains { $0.action == "advisory.late-notice" })
        _ = try db.advisories.reschedule(
            advisory.id,
            to: { s in
                var s = s
                s.embargo! += 3600
                return s
            }, notes: try ChangeNotes(reason: ""), actor: db.actor)
        let revisions = try db.outbox.list(advisory: advisory.id).filter { $0.notice == "revision" }
        #expect(revisions.map(\.recipient).sorted() == ["a@acme.example", "l@late.example"])
    }

    @Test func aProviderThatNowFollowsAProjectUnderEmbargoIsToldAtOnce() throws {
        let db = try TestDatabase()
        try db.addProject()
        try db.addProject("other")
        _ = try addProvider(db, "Acme", emails: ["a@acme.example"])
        let newcomer = try db.providers.add(
            NewProvider(organization: "Elsewhere", emails: ["e@else.example"], projects: ["other"]), status: .active,
            actor: db.actor)
        let advisory = try scheduled(db)
        _ = try db.advisories.fireDue()
        _ = try db.providers.edit(newcomer.id, try ProviderEdit(listed: false), actor: db.actor)
        #expect(try db.outbox.list(advisory: advisory.id).count == 1)  // an edit that adds no project tells nothing
        _ = try db.providers.edit(
            newcomer.id, try ProviderEdit(addProjects: ["demo"]), actor: db.actor)
        #expect(
            try db.outbox.list(advisory: advisory.id).map(\.recipient).sorted() == ["a@acme.example", "e@else.example"])
    }

    @Test func aProviderAddedOrImportedAsActiveDuringTheEmbargoIsToldAtOnce() throws {
        let db = try TestDatabase()
        try db.addProject()
        _ = try addProvider(db, "Acme", emails: ["a@acme.example"])
        let advisory = try scheduled(db)
        _ = try db.advisories.fireDue()
        _ = try db.providers.add(
            NewProvider(organization: "Added", emails: ["x@added.example"], projects: ["demo"]), status: .active,
            actor: db.actor)
        _ = try db.providers.add(
            NewProvider(organization: "Waiting", emails: ["w@wait.example"], projects: ["demo"]),
            status: .pendingApproval,
            actor: db.actor)
        _ = try db.providers.importList(
            try ProviderImport(csv: "organization,email,project\nImported,i@imp.example,demo\n"), actor: db.actor)
        _ = try db.providers.sync(
            try ProviderImport(
                csv: "organization,email,project\nAcme,a@acme.example,demo\nSynced,s@sync.example,demo\n"),
            actor: db.actor)
        #expect(
            try db.outbox.list(advisory: advisory.id).map(\.recipient).sorted()
                == ["a@acme.example", "i@imp.example", "s@sync.example", "x@added.example"])
    }

    @Test func aProviderApprovedBeforeTheEarlyNoticeGetsNoneEarly() throws {
        let db = try TestDatabase()
        try db.addProject()
        _ = try addProvider(db, "Acme", emails: ["a@acme.example"])
        let late = try addProvider(db, "Latecomer", emails: ["l@late.example"], status: .pendingApproval)
        let advisory = try scheduled(db, earlyNotice: false)
        _ = try db.providers.transition(late.id, .approve, actor: db.actor)
        #expect(try db.outbox.list(advisory: advisory.id).isEmpty)
    }

    @Test func aRevisionBeforeTheEarlyNoticeGoesToNobody() throws {
        let db = try TestDatabase()
        try db.addProject()
        _ = try addProvider(db, "Acme", emails: ["a@acme.example"])
        let advisory = try scheduled(db, earlyNotice: false)
        _ = try db.advisories.revise(
            advisory.id, AdvisoryPatch(title: "Better title"), notes: try ChangeNotes(reason: ""), actor: db.actor)
        #expect(try db.count("deliveries") == 0)
        #expect(try db.count("notices") == 0)
    }

    @Test func publicChannelsOfOneFormatShareOneBodyAndAreGroupedByHost() throws {
        let db = try TestDatabase()
        try db.addProject()
        for target in [
            "https://Chat.Example:8443/hook?x=1", "https://chat.example/other", "http://[::1]:8080/h",
            "https://b.example",
        ] {
            _ = try db.channels.add(
                NewChannel(projectSlug: "demo", kind: .webhook, target: target, secret: nil), actor: db.actor)
        }
        let advisory = try scheduled(db, earlyNotice: false)
        _ = try db.advisories.publishNow(advisory.id, notes: try ChangeNotes(reason: "leak"), actor: db.actor)
        let hosts = try db.database.query("SELECT host FROM deliveries ORDER BY id") { $0.text(0) }
        #expect(hosts == ["chat.example", "chat.example", "::1", "b.example"])
        #expect(try db.count("payloads") == 1)
        // Each claimed delivery carries the shared body.
        let claimed = try db.outbox.claim(limit: 10, lease: 60)
        #expect(claimed.count == 4)
        #expect(Set(claimed.map(\.payload)).count == 1)
        #expect(claimed.allSatisfy { String(decoding: $0.payload, as: UTF8.self).contains("Overflow") })
    }

    @Test func claimsTakeNoMoreOfAHostThanItsFreeSlots() throws {
        let db = try TestDatabase()
        try db.addProject()
        for i in 0..<6 {
            _ = try db.channels.add(
                NewChannel(projectSlug: "demo", kind: .slack, target: "https://a.example/\(i)", secret: nil),
                actor: db.actor)
        }
        _ = try db.channels.add(
            NewChannel(projectSlug: "demo", kind: .slack, target: "https://b.example/1", secret: nil), actor: db.actor)
        _ = try db.advisories.publishNow(
            try scheduled(db, earlyNotice: false).id, notes: try ChangeNotes(reason: "x"), actor: db.actor)
        let first = try db.outbox.claim(limit: 10, lease: 60, freeSlots: ["a.example": 2], perHost: 4)
        #expect(first.filter { $0.host == "a.example" }.count == 2)
        #expect(first.filter { $0.host == "b.example" }.count == 1)
        let second = try db.outbox.claim(limit: 10, lease: 60, perHost: 3)
        #expect(second.count == 3 && second.allSatisfy { $0.host == "a.example" })
        #expect(try db.outbox.claim(limit: 10, lease: 60, freeSlots: ["a.example": 0]).isEmpty)
    }

    @Test func claimsLeaseSkipBusyHostsAndExpire() throws {
        let db = try TestDatabase()
        try db.addProject()
        _ = try db.channels.add(
            NewChannel(projectSlug: "demo", kind: .slack, target: "https://a.example/1", secret: nil), actor: db.actor)
        _ = try db.channels.add(
            NewChannel(projectSlug: "demo", kind: .slack, target: "https://b.example/1", secret: nil), actor: db.actor)
        _ = try db.channels.add(
            NewChannel(projectSlug: "demo", kind: .email, target: "list@lists.example", secret: nil), actor: db.actor)
        _ = try db.advisories.publishNow(
            try scheduled(db, earlyNotice: false).id, notes: try ChangeNotes(reason: "x"), actor: db.actor)

        let first = try db.outbox.claim(limit: 10, lease: 60, freeSlots: ["a.example": 0])
        #expect(Set(first.map(\.host)) == ["b.example", "mail"])
        #expect(first.allSatisfy { $0.attempts == 1 })
        #expect(try db.outbox.claim(limit: 10, lease: 60, freeSlots: ["a.example": 0]).isEmpty)  // leased
        db.manualClock.advance(by: 61)
        let again = try db.outbox.claim(limit: 10, lease: 60)
        #expect(again.count == 3)  // expired leases and the skipped host
        #expect(again.filter { $0.host == "b.example" }.first?.attempts == 2)
    }

    /// A publication to `channels` Slack channels on hosts of their own, every delivery claimed.
    @Test func aPublicationReachesThisProjectsEnabledChannelsOfEveryKindAndNoOthers() throws {
        // The channel rows are written set-wise in SQL: the project, the kind and the disabled
        // mark are filters there, so each is checked here.
        let db = try TestDatabase()
        try db.addProject()
        try db.addProject("other")
        func target(_ kind: ChannelKind) -> String {
            switch kind {
            case .email: "announce@lists.example"
            case .matrix: "https://matrix.example/_matrix/client/v3/rooms/!room:matrix.example"
            default: "https://\(kind.rawValue).example/hook"
            }
        }
        for kind in ChannelKind.allCases {
            let target = target(kind)
            _ = try db.channels.add(
                NewChannel(
                    projectSlug: "demo", kind: kind, target: target,
                    secret: kind == .webhook
                        ? WebhookSecret.make(key: Array(repeating: 7, count: 32))
                        : kind == .matrix ? "syt_access_token" : nil), actor: db.actor)
        }
        _ = try db.channels.add(
            NewChannel(projectSlug: "other", kind: .slack, target: "https://other.example/hook", secret: nil),
            actor: db.actor)
        _ = try db.channels.add(
            NewChannel(projectSlug: "demo", kind: .slack, target: "https://disabled.example/hook", secret: nil),
            actor: db.actor)
        try db.database.execute("UPDATE channels SET disabled_at = 1 WHERE target = 'https://disabled.example/hook'")
        _ = try db.advisories.publishNow(
            try scheduled(db, earlyNotice: false).id, notes: try ChangeNotes(reason: "x"), actor: db.actor)
        let rows = try db.database.query("SELECT format, recipient FROM deliveries ORDER BY id") {
            "\($0.text(0)) \($0.text(1))"
        }
        #expect(rows.sorted() == ChannelKind.allCases.map { "\($0.rawValue) \(target($0))" }.sorted())
        // Secrets are read from the channel when a delivery is claimed.
        let secrets = try db.outbox.claim(limit: 100, lease: 60).compactMap { claimed in
            claimed.secret.map { "\(claimed.format!.rawValue) \($0.prefix(6))" }
        }
        #expect(secrets.sorted() == ["matrix syt_ac", "webhook whsec_"])
    }

    func claimedPublication(channels: Int) throws -> (TestDatabase, [ClaimedDelivery]) {
        let db = try TestDatabase()
        try db.addProject()
        for i in 0..<channels {
            _ = try db.channels.add(
                NewChannel(projectSlug: "demo", kind: .slack, target: "https://h\(i).example/x", secret: nil),
                actor: db.actor)
        }
        _ = try db.advisories.publishNow(
            try scheduled(db, earlyNotice: false).id, notes: try ChangeNotes(reason: "x"), actor: db.actor)
        return (db, try db.outbox.claim(limit: 10, lease: 60).sorted { $0.id < $1.id })
    }

    @Test func deliveredOutcomesRecordedInOneStatementKeepEveryDetail() throws {
        let (db, claimed) = try claimedPublication(channels: 3)
        // The JSON list they travel in must carry any text intact.
        let vias = ["maildir:/var/mail \"q\" \\ back", "smtp://relay:587\nnext line", "https://h2.example/x?é"]
        let times = [db.clock.now, db.clock.now + 1.5, db.clock.now + 3]
        try db.outbox.record(claimed.indices.map { .delivered(id: claimed[$0].id, at: times[$0], via: vias[$0]) })
        let records = try db.outbox.list().sorted { $0.id < $1.id }
        #expect(records.map(\.state) == [.delivered, .delivered, .delivered])
        #expect(
            try db.database.query("SELECT delivered_via FROM deliveries ORDER BY id") { $0.optionalText(0) } == vias)
        #expect(records.map { $0.deliveredAt?.milliseconds } == times.map(\.milliseconds))
        #expect(try db.outbox.queueDepth().count == 0)
    }

    /// Delivered rows are recorded a run of consecutive ids per statement: a run never takes in
    /// a row between them that ended otherwise, later, by another route, or not yet.
    @Test func deliveredRowsRecordedByRunsTakeOnlyTheirOwnRows() throws {
        let (db, claimed) = try claimedPublication(channels: 9)
        let ids = claimed.map(\.id)
        let (early, late) = (db.clock.now, db.clock.now + 0.005)
        try db.outbox.record(
            [7, 0, 2, 1, 5].map { .delivered(id: ids[$0], at: early, via: "webhook:a") } + [
                .retry(id: ids[3], at: late, error: "HTTP 503"),
                .delivered(id: ids[6], at: early, via: "webhook:b"),
                .delivered(id: ids[8], at: late, via: "webhook:a"),
            ])
        let rows = try db.database.query(
            "SELECT state, delivered_at, delivered_via, lease_until IS NOT NULL FROM deliveries ORDER BY id"
        ) { row in
            let ended = row.optionalInt(1).map { $0 == early.milliseconds ? "early" : "late" } ?? "-"
            return "\(row.text(0)) \(ended) \(row.optionalText(2) ?? "-") \(row.int(3))"
        }
        #expect(
            rows == [
                "delivered early webhook:a 0", "delivered early webhook:a 0", "delivered early webhook:a 0",
                "retrying - - 0", "pending - - 1", "delivered early webhook:a 0", "delivered early webhook:b 0",
                "delivered early webhook:a 0", "delivered late webhook:a 0",
            ])
    }

    @Test func idsMakeTheFewestRunsOfOnlyThemselves() {
        #expect(OutboxStore.runs(of: []) == [])
        #expect(OutboxStore.runs(of: [5, 3, 4, 10, 12, 11, 1]) == [1...1, 3...5, 10...12])
        #expect(OutboxStore.runs(of: [2, 2, 3, 7, 7]) == [2...3, 7...7])
    }

    @Test func recordAndClaimDoBothInOneGo() throws {
        let (db, claimed) = try claimedPublication(channels: 3)
        // A retry due now comes straight back in the same call that records it.
        let again = try db.outbox.recordAndClaim(
            [
                .delivered(id: claimed[0].id, at: db.clock.now, via: "x"),
                .retry(id: claimed[1].id, at: db.clock.now, error: "HTTP 503"),
            ], limit: 10, lease: 60)
        #expect(again.map(\.id) == [claimed[1].id])
        #expect(again.first?.attempts == 2)
        #expect(try db.outbox.list().sorted { $0.id < $1.id }.map(\.state) == [.delivered, .retrying, .pending])
    }

    @Test func outcomesAreRecordedTogetherAndDeadOnesCanBeRetried() throws {
        let (db, claimed) = try claimedPublication(channels: 4)
        let now = db.clock.now
        try db.outbox.record([
            .delivered(id: claimed[0].id, at: now, via: claimed[0].recipient),
            .retry(id: claimed[1].id, at: now + 5, error: "HTTP 503"),
            .dead(id: claimed[2].id, error: "after 9 attempts: HTTP 500"),
            .gone(id: claimed[3].id, url: claimed[3].recipient, error: "HTTP 410 Gone"),
        ])
        let records = try db.outbox.list().sorted { $0.id < $1.id }
        #expect(records.map(\.state) == [.delivered, .retrying, .dead, .dead])
        #expect(
            try db.database.first("SELECT delivered_via FROM deliveries WHERE id = ?", .integer(claimed[0].id)) {
                $0.text(0)
            } == claimed[0].recipient)
        #expect(records[0].deliveredVia?.hasPrefix("https://h0.example/…") == true, "listed by fingerprint")
        #expect(records[0].deliveredAt?.milliseconds == now.milliseconds)
        #expect(
            try db.channels.list(revealedTo: db.actor).filter { $0.disabledAt != nil }.map(\.target) == [
                claimed[3].recipient
            ])
        #expect(try db.outbox.queueDepth().count == 1)

        try db.stores.retries.retry(claimed[2].id, actor: db.actor)
        #expect(try db.outbox.list(state: .state(.pending)).map(\.id) == [claimed[2].id])
        #expect(try db.audit.list(limit: 1).first?.action == "delivery.retry")
        #expect(throws: Refusal.self) { try db.stores.retries.retry(claimed[0].id, actor: db.actor) }  // delivered
        #expect(try db.stores.retries.retryDead(actor: db.actor) == 1)
        #expect(try db.audit.list(limit: 1).first?.action == "delivery.retry-dead")
    }

    @Test(arguments: [
        "Acme\r\nBcc: victim@evil.example\nX-Injected: 1\rY: 2\u{0}",  // ASCII: kept as text
        "Acme\r\nBcc: victim@evil.example\nX-Injected: 1\u{2028}Y: 2\u{0085}Z: 3",
    ])  // non-ASCII: encoded words
    func anOrganizationWithLineBreaksAddsNoHeaderToTheWelcomeMail(hostile: String) throws {
        let db = try TestDatabase()
        try db.addProject()
        let provider = try addProvider(db, "Acme", emails: ["a@acme.example"], status: .pendingApproval)
        // Past validation (an old row, a hand edit): line breaks in the name the Subject carries.
        try db.database.run("UPDATE providers SET organization = ? WHERE id = ?", .text(hostile), .integer(provider.id))
        _ = try db.providers.transition(provider.id, .approve, actor: db.actor)
        let mail = try #require(
            try db.sentMessages("SELECT id FROM deliveries").first)
        let head = try #require(mail.components(separatedBy: "\r\n\r\n").first)
        let names = head.components(separatedBy: "\r\n").filter { !$0.hasPrefix(" ") }.map {
            String($0.prefix { $0 != ":" })
        }
        #expect(
            names == [
                "Date", "From", "To", "Subject", "Message-ID", "MIME-Version", "Content-Type",
                "Content-Transfer-Encoding", "Auto-Submitted",
            ])
        // No bare CR or LF anywhere in the headers: every line ends CRLF.
        #expect(!head.replacingOccurrences(of: "\r\n", with: "").contains { $0 == "\r" || $0 == "\n" || $0 == "\r\n" })
    }

    @Test func aFanOutStoresNoTokenAndItsLinksAreSignedPerDelivery() throws {
        let db = try TestDatabase()
        try db.addProject()
        _ = try addProvider(db, "Acme", emails: ["a@acme.example", "b@acme.example"])
        _ = try scheduled(db)
        _ = try db.advisories.fireDue()
        // One template for the language, no token row: the links are made when a message is sent.
        #expect(try db.count("link_tokens") == 0)
        #expect(try db.database.first("SELECT count(*) FROM payloads WHERE is_template = 1") { $0.int(0) } == 1)
        // The first link: in the List-Unsubscribe header as it is, in the quoted-printable body
        // with "=" as "=3D". Replacing every "=3D" (as this did) cut a header's token that began
        // with "3D" (one in 4,096) and failed the test now and then.
        func token(_ purpose: String, in mail: String) throws -> String {
            let unfolded = mail.replacingOccurrences(of: "=\r\n", with: "")
            let link = try Regex("\(purpose)\\?token=(?:3D)?([A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])")
            return try #require(unfolded.firstMatch(of: link)?.output[1].substring.map(String.init))
        }
        let mails = try db.sentMessages("SELECT id FROM deliveries ORDER BY id")
        let slots = try #require(
            try db.database.first("SELECT body FROM payloads WHERE is_template = 1") {
                MailTemplate(stored: $0.blob(0)).slots
            })
        #expect(slots.tokens.count == 2 && slots.recipient.hasSuffix("@slot.invalid"))
        #expect(mails.count == 2 && !mails.contains { mail in slots.tokens.contains { mail.contains($0) } })
        // Written set-wise in SQL, each Message-ID is the one the Swift side makes: the notice's
        // key and a fingerprint of the owner and the address, in the message as in the row.
        let rows = try db.database.query(
            """
            SELECT d.message_id, n.key, d.provider_id, d.recipient FROM deliveries d JOIN notices n ON n.id = d.notice_id
            ORDER BY d.id
            """
        ) { ($0.text(0), $0.text(1), $0.int(2), $0.text(3)) }
        func fnv1a(_ text: String) -> String {
            String(
                text.utf8.reduce(UInt64(0xcbf2_9ce4_8422_2325)) { ($0 ^ UInt64($1)) &* 0x0000_0100_0000_01B3 },
                radix: 16)
        }
        for ((messageID, key, provider, recipient), mail) in zip(rows, mails) {
            let expected = "herald.\(key).\(fnv1a("p\(provider) \(recipient)"))@herald.test"
            #expect(messageID == expected)
            #expect(mail.contains("\r\nMessage-ID: <\(expected)>\r\n") && mail.contains("\r\nTo: \(recipient)\r\n"))
        }
        let (first, second) = (try token("ack", in: mails[0]), try token("ack", in: mails[1]))
        #expect(first != second && first.count == 43)
        // Each link speaks for its own address; an unsubscribe token is no acknowledgement.
        #expect(
            try db.outbox.useLink(first, purpose: .ack, at: db.clock.now, consume: false)?.email == "a@acme.example")
        #expect(
            try db.outbox.useLink(second, purpose: .ack, at: db.clock.now, consume: false)?.email == "b@acme.example")
        let unsubscribe = try token("unsubscribe", in: mails[1])
        #expect(try db.outbox.useLink(unsubscribe, purpose: .ack, at: db.clock.now, consume: false) == nil)
        #expect(try db.outbox.useLink(unsubscribe, purpose: .unsubscribe, at: db.clock.now, consume: false) != nil)
        // One character changed anywhere, in the id or the MAC, and the link is nothing.
        for index in [0, 5, 20, 42] {
            var characters = Array(first)
            characters[index] = characters[index] == "A" ? "B" : "A"
            #expect(try db.outbox.useLink(String(characters), purpose: .ack, at: db.clock.now, consume: false) == nil)
        }
        // The token hides its delivery's id: a provider cannot count the deliveries between two of its links.
        let ids = try db.database.query("SELECT id FROM deliveries ORDER BY id") { $0.int(0) }
        for (token, id) in zip([first, second], ids) {
            let base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/") + "="
            let bytes = Array(try #require(Data(base64Encoded: base64)))
            #expect(bytes.count == 32)
            #expect(!bytes.contains((0..<8).map { UInt8(truncatingIfNeeded: id >> (56 - 8 * $0)) }))
        }
        // A database restored from a backup hands the id out again, with another Message-ID:
        // the old link names nothing.
        let row = ids[1]
        try db.database.run(
            "UPDATE deliveries SET message_id = 'herald.other.1@herald.test' WHERE id = ?", .integer(row))
        #expect(try db.outbox.useLink(second, purpose: .ack, at: db.clock.now, consume: false) == nil)
        // A used-up link is kept as used, hashed, and is then nothing.
        #expect(try db.outbox.useLink(first, purpose: .ack, at: db.clock.now, consume: true) != nil)
        #expect(try db.outbox.useLink(first, purpose: .ack, at: db.clock.now, consume: false) == nil)
        #expect(try db.database.first("SELECT hash FROM link_tokens") { $0.blob(0) } == Secrets.hash(first))
    }
}

@Suite struct LanguageTests {
    /// The message of the newest delivery to `recipient`.
    func payload(_ db: TestDatabase, to recipient: String) throws -> String {
        try #require(
            try db.sentMessages(
                "SELECT id FROM deliveries WHERE recipient = ? ORDER BY id DESC LIMIT 1", .text(recipient)
            ).first)
    }

    @Test func eachProviderGetsTheEarlyNoticeInItsLanguageByMailAndChat() throws {
        let db = try TestDatabase()
        try db.addProject()
        for (name, language) in [("Acme", Language.english), ("Gemeente", .dutch), ("Kommune", .danish)] {
            let slug = name.lowercased()
            _ = try db.providers.add(
                NewProvider(
                    organization: name, emails: ["sec@\(slug).example"],
                    webhooks: [(url: "https://chat.\(slug).example/hook", kind: .slack)],
                    projects: ["demo"], language: language), status: .active, actor: db.actor)
        }
        _ = try db.advisories.create(
            project: "demo", content: AdvisoryContent(title: "Overflow", severity: .critical),
            schedule: Schedule(embargo: db.clock.now + 86_400, earlyNotice: db.clock.now), actor: db.actor)
        _ = try db.advisories.fireDue()

        let english = DecodedMail(try payload(db, to: "sec@acme.example"))
        let dutch = DecodedMail(try payload(db, to: "sec@gemeente.example"))
        let danish = DecodedMail(try payload(db, to: "sec@kommune.example"))
        #expect(english.subject == "[EMBARGOED] Demo: Overflow")
        #expect(dutch.subject == "[EMBARGO] Demo: Overflow")
        #expect(dutch.text.contains("Demo publiceert het onderstaande beveiligingsadvies op "))
        #expect(dutch.text.contains("Ernst:") && dutch.text.contains("kritiek"))
        #expect(dutch.text.contains("Ontvangst bevestigen: https://herald.test/ack?token="))
        #expect(danish.text.contains("Demo offentliggør nedenstående sikkerhedsmeddelelse "))
        #expect(danish.text.contains("Alvorlighed:") && danish.text.contains("kritisk"))
        #expect(!dutch.text.contains("will publish") && !danish.text.contains("will publish"))

        // The same words reach each provider's chat.
        let dutchChat = try payload(db, to: "https://chat.gemeente.example/hook")
        let danishChat = try payload(db, to: "https://chat.kommune.example/hook")
        #expect(dutchChat.contains("publiceert het onderstaande beveiligingsadvies") && dutchChat.contains("Ernst"))
        #expect(
            danishChat.contains("offentliggør nedenstående sikkerhedsmeddelelse") && danishChat.contains("Alvorlighed"))
        #expect(
            try payload(db, to: "https://chat.acme.example/hook").contains("will publish the security advisory below"))
    }

    @Test func publicChannelsSpeakTheirOwnLanguageElseTheirProjectsElseTheDefault() throws {
        let db = try TestDatabase()
        try db.addProject()
        for (target, language) in [
            ("https://chat.example/nl", Language?.some(.dutch)), ("https://chat.example/da", .danish),
            ("https://chat.example/project", nil),
        ] {
            _ = try db.channels.add(
                NewChannel(projectSlug: "demo", kind: .slack, target: target, secret: nil, language: language),
                actor: db.actor)
        }
        _ = try db.channels.add(
            NewChannel(projectSlug: "demo", kind: .email, target: "lijst@lists.example", secret: nil, language: .dutch),
            actor: db.actor)
        _ = try db.projects.setLanguage("demo", language: .danish, actor: db.actor)
        let advisory = try db.advisories.create(
            project: "demo", content: AdvisoryContent(title: "Overflow"),
            schedule: Schedule(embargo: db.clock.now + 86_400),
            actor: db.actor)
        _ = try db.advisories.publishNow(advisory.id, notes: try ChangeNotes(reason: "ready early"), actor: db.actor)

        #expect(
            try payload(db, to: "https://chat.example/nl").contains(
                "Demo heeft een beveiligingsadvies gepubliceerd: Overflow."))
        #expect(
            try payload(db, to: "https://chat.example/da").contains(
                "Demo har offentliggjort en sikkerhedsmeddelelse: Overflow."))
        // No language of its own: the project's (Danish).
        #expect(
            try payload(db, to: "https://chat.example/project").contains(
                "Demo har offentliggjort en sikkerhedsmeddelelse"))
        #expect(
            DecodedMail(try payload(db, to: "lijst@lists.example")).subject == "Beveiligingsadvies van Demo: Overflow")
        // Two languages of one format: two bodies, each written once.
        #expect(try db.count("payloads") == 3)
    }

    /// The per-host key a set-wise fan-out writes: the host lowercased, without user, port or
    /// brackets; a URL without one stays whole.
    @Test func theHostKeyIsCutFromTheURLsBytes() throws {
        let db = try TestDatabase()
        let cases = [
            "https://User:pw@Hooks.Example.COM:8443/path?q=1": "hooks.example.com",
            "http://[::1]:8080/x": "::1",
            "HTTPS://CHAT.example/hooks#frag": "chat.example",
            "https://xn--bcher-kva.example?x": "xn--bcher-kva.example",
            "not a url": "not a url",
            "https:///nohost": "https:///nohost",
            // Not plain ASCII: read as a string, as `host(of:)` reads it (only ASCII lowercased,
            // the text up to a NUL).
            "https://Bücher.Example/x": "bücher.example",
            "https://a.example\u{0}.evil/x": "a.example",
        ]
        for (url, host) in cases {
            let cut = try db.database.first("SELECT herald_host(?)", .text(url)) { $0.text(0) }
            #expect(cut == host, "\(url)")
        }
    }
}
