import Foundation
import HeraldApp
import HeraldCore
import HeraldStore
import HeraldTestSupport
import Testing

/// Who takes part in an advisory: the rule, a release manager's invitations and exclusions, and
/// the readiness table that says how far each has come.
@Suite struct ParticipationTests {
    func provider(_ db: TestDatabase, _ name: String, project: String = "demo") throws -> Provider {
        try db.providers.add(
            NewProvider(organization: name, emails: ["sec@\(name.lowercased()).example"], projects: [project]),
            status: .active,
            actor: db.actor)
    }

    func scheduled(_ db: TestDatabase, earlyNotice: Bool = true) throws -> Advisory {
        try db.advisories.create(
            project: "demo", content: AdvisoryContent(title: "Overflow"),
            schedule: Schedule(embargo: db.clock.now + 86_400, earlyNotice: earlyNotice ? db.clock.now : nil),
            actor: db.actor)
    }

    /// Sends everything that waits: delivered, in the store's record.
    func deliverAll(_ db: TestDatabase) throws -> [ClaimedDelivery] {
        let claimed = try db.outbox.claim(limit: 1000, lease: 60)
        try db.outbox.record(claimed.map { .delivered(id: $0.id, at: db.clock.now, via: "test") })
        return claimed
    }

    @Test func anExcludedProviderGetsNothingMoreAndWhatWaitedIsStopped() throws {
        let db = try TestDatabase()
        try db.addProject()
        let acme = try provider(db, "Acme")
        let rival = try provider(db, "Rival")
        let advisory = try scheduled(db)
        _ = try db.advisories.fireDue()
        // Excluded while its early notice still waits: the notice is stopped at the last moment.
        #expect(throws: Refusal.self) {
            try db.stores.participation.exclude(advisory.id, provider: rival.id, reason: "", actor: db.actor)
        }
        let excluded = try db.stores.participation.exclude(
            advisory.id, provider: rival.id, reason: "told the press", actor: db.actor)
        #expect(excluded.decision == .excluded && !excluded.takesPart)
        #expect(try deliverAll(db).map(\.recipient) == ["sec@acme.example"])
        let stopped = try db.outbox.list(advisory: advisory.id).first { $0.recipient == "sec@rival.example" }
        #expect(
            stopped?.state == .dead && stopped?.lastError == "not sent: the provider was excluded from the advisory")
        // Later notices leave it out.
        _ = try db.advisories.reschedule(
            advisory.id,
            to: {
                var s = $0
                s.embargo! += 3600
                return s
            }, notes: .none, actor: db.actor)
        #expect(
            try db.outbox.list(advisory: advisory.id).filter { $0.notice == "revision" }.map(\.recipient) == [
                "sec@acme.example"
            ])
        let readiness = try db.stores.participation.readiness(advisory.id)
        #expect(readiness.participants.map(\.organization) == ["Acme", "Rival"])
        #expect(
            readiness.totals == "1 participant · 1 notified · 0 seen · 0 acknowledged · 1 silent · 1 excluded",
            "\(readiness.totals)")
        #expect(
            try db.audit.list(limit: 5).contains { $0.action == "advisory.exclude" && $0.reason == "told the press" })
        // Its old acknowledgement link tells it nothing more, not even the title.
        #expect(throws: Refusal.self) {
            try db.stores.subscriptions.subject(of: try ackToken(db, to: rival.emails[0]), purpose: .ack)
        }
        #expect(throws: Refusal.self) {
            try db.stores.subscriptions.acknowledge(token: try ackToken(db, to: rival.emails[0]))
        }
        // A participant's link names the title as its notice told it, not as it is now.
        _ = try db.advisories.revise(advisory.id, AdvisoryPatch(title: "Renamed"), notes: .none, actor: db.actor)
        let early = try db.stores.subscriptions.subject(
            of: try ackToken(db, to: acme.emails[0], notice: "early-notice"), purpose: .ack)
        #expect(early.advisoryTitle == "Overflow" && early.revision == 1)
        // Invited again: what the exclusion stopped of the newest notice goes after all.
        let back = try db.stores.participation.invite(advisory.id, provider: rival.id, actor: db.actor)
        #expect(back.takesPart && back.waiting == 1, "\(back)")
    }

    /// The acknowledgement token in the newest (or `notice`'s) message to `address`.
    func ackToken(_ db: TestDatabase, to address: String, notice: String? = nil) throws -> String {
        let body = try #require(
            try db.sentMessages(
                """
                SELECT d.id FROM deliveries d JOIN notices n ON n.id = d.notice_id
                WHERE d.recipient = ? AND (? IS NULL OR n.kind = ?) ORDER BY d.id DESC
                """, .text(address), .optionalText(notice), .optionalText(notice)
            ).first)
        let text = DecodedMail(body).text
        let match = try #require(text.firstRange(of: /ack\?token=([A-Za-z0-9_-]+)/))
        return String(text[match].dropFirst("ack?token=".count))
    }

    @Test func anInvitedProviderIsToldWhateverProjectItFollows() throws {
        let db = try TestDatabase()
        try db.addProject()
        try db.addProject("other")
        _ = try provider(db, "Acme")
        let early = try provider(db, "Early", project: "other")
        let late = try provider(db, "Late", project: "other")
        let advisory = try scheduled(db, earlyNotice: false)
        // Invited before the early notice: the early notice takes it along.
        _ = try db.stores.participation.invite(advisory.id, provider: early.id, actor: db.actor)
        _ = try db.advisories.reschedule(
            advisory.id,
            to: {
                var s = $0
                s.earlyNotice = db.clock.now
                return s
            }, notes: .none, actor: db.actor)
        _ = try db.advisories.fireDue()
        #expect(
            Set(try db.outbox.list(advisory: advisory.id).map(\.recipient)) == [
                "sec@acme.example", "sec@early.example",
            ])
        // Invited after it: told at once, as the early notice it missed.
        let invited = try db.stores.participation.invite(advisory.id, provider: late.id, actor: db.actor)
        #expect(invited.decision == .invited && invited.waiting == 1)
        #expect(
            try db.outbox.list(advisory: advisory.id).contains {
                $0.recipient == "sec@late.example" && $0.notice == "early-notice"
            })
        _ = try deliverAll(db)
        #expect(
            try db.stores.participation.readiness(advisory.id).totals
                == "3 participants · 3 notified · 0 seen · 0 acknowledged · 3 silent")
        // Only active providers, and only while there is something to take part in.
        let pending = try db.providers.add(
            NewProvider(organization: "Pending", emails: ["p@pending.example"], projects: ["demo"]),
            status: .pendingApproval,
            actor: db.actor)
        #expect(throws: Refusal.self) {
            try db.stores.participation.invite(advisory.id, provider: pending.id, actor: db.actor)
        }
        _ = try db.advisories.publishNow(advisory.id, notes: try ChangeNotes(reason: "release"), actor: db.actor)
        #expect(throws: Refusal.self) {
            try db.stores.participation.exclude(advisory.id, provider: late.id, reason: "x", actor: db.actor)
        }
    }
}

