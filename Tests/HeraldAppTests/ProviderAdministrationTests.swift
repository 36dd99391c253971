import Foundation
import HeraldCore
import Testing

@testable import HeraldApp

/// The release managers' provider rules over the list in memory.
@Suite struct ProviderAdministrationTests {
    let memory = RosterMemory()
    var administration: ProviderAdministration {
        ProviderAdministration(
            work: memory, providers: memory, projects: memory, briefing: memory, mail: memory, audit: memory,
            fingerprints: memory, clock: FixedClock(Date(timeIntervalSince1970: 1_800_000_000)))
    }

    @Test func anApprovalWelcomesARequestAndBriefsItButNeverADuplicateOrAnUncheckedLookAlike() throws {
        memory.seed("Acme", .active)
        let duplicate = memory.seed("ACME", .pendingApproval)
        #expect(throws: Refusal.self) { try administration.transition(duplicate.id, .approve, actor: "rm") }
        // Suspending a waiting duplicate would make it a member too (schemathesis found the 500).
        #expect(throws: Refusal.self) { try administration.transition(duplicate.id, .suspend, actor: "rm") }
        // "Аcme" with a Cyrillic А: an impostor's choice, approved only when the release manager says so.
        let alike = memory.seed("\u{410}cme", .pendingApproval)
        #expect(throws: Refusal.self) { try administration.transition(alike.id, .approve, actor: "rm") }
        #expect(memory.writes == 0 && memory.audit.isEmpty && memory.welcomed.isEmpty && memory.briefed.isEmpty)
        let approved = try administration.transition(alike.id, .approve, actor: "rm", despiteLookAlike: true)
        #expect(approved.status == .active)
        #expect(memory.welcomed == ["\u{410}cme"] && memory.briefed == [alike.id])
        #expect(memory.audit == ["provider.approve"])

        // Suspended and approved again: told of embargoes again, not welcomed again; its portal
        // sessions end at the suspension, not at their next request.
        _ = try administration.transition(alike.id, .suspend, reason: "audit", actor: "rm")
        #expect(memory.briefed == [alike.id] && memory.endedSessions == ["\(alike.id):*"])
        _ = try administration.transition(alike.id, .approve, actor: "rm", despiteLookAlike: true)
        #expect(memory.welcomed.count == 1 && memory.briefed == [alike.id, alike.id])
    }

