import CSQLite
import Foundation
import HeraldApp
import HeraldCore
import HeraldStore
import HeraldTestSupport
import Testing

/// What outside testing found (issue 11), each proven where the rule lives: who gets what,
/// what a subscription reveals, what public ids and caches count, where secrets are kept.
@Suite struct TrustTests {
    func provider(_ db: TestDatabase, _ name: String, status: ProviderStatus = .active) throws -> Provider {
        try db.providers.add(
            NewProvider(
                organization: name,
                emails: ["security@\(name.lowercased().replacingOccurrences(of: " ", with: "-")).example"],
                projects: ["demo"]),
            status: status, actor: db.actor)
    }

    func scheduled(_ db: TestDatabase, title: String = "Overflow", earlyNotice: Bool = true, preAnnounce: Bool = false)
        throws -> Advisory
    {
        try db.advisories.create(
            project: "demo", content: AdvisoryContent(title: title),
            schedule: Schedule(
                embargo: db.clock.now + 86_400, earlyNotice: earlyNotice ? db.clock.now : nil,
                preAnnounce: preAnnounce ? db.clock.now : nil), actor: db.actor)
    }

    /// The providers a notice of `kind` about `advisory` went to.
    func recipients(_ db: TestDatabase, _ advisory: Advisory, _ kind: NoticeKind) throws -> [String] {
        try db.outbox.list(advisory: advisory.id).filter { $0.notice == kind.rawValue }.compactMap(\.organization)
            .sorted()
    }

    @Test func onlyActiveProvidersReceiveAnythingAfterTheEarlyNotice() throws {
        let db = try TestDatabase()
        try db.addProject()
        let stays = try provider(db, "Stays")
        let suspended = try provider(db, "Suspended")
        let removed = try provider(db, "Removed")
        _ = try provider(db, "Waiting", status: .pendingApproval)
        _ = try provider(db, "Unconfirmed", status: .pendingConfirmation)
        let revised = try scheduled(db)
        let published = try scheduled(db)
        let cancelled = try scheduled(db)
        #expect(try db.advisories.fireDue().map(\.kind) == [.earlyNotice, .earlyNotice, .earlyNotice])
        for advisory in [revised, published, cancelled] {
            #expect(try recipients(db, advisory, .earlyNotice) == ["Removed", "Stays", "Suspended"])
        }
        _ = try db.providers.transition(suspended.id, .suspend, actor: db.actor)
        _ = try db.providers.transition(removed.id, .remove, actor: db.actor)
        // What still waited for them is not sent either: stopped when claimed, and again after a
        // release manager re-drives it by hand.
        for _ in 0..<2 {
            let sent = try db.outbox.claim(limit: 100, lease: 60, perHost: 100)
            #expect(Set(sent.map(\.recipient)) == ["security@stays.example"])
            for left in [suspended.id, removed.id] {
                let errors = try db.database.query(
                    "SELECT last_error FROM deliveries WHERE provider_id = ? AND state = 'dead'", .integer(left)
                ) {
                    $0.optionalText(0) ?? ""
                }
                #expect(
                    errors.count == 3 && errors.allSatisfy { $0.hasPrefix("not sent: the provider is ") }, "\(errors)")
            }
            try db.database.run(
                "UPDATE deliveries SET lease_until = NULL, state = 'pending' WHERE provider_id = ?", .integer(stays.id))
            #expect(try db.stores.retries.retryDead(actor: db.actor) == 6)
        }