/// The project chases its participants: the reminder reaches only the silent, the final notice
/// every participant, and again when the release moves.
@Suite struct ChasingStoreTests {
    @Test func aReminderReachesOnlyTheSilentAndTheFinalNoticeEveryParticipant() throws {
        let db = try TestDatabase()
        try db.addProject()
        _ = try db.projects.setChasing(
            "demo", Chasing(reminderAfter: 3600, finalNotice: 86_400), actor: db.actor)
        var ids: [String: Int64] = [:]
        for name in ["Acked", "Answered", "Silent"] {
            ids[name] =
                try db.providers.add(
                    NewProvider(organization: name, emails: ["sec@\(name.lowercased()).example"], projects: ["demo"]),
                    status: .active, actor: db.actor
                ).id
        }
        let advisory = try db.advisories.create(
            project: "demo", content: AdvisoryContent(title: "Overflow"),
            schedule: Schedule(embargo: db.clock.now + 3 * 86_400, earlyNotice: db.clock.now), actor: db.actor)
        #expect(try db.advisories.fireDue().map(\.kind) == [.earlyNotice])
        let notice = try #require(
            try db.database.first("SELECT id FROM notices WHERE kind = 'early-notice'") { $0.int(0) })
        _ = try db.stores.acknowledgements.acknowledge(notice: notice, provider: ids["Acked"]!, at: db.clock.now)
        try db.stores.participation.record(
            try ProviderAnswer(
                status: .ready, proposedInstant: nil, statement: "", shareable: false, release: nil, now: db.clock.now),
            advisory: advisory.id, provider: ids["Answered"]!, at: db.clock.now, by: "test")

