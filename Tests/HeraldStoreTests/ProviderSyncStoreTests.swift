import Foundation
import HeraldApp
import HeraldCore
import HeraldStore
import HeraldTestSupport
import Testing

/// `provider import --sync` against a real database.
@Suite struct ProviderSyncStoreTests {
    @Test func aNameTheFileAddsThatAMemberOfAnotherProjectHasIsRefusedOnItsLine() throws {
        let db = try TestDatabase()
        try db.addProject()
        _ = try db.addProject("other")
        _ = try db.providers.add(
            NewProvider(organization: "Acme", emails: ["a@acme.example"], projects: ["other"]), status: .active,
            actor: db.actor)
        let list = try ProviderImport(
            csv: "organization,email,project\nBeta,b@beta.example,demo\nACME,b@acme.example,demo\n")
        let before = try db.snapshot()
        #expect {
            try db.providers.sync(list, actor: db.actor)
        } throws: { error in
            (error as? LineRefusals)?.problems.map(\.line) == [3]
        }
        #expect(try db.snapshot() == before)
    }

    /// A hosting company's one receiver may serve two providers: each gets its own secret, and
    /// the report shows both by provider (keyed by URL alone, the second hid the first).
    @Test func eachNewWebhookSecretIsReportedByProviderEvenOnASharedURL() throws {
        let db = try TestDatabase()
        try db.addProject()
        let csv = """
            organization,email,project,webhook
            Acme,sec@acme.example,demo,https://receiver.example/herald
            Newco,sec@newco.example,demo,https://receiver.example/herald
            """
        for sync in [false, true] {
            let list = try ProviderImport(csv: csv)
            let report = try db.database.rehearse {
                sync
                    ? try db.providers.sync(list, actor: db.actor)
                    : try db.providers.importReport(list, actor: db.actor)
            }
            #expect(report.newSecrets.map(\.provider) == ["Acme", "Newco"], "sync: \(sync)")
            #expect(report.newSecrets.allSatisfy { $0.url == "https://receiver.example/herald" })
            #expect(Set(report.newSecrets.map(\.secret)).count == 2)
        }
    }

    @Test func anImportedNameThatPassesForAMembersIsFlaggedInTheReport() throws {
        let db = try TestDatabase()
        try db.addProject()
        _ = try db.providers.add(
            NewProvider(organization: "Gemeente Voorbeeld ICT", emails: ["cert@voorbeeld.example"], projects: ["demo"]),
            status: .active, actor: db.actor)
        let list = try ProviderImport(
            csv:
                "organization,email,project\nGemeente Voorbee1d ICT,cert@voorbee1d.example,demo\nPlain BV,p@plain.example,demo\n"
        )
        let report = try db.database.rehearse { try db.providers.importReport(list, actor: db.actor) }
        #expect(
            report.added == [
                "Gemeente Voorbee1d ICT (cert@voorbee1d.example) — looks like ‘Gemeente Voorbeeld ICT’ on the list: check it is not an impostor",
                "Plain BV (p@plain.example)",
            ])
    }
}