        let notes = try ChangeNotes(reason: "x")
        _ = try db.advisories.reschedule(
            revised.id,
            to: {
                var s = $0
                s.embargo! += 3600
                return s
            }, notes: notes, actor: db.actor)
        _ = try db.advisories.publishNow(published.id, notes: notes, actor: db.actor)
        _ = try db.advisories.cancel(cancelled.id, notes: notes, actor: db.actor)
        let later = try scheduled(db)
        _ = try db.advisories.fireDue()
        #expect(try recipients(db, revised, .revision) == ["Stays"])
        #expect(try recipients(db, published, .publication) == ["Stays"])
        #expect(try recipients(db, cancelled, .cancellation) == ["Stays"])
        #expect(try recipients(db, later, .earlyNotice) == ["Stays"])
        #expect(stays.status == .active)
    }

    /// An address or webhook a provider dropped after the fan-out gets nothing of what waited
    /// for it: stopped when claimed, with the reason, while its other address is sent.
    @Test func whatWaitedForADroppedAddressOrWebhookIsNotSent() throws {
        let db = try TestDatabase()
        try db.addProject()
        let provider = try db.providers.add(
            NewProvider(
                organization: "Moving", emails: ["kept@moving.example", "dropped@moving.example"],
                webhooks: [(url: "https://hooks.moving.example/old", kind: .webhook)], projects: ["demo"]),
            status: .active, actor: db.actor)
        _ = try scheduled(db)
        #expect(try db.advisories.fireDue().map(\.kind) == [.earlyNotice])
        try db.providers.edit(
            provider.id,
            ProviderEdit(
                removeEmails: ["dropped@moving.example"], removeWebhooks: ["https://hooks.moving.example/old"]),
            actor: db.actor)
        let sent = try db.outbox.claim(limit: 100, lease: 60, perHost: 100)
        #expect(sent.map(\.recipient) == ["kept@moving.example"])
        let stopped = try db.database.query(
            "SELECT recipient, state, last_error, attempts FROM deliveries WHERE recipient <> 'kept@moving.example' ORDER BY recipient"
        ) { "\($0.text(0)) \($0.text(1)) \($0.optionalText(2) ?? "") \($0.int(3))" }
        #expect(
            stopped == [
                "dropped@moving.example dead not sent: the provider no longer has this address or webhook 1",
                "https://hooks.moving.example/old dead not sent: the provider no longer has this address or webhook 1",
            ])
    }

    @Test func subscribingDoesTheSameWorkWhateverTheListHolds() throws {
        let db = try TestDatabase()
        try db.addProject()
        let subscriptions = db.stores.subscriptions
        _ = try db.providers.add(
            NewProvider(organization: "Listed Member", emails: ["a@listed.example"], projects: ["demo"], listed: true),
            status: .active, actor: db.actor)
        _ = try provider(db, "Unlisted Member")
        // A member's name, listed or not, and a new name: each a request and one confirmation mail.
        for (name, address) in [
            ("Listed Member", "x@attacker.example"), ("unlisted member", "y@attacker.example"),
            ("Brand New", "z@new.example"),
        ] {
            let before = try db.snapshot()
            try subscriptions.subscribe(NewProvider(organization: name, emails: [address], projects: ["demo"]))
            let after = try db.snapshot()
            #expect(after["providers"]! - before["providers"]! == 1, "\(name)")
            #expect(after["deliveries"]! - before["deliveries"]! == 1, "\(name)")
            #expect(try db.outbox.list(limit: 1).first?.recipient == address)
        }
    }

    @Test func anUnconfirmedRequestBlocksNoOneAndExpires() throws {
        let db = try TestDatabase()
        try db.addProject()
        let subscriptions = db.stores.subscriptions
        try subscriptions.subscribe(
            NewProvider(organization: "Gemeente Example", emails: ["squat@attacker.example"], projects: ["demo"]))
        // The real organisation is added by a release manager, and can subscribe itself too.
        let real = try provider(db, "Gemeente Example")
        #expect(real.status == .active)
        try subscriptions.subscribe(
            NewProvider(organization: "Gemeente Example", emails: ["csirt@gemeente.example"], projects: ["demo"]))
        // A duplicate is decided at approval, where a release manager sees why.
        let squatter = try #require(
            try db.providerRecords.list(status: .pendingConfirmation).first { $0.emails == ["squat@attacker.example"] })
        _ = try db.providers.transition(squatter.id, .remove, actor: db.actor)  // keep the list tidy for the next check
        let request = try #require(try db.providerRecords.list(status: .pendingConfirmation).first)
        try db.database.run("UPDATE providers SET status = 'pending-approval' WHERE id = ?", .integer(request.id))
        #expect(throws: Refusal.self) { try db.providers.transition(request.id, .approve, actor: db.actor) }

        // Unconfirmed requests expire after 48 hours.
        try subscriptions.subscribe(
            NewProvider(organization: "Slow Reader", emails: ["late@slow.example"], projects: ["demo"]))
        db.manualClock.advance(by: 48 * 3600 + 1)
        #expect(try subscriptions.expireUnconfirmed(now: db.clock.now) == 1)
        #expect(try db.providerRecords.list(status: .pendingConfirmation).isEmpty)
        #expect(try db.audit.list(limit: 1).first?.action == "provider.expire")
    }

    @Test func aChangeBetweenChoosingAndFiringANoticeIsNoError() throws {
        let db = try TestDatabase()
        try db.addProject()
        let advisory = try scheduled(db, earlyNotice: false)
        db.manualClock.advance(by: 86_400)
        var failures: [Advisories.Failure] = []
        // A reschedule commits after the scheduler chose the publication and before it fires.
        let fired = try db.advisories.fireDue(
            failed: { failures.append($0) },
            beforeFire: { id, kind in
                #expect(kind == .publication)
                _ = try db.advisories.reschedule(
                    id,
                    to: {
                        var s = $0
                        s.embargo = db.clock.now + 3600
                        return s
                    }, notes: .none, actor: db.actor)
            })
        #expect(fired.isEmpty && failures.isEmpty)
        #expect(try db.advisories.get(advisory.id).state == .scheduled)
        db.manualClock.advance(by: 3600)
        #expect(try db.advisories.fireDue().map(\.kind) == [.publication])
    }

    @Test func aNoticeThatFailsDoesNotStopTheOthers() throws {
        let db = try TestDatabase()
        try db.addProject()
        let failing = try scheduled(db, title: "First", earlyNotice: false)
        let other = try scheduled(db, title: "Second", earlyNotice: false)
        db.manualClock.advance(by: 86_400)
        try db.database.execute(
            """
            CREATE TRIGGER fail_one BEFORE INSERT ON notices WHEN NEW.advisory_id = \(failing.id)
            BEGIN SELECT RAISE(ABORT, 'disk full, say'); END
            """)
        var failures: [Advisories.Failure] = []
        #expect(try db.advisories.fireDue(failed: { failures.append($0) }).map(\.advisoryID) == [other.id])
        #expect(failures.map(\.advisoryID) == [failing.id])
        #expect(try db.advisories.get(failing.id).state == .scheduled)  // its transaction rolled back whole
        try db.database.execute("DROP TRIGGER fail_one")
        #expect(try db.advisories.fireDue().map(\.advisoryID) == [failing.id])
    }

    @Test func thePublicFingerprintIgnoresEverythingPrivate() throws {
        let db = try TestDatabase()
        try db.addProject()
        _ = try provider(db, "Acme")
        let publicStore = PublicStore(database: db.database, clock: db.clock)
        let before = try publicStore.fingerprint()
        let embargoed = try scheduled(db)
        _ = try db.advisories.fireDue()  // the early notice
        _ = try db.advisories.reschedule(
            embargoed.id,
            to: {
                var s = $0
                s.embargo! += 60
                return s
            }, notes: .none, actor: db.actor)
        _ = try db.advisories.revise(embargoed.id, AdvisoryPatch(title: "Worse"), notes: .none, actor: db.actor)
        _ = try db.advisories.cancel(
            try scheduled(db, earlyNotice: false).id, notes: try ChangeNotes(reason: "dup"), actor: db.actor)
        try db.stores.subscriptions
            .subscribe(
                NewProvider(organization: "Listed Later", emails: ["a@later.example"], projects: ["demo"], listed: true)
            )
        #expect(try publicStore.fingerprint() == before)
        // What is public changes it: a pre-announcement, then a publication.
        _ = try scheduled(db, earlyNotice: false, preAnnounce: true)
        _ = try db.advisories.fireDue()
        let announced = try publicStore.fingerprint()
        #expect(announced != before)
        _ = try db.advisories.publishNow(embargoed.id, notes: try ChangeNotes(reason: "leak"), actor: db.actor)
        #expect(try publicStore.fingerprint() != announced)
    }

    @Test func messageIdsComeFromARandomKeyNotTheNoticeNumber() throws {
        let db = try TestDatabase()
        try db.addProject()
        _ = try provider(db, "Acme")
        _ = try db.channels.add(
            NewChannel(projectSlug: "demo", kind: .email, target: "announce@lists.example", secret: nil),
            actor: db.actor)
        _ = try db.channels.add(
            NewChannel(projectSlug: "demo", kind: .webhook, target: "https://hooks.example/in", secret: nil),
            actor: db.actor)
        let first = try scheduled(db, earlyNotice: false)
        _ = try db.advisories.publishNow(first.id, notes: try ChangeNotes(reason: "x"), actor: db.actor)
        _ = try scheduled(db)
        _ = try db.advisories.fireDue()  // a private notice in between
        let second = try scheduled(db, earlyNotice: false)
        _ = try db.advisories.publishNow(second.id, notes: try ChangeNotes(reason: "x"), actor: db.actor)
        let rows = try db.database.query(
            "SELECT d.message_id, n.id, n.key FROM deliveries d JOIN notices n ON n.id = d.notice_id"
        ) {
            ($0.text(0), $0.int(1), $0.text(2))
        }
        #expect(rows.count >= 5)
        for (messageID, notice, key) in rows {
            #expect(key.count == 16 && key.allSatisfy(\.isHexDigit))
            #expect(messageID.hasPrefix("herald.\(key).") || messageID.hasPrefix("msg_\(key)_"), "\(messageID)")
            #expect(
                !messageID.contains(".\(notice).") && !messageID.contains("_\(notice)_"),
                "\(messageID) names notice \(notice)")
        }
        #expect(Set(rows.map(\.2)).count == 3)  // one key per notice
    }

    @Test func secretsStayWhereTheyLiveAndListingsShowFingerprints() throws {
        let db = try TestDatabase()
        try db.addProject()
        let secret = WebhookSecret.make(key: Array(repeating: 7, count: 32))
        let hook = try db.channels.add(
            NewChannel(projectSlug: "demo", kind: .webhook, target: "https://hooks.example/in", secret: secret),
            actor: db.actor)
        let slack = try db.channels.add(
            NewChannel(
                projectSlug: "demo", kind: .slack, target: "https://hooks.slack.com/services/T0/B0/SECRETPART",
                secret: nil),
            actor: db.actor)
        let matrix = try db.channels.add(
            NewChannel(
                projectSlug: "demo", kind: .matrix, target: "https://matrix.example/_matrix/client/v3/rooms/!r:example",
                secret: "syt_matrix_access_token"), actor: db.actor)
        let partner = try db.providers.add(
            NewProvider(
                organization: "Partner", emails: ["a@partner.example"],
                webhooks: [("https://partner.example/hook", .webhook)],
                projects: ["demo"]), status: .active, actor: db.actor)
        let advisory = try scheduled(db)
        _ = try db.advisories.fireDue()
        _ = try db.advisories.publishNow(advisory.id, notes: try ChangeNotes(reason: "x"), actor: db.actor)

        // Deliveries keep no secret; a claim reads it from where it lives.
        let columns = try db.database.query("SELECT name FROM pragma_table_info('deliveries')") { $0.text(0) }
        #expect(!columns.contains("secret"))
        let claimed = try db.outbox.claim(limit: 100, lease: 60, perHost: 100)
        let bySecret = Dictionary(grouping: claimed.filter { $0.transport == .webhook }, by: \.recipient).mapValues {
            $0.map(\.secret)
        }
        #expect(bySecret[hook.target]?.allSatisfy { $0 == secret } == true)
        #expect(bySecret[matrix.target]?.allSatisfy { $0 == "syt_matrix_access_token" } == true)
        #expect(bySecret["https://partner.example/hook"]?.allSatisfy { $0 == partner.webhooks[0].secret } == true)

        // Listings: fingerprints only.
        let listed =
            try String(decoding: JSONEncoder.herald.encode(db.channels.list()), as: UTF8.self)
            + String(decoding: JSONEncoder.herald.encode(db.providerRecords.list()), as: UTF8.self)
            + String(decoding: JSONEncoder.herald.encode(db.outbox.list()), as: UTF8.self)
        for leak in [secret, "SECRETPART", "syt_matrix_access_token", partner.webhooks[0].secret!] {
            #expect(!listed.contains(leak), "a listing shows \(leak)")
        }
        #expect(hook.redacted.secret?.hasPrefix("whsec_…") == true && hook.redacted.secret?.count == 11)
        #expect(slack.redacted.target.hasPrefix("https://hooks.slack.com/…"))

        // A removed channel's secret goes with it, and what still waited for it is not sent unsigned.
        try db.database.run("UPDATE deliveries SET lease_until = NULL")
        try db.channels.remove(hook.id, actor: db.actor)
        #expect(try db.outbox.claim(limit: 100, lease: 60, perHost: 100).allSatisfy { $0.recipient != hook.target })
        let states = try db.database.query(
            "SELECT state, last_error FROM deliveries WHERE channel_id = ?", .integer(hook.id)
        ) { "\($0.text(0)): \($0.text(1))" }
        #expect(!states.isEmpty && states.allSatisfy { $0 == "dead: not sent: the channel was removed" }, "\(states)")
    }

    @Test func publicRevisionsCarryOnlyThePublicNote() throws {
        let db = try TestDatabase()
        try db.addProject()
        let advisory = try scheduled(db, earlyNotice: false)
        let notes = try ChangeNotes(
            reason: "Dimpact needs one more day", toProviders: "one more day", publicNote: "Release moved by a day")
        _ = try db.advisories.reschedule(
            advisory.id,
            to: {
                var s = $0
                s.embargo! += 3600
                return s
            }, notes: notes, actor: db.actor)
        _ = try db.advisories.publishNow(
            advisory.id, notes: try ChangeNotes(reason: "leak at Dimpact"), actor: db.actor)
        let found = try #require(
            try PublicStore(database: db.database, clock: db.clock).published(publicID: advisory.publicID))
        #expect(found.revisions.map(\.publicNote) == ["", "Release moved by a day"])
        // The reasons stay with the release managers: in the revisions and the audit log.
        #expect(try db.advisoryRecords.revisions(of: advisory.id).map(\.reason) == ["", "Dimpact needs one more day"])
        #expect(try db.audit.list(limit: 1).first?.reason == "leak at Dimpact")
    }

    /// Publishing now keeps the revision; its public note used to be dropped without a word.
    /// It is shown with the revision's own, and the reason still is not.
    @Test func publishingNowShowsItsPublicNote() throws {
        let db = try TestDatabase()
        try db.addProject()
        let advisory = try scheduled(db, earlyNotice: false)
        _ = try db.advisories.reschedule(
            advisory.id,
            to: {
                var s = $0
                s.embargo! += 3600
                return s
            }, notes: try ChangeNotes(reason: "r", publicNote: "Release moved by a day"), actor: db.actor)
        _ = try db.advisories.publishNow(
            advisory.id, notes: try ChangeNotes(reason: "leak at Dimpact", publicNote: "Published early: it leaked."),
            actor: db.actor)
        let found = try #require(
            try PublicStore(database: db.database, clock: db.clock).published(publicID: advisory.publicID))
        #expect(found.revisions.map(\.publicNote) == ["", "Release moved by a day\nPublished early: it leaked."])
        #expect(!found.revisions.map(\.publicNote).joined().contains("Dimpact"))
    }

    @Test func theDatabaseFileIsReadableByItsOwnerOnly() throws {
        let db = try TestDatabase()
        try db.addProject()
        func modes() throws -> [Int] {
            try ["", "-wal", "-shm"].map {
                try FileManager.default.attributesOfItem(atPath: db.path + $0)[.posixPermissions] as? Int ?? -1
            }
        }
        let created = try modes()
        #expect(created.allSatisfy { $0 & 0o077 == 0 }, "\(created)")
        // A file an earlier version made readable by all is tightened when it is opened.
        for suffix in ["", "-wal", "-shm"] { chmod(db.path + suffix, 0o644) }
        _ = try Database(path: db.path)
        let reopened = try modes()
        #expect(reopened.allSatisfy { $0 & 0o077 == 0 }, "\(reopened)")
    }

    @Test func twoProvidersSharingAnAddressOrWebhookEachGetTheirCopy() throws {
        // Message ids were unique per recipient only: a shared address made the fan-out fail.
        let db = try TestDatabase()
        try db.addProject()
        for name in ["First Hosting", "Second Hosting"] {
            _ = try db.providers.add(
                NewProvider(
                    organization: name, emails: ["sec@shared.example"],
                    webhooks: [("https://shared.example/hook", .webhook)],
                    projects: ["demo"]), status: .active, actor: db.actor)
        }
        let advisory = try scheduled(db)
        #expect(try db.advisories.fireDue().map(\.kind) == [.earlyNotice])
        #expect(
            try recipients(db, advisory, .earlyNotice) == [
                "First Hosting", "First Hosting", "Second Hosting", "Second Hosting",
            ])
    }
}
