import Foundation
import HeraldCore
import Testing

@testable import HeraldApp

/// Self-service over ports in memory: a link is checked before any work, and every bad link
/// gets the same refusal.
final class LinkMemory: UnitOfWork, ProjectDirectory, LinkTokens, ProviderMail, NoticeRecords, AuditTrail,
    AnswerRecords,
    ReleaseManagerMail
{
    var summaries: [Int64: NoticeSummary] = [:]
    var standings: [Int64: (state: AdvisoryState, release: Date?)] = [:]
    var answers: [ProviderAnswer] = []
    var seen: Set<Int64> = []
    var acknowledged: [Int64] = []
    var moreTime: [String] = []
    var excluded: Set<Int64> = []
    var lookups = 0
    var stored: [String: (LinkPurpose, LinkUse, used: Bool)] = [:]
    let roster = RosterMemory()
    var mails: [String] = []
    var audit: [String] = []

    func write<T>(_ body: () throws -> T) throws -> T { try body() }
    func require(_ slug: String, field: String) throws -> Project {
        Project(id: 1, slug: slug, name: "Demo", timezone: "UTC", maxEmbargoDays: 14, createdAt: Date())
    }
    func list() throws -> [Project] { [try require("demo", field: "project")] }
    func issueLink(_ purpose: LinkPurpose, provider: Int64, notice: Int64?, expires: Date?, email: String?) throws
        -> String
    {
        let token = String(repeating: "t", count: 43 - String(stored.count).count) + String(stored.count)
        stored[token] = (purpose, LinkUse(provider: provider, notice: notice, email: email), false)
        return token
    }
    func useLink(_ token: String, purpose: LinkPurpose, at now: Date, consume: Bool) throws -> LinkUse? {
        lookups += 1
        guard let (kind, link, used) = stored[token], kind == purpose, !used else { return nil }
        if consume { stored[token]?.used = true }
        return link
    }
    func sendConfirmation(to provider: Provider, address: String, link: String) throws { mails.append(link) }
    func sendContactLeft(_ provider: Provider, address: String, remaining: [String]) throws {}
    func sendWelcome(to provider: Provider) throws {}
    func sendSignInLink(to provider: Provider, address: String, link: String) throws {}
    func sendContactConfirmation(to provider: Provider, address: String, link: String) throws {}
    func acknowledge(notice: Int64, provider: Int64, at: Date) throws -> Bool {
        acknowledged.append(provider)
        return true
    }
    func summary(of notice: Int64) throws -> NoticeSummary? { summaries[notice] }
    func takesPart(provider: Int64, inAdvisoryOf notice: Int64) throws -> Bool { !excluded.contains(provider) }
    func latestProposal(advisory: Int64, provider: Int64) throws -> Date? { answers.last?.proposedInstant }
    func proposals(advisory: Int64, provider: Int64, since: Date) throws -> Int {
        answers.filter { $0.status == .needsMoreTime }.count
    }
    func standing(ofAdvisory id: Int64) throws -> (state: AdvisoryState, release: Date?)? { standings[id] }
    func record(_ answer: ProviderAnswer, advisory: Int64, provider: Int64, at: Date, by: String) throws {
        answers.append(answer)
    }
    func markSeen(advisory: Int64, provider: Int64, at: Date) throws { seen.insert(provider) }
    func sendMoreTimeRequested(advisory: Int64, organization: String, proposed: Date, statement: String) throws {
        moreTime.append(organization)
    }
    func advisoryAction(_ action: String, advisory: Int64, at: Date, actor: String, details: [String: String]) throws {}
    func entry(
        _ action: String, subjectType: String, subjectID: Int64?, at: Date, actor: String, reason: String,
        details: [String: String]
    ) throws { audit.append(action) }
}

@Suite struct SubscriptionsTests {
    let memory = LinkMemory()
    var subscriptions: Subscriptions {
        Subscriptions(
            work: memory, roster: memory.roster, projects: memory, links: memory, mail: memory, notices: memory,
            answers: memory, managers: memory, audit: memory,
            clock: FixedClock(Date(timeIntervalSince1970: 1_800_000_000)), publicURL: "https://herald.test")
    }