        func recipients(_ kind: String) throws -> [String] {
            try db.database.query(
                """
                SELECT d.recipient FROM deliveries d JOIN notices n ON n.id = d.notice_id WHERE n.kind = ? ORDER BY d.recipient
                """, .text(kind)
            ) { $0.text(0) }
        }
        db.manualClock.advance(by: 3599)
        #expect(try db.advisories.fireDue().isEmpty)
        db.manualClock.advance(by: 1)
        #expect(try db.advisories.fireDue().map(\.kind) == [.reminder])
        #expect(try recipients("reminder") == ["sec@silent.example"])
        let claimed = try db.outbox.claim(limit: 100, lease: 60)
        try db.outbox.record(claimed.map { .delivered(id: $0.id, at: db.clock.now, via: "test") })
        #expect(
            try db.stores.participation.readiness(advisory.id).participants.allSatisfy { $0.notifiedVia == ["email"] })
        #expect(try db.advisories.fireDue().isEmpty, "once")

        db.manualClock.set(advisory.schedule.embargo! - 86_400)
        #expect(try db.advisories.fireDue().map(\.kind) == [.finalNotice])
        #expect(try recipients("final-notice") == ["sec@acked.example", "sec@answered.example", "sec@silent.example"])
        // The release moves a day later: the final notice goes again a day before the new instant.
        _ = try db.advisories.reschedule(
            advisory.id,
            to: {
                var s = $0
                s.embargo! += 86_400
                return s
            },
            notes: try ChangeNotes(reason: "Silent needs a day", toProviders: "one more day"), actor: db.actor)
        #expect(try db.advisories.fireDue().isEmpty)
        db.manualClock.advance(by: 86_400)
        #expect(try db.advisories.fireDue().map(\.kind) == [.finalNotice])
        #expect(try recipients("final-notice").count == 6)
        // A reminder and a final notice carry the answer links as the early notice does.
        let body = try #require(
            try db.sentMessages(
                "SELECT d.id FROM deliveries d JOIN notices n ON n.id = d.notice_id WHERE n.kind = 'reminder'"
            ).first)
        #expect(body.contains("/answer?token=") && body.contains("Reminder"))
    }
}

