import Foundation
import HeraldApp
import HeraldCore
import HeraldStore
import HeraldTestSupport
import Testing

/// Which claimed e-mails are encrypted, and which are not sent at all: the claim decides, by
/// the project's policy and the address's key at that moment.
@Suite struct SealTests {
    func key(_ fingerprint: String, for address: String, expires: Date? = nil) -> OpenPGPKey {
        OpenPGPKey(
            fingerprint: fingerprint, algorithm: "EDDSA Ed25519", created: Date(timeIntervalSince1970: 1_700_000_000),
            expires: expires, userIDs: ["<\(address)>"], canEncrypt: true, revoked: false,
            armored: "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\(fingerprint)\n-----END PGP PUBLIC KEY BLOCK-----\n")
    }

    /// Project demo with `policy`; Acme with a@ (keyed) and b@ (no key); an early notice now.
    func setUp(_ policy: EncryptionPolicy, keyExpires: Date? = nil) throws -> TestDatabase {
        let db = try TestDatabase()
        try db.addProject()
        _ = try db.projects.setEncryption("demo", policy, actor: db.actor)
        let acme = try db.providers.add(
            NewProvider(organization: "Acme", emails: ["a@acme.example", "b@acme.example"], projects: ["demo"]),
            status: .active, actor: db.actor)
        _ = try KeyStore(database: db.database).setProviderKey(
            key("A".padding(toLength: 40, withPad: "A", startingAt: 0), for: "a@acme.example", expires: keyExpires),
            provider: acme.id, email: "a@acme.example", at: db.clock.now, actor: db.actor)
        _ = try db.advisories.create(
            project: "demo", content: AdvisoryContent(title: "Overflow in the parser"),
            schedule: Schedule(embargo: db.clock.now + 86_400, earlyNotice: db.clock.now), actor: db.actor)
        _ = try db.advisories.fireDue()
        return db
    }

    func claimed(_ db: TestDatabase) throws -> [String: ClaimedDelivery] {
        Dictionary(uniqueKeysWithValues: try db.outbox.claim(limit: 100, lease: 60).map { ($0.recipient, $0) })
    }

    @Test func aKeyedAddressIsSealedUnderANeutralSubjectAndTheOtherGoesPlain() throws {
        let db = try setUp(.whenAvailable)
        let claims = try claimed(db)
        let seal = try #require(claims["a@acme.example"]?.seal)
        #expect(seal.recipient?.fingerprint == String(repeating: "A", count: 40))
        #expect(seal.outerSubject == "[Demo] Private security notice")
        #expect(seal.signer.map(\.fingerprint) == nil)
        #expect(claims["b@acme.example"]?.seal == nil)
        // What is handed over is still the whole notice; the sealing transport encrypts it.
        let payload = try #require(claims["a@acme.example"]).payload
        #expect(String(decoding: payload, as: UTF8.self).contains("Overflow"))
    }

    @Test func theProjectsSigningKeyTravelsWithTheSeal() throws {
        let db = try setUp(.whenAvailable)
        let project = try db.projects.require("demo")
        try KeyStore(database: db.database).setProjectKey(
            ProjectKey(fingerprint: "P1", publicKey: "pub", sealedSecret: [1, 2, 3], createdAt: db.clock.now),
            project: project.id)
        let seal = try #require(try claimed(db)["a@acme.example"]?.seal)
        #expect(seal.signer.map { $0.fingerprint == "P1" && $0.sealedSecret == [1, 2, 3] } == true)
    }

    @Test func offSendsEveryAddressPlain() throws {
        let db = try setUp(.off)
        #expect(try claimed(db).values.allSatisfy { $0.seal == nil })
    }

    @Test func anExpiredKeyCountsAsNone() throws {
        let db = try setUp(.whenAvailable, keyExpires: Date(timeIntervalSince1970: 1_700_000_000))
        #expect(try claimed(db)["a@acme.example"]?.seal == nil)
    }