    @Test func aConfirmationLinkWorksOnceAndEveryBadLinkGetsTheSameRefusal() throws {
        try subscriptions.subscribe(
            try NewProvider(organization: "Acme", emails: ["sec@acme.example"], projects: ["demo"]))
        let link = try #require(memory.mails.first)
        #expect(link.hasPrefix("https://herald.test/subscriptions/confirm?token="))
        let token = String(link.dropFirst("https://herald.test/subscriptions/confirm?token=".count))
        #expect(try subscriptions.confirm(token: token).status == .pendingApproval)
        var refusals: Set<String> = []
        for bad in [token, "", "short", String(repeating: "x", count: 5000), String(repeating: "y", count: 43)] {
            do {
                _ = try subscriptions.confirm(token: bad)
                Issue.record("\(bad.prefix(10)) was accepted")
            } catch let refusal as Refusal {
                refusals.insert(refusal.description)
            }
        }
        #expect(refusals.count == 1, "\(refusals)")
        // A token of a length no link has is refused before the store is asked.
        #expect(memory.lookups == 3, "the used token, the unknown one of the right length, and the first confirm")
    }

    @Test func aParticipantAnswersThroughItsNoticeLinkAndMoreTimeReachesTheReleaseManagers() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let provider = memory.roster.seed("Acme", .active, emails: ["sec@acme.example"])
        memory.summaries[7] = NoticeSummary(kind: "early-notice", revision: 1, title: "Overflow", advisoryID: 3)
        memory.standings[3] = (.scheduled, now + 7 * 86_400)
        let token = try memory.issueLink(
            .ack, provider: provider.id, notice: 7, expires: nil, email: "sec@acme.example")

        // Opening the link is seeing the advisory; it answers nothing yet.
        _ = try subscriptions.subject(of: token, purpose: .ack)
        #expect(memory.seen == [provider.id] && memory.answers.isEmpty && memory.acknowledged.isEmpty)

        let refused: [(ResponseStatus, Date?)] = [
            (.unknown, nil),  // not an answer
            (.needsMoreTime, nil),  // more time, but until when?
            (.needsMoreTime, now + 86_400),  // before the release instant
            (.needsMoreTime, now + 400 * 86_400),  // beyond a year
            (.ready, now + 9 * 86_400),  // only "needs more time" proposes
        ]
        for (status, proposed) in refused {
            #expect(throws: Refusal.self, "\(status) \(String(describing: proposed))") {
                try subscriptions.answer(
                    token: token, status: status, proposedInstant: proposed, statement: "", shareable: false)
            }
        }
        #expect(memory.answers.isEmpty && memory.moreTime.isEmpty && memory.audit.isEmpty)

        _ = try subscriptions.answer(
            token: token, status: .needsMoreTime, proposedInstant: now + 9 * 86_400, statement: "Two weeks, please",
            shareable: true)
        #expect(memory.answers.map(\.status) == [.needsMoreTime] && memory.answers[0].shareable)
        #expect(memory.moreTime == ["Acme"] && memory.acknowledged == [provider.id])
        #expect(memory.audit == ["advisory.answer"])
        // The same proposal again is recorded, but the release managers were told already.
        _ = try subscriptions.answer(
            token: token, status: .needsMoreTime, proposedInstant: now + 9 * 86_400, statement: "", shareable: false)
        #expect(memory.moreTime == ["Acme"] && memory.answers.count == 2)
        memory.answers.removeLast()
        // An answer is history: a second one is a second row, and says nothing to release managers.
        _ = try subscriptions.answer(token: token, status: .ready, proposedInstant: nil, statement: "", shareable: true)
        #expect(memory.answers.map(\.status) == [.needsMoreTime, .ready])
        #expect(memory.answers[1].shareable == false, "nothing to share without a statement")
        #expect(memory.moreTime == ["Acme"])

        // Excluded from the advisory, or the advisory withdrawn: no more answers.
        memory.standings[3] = (.cancelled, now + 7 * 86_400)
        #expect(throws: Refusal.self) {
            try subscriptions.answer(
                token: token, status: .ready, proposedInstant: nil, statement: "", shareable: false)
        }
        memory.standings[3] = (.scheduled, now + 7 * 86_400)
        memory.excluded.insert(provider.id)
        #expect(throws: Refusal.self) {
            try subscriptions.answer(
                token: token, status: .ready, proposedInstant: nil, statement: "", shareable: false)
        }
        #expect(memory.answers.count == 2)
    }
}
