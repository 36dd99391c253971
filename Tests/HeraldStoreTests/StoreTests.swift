import Foundation
import HeraldCore
import HeraldStore
import HeraldTestSupport
import Testing

@Suite struct AuditTrailTests {
    /// Runs every kind of change once and checks that each wrote exactly one audit row with
    /// its actor, in the same transaction (the counts move together).
    @Test func everyChangeWritesItsAuditRow() throws {
        let db = try TestDatabase()
        func audited(_ action: String, reason: String = "", _ change: () throws -> Void) throws {
            let before = try db.count("audit")
            try change()
            let entries = try db.audit.list(limit: 1)
            #expect(try db.count("audit") == before + 1, "\(action) wrote no audit row")
            #expect(entries.first?.action == action)
            #expect(entries.first?.actor == db.actor)
            #expect(entries.first?.reason == reason)
        }
        try audited("project.add") { try db.addProject() }
        try audited("token.create") { _ = try db.tokens.create(name: "ci", role: .releaseManager, actor: db.actor) }
        try audited("token.revoke") { _ = try db.tokens.revoke(name: "ci", actor: db.actor) }
        var providerID: Int64 = 0
        try audited("provider.add") {
            providerID = try db.providers.add(
                NewProvider(organization: "Acme", emails: ["sec@acme.example"], projects: ["demo"]),
                status: .pendingApproval, actor: db.actor
            ).id
        }
        try audited("provider.approve", reason: "known") {
            _ = try db.providers.transition(providerID, .approve, reason: "known", actor: db.actor)
        }
        try audited("provider.suspend") { _ = try db.providers.transition(providerID, .suspend, actor: db.actor) }
        try audited("provider.remove") { _ = try db.providers.transition(providerID, .remove, actor: db.actor) }
        try audited("provider.import") {
            _ = try db.providers.importList(
                ProviderImport(csv: "organization,email,project\nBeta,b@beta.example,demo\n"), actor: db.actor)
        }
        var channelID: Int64 = 0
        try audited("channel.add") {
            channelID = try db.channels.add(
                NewChannel(projectSlug: "demo", kind: .email, target: "announce@demo.example", secret: nil),
                actor: db.actor
            ).id
        }
        try audited("channel.remove") { try db.channels.remove(channelID, actor: db.actor) }
        var advisoryID: Int64 = 0
        try audited("advisory.create") {
            advisoryID = try db.advisories.create(
                project: "demo", content: AdvisoryContent(title: "Overflow"),
                schedule: Schedule(embargo: db.clock.now + 86_400), actor: db.actor
            ).id
        }
        try audited("advisory.reschedule", reason: "distros") {
            _ = try db.advisories.reschedule(
                advisoryID,
                to: { s in
                    var s = s
                    s.embargo! += 3600
                    return s
                }, notes: try ChangeNotes(reason: "distros"), actor: db.actor)
        }
        try audited("advisory.revise", reason: "typo") {
            _ = try db.advisories.revise(
                advisoryID, AdvisoryPatch(title: "Heap overflow"), notes: try ChangeNotes(reason: "typo"),
                actor: db.actor)
        }
        try audited("advisory.publish", reason: "leaked") {
            _ = try db.advisories.publishNow(advisoryID, notes: try ChangeNotes(reason: "leaked"), actor: db.actor)
        }
        let second = try db.advisories.create(
            project: "demo", content: AdvisoryContent(title: "Other"), schedule: Schedule(), actor: db.actor)
        try audited("advisory.cancel", reason: "not a bug") {
            _ = try db.advisories.cancel(second.id, notes: try ChangeNotes(reason: "not a bug"), actor: db.actor)
        }
    }
}

@Suite struct TokenStoreTests {
    @Test func tokensAreStoredOnlyAsTheirHash() throws {
        let db = try TestDatabase()
        let (record, token) = try db.tokens.create(name: "alice", role: .admin, actor: db.actor)
        #expect(token.hasPrefix("hrld_"))
        #expect(token.count >= 5 + 43)  // 32 random bytes in base64url
        let stored = try db.database.first("SELECT hash FROM tokens WHERE id = ?", .integer(record.id)) { $0.blob(0) }
        #expect(stored == Secrets.hash(token))
        #expect(stored?.count == 32)
        // The token's text is nowhere in the file or its WAL.
        try db.database.execute("PRAGMA wal_checkpoint(FULL)")
        for suffix in ["", "-wal"] {
            if let bytes = FileManager.default.contents(atPath: db.path + suffix) {
                #expect(bytes.range(of: Data(token.utf8)) == nil)
            }
        }
        #expect(try db.tokens.authenticate(token)?.name == "alice")
        #expect(try db.tokens.authenticate(token + "x") == nil)
        #expect(try db.tokens.authenticate("hrld_forged") == nil)
    }