    @Test func requiredSendsAKeylessAddressOnlyAPointerToThePortal() throws {
        let db = try setUp(.required)
        let claims = try claimed(db)
        #expect(claims["a@acme.example"]?.seal != nil)
        let pointer = String(decoding: try #require(claims["b@acme.example"]).payload, as: UTF8.self)
        #expect(claims["b@acme.example"]?.seal == nil)
        #expect(!pointer.contains("Overflow") && !pointer.contains("parser"))
        #expect(pointer.contains("https://herald.test/portal"))
        #expect(pointer.contains("Subject: [Demo] Private security notice"))
    }

    @Test func requiredWithTheKeyGoneBeforeTheSendSendsNothingToThatAddress() throws {
        let db = try setUp(.required)
        let acme = try #require(try db.providerRecords.list().first)
        _ = try KeyStore(database: db.database).removeProviderKey(
            provider: acme.id, fingerprint: String(repeating: "A", count: 40))
        let claims = try claimed(db)
        #expect(claims["a@acme.example"] == nil)
        let error = try db.database.first(
            "SELECT state, last_error FROM deliveries WHERE recipient = 'a@acme.example'"
        ) { ($0.text(0), $0.text(1)) }
        #expect(error?.0 == "dead")
        #expect(error?.1.contains("requires encryption") == true)
    }

    @Test func thePublicationToProvidersIsNotSealed() throws {
        let db = try setUp(.required)
        // The early notices went out; then the advisory is published.
        try db.database.execute("UPDATE deliveries SET state = 'delivered'")
        let advisory = try #require(try db.advisoryRecords.list().first)
        _ = try db.advisories.publishNow(advisory.id, notes: try ChangeNotes(reason: "leak"), actor: db.actor)
        let publication = try db.outbox.claim(limit: 100, lease: 60)
        #expect(Set(publication.map(\.recipient)) == ["a@acme.example", "b@acme.example"])
        #expect(publication.allSatisfy { $0.seal == nil })
    }

    @Test func theCancellationOfAnUnpublishedAdvisoryIsSealed() throws {
        let db = try setUp(.whenAvailable)
        try db.database.execute("UPDATE deliveries SET state = 'delivered'")
        let advisory = try #require(try db.advisoryRecords.list().first)
        _ = try db.advisories.cancel(advisory.id, notes: try ChangeNotes(reason: "not a bug"), actor: db.actor)
        let claims = try claimed(db)
        #expect(claims["a@acme.example"]?.seal?.outerSubject == "[Demo] Private security notice")
        #expect(claims["b@acme.example"]?.seal == nil)
    }

    @Test func aDeclinedProposalIsSealedLikeTheNotices() throws {
        let db = try setUp(.whenAvailable)
        try db.database.execute("UPDATE deliveries SET state = 'delivered'")
        let advisory = try #require(try db.advisoryRecords.list().first)
        let acme = try #require(try db.providerRecords.list().first)
        try db.stores.participation.record(
            try ProviderAnswer(
                status: .needsMoreTime, proposedInstant: db.clock.now + 5 * 86_400, statement: "", shareable: false,
                release: advisory.schedule.embargo, now: db.clock.now),
            advisory: advisory.id, provider: acme.id, at: db.clock.now, by: "test")
        _ = try db.stores.participation.decline(
            advisory.id, provider: acme.id, note: "We keep the date.", actor: db.actor)
        let claims = try claimed(db)
        #expect(claims["a@acme.example"]?.seal != nil)
        #expect(claims["b@acme.example"]?.seal == nil)
    }

    @Test func removingAnAddressRemovesItsKey() throws {
        let db = try setUp(.whenAvailable)
        let acme = try #require(try db.providerRecords.list().first)
        _ = try db.providers.edit(acme.id, try ProviderEdit(removeEmails: ["a@acme.example"]), actor: db.actor)
        #expect(try KeyStore(database: db.database).providerKeys(of: acme.id).isEmpty)
    }

    @Test func aPublicationOfAProjectWithAKeyIsSignedNotEncrypted() throws {
        let db = try setUp(.required)
        let project = try db.projects.require("demo")
        try KeyStore(database: db.database).setProjectKey(
            ProjectKey(fingerprint: "P1", publicKey: "pub", sealedSecret: [9], createdAt: db.clock.now),
            project: project.id)
        _ = try db.channels.add(
            NewChannel(projectSlug: "demo", kind: .email, target: "announce@lists.example", secret: nil),
            actor: db.actor)
        try db.database.execute("UPDATE deliveries SET state = 'delivered'")
        let advisory = try #require(try db.advisoryRecords.list().first)
        _ = try db.advisories.publishNow(advisory.id, notes: try ChangeNotes(reason: "leak"), actor: db.actor)
        let claims = try claimed(db)
        #expect(Set(claims.keys) == ["a@acme.example", "b@acme.example", "announce@lists.example"])
        for claim in claims.values {
            #expect(claim.seal?.recipient == nil)
            #expect(claim.seal?.signer?.fingerprint == "P1")
        }
    }

    @Test func aKeyAboutToExpireIsWarnedOfOnceToItsAddressAndTheReleaseManagers() throws {
        let db = try setUp(.whenAvailable, keyExpires: Date(timeIntervalSince1970: 1_795_000_000 + 10 * 86_400))
        _ = try db.projects.setContact("demo", contact: "rm@demo.example", actor: db.actor)
        try db.database.execute("UPDATE deliveries SET state = 'delivered'")
        #expect(try db.outbox.warnOfExpiringKeys() == 1)
        let sent = try db.sentMessages(
            "SELECT d.id FROM deliveries d JOIN notices n ON n.id = d.notice_id WHERE n.kind = 'alert' ORDER BY d.id")
        #expect(sent.count == 2)
        #expect(sent[0].contains("To: a@acme.example") && sent[1].contains("To: rm@demo.example"))
        #expect(sent.allSatisfy { $0.contains("Subject: [Demo] The OpenPGP key for a@acme.example expires on") })
        // Once per key; a key further off is not warned of; a new key is warned of when its time comes.
        #expect(try db.outbox.warnOfExpiringKeys() == 0)
        let acme = try #require(try db.providerRecords.list().first)
        _ = try KeyStore(database: db.database).setProviderKey(
            key(
                String(repeating: "B", count: 40), for: "b@acme.example",
                expires: Date(timeIntervalSince1970: 1_795_000_000 + 60 * 86_400)),
            provider: acme.id, email: "b@acme.example", at: db.clock.now, actor: db.actor)
        #expect(try db.outbox.warnOfExpiringKeys() == 0)
        db.manualClock.advance(by: 40 * 86_400)
        #expect(try db.outbox.warnOfExpiringKeys() == 1)
    }
}
