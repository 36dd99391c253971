import Foundation
import HeraldCore

@testable import HeraldApp

/// The early-notice list in memory, with the mail, briefings and audit rows the use cases
/// cause: the provider rules tested without SQLite.
final class RosterMemory: UnitOfWork, ProviderRepository, ProjectDirectory, EmbargoBriefing, ProviderMail, AuditTrail,
    CredentialFingerprints
{
    var rows: [Int64: Provider] = [:]
    var projects = [Project(id: 1, slug: "demo", name: "Demo", timezone: "UTC", maxEmbargoDays: 14, createdAt: Date())]
    var briefed: [Int64] = []
    var welcomed: [String] = []
    var confirmations: [String] = []
    var audit: [String] = []
    var writes = 0

    /// A transaction: on an error, the rows go back to what they were.
    func write<T>(_ body: () throws -> T) throws -> T {
        let saved = (rows, briefed, welcomed, audit)
        do { return try body() } catch {
            (rows, briefed, welcomed, audit) = saved
            throw error
        }
    }

    @discardableResult
    func seed(_ organization: String, _ status: ProviderStatus, emails: [String] = ["a@x.example"]) -> Provider {
        let id = Int64(rows.count + 1)
        rows[id] = Provider(
            id: id, organization: organization, status: status, listed: false, emails: emails, webhooks: [],
            projects: ["demo"], createdAt: Date(), updatedAt: Date())
        return rows[id]!
    }

    func get(_ id: Int64) throws -> Provider {
        guard let provider = rows[id] else { throw Refusal.notFound(subject: "provider", id: String(id)) }
        return provider
    }
    func insert(_ provider: NewProvider, status: ProviderStatus, projectIDs: [Int64], at: Date) throws -> Int64 {
        writes += 1
        let id = Int64(rows.count + 1)
        rows[id] = Provider(
            id: id, organization: provider.organization, status: status, listed: provider.listed,
            emails: provider.emails, webhooks: provider.webhooks,
            projects: projects.filter { projectIDs.contains($0.id) }.map(\.slug), createdAt: at, updatedAt: at)
        return id
    }
    func setStatus(_ id: Int64, to status: ProviderStatus, at: Date) throws {
        writes += 1
        rows[id]?.status = status
    }
    func removeContact(_ id: Int64, address: String, at: Date, actor: String, reason: String) throws {
        writes += 1
        rows[id]?.emails.removeAll { $0 == address }
    }
    func expireUnconfirmed(before cutoff: Date, at now: Date) throws -> Int { 0 }
    var endedSessions: [String] = []
    func endPortalSessions(ofProvider provider: Int64, address: String?, at: Date) throws {
        endedSessions.append("\(provider):\(address ?? "*")")
    }
    func members() throws -> [Provider] {
        rows.values.filter { $0.status == .active || $0.status == .suspended }.sorted { $0.id < $1.id }
    }
    func memberID(named organization: String, except: Int64?) throws -> Int64? {
        try members().first { $0.organization.lowercased() == organization.lowercased() && $0.id != except }?.id
    }
    func lookAlikes(of provider: Provider) throws -> [String] {
        rows.values.filter {
            $0.id != provider.id && $0.status != .removed && $0.status != .pendingConfirmation
                && Confusable.lookAlike($0.organization, provider.organization)
        }.map(\.organization)
    }
    func providers(from first: Int64, through last: Int64) throws -> [Provider] {
        (first...last).compactMap { rows[$0] }
    }
    func apply(_ change: ProviderEdit, to id: Int64, addProjectIDs: [Int64], removeProjectIDs: [Int64], at: Date)
        throws -> (newSecrets: [String: String], sentAgain: Int)
    {
        writes += 1
        var provider = try get(id)
        provider.emails.removeAll { address in change.removeEmails.contains { $0.lowercased() == address.lowercased() }
        }
        provider.emails += change.addEmails
        provider.projects += projects.filter { addProjectIDs.contains($0.id) }.map(\.slug)
        provider.projects.removeAll { slug in projects.contains { $0.slug == slug && removeProjectIDs.contains($0.id) }
        }
        if let organization = change.organization { provider.organization = organization }
        rows[id] = provider
        return ([:], 0)
    }
    func require(_ slug: String, field: String) throws -> Project {
        guard let project = projects.first(where: { $0.slug == slug }) else {
            throw Refusal.invalid(field: field, rule: "no project '\(slug)'")
        }
        return project
    }
    func list() throws -> [Project] { projects }
    func brief(provider id: Int64) throws { briefed.append(id) }
    func sendConfirmation(to provider: Provider, address: String, link: String) throws { confirmations.append(link) }
    func sendContactLeft(_ provider: Provider, address: String, remaining: [String]) throws {}
    func sendWelcome(to provider: Provider) throws { welcomed.append(provider.organization) }
    func sendSignInLink(to provider: Provider, address: String, link: String) throws {}
    func sendContactConfirmation(to provider: Provider, address: String, link: String) throws {}
    func advisoryAction(_ action: String, advisory: Int64, at: Date, actor: String, details: [String: String]) throws {}
    func entry(
        _ action: String, subjectType: String, subjectID: Int64?, at: Date, actor: String, reason: String,
        details: [String: String]
    ) throws { audit.append(action) }
    func url(_ url: String) -> String { "…" + url.suffix(4) }
}