    @Test func anEditThatBreaksARuleWritesNothingAndANewFollowIsBriefed() throws {
        let member = memory.seed("Acme", .active, emails: ["a@acme.example"])
        let refused: [ProviderEdit] = [
            try ProviderEdit(removeEmails: ["a@acme.example"]),  // the last address
            try ProviderEdit(removeEmails: ["b@acme.example"]),  // not one of its addresses
            try ProviderEdit(removeProjects: ["demo"]),  // the last project
            try ProviderEdit(removeWebhooks: ["https://hooks.example/1"]),  // not one of its webhooks
            try ProviderEdit(addProjects: ["nope"]),  // no such project
            try ProviderEdit(addEmails: ["A@acme.example"], removeEmails: ["a@acme.example"]),  // both at once
        ]
        for edit in refused {
            #expect(throws: Refusal.self) { try administration.edit(member.id, edit, actor: "rm") }
        }
        #expect(memory.writes == 0 && memory.audit.isEmpty)

        memory.projects.append(
            Project(id: 2, slug: "other", name: "Other", timezone: "UTC", maxEmbargoDays: 14, createdAt: Date()))
        _ = try administration.edit(member.id, try ProviderEdit(addEmails: ["b@acme.example"]), actor: "rm")
        _ = try administration.edit(member.id, try ProviderEdit(removeEmails: ["a@acme.example"]), actor: "rm")
        #expect(memory.endedSessions == ["\(member.id):a@acme.example"], "a removed address's sessions end")
        let (edited, _) = try administration.edit(member.id, try ProviderEdit(addProjects: ["other"]), actor: "rm")
        #expect(edited.projects == ["demo", "other"] && memory.briefed == [member.id])
        // A request that follows a new project is not told anything: it is not on the list yet.
        let request = memory.seed("Newco", .pendingApproval)
        _ = try administration.edit(request.id, try ProviderEdit(addProjects: ["other"]), actor: "rm")
        #expect(memory.briefed == [member.id])
        _ = try administration.transition(request.id, .remove, actor: "rm")
        #expect(throws: Refusal.self) {
            try administration.edit(request.id, try ProviderEdit(listed: true), actor: "rm")
        }
    }

    @Test func anImportReportsEveryBadLineAndWritesNothing() throws {
        memory.seed("Acme", .active)
        let csv = """
            organization,email,project
            Acme,sec@acme.example,demo
            Newco,sec@newco.example,nope
            Fine,sec@fine.example,demo
            """
        do {
            _ = try administration.importList(try ProviderImport(csv: csv), actor: "rm")
            Issue.record("the import was accepted")
        } catch let refusals as LineRefusals {
            #expect(refusals.problems.map(\.line) == [2, 3])
        }
        #expect(memory.writes == 0 && memory.briefed.isEmpty && memory.audit.isEmpty)
    }

    @Test func aSyncIsPlannedFromTheMembersAndTheFileAlone() throws {
        let members = [
            Provider(
                id: 1, organization: "Acme", status: .active, listed: false, emails: ["a@acme.example"], webhooks: [],
                projects: ["demo"], createdAt: Date(), updatedAt: Date()),
            Provider(
                id: 2, organization: "Both", status: .active, listed: false, emails: ["b@both.example"], webhooks: [],
                projects: ["demo", "other"], createdAt: Date(), updatedAt: Date()),
            Provider(
                id: 3, organization: "Gone", status: .suspended, listed: false, emails: ["g@gone.example"],
                webhooks: [], projects: ["demo"], createdAt: Date(), updatedAt: Date()),
            Provider(
                id: 4, organization: "Elsewhere", status: .active, listed: false, emails: ["e@else.example"],
                webhooks: [], projects: ["other"], createdAt: Date(), updatedAt: Date()),
        ]
        let list = try ProviderImport(
            csv: """
                organization,email,project,language
                acme,a@acme.example,demo,nl
                Acme,new@acme.example,demo,
                Newco,n@newco.example,demo,
                """)
        let plan = try ProviderSync(members: members, list: list)
        #expect(plan.additions.map(\.organization) == ["Newco"])
        #expect(plan.changes.map(\.member.id) == [1, 2])
        #expect(plan.changes[0].summary { $0 } == "+new@acme.example, language nl")
        #expect(plan.changes[1].summary { $0 } == "-project demo")
        #expect(plan.removals.map(\.id) == [3])
    }

    @Test func onlyAFailedDeliveryIsSentAgainAndEachRetryIsAudited() throws {
        final class Queue: DeliveryQueue {
            var states: [Int64: DeliveryState] = [1: .delivered, 2: .dead, 3: .retrying, 4: .dead]
            func state(ofDelivery id: Int64) throws -> DeliveryState? { states[id] }
            func requeue(_ id: Int64, at: Date) throws { states[id] = .pending }
            func requeueDead(at: Date) throws -> Int {
                let dead = states.filter { $0.value == .dead }.keys
                for id in dead { states[id] = .pending }
                return dead.count
            }
        }
        let queue = Queue()
        let retries = DeliveryRetries(
            work: memory, queue: queue, audit: memory, clock: FixedClock(Date(timeIntervalSince1970: 1_800_000_000)))
        #expect(throws: Refusal.self) { try retries.retry(1, actor: "rm") }
        #expect(throws: Refusal.self) { try retries.retry(99, actor: "rm") }
        try retries.retry(3, actor: "rm")
        #expect(queue.states[3] == .pending && memory.audit == ["delivery.retry"])
        #expect(try retries.retryDead(actor: "rm") == 2)
        #expect(memory.audit == ["delivery.retry", "delivery.retry-dead"])
    }
}