/// Declining a request for more time: the release stays, and that participant alone is told why.
@Suite struct DeclineTests {
    @Test func aDeclinedProposalTellsThatParticipantWhyAndNoOneElse() throws {
        let db = try TestDatabase()
        try db.addProject()
        var ids: [Int64] = []
        for name in ["Slow", "Other"] {
            ids.append(
                try db.providers.add(
                    NewProvider(organization: name, emails: ["sec@\(name.lowercased()).example"], projects: ["demo"]),
                    status: .active, actor: db.actor
                ).id)
        }
        let advisory = try db.advisories.create(
            project: "demo", content: AdvisoryContent(title: "Overflow"),
            schedule: Schedule(embargo: db.clock.now + 3 * 86_400, earlyNotice: db.clock.now), actor: db.actor)
        _ = try db.advisories.fireDue()
        // No proposal yet: nothing to decline; an empty note is refused before anything else.
        #expect(throws: Refusal.self) {
            try db.stores.participation.decline(advisory.id, provider: ids[0], note: "no", actor: db.actor)
        }
        #expect(throws: Refusal.self) {
            try db.stores.participation.decline(advisory.id, provider: ids[0], note: "  ", actor: db.actor)
        }
        try db.stores.participation.record(
            try ProviderAnswer(
                status: .needsMoreTime, proposedInstant: db.clock.now + 5 * 86_400, statement: "", shareable: false,
                release: advisory.schedule.embargo, now: db.clock.now),
            advisory: advisory.id, provider: ids[0], at: db.clock.now, by: "test")
        let before = try db.count("deliveries")
        _ = try db.stores.participation.decline(
            advisory.id, provider: ids[0], note: "Other distributions are ready; we keep the date.", actor: db.actor)
        let query =
            "FROM deliveries d JOIN notices n ON n.id = d.notice_id WHERE n.kind = 'proposal-declined' ORDER BY d.id"
        let sent = zip(
            try db.database.query("SELECT d.recipient \(query)") { $0.text(0) },
            try db.sentMessages("SELECT d.id \(query)")
        ).map { ($0, $1) }
        #expect(try db.count("deliveries") == before + 1)
        #expect(sent.map(\.0) == ["sec@slow.example"])
        #expect(sent.first?.1.contains("we keep the date") == true)
        #expect(try db.audit.list(limit: 1).first?.action == "advisory.decline")
        #expect(try db.advisoryRecords.get(advisory.id).schedule.embargo == advisory.schedule.embargo)
    }
}

/// Every private notice says the embargo terms, in the provider's language: the advisory's own,
/// else the project's.
@Suite struct EmbargoTermsNoticeTests {
    @Test func theEarlyNoticeSaysTheTermsInTheProvidersLanguage() throws {
        let db = try TestDatabase()
        try db.addProject()
        _ = try db.projects.setTerms(
            "demo", EmbargoTerms(deploymentAllowed: true, patchEmbargoed: true, tlp: .amber), actor: db.actor)
        let dutch = try NewProvider(
            organization: "Gemeente", emails: ["cert@gemeente.example"], projects: ["demo"], language: .dutch)
        _ = try db.providers.add(dutch, status: .active, actor: db.actor)
        _ = try db.providers.add(
            try NewProvider(organization: "Acme", emails: ["sec@acme.example"], projects: ["demo"]), status: .active,
            actor: db.actor)
        _ = try db.advisories.create(
            project: "demo", content: AdvisoryContent(title: "Overflow"),
            schedule: Schedule(embargo: db.clock.now + 86_400, earlyNotice: db.clock.now), actor: db.actor)
        _ = try db.advisories.fireDue()
        let bodies = Dictionary(
            uniqueKeysWithValues: zip(
                try db.database.query("SELECT recipient FROM deliveries ORDER BY id") { $0.text(0) },
                try db.sentMessages("SELECT id FROM deliveries ORDER BY id").map { DecodedMail($0).text }
            ).map { ($0, $1) })
        let english = try #require(bodies["sec@acme.example"])
        #expect(english.contains("TLP:AMBER · the fixed version may be deployed before the release"), "\(english)")
        let nederlands = try #require(bodies["cert@gemeente.example"])
        #expect(nederlands.contains("Embargovoorwaarden"), "\(nederlands)")
        #expect(nederlands.contains("de opgeloste versie mag"))
        // Once public, the providers' notice says so: TLP:CLEAR.
        db.manualClock.advance(by: 86_400)
        _ = try db.advisories.fireDue()
        let published = try #require(
            try db.sentMessages(
                """
                SELECT d.id FROM deliveries d JOIN notices n ON n.id = d.notice_id
                WHERE n.kind = 'publication' AND d.recipient = 'sec@acme.example'
                """
            ).first.map { DecodedMail($0).text })
        #expect(published.contains("TLP:CLEAR"), "\(published)")
        // What release managers read: the terms in force, and through what each was told.
        let detail = try db.advisoryRecords.detail(1)
        #expect(detail.terms.tlp == .amber && detail.terms.deploymentAllowed)
    }
}

