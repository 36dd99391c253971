import Foundation
import HeraldCore
import HeraldStore
import HeraldTestSupport
import Testing

/// A provider notice larger than one share is written a share per transaction (issue 18): every
/// address once, whatever happens between two shares.
@Suite struct ShareWiseFanOutTests {
    /// A database whose provider notices are written three providers at a time.
    func database() throws -> TestDatabase {
        let db = try TestDatabase()
        db.settings.providersPerTransaction = 3
        try db.addProject()
        return db
    }

    @discardableResult
    func addProvider(
        _ db: TestDatabase, _ name: String, emails: [String], language: Language = .english,
        webhook: String? = nil, status: ProviderStatus = .active
    ) throws -> Provider {
        try db.providers.add(
            NewProvider(
                organization: name, emails: emails, webhooks: webhook.map { [(url: $0, kind: .slack)] } ?? [],
                projects: ["demo"], language: language), status: status, actor: db.actor)
    }

    func scheduled(_ db: TestDatabase) throws -> Advisory {
        try db.advisories.create(
            project: "demo", content: AdvisoryContent(title: "Overflow"),
            schedule: Schedule(embargo: db.clock.now + 86_400, earlyNotice: db.clock.now), actor: db.actor)
    }

    /// (provider, recipient) of every row of `kind`, and how many times each occurs.
    func rows(_ db: TestDatabase, _ kind: String) throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for key in try db.database.query(
            """
            SELECT d.provider_id || ' ' || d.recipient FROM deliveries d JOIN notices n ON n.id = d.notice_id
            WHERE n.kind = ?
            """, .text(kind), map: { $0.text(0) })
        {
            counts[key, default: 0] += 1
        }
        return counts
    }

    func unfinished(_ db: TestDatabase) throws -> Int64 { try db.count("provider_fan_outs") }

    /// Writes every share left, as the scheduler would.
    func finish(_ db: TestDatabase) throws {
        while try db.outbox.continueFanOut() == true {}
    }

    @Test func aLargeNoticeIsWrittenAShareAtATimeAndReachesEveryAddressOnce() throws {
        let db = try database()
        var expected: [String] = []
        for i in 0..<8 {
            let emails = i % 3 == 0 ? ["a\(i)@org\(i).example", "b\(i)@org\(i).example"] : ["a\(i)@org\(i).example"]
            // The last provider alone speaks Dutch and has a webhook: both are written from the
            // first transaction, which does not write its address.
            let provider = try addProvider(
                db, "Org \(i)", emails: emails, language: i == 7 ? .dutch : .english,
                webhook: i == 7 ? "https://chat.org7.example/hook" : nil)
            expected += emails.map { "\(provider.id) \($0)" }
            if i == 7 { expected.append("\(provider.id) https://chat.org7.example/hook") }
        }
        let advisory = try scheduled(db)
        #expect(try db.advisories.fireDue().map(\.kind) == [.earlyNotice])
        // The first share: three providers' addresses (four rows) and every webhook.
        #expect(try rows(db, "early-notice").count == 5)
        #expect(try rows(db, "early-notice").keys.contains { $0.hasSuffix("https://chat.org7.example/hook") })
        #expect(try unfinished(db) == 1)

        // Each share's rows are the worker's to claim.
        var shares = 0
        while let written = try db.outbox.writeShare() {
            #expect(written.toClaim)
            shares += 1
            if !written.more { break }
        }
        #expect(shares == 2)
        #expect(try db.outbox.continueFanOut() == nil)
        #expect(try unfinished(db) == 0)
        let written = try rows(db, "early-notice")
        #expect(written.keys.sorted() == expected.sorted())
        #expect(written.values.allSatisfy { $0 == 1 })
        #expect(
            try db.database.first("SELECT recipients FROM notices WHERE kind = 'early-notice'") { Int($0.int(0)) }
                == expected.count)
        // The Dutch template was written up front, for an address written in a later share.
        let dutch = try #require(
            try db.sentMessages("SELECT id FROM deliveries WHERE recipient = 'a7@org7.example'").first)
        #expect(DecodedMail(dutch).subject == "[EMBARGO] Demo: Overflow")
        #expect(try db.outbox.list(advisory: advisory.id).count == expected.count)
    }

    /// A publication after an early notice to a large audience reads, in its transaction at the
    /// instant, a share of those told and not all of them: its work is about the same for 60
    /// providers told as for 600. It read the whole told list twice, for their languages and
    /// for the webhooks among them (60 ms each for 100,000 providers); with 600 it did six times the
    /// work it did with 60. Every one told is still told, in their own language.
    @Test func aPublicationsFirstTransactionReadsAShareOfThoseToldNotAll() throws {
        func publicationWork(told: Int) throws -> Int {
            let db = try TestDatabase()
            db.settings.providersPerTransaction = 20
            try db.addProject()
            for i in 0..<told {
                try addProvider(
                    db, "Org \(i)", emails: ["a\(i)@org\(i).example"], language: i == told - 1 ? .danish : .english,
                    webhook: i % 50 == 0 ? "https://chat.org\(i).example/hook" : nil)
            }
            _ = try scheduled(db)
            #expect(try db.advisories.fireDue().map(\.kind) == [.earlyNotice])
            try finish(db)
            db.manualClock.advance(by: 86_400)
            let (fired, work) = try db.database.countingWork { try db.advisories.fireDue() }
            #expect(fired.map(\.kind) == [.publication])
            try finish(db)
            #expect(try rows(db, "publication").count == told + (told + 49) / 50)
            // The Danish provider, last of all and so in the last share, is told in Danish.
            let danish = try #require(
                try db.sentMessages(
                    "SELECT id FROM deliveries WHERE recipient = 'a\(told - 1)@org\(told - 1).example'"
                        + " AND notice_id = (SELECT id FROM notices WHERE kind = 'publication')"
                ).first)
            let english = try #require(
                try db.sentMessages(
                    "SELECT id FROM deliveries WHERE recipient = 'a1@org1.example'"
                        + " AND notice_id = (SELECT id FROM notices WHERE kind = 'publication')"
                ).first)
            #expect(DecodedMail(danish).subject == "Nu offentlig: Demo: Overflow")
            #expect(DecodedMail(english).subject != DecodedMail(danish).subject)
            return work
        }
        let few = try publicationWork(told: 60)
        let many = try publicationWork(told: 600)
        #expect(many < few * 3 / 2, "\(few) → \(many) steps")
    }

    /// A dry run counts the rest of a notice larger than one share and does not write it (it
    /// wrote it all inside its transaction: half a second of the write lock for 100,000
    /// providers, which a publication due then waited for). Inside the rehearsal only the
    /// first share's rows exist; what it counts is what the notice then reaches, written whole.
    @Test func aRehearsalCountsTheRestOfALargeNoticeWithoutWritingIt() throws {
        let db = try database()
        for i in 0..<8 {
            try addProvider(
                db, "Org \(i)",
                emails: i % 3 == 0 ? ["a\(i)@org\(i).example", "b\(i)@org\(i).example"] : ["a\(i)@org\(i).example"],
                webhook: i == 7 ? "https://chat.org7.example/hook" : nil)
        }
        let advisory = try scheduled(db)
        let (rehearsed, rowsInside) = try db.database.rehearse {
            let before = try db.outbox.lastDeliveryID()
            #expect(try db.advisories.fireDue().map(\.kind) == [.earlyNotice])
            return (try db.outbox.reach(advisory: advisory.id, after: before), try db.count("deliveries"))
        }
        // The first share: three providers' addresses (four rows) and every webhook.
        #expect(rowsInside == 5)
        #expect(try db.count("deliveries") == 0)
        #expect(try db.advisories.fireDue().map(\.kind) == [.earlyNotice])
        try finish(db)
        let written = try db.outbox.reach(advisory: advisory.id, after: 0)
        #expect(rehearsed == written)
        #expect(written.first?.providers == 8 && written.first?.addresses == 11 && written.first?.providerWebhooks == 1)
    }

    @Test func aProviderToldWhileTheNoticeIsBeingWrittenIsNotWrittenAgain() throws {
        let db = try database()
        for i in 0..<5 { try addProvider(db, "Org \(i)", emails: ["a\(i)@org\(i).example"]) }
        let late = try addProvider(db, "Latecomer", emails: ["l@late.example"], status: .pendingApproval)
        _ = try scheduled(db)
        _ = try db.advisories.fireDue()
        #expect(try unfinished(db) == 1)
        // Approved between two shares: told at once, as any provider joining under embargo.
        _ = try db.providers.transition(late.id, .approve, actor: db.actor)
        #expect(try rows(db, "early-notice")["\(late.id) l@late.example"] == 1)
        try finish(db)
        let written = try rows(db, "early-notice")
        #expect(written.count == 6)
        #expect(written.values.allSatisfy { $0 == 1 }, "\(written)")
        #expect(try db.database.first("SELECT recipients FROM notices WHERE kind = 'early-notice'") { $0.int(0) } == 6)
    }

    @Test func theNextNoticeOfTheAdvisoryWaitsUntilTheLastReachedEveryone() throws {
        let db = try database()
        for i in 0..<7 { try addProvider(db, "Org \(i)", emails: ["a\(i)@org\(i).example"]) }
        let advisory = try scheduled(db)
        _ = try db.advisories.fireDue()
        #expect(try rows(db, "early-notice").count == 3)
        // A revision goes to those told before: the early notice is written to the end first.
        _ = try db.advisories.reschedule(
            advisory.id,
            to: { s in
                var s = s
                s.embargo! += 3600
                return s
            }, notes: try ChangeNotes(reason: ""), actor: db.actor)
        #expect(try rows(db, "early-notice").count == 7)
        // The revision's own first share; the rest is written share-wise too.
        #expect(try rows(db, "revision").count == 3)
        try finish(db)
        #expect(try rows(db, "revision").count == 7)
        #expect(try unfinished(db) == 0)

        // Told by different notices: the early notice's seven, and a latecomer told with the
        // revision. The cancellation reaches the eight, each once, share by share.
        let late = try addProvider(db, "Latecomer", emails: ["l@late.example"], status: .pendingApproval)
        _ = try db.providers.transition(late.id, .approve, actor: db.actor)
        #expect(try rows(db, "revision")["\(late.id) l@late.example"] == 1)
        _ = try db.advisories.cancel(advisory.id, notes: try ChangeNotes(reason: "not a bug"), actor: db.actor)
        try finish(db)
        let cancelled = try rows(db, "cancellation")
        #expect(cancelled.count == 8, "\(cancelled)")
        #expect(cancelled.values.allSatisfy { $0 == 1 })
    }

    @Test func anotherAdvisorysPublicationDoesNotWaitForTheNotice() throws {
        let db = try database()
        for i in 0..<7 { try addProvider(db, "Org \(i)", emails: ["a\(i)@org\(i).example"]) }
        _ = try db.channels.add(
            NewChannel(projectSlug: "demo", kind: .slack, target: "https://chat.example/hook", secret: nil),
            actor: db.actor)
        _ = try scheduled(db)
        let other = try db.advisories.create(
            project: "demo", content: AdvisoryContent(title: "Other"),
            schedule: Schedule(embargo: db.clock.now + 10), actor: db.actor)
        _ = try db.advisories.fireDue()
        #expect(try unfinished(db) == 1)
        db.manualClock.advance(by: 10)
        #expect(try db.advisories.fireDue().map(\.advisoryID) == [other.id])
        // Written while the early notice still waits for its next shares.
        #expect(try rows(db, "publication").count == 1)
        #expect(try rows(db, "early-notice").count == 3)
        try finish(db)
        #expect(try rows(db, "early-notice").count == 7)
    }

    @Test func aProviderWhoLeftBeforeItsShareIsNotWritten() throws {
        let db = try database()
        var providers: [Provider] = []
        for i in 0..<6 { providers.append(try addProvider(db, "Org \(i)", emails: ["a\(i)@org\(i).example"])) }
        _ = try scheduled(db)
        _ = try db.advisories.fireDue()
        _ = try db.providers.transition(providers[4].id, .suspend, reason: "left", actor: db.actor)
        try finish(db)
        let written = try rows(db, "early-notice")
        #expect(written.count == 5)
        #expect(written["\(providers[4].id) a4@org4.example"] == nil)
    }

    @Test func aProviderWhoChangesItsLanguageBeforeItsShareStillGetsItsRow() throws {
        let db = try database()
        // Where a key is required, an address without one gets the message naming no advisory,
        // one per language: the languages were those of the audience at the first share.
        _ = try db.projects.setEncryption("demo", .required, actor: db.actor)
        var providers: [Provider] = []
        for i in 0..<5 { providers.append(try addProvider(db, "Org \(i)", emails: ["a\(i)@org\(i).example"])) }
        _ = try scheduled(db)
        _ = try db.advisories.fireDue()
        try db.database.run("UPDATE providers SET language = 'nl' WHERE id = ?", .integer(providers[4].id))
        try finish(db)
        #expect(try unfinished(db) == 0)
        #expect(try rows(db, "early-notice").count == 5)
        // In the project's language, which has a template; it names no advisory.
        let sent = try #require(
            try db.sentMessages("SELECT id FROM deliveries WHERE recipient = 'a4@org4.example'").first)
        #expect(sent.contains("https://herald.test/portal") && !sent.contains("Overflow"))
    }

    @Test func aProviderWhoseWebhookWentFirstAndWhoCameBackGetsItsAddressesToo() throws {
        let db = try database()
        var providers: [Provider] = []
        for i in 0..<5 {
            providers.append(
                try addProvider(
                    db, "Org \(i)", emails: ["a\(i)@org\(i).example"],
                    webhook: i == 4 ? "https://chat.org4.example/hook" : nil))
        }
        _ = try scheduled(db)
        _ = try db.advisories.fireDue()
        // Its webhook went with the first share; it was away when its addresses' share came.
        #expect(try rows(db, "early-notice")["\(providers[4].id) https://chat.org4.example/hook"] == 1)
        _ = try db.providers.transition(providers[4].id, .suspend, reason: "away", actor: db.actor)
        try finish(db)
        #expect(try rows(db, "early-notice")["\(providers[4].id) a4@org4.example"] == nil)
        _ = try db.providers.transition(providers[4].id, .approve, actor: db.actor)
        let written = try rows(db, "early-notice")
        #expect(written["\(providers[4].id) a4@org4.example"] == 1)
        #expect(written["\(providers[4].id) https://chat.org4.example/hook"] == 1, "not written twice")
    }

    @Test func aCancellationStopsTheNoticeAndTellsOnlyThoseWhoWereTold() throws {
        let db = try database()
        for i in 0..<7 { try addProvider(db, "Org \(i)", emails: ["a\(i)@org\(i).example"]) }
        let advisory = try scheduled(db)
        _ = try db.advisories.fireDue()
        _ = try db.advisories.cancel(advisory.id, notes: try ChangeNotes(reason: "not a bug"), actor: db.actor)
        try finish(db)
        // The four not yet written never learn what was cancelled.
        #expect(try rows(db, "early-notice").count == 3)
        #expect(try rows(db, "cancellation").count == 3)
        #expect(try unfinished(db) == 0)
    }

    // MARK: - A publication's public channels

    /// A project with `count` chat and webhook channels (every third a Dutch Slack, the others
    /// generic webhooks) and a mailing list, written three at a time after the first two (or
    /// two at least when only some fit the worker's room).
    func channelDatabase(_ count: Int) throws -> (TestDatabase, [Channel]) {
        let db = try TestDatabase()
        db.settings.channelsFirstShare = 2
        db.settings.channelsPerTransaction = 3
        db.settings.channelsLeasedAtLeast = 2
        try db.addProject()
        _ = try db.channels.add(
            NewChannel(projectSlug: "demo", kind: .email, target: "announce@lists.example", secret: nil),
            actor: db.actor)
        var channels: [Channel] = []
        for i in 0..<count {
            channels.append(
                try db.channels.add(
                    i % 3 == 0
                        ? NewChannel(
                            projectSlug: "demo", kind: .slack, target: "https://chat.example/\(i)", secret: nil,
                            language: .dutch)
                        : NewChannel(
                            projectSlug: "demo", kind: .webhook, target: "https://hooks.example/\(i)", secret: nil),
                    actor: db.actor))
        }
        return (db, channels)
    }

    /// Channel id → how many rows the publication has for it; and how many bodies they share.
    func channelRows(_ db: TestDatabase) throws -> (rows: [Int64: Int], bodies: Int) {
        var rows: [Int64: Int] = [:]
        for id in try db.database.query(
            """
            SELECT d.channel_id FROM deliveries d JOIN notices n ON n.id = d.notice_id
            WHERE n.kind = 'publication' AND d.transport = 'webhook'
            """, map: { $0.int(0) })
        {
            rows[id, default: 0] += 1
        }
        let bodies =
            try db.database.first(
                """
                SELECT count(DISTINCT d.payload_id) FROM deliveries d JOIN notices n ON n.id = d.notice_id
                WHERE n.kind = 'publication' AND d.transport = 'webhook'
                """, map: { Int($0.int(0)) }) ?? 0
        return (rows, bodies)
    }

    @Test func aPublicationWritesItsFirstChannelsAtOnceAndTheRestAShareAtATime() throws {
        let (db, channels) = try channelDatabase(10)
        let advisory = try scheduled(db)
        _ = try db.advisories.publishNow(advisory.id, notes: try ChangeNotes(reason: "leak"), actor: db.actor)
        // With the publication: the list and the first two endpoints, and what the rest needs.
        #expect(try channelRows(db).rows.keys.sorted() == channels.prefix(2).map(\.id))
        #expect(try db.count("deliveries") == 3)
        #expect(try db.count("channel_fan_outs") == 1)
        #expect(try db.outbox.isWritingFanOut(advisory: advisory.id))

        // Between two shares: a channel added after the instant is not one the publication had,
        // even with the id of one removed (the last: SQLite gives its id again); one disabled is
        // not written to.
        try db.channels.remove(channels[9].id, actor: db.actor)
        db.manualClock.advance(by: 1)
        let late = try db.channels.add(
            NewChannel(projectSlug: "demo", kind: .webhook, target: "https://hooks.example/late", secret: nil),
            actor: db.actor)
        try db.database.run("UPDATE channels SET disabled_at = 1 WHERE id = ?", .integer(channels[8].id))
        var shares = 0
        while try db.outbox.continueFanOut() == true { shares += 1 }
        #expect(late.id == channels[9].id)
        #expect(shares == 2)  // channels 3-5, 6-8 (8 disabled) and 9 (removed)
        let (rows, bodies) = try channelRows(db)
        let expected = channels.prefix(8).map(\.id)
        #expect(rows.keys.sorted() == expected)
        #expect(rows.values.allSatisfy { $0 == 1 }, "\(rows)")
        // One body per format and language, the same in every share.
        #expect(bodies == 2)
        #expect(try db.count("channel_fan_outs") == 0)
        #expect(
            try db.database.first("SELECT recipients FROM notices WHERE kind = 'publication'") { Int($0.int(0)) }
                == expected.count + 1)
    }

    @Test func aDryRunOfAPublicationCountsEveryChannelAndTheNextNoticeWaitsForThem() throws {
        let (db, channels) = try channelDatabase(7)
        let advisory = try scheduled(db)
        let (rehearsed, rowsInside) = try db.database.rehearse {
            let before = try db.outbox.lastDeliveryID()
            _ = try db.advisories.publishNow(advisory.id, notes: try ChangeNotes(reason: "leak"), actor: db.actor)
            return (try db.outbox.reach(advisory: advisory.id, after: before), try db.count("deliveries"))
        }
        #expect(rowsInside == 3)
        #expect(rehearsed.first?.channels == 8)
        #expect(try db.count("deliveries") == 0)

        _ = try db.advisories.publishNow(advisory.id, notes: try ChangeNotes(reason: "leak"), actor: db.actor)
        // A revision of the published advisory finds its channels all written first.
        _ = try db.advisories.revise(
            advisory.id, AdvisoryPatch(summary: "Corrected."), notes: try ChangeNotes(reason: "typo"), actor: db.actor)
        #expect(try channelRows(db).rows.keys.sorted() == channels.map(\.id))
        #expect(try db.count("channel_fan_outs") == 0)
        #expect(try db.outbox.reach(advisory: advisory.id, after: 0).first?.channels == 8)
    }

    @Test func aCancellationWaitsUntilThePreAnnouncementReachedEveryChannel() throws {
        let (db, channels) = try channelDatabase(6)
        let advisory = try db.advisories.create(
            project: "demo", content: AdvisoryContent(title: "Overflow"),
            schedule: Schedule(embargo: db.clock.now + 86_400, preAnnounce: db.clock.now), actor: db.actor)
        #expect(try db.advisories.fireDue().map(\.kind) == [.preAnnouncement])
        #expect(try db.count("channel_fan_outs") == 1)
        db.manualClock.advance(by: 1)
        let late = try db.channels.add(
            NewChannel(projectSlug: "demo", kind: .webhook, target: "https://hooks.example/late", secret: nil),
            actor: db.actor)
        _ = try db.advisories.cancel(advisory.id, notes: try ChangeNotes(reason: "not a flaw"), actor: db.actor)
        // The pre-announcement reached every channel it had before the cancellation was written,
        // not after it; the cancellation goes to those and to the channels there are now, in shares.
        func ids(_ kind: String) throws -> [Int64] {
            try db.database.query(
                """
                SELECT d.channel_id FROM deliveries d JOIN notices n ON n.id = d.notice_id
                WHERE n.kind = ? AND d.transport = 'webhook' ORDER BY d.channel_id
                """, .text(kind), map: { $0.int(0) })
        }
        #expect(try ids("pre-announcement") == channels.map(\.id))
        while try db.outbox.continueFanOut() == true {}
        #expect(try ids("cancellation") == channels.map(\.id) + [late.id])
    }

    // MARK: - Rows handed to the worker of this process

    /// The rows of `ids` as a claim reads them, once released: what the worker would have sent.
    func claimedAgain(_ db: TestDatabase, _ ids: [Int64]) throws -> [ClaimedDelivery] {
        try db.outbox.record(ids.map { .released(id: $0) })
        return try db.outbox.recordAndClaim([], limit: 100, lease: 60, perHost: 100).filter { ids.contains($0.id) }
            .sorted { $0.id < $1.id }
    }

    /// Hands what `db`'s stores lease to a worker's handoff that offered `room`; an advisory to publish.
    func handing(_ db: TestDatabase, room: Int) throws -> (DeliveryHandoff, Advisory) {
        let handoff = DeliveryHandoff()
        handoff.open(lease: 600, wake: {})
        handoff.offer(room: room, perHost: [:], otherHosts: 100, sending: false)
        db.handoff = handoff
        return (handoff, try scheduled(db))
    }

    @Test func aPublicationHandsItsChannelRowsLeasedToTheWorkerAsTheyCommitWhileItHasRoom() throws {
        let (db, channels) = try channelDatabase(13)
        let (handoff, advisory) = try handing(db, room: 5)
        _ = try db.advisories.publishNow(advisory.id, notes: try ChangeNotes(reason: "leak"), actor: db.actor)
        // The first share: leased in the database, counted as an attempt, and handed whole.
        let first = handoff.take()
        #expect(Set(first.map(\.recipient)) == Set(channels.prefix(2).map(\.target)))
        #expect(first.allSatisfy { $0.attempts == 1 && $0.transport == .webhook && !$0.payload.isEmpty })
        #expect(first.filter { $0.format == .webhook }.allSatisfy { $0.secret?.hasPrefix("whsec_") == true })
        let leased = try db.database.query(
            "SELECT id FROM deliveries WHERE lease_until IS NOT NULL AND attempts = 1 ORDER BY id", map: { $0.int(0) })
        #expect(leased == first.map(\.id))
        // Leased, they are no claim's: the worker's look for due rows finds the mailing list's only.
        #expect(try db.outbox.recordAndClaim([], limit: 100, lease: 60, perHost: 100).map(\.transport) == [.email])

        // The next share (three) still fits; the one after does not, and waits to be claimed:
        // only then is the worker to be rung for a claim.
        #expect(try db.outbox.writeShare() == .init(more: true, toClaim: false))
        let second = handoff.take()
        #expect(Set(second.map(\.recipient)) == Set(channels[2..<5].map(\.target)))
        #expect(try db.outbox.writeShare() == .init(more: true, toClaim: true))
        #expect(handoff.take().isEmpty)
        let claimed = try db.outbox.recordAndClaim([], limit: 100, lease: 60, perHost: 100)
        #expect(Set(claimed.map(\.recipient)) == Set(channels[5..<8].map(\.target)))
        // Room for the first rows of a share only (one more of hooks.example): the share is cut
        // before the first that does not fit, and the rest is the next share's.
        handoff.offer(room: 100, perHost: ["hooks.example": 1], otherHosts: 100, sending: true)
        #expect(try db.outbox.writeShare() == .init(more: true, toClaim: false))
        #expect(Set(handoff.take().map(\.recipient)) == Set(channels[8..<10].map(\.target)))
        #expect(try db.outbox.recordAndClaim([], limit: 100, lease: 60, perHost: 100).isEmpty)
        // Fewer than two fit: the share is written whole, to be claimed.
        handoff.offer(room: 100, perHost: ["hooks.example": 1], otherHosts: 100, sending: true)
        #expect(try db.outbox.writeShare() == .init(more: false, toClaim: true))
        #expect(handoff.take().isEmpty)
        let claimedToo = try db.outbox.recordAndClaim([], limit: 100, lease: 60, perHost: 100)
        #expect(Set(claimedToo.map(\.recipient)) == Set(channels[10..<13].map(\.target)))
        #expect(try channelRows(db).rows.values.allSatisfy { $0 == 1 })

        // What was handed is what a claim of the same rows reads: the channel's secret, the
        // group's body (a Dutch Slack's is not a generic webhook's), the message id.
        let handed = (first + second).sorted { $0.id < $1.id }
        #expect(handed.contains { $0.format == .slack } && handed.contains { $0.format == .webhook })
        #expect(try claimedAgain(db, handed.map(\.id)) == handed)
    }

    @Test func aHandedRowLostWithItsProcessIsSentAfterTheRestart() throws {
        let (db, channels) = try channelDatabase(4)
        let (handoff, advisory) = try handing(db, room: 100)
        _ = try db.advisories.publishNow(advisory.id, notes: try ChangeNotes(reason: "leak"), actor: db.actor)
        let handed = handoff.take()
        #expect(handed.count == 2)
        // The process dies with them in memory: the next start gives every lease back, and they
        // are claimed like any row (the lost attempt counted).
        #expect(try db.outbox.releaseAllLeases() == 2)
        let claimed = try db.outbox.recordAndClaim([], limit: 100, lease: 60, perHost: 100).filter {
            $0.transport == .webhook
        }
        #expect(Set(claimed.map(\.id)) == Set(handed.map(\.id)))
        #expect(Set(claimed.map(\.recipient)) == Set(channels.prefix(2).map(\.target)))
        #expect(claimed.allSatisfy { $0.attempts == 2 })
    }

    @Test func nothingIsHandedBeforeItCommitsNorWhenItDoesNotNorAfterTheWorkerStopped() throws {
        let (db, _) = try channelDatabase(4)
        let (handoff, advisory) = try handing(db, room: 100)
        // A dry run writes and undoes: it hands nothing, and leaves no lease behind.
        try db.database.rehearse {
            _ = try db.advisories.publishNow(advisory.id, notes: try ChangeNotes(reason: "leak"), actor: db.actor)
            #expect(handoff.take().isEmpty)
        }
        #expect(handoff.take().isEmpty)
        // A transaction that fails after writing them hands nothing either.
        struct Abandoned: Error {}
        #expect(throws: Abandoned.self) {
            try db.database.write {
                _ = try db.outbox.fanOut(
                    .publication, advisory: try db.advisoryRecords.get(advisory.id),
                    project: try db.projects.require("demo"))
                throw Abandoned()
            }
        }
        #expect(handoff.take().isEmpty)
        #expect(try db.count("deliveries") == 0)
        // Stopped: the rows are written unleased, for the next worker to claim.
        #expect(handoff.close().isEmpty)
        _ = try db.advisories.publishNow(advisory.id, notes: try ChangeNotes(reason: "leak"), actor: db.actor)
        #expect(handoff.take().isEmpty)
        #expect(
            try db.database.first("SELECT count(*) FROM deliveries WHERE lease_until IS NOT NULL") { $0.int(0) } == 0)
    }

    @Test func aHandedShareReadsItsOwnRowsNotTheNoticesEarlierOnes() throws {
        let (db, _) = try channelDatabase(450)
        let (handoff, advisory) = try handing(db, room: 1000)
        _ = try db.advisories.publishNow(advisory.id, notes: try ChangeNotes(reason: "leak"), actor: db.actor)
        // Each share handed, and the work SQLite does for it counted: the last, after some 450
        // rows of the notice, costs what the second did.
        var steps: [Int] = []
        var more = true
        while more {
            #expect(!handoff.take().isEmpty)
            handoff.offer(room: 1000, perHost: [:], otherHosts: 1000, sending: false)
            let (result, work) = try db.database.countingWork { try db.outbox.continueFanOut() }
            more = result == true
            steps.append(work)
        }
        #expect(handoff.take().count == 1)  // 448 after the first two: 149 shares of three, and one
        #expect(steps.count == 150)
        #expect(steps[steps.count - 2] < steps[1] * 2, "\(steps[1]) then \(steps[steps.count - 2])")
    }
}
