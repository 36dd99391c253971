import Foundation
import HeraldApp
import HeraldCore
import HeraldStore
import HeraldTestSupport
import Testing

/// Leaving the list one address at a time, and what a link's page says it is about.
@Suite struct SubscriptionStoreTests {
    /// The unsubscribe link in the newest mail to `address`.
    func unsubscribeToken(_ db: TestDatabase, to address: String) throws -> String {
        let mail = try #require(
            try db.sentMessages(
                "SELECT d.id FROM deliveries d WHERE d.recipient = ? ORDER BY d.id DESC LIMIT 1", .text(address)
            ).first)
        let unfolded = mail.replacingOccurrences(of: "=\r\n", with: "").replacingOccurrences(of: "=3D", with: "=")
        return try #require(unfolded.firstMatch(of: /unsubscribe\?token=([A-Za-z0-9_-]+)/).map { String($0.1) })
    }

    @Test func oneClickUnsubscribeRemovesThatAddressOnlyUntilTheLast() throws {
        let db = try TestDatabase()
        try db.addProject()
        let provider = try db.providers.add(
            NewProvider(
                organization: "Gemeente Voorbeeld", emails: ["cert@voorbeeld.example", "noc@voorbeeld.example"],
                projects: ["demo"]), status: .active, actor: db.actor)
        _ = try db.advisories.create(
            project: "demo", content: AdvisoryContent(title: "Overflow"),
            schedule: Schedule(embargo: db.clock.now + 86_400, earlyNotice: db.clock.now), actor: db.actor)
        _ = try db.advisories.fireDue()
        let subscriptions = db.stores.subscriptions
        let cert = try unsubscribeToken(db, to: "cert@voorbeeld.example")
        let noc = try unsubscribeToken(db, to: "noc@voorbeeld.example")
        #expect(cert != noc, "each address has a link of its own")
        #expect(try subscriptions.subject(of: cert, purpose: .unsubscribe).address == "cert@voorbeeld.example")

        let first = try subscriptions.unsubscribe(token: cert)
        #expect(
            first.organization == "Gemeente Voorbeeld" && first.address == "cert@voorbeeld.example"
                && !first.organizationLeft)
        let after = try db.providerRecords.get(provider.id)
        #expect(after.status == .active && after.emails == ["noc@voorbeeld.example"])
        // The remaining address is told, and the release manager sees it in the audit log.
        let told = try db.outbox.list(limit: 1).first
        #expect(told?.notice == "contact-left" && told?.recipient == "noc@voorbeeld.example")
        #expect(try db.audit.list(limit: 2).map(\.action).contains("provider.contact-remove"))
        // Leaving twice is fine and changes nothing.
        #expect(try subscriptions.unsubscribe(token: cert).organizationLeft == false)
        #expect(try db.providerRecords.get(provider.id).emails == ["noc@voorbeeld.example"])

        // The last address takes the organisation with it.
        #expect(try subscriptions.unsubscribe(token: noc).organizationLeft)
        #expect(try db.providerRecords.get(provider.id).status == .removed)
    }
}