/// A project's embargo limit: 90 days as usual, more only with a reason.
@Suite struct MaxEmbargoTests {
    @Test func aLimitAboveNinetyDaysNeedsAReasonAndHoldsForNewInstants() throws {
        let db = try TestDatabase()
        try db.addProject()
        #expect(throws: Refusal.self) { try db.projects.setMaxEmbargo("demo", days: 120, reason: "", actor: db.actor) }
        #expect(throws: Refusal.self) { try db.projects.setMaxEmbargo("demo", days: 400, reason: "x", actor: db.actor) }
        #expect(try db.projects.require("demo").maxEmbargoDays == 14)
        let raised = try db.projects.setMaxEmbargo(
            "demo", days: 120, reason: "a CPU microcode fix takes months", actor: db.actor)
        #expect(raised.maxEmbargoDays == 120)
        #expect(try db.audit.list(limit: 1).first?.reason == "a CPU microcode fix takes months")
        _ = try db.advisories.create(
            project: "demo", content: AdvisoryContent(title: "Microcode"),
            schedule: Schedule(embargo: db.clock.now + 100 * 86_400), actor: db.actor)
        #expect(throws: Refusal.self) {
            try db.advisories.create(
                project: "demo", content: AdvisoryContent(title: "Too far"),
                schedule: Schedule(embargo: db.clock.now + 121 * 86_400), actor: db.actor)
        }
        #expect(try db.projects.setMaxEmbargo("demo", days: 30, reason: "", actor: db.actor).maxEmbargoDays == 30)
    }
}

/// Chasing when there is no one to chase: recorded once, never again (the scheduler must not spin).
@Suite struct ChasingNoOneTests {
    @Test func aReminderWithNoOneSilentIsRecordedOnceAndASettingChangeSendsNoSecondFinalNotice() throws {
        let db = try TestDatabase()
        try db.addProject()
        _ = try db.projects.setChasing("demo", Chasing(reminderAfter: 60, finalNotice: 3600), actor: db.actor)
        let acme = try db.providers.add(
            NewProvider(organization: "Acme", emails: ["sec@acme.example"], projects: ["demo"]), status: .active,
            actor: db.actor)
        let advisory = try db.advisories.create(
            project: "demo", content: AdvisoryContent(title: "Overflow"),
            schedule: Schedule(embargo: db.clock.now + 86_400, earlyNotice: db.clock.now), actor: db.actor)
        _ = try db.advisories.fireDue()
        let notice = try #require(
            try db.database.first("SELECT id FROM notices WHERE kind = 'early-notice'") { $0.int(0) })
        _ = try db.stores.acknowledgements.acknowledge(notice: notice, provider: acme.id, at: db.clock.now)
        db.manualClock.advance(by: 60)
        #expect(try db.advisories.fireDue().map(\.kind) == [.reminder])
        #expect(try db.advisories.fireDue().isEmpty, "recorded though it reached no one")
        #expect(try db.count("notices") == 2)
        #expect(try db.advisories.nextDue() == advisory.schedule.embargo! - 3600)
        db.manualClock.set(advisory.schedule.embargo! - 3600)
        #expect(try db.advisories.fireDue().map(\.kind) == [.finalNotice])
        _ = try db.projects.setChasing("demo", Chasing(reminderAfter: 60, finalNotice: 7200), actor: db.actor)
        #expect(try db.advisories.fireDue().isEmpty, "a changed setting sends no second final notice")
        #expect(try db.advisories.nextDue() == advisory.schedule.embargo)
        // Excluded, Acme gets no note about a proposal either.
        _ = try db.stores.participation.exclude(advisory.id, provider: acme.id, reason: "test", actor: db.actor)
        #expect(throws: Refusal.self) {
            try db.stores.participation.decline(advisory.id, provider: acme.id, note: "no", actor: db.actor)
        }
    }
}
