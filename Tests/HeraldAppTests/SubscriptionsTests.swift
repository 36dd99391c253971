import Foundation
import HeraldCore
import Testing

@testable import HeraldApp

/// Self-service over ports in memory: a link is checked before any work, and every bad link
/// gets the same refusal.
final class LinkMemory: UnitOfWork, ProviderRoster, ProjectDirectory, LinkTokens, ProviderMail, NoticeRecords,
    AuditTrail
{
    var lookups = 0
    var stored: [String: (LinkPurpose, LinkUse, used: Bool)] = [:]
    var providers: [Int64: Provider] = [:]
    var mails: [String] = []
    var audit: [String] = []

    func write<T>(_ body: () throws -> T) throws -> T { try body() }
    func get(_ id: Int64) throws -> Provider {
        guard let provider = providers[id] else { throw Refusal.notFound(subject: "provider", id: String(id)) }
        return provider
    }
    func addRequest(_ request: NewProvider, actor: String) throws -> Provider {
        let provider = Provider(
            id: Int64(providers.count + 1), organization: request.organization, status: .pendingConfirmation,
            listed: false,
            emails: request.emails, webhooks: [], projects: request.projects, createdAt: Date(), updatedAt: Date())
        providers[provider.id] = provider
        return provider
    }
    func move(_ id: Int64, _ action: ProviderAction, reason: String, actor: String) throws -> Provider {
        var provider = try get(id)
        provider.status = try provider.status.after(action, subject: "provider \(id)")
        providers[id] = provider
        return provider
    }
    func removeContact(_ id: Int64, address: String, at: Date, actor: String, reason: String) throws {}
    func expireUnconfirmed(before cutoff: Date, at now: Date) throws -> Int { 0 }
    func require(_ slug: String, field: String) throws -> Project {
        Project(id: 1, slug: slug, name: "Demo", timezone: "UTC", maxEmbargoDays: 14, createdAt: Date())
    }
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
    func acknowledge(notice: Int64, provider: Int64, at: Date) throws -> Bool { true }
    func summary(of notice: Int64) throws -> NoticeSummary? { nil }
    func isExcluded(provider: Int64, fromAdvisoryOf notice: Int64) throws -> Bool { false }
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
            work: memory, roster: memory, projects: memory, links: memory, mail: memory, notices: memory, audit: memory,
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
}
