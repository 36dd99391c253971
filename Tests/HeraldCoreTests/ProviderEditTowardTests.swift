import Foundation
import HeraldCore
import Testing

/// The console's provider form sends the whole provider; only what differs becomes the edit.
@Suite struct ProviderEditTowardTests {
    let acme = Provider(
        id: 7, organization: "Acme Cloud", status: .active, listed: false,
        emails: ["psirt@acme.example", "ops@acme.example"], webhooks: [], projects: ["demo", "other"],
        createdAt: Date(timeIntervalSince1970: 0), updatedAt: Date(timeIntervalSince1970: 0))

    @Test func onlyWhatDiffersIsNamed() throws {
        let edit = try ProviderEdit.toward(
            acme, organization: " Acme Cloud ", emails: ["PSIRT@acme.example", "cert@acme.example"],
            projects: ["demo", "third"], language: .dutch, listed: false)
        #expect(edit.organization == nil)
        #expect(edit.addEmails == ["cert@acme.example"])
        #expect(edit.removeEmails == ["ops@acme.example"])
        #expect(edit.addProjects == ["third"] && edit.removeProjects == ["other"])
        #expect(edit.language == .dutch && edit.listed == nil)
    }

    @Test func aNewNameAndListingAreChanges() throws {
        let edit = try ProviderEdit.toward(
            acme, organization: "Acme Cloud B.V.", emails: acme.emails, projects: acme.projects, language: .english,
            listed: true)
        #expect(edit.organization == "Acme Cloud B.V." && edit.listed == true)
        #expect(edit.addEmails.isEmpty && edit.removeEmails.isEmpty && edit.language == nil)
    }

    @Test func aFormThatChangesNothingOrTooMuchIsRefused() {
        #expect(throws: Refusal.invalid(field: "edit", rule: "the form changes nothing")) {
            try ProviderEdit.toward(
                acme, organization: "Acme Cloud", emails: acme.emails.map { $0.uppercased() },
                projects: acme.projects, language: .english, listed: false)
        }
        #expect(throws: Refusal.self) {
            try ProviderEdit.toward(
                acme, organization: "Acme Cloud", emails: (0..<21).map { "a\($0)@acme.example" },
                projects: acme.projects, language: .english, listed: false)
        }
        #expect(throws: Refusal.self) {
            try ProviderEdit.toward(
                acme, organization: "Acme Cloud", emails: ["not an address"], projects: acme.projects,
                language: .english, listed: false)
        }
    }
}
