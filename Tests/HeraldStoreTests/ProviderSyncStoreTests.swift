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