    @Test func twoTokensDifferAndRevokedOnesStopWorking() throws {
        let db = try TestDatabase()
        let (_, first) = try db.tokens.create(name: "a", role: .auditor, actor: db.actor)
        let (_, second) = try db.tokens.create(name: "b", role: .auditor, actor: db.actor)
        #expect(first != second)
        _ = try db.tokens.revoke(name: "a", actor: db.actor)
        #expect(try db.tokens.authenticate(first) == nil)
        #expect(try db.tokens.authenticate(second) != nil)
        #expect(throws: Refusal.self) { try db.tokens.revoke(name: "a", actor: db.actor) }
        #expect(throws: Refusal.self) { try db.tokens.create(name: "b", role: .admin, actor: db.actor) }
    }
}

@Suite struct BadInputChangesNothingTests {
    @Test func refusedChangesLeaveEveryTableAsItWas() throws {
        let db = try TestDatabase()
        try db.addProject()
        let advisory = try db.advisories.create(
            project: "demo", content: AdvisoryContent(title: "Overflow"),
            schedule: Schedule(embargo: db.clock.now + 86_400), actor: db.actor)
        let before = try db.snapshot()
        let refused: [() throws -> Void] = [
            { try db.addProject() },  // duplicate slug
            {
                _ = try db.providers.add(
                    NewProvider(organization: "Acme", emails: ["a@acme.example"], projects: ["nope"]), status: .active,
                    actor: db.actor)
            },
            {
                _ = try db.channels.add(
                    NewChannel(projectSlug: "nope", kind: .email, target: "a@b.example", secret: nil), actor: db.actor)
            },
            {
                _ = try db.advisories.create(
                    project: "demo", content: AdvisoryContent(title: "X"),
                    schedule: Schedule(embargo: db.clock.now - 1), actor: db.actor)
            },
            {
                _ = try db.advisories.create(
                    project: "demo", content: AdvisoryContent(title: "X"),
                    schedule: Schedule(embargo: db.clock.now + 15 * 86_400), actor: db.actor)
            },
            {
                _ = try db.advisories.create(
                    project: "nope", content: AdvisoryContent(title: "X"), schedule: Schedule(), actor: db.actor)
            },
            {
                _ = try db.advisories.reschedule(
                    advisory.id,
                    to: { s in
                        var s = s
                        s.embargo = db.clock.now - 1
                        return s
                    }, notes: try ChangeNotes(reason: ""), actor: db.actor)
            },
            {
                _ = try db.advisories.revise(
                    advisory.id, AdvisoryPatch(cves: ["CVE-1"]), notes: try ChangeNotes(reason: ""), actor: db.actor)
            },
            // The reason is required.
            { _ = try db.advisories.publishNow(advisory.id, notes: try ChangeNotes(reason: ""), actor: db.actor) },
            { _ = try db.advisories.cancel(999, notes: try ChangeNotes(reason: "x"), actor: db.actor) },
            { _ = try db.providers.transition(999, .approve, actor: db.actor) },
            {
                _ = try db.providers.importList(
                    ProviderImport(csv: "organization,email,project\nA,a@a.example,demo\nB,b@b.example,nope\n"),
                    actor: db.actor)
            },
        ]
        for (index, change) in refused.enumerated() {
            #expect(throws: (any Error).self, "change \(index) was not refused") { try change() }
            #expect(try db.snapshot() == before, "change \(index) wrote something")
        }
    }

    @Test func importReportsUnknownProjectsAndExistingOrganisationsByLine() throws {
        let db = try TestDatabase()
        try db.addProject()
        _ = try db.providers.add(
            NewProvider(organization: "Acme", emails: ["a@acme.example"], projects: ["demo"]), status: .active,
            actor: db.actor)
        #expect {
            try db.providers.importList(
                ProviderImport(
                    csv:
                        "organization,email,project\nBeta,b@beta.example,demo\nACME,x@acme.example,demo\nGamma,g@gamma.example,ghost\n"
                ), actor: db.actor)
        } throws: { error in
            (error as? LineRefusals)?.problems.map(\.line) == [3, 4]
        }
        #expect(try db.count("providers") == 1)
    }
}

