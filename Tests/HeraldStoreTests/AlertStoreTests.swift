import Foundation
import HeraldCore
import HeraldStore
import HeraldTestSupport
import Testing

/// Release managers hear of private notices that are not getting through, before the instant.
@Suite struct AlertStoreTests {
    @Test func aFailingPrivateNoticeAndAnUndeliveredOneBeforeTheReleaseAreRaisedOnceEach() throws {
        let db = try TestDatabase()
        try db.addProject()
        _ = try db.projects.setContact("demo", contact: "security-team@demo.example", actor: db.actor)
        _ = try db.providers.add(
            NewProvider(organization: "Acme", emails: ["a@acme.example"], projects: ["demo"]), status: .active,
            actor: db.actor)
        _ = try db.providers.add(
            NewProvider(organization: "Beta", emails: ["b@beta.example"], projects: ["demo"]), status: .active,
            actor: db.actor)
        let advisory = try db.advisories.create(
            project: "demo", content: AdvisoryContent(title: "Overflow"),
            schedule: Schedule(embargo: db.clock.now + 3 * 3600, earlyNotice: db.clock.now), actor: db.actor)
        _ = try db.advisories.fireDue()
        let alerts = AlertStore(database: db.database, clock: db.clock, settings: db.settings)
        // Acme's copy fails at once and keeps failing; Beta's is delivered.
        let claimed = try db.outbox.claim(limit: 10, lease: 60)
        try db.outbox.record(
            claimed.map {
                $0.recipient == "a@acme.example"
                    ? .retry(id: $0.id, at: db.clock.now + 60, error: "SMTP 451: try later")
                    : .delivered(id: $0.id, at: db.clock.now, via: "smtp")
            })
        #expect(try alerts.raiseDue().isEmpty, "failing for less than an hour is not yet an alert")
        #expect(
            try db.outbox.list(state: .failing).map(\.recipient) == ["a@acme.example"],
            "but it is listed as failing from the first attempt")

        db.manualClock.advance(by: 3600 + 1)
        let first = try alerts.raiseDue()
        #expect(first.map(\.kind) == ["private-notice-failing"])
        #expect(first.first?.detail.contains("1 provider") == true, "\(first)")
        let mail = try #require(try db.outbox.list(limit: 1).first)
        #expect(mail.notice == "alert" && mail.recipient == "security-team@demo.example")
        #expect(try db.audit.list(limit: 1).first?.action == "advisory.alert")
        #expect(try alerts.raiseDue().isEmpty, "raised once")

        // Half an hour before the release Acme still has nothing.
        db.manualClock.advance(by: 3600 + 1800)
        #expect(try alerts.raiseDue().map(\.kind) == ["undelivered-before-release"])
        #expect(
            try alerts.list(advisory: advisory.id).map(\.kind) == [
                "private-notice-failing", "undelivered-before-release",
            ])
    }

    @Test func withoutAContactAddressTheAlertIsKeptForAdvisoryShow() throws {
        let db = try TestDatabase()
        try db.addProject()
        _ = try db.providers.add(
            NewProvider(organization: "Acme", emails: ["a@acme.example"], projects: ["demo"]), status: .active,
            actor: db.actor)
        let advisory = try db.advisories.create(
            project: "demo", content: AdvisoryContent(title: "Overflow"),
            schedule: Schedule(embargo: db.clock.now + 86_400, earlyNotice: db.clock.now), actor: db.actor)
        _ = try db.advisories.fireDue()
        let claimed = try db.outbox.claim(limit: 10, lease: 60)
        try db.outbox.record(claimed.map { .dead(id: $0.id, error: "SMTP 550: no such user") })
        let deliveries = try db.count("deliveries")
        let raised = try AlertStore(database: db.database, clock: db.clock, settings: db.settings).raiseDue()
        #expect(raised.map(\.advisoryID) == [advisory.id])
        #expect(try db.count("deliveries") == deliveries, "no address, no mail")
    }

    @Test func whatWasStoppedOnPurposeIsNoFailureAndALaterRevisionIsToldAgain() throws {
        let db = try TestDatabase()
        try db.addProject()
        let suspended = try db.providers.add(
            NewProvider(organization: "Gone", emails: ["g@gone.example"], projects: ["demo"]), status: .active,
            actor: db.actor)
        _ = try db.providers.add(
            NewProvider(organization: "Acme", emails: ["a@acme.example"], projects: ["demo"]), status: .active,
            actor: db.actor)
        let advisory = try db.advisories.create(
            project: "demo", content: AdvisoryContent(title: "Overflow"),
            schedule: Schedule(embargo: db.clock.now + 86_400, earlyNotice: db.clock.now), actor: db.actor)
        _ = try db.advisories.fireDue()
        _ = try db.providers.transition(suspended.id, .suspend, actor: db.actor)
        let claimed = try db.outbox.claim(limit: 10, lease: 60)  // stops the suspended provider's copy
        try db.outbox.record(claimed.map { .delivered(id: $0.id, at: db.clock.now, via: "smtp") })
        let alerts = AlertStore(database: db.database, clock: db.clock, settings: db.settings)
        #expect(try alerts.raiseDue().isEmpty, "a delivery stopped on purpose is not a failure")
        // A revision whose copy then fails for good is told, though an alert of that kind
        // was raised for the first revision already.
        _ = try db.advisories.revise(advisory.id, AdvisoryPatch(title: "Worse"), notes: .none, actor: db.actor)
        try db.outbox.record(
            try db.outbox.claim(limit: 10, lease: 60).map { .dead(id: $0.id, error: "SMTP RCPT TO 550: no such user") })
        #expect(try alerts.raiseDue().map(\.kind) == ["private-notice-failing"])
        _ = try db.advisories.revise(advisory.id, AdvisoryPatch(title: "Worse still"), notes: .none, actor: db.actor)
        try db.outbox.record(
            try db.outbox.claim(limit: 10, lease: 60).map { .dead(id: $0.id, error: "SMTP RCPT TO 550: no such user") })
        #expect(try alerts.raiseDue().map(\.kind) == ["private-notice-failing"], "told again for revision 3")
    }
}