@Suite struct StoreRoundTripTests {
    @Test func providersReadBackWithContactsWebhooksAndProjects() throws {
        let db = try TestDatabase()
        try db.addProject("demo")
        try db.addProject("other")
        let added = try db.providers.add(
            NewProvider(
                organization: "Acme", emails: ["sec@acme.example", "noc@acme.example"],
                webhooks: [("https://acme.example/hook", .webhook), ("https://chat.example/x", .slack)],
                projects: ["other", "demo"], listed: true), status: .pendingApproval, actor: db.actor)
        #expect(added.emails == ["sec@acme.example", "noc@acme.example"])
        #expect(added.projects == ["demo", "other"])
        #expect(added.listed)
        // The generic webhook gets a signing secret; the chat one carries its secret in its URL.
        #expect(added.webhooks.first { $0.kind == .webhook }?.secret?.hasPrefix("whsec_") == true)
        #expect(added.webhooks.first { $0.kind == .slack }?.secret == nil)
        #expect(try db.providerRecords.list(status: .pendingApproval).map(\.id) == [added.id])
        _ = try db.providers.transition(added.id, .remove, actor: db.actor)
        #expect(try db.providerRecords.list().isEmpty)
        #expect(try db.providerRecords.list(status: .removed).count == 1)
        // A removed organisation may join again.
        _ = try db.providers.add(
            NewProvider(organization: "Acme", emails: ["sec@acme.example"], projects: ["demo"]), status: .active,
            actor: db.actor)
    }

    @Test func advisoryKeepsEveryRevision() throws {
        let db = try TestDatabase()
        try db.addProject()
        let embargo = db.clock.now + 86_400
        let created = try db.advisories.create(
            project: "demo", content: AdvisoryContent(title: "Overflow", cves: ["CVE-2026-1111"], severity: .high),
            schedule: Schedule(embargo: embargo, earlyNotice: db.clock.now), actor: db.actor)
        #expect(created.publicID.hasPrefix("demo-2026-"))
        db.manualClock.advance(by: 60)
        _ = try db.advisories.reschedule(
            created.id,
            to: { s in
                var s = s
                s.embargo = embargo + 3600
                return s
            }, notes: try ChangeNotes(reason: "later"), actor: db.actor)
        let revised = try db.advisories.revise(
            created.id, AdvisoryPatch(cves: ["CVE-2026-2222", "CVE-2026-1111"]),
            notes: try ChangeNotes(reason: "second CVE"), actor: db.actor)
        #expect(revised.revision == 3)
        let loaded = try db.advisories.get(created.id)
        #expect(loaded == revised)
        #expect(loaded.content.cves == ["CVE-2026-2222", "CVE-2026-1111"])
        let revisions = try db.advisoryRecords.revisions(of: created.id)
        #expect(revisions.map(\.revision) == [1, 2, 3])
        #expect(revisions.map(\.reason) == ["", "later", "second CVE"])
        #expect(revisions[0].schedule.embargo == embargo)
        #expect(revisions[1].schedule.embargo == embargo + 3600)
        #expect(try db.advisoryRecords.list(state: .scheduled).map(\.id) == [created.id])
        #expect(try db.advisoryRecords.list(project: "demo", state: .draft).isEmpty)
    }

    @Test func breakingTheEmbargoPublishesAtOnce() throws {
        let db = try TestDatabase()
        try db.addProject()
        let created = try db.advisories.create(
            project: "demo", content: AdvisoryContent(title: "Overflow"),
            schedule: Schedule(embargo: db.clock.now + 86_400), actor: db.actor)
        db.manualClock.advance(by: 5)
        let published = try db.advisories.publishNow(
            created.id, notes: try ChangeNotes(reason: "exploited in the wild"), actor: db.actor)
        #expect(published.state == .published)
        #expect(published.publishedAt == db.clock.now)
        #expect(try db.advisories.get(created.id).state == .published)
        #expect(throws: Refusal.self) {
            try db.advisories.cancel(created.id, notes: try ChangeNotes(reason: "too late"), actor: db.actor)
        }
    }

    @Test func tenThousandRowImportTakesSeconds() throws {
        let db = try TestDatabase()
        try db.addProject()
        var csv = "organization,email,project\n"
        for i in 0..<10_000 { csv += "Org \(i / 2),contact\(i)@org\(i / 2).example,demo\n" }
        let start = ContinuousClock.now
        let imported = try db.providers.importList(ProviderImport(csv: csv), actor: db.actor)
        let elapsed = ContinuousClock.now - start
        #expect(imported.count == 5_000)
        #expect(try db.count("provider_contacts") == 10_000)
        #expect(elapsed < .seconds(10), "10,000 rows took \(elapsed)")
        print("import of 10,000 rows took \(elapsed)")
    }
}
