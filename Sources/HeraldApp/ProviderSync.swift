import Foundation
import HeraldCore

/// What `provider import --sync` does to the list, decided without a database: a name in the
/// file that is not a member yet is added (active); a member whose addresses, webhooks or
/// projects (of those the file names) differ is changed to match, and its listing and language
/// where the file says them; a member of those projects not in the file stops following them,
/// and leaves when it follows nothing else. Members of other projects only, and requests
/// waiting for confirmation or approval, are left alone.
public struct ProviderSync {
    /// What a sync did (or, rehearsed, would do): one line per provider.
    public struct Report: Sendable, Equatable, Encodable {
        /// Providers added, each with its addresses.
        public var added: [String] = []
        /// Providers changed, each with a summary of the change.
        public var changed: [String] = []
        /// Providers that left: not in the file, and following no other project.
        public var removed: [String] = []
        /// The signing secrets of the webhooks made, by provider: the only time they are shown.
        public var newSecrets: [NewSecret] = []

        /// An empty report.
        public init() {}
    }

    /// A webhook's signing secret, made by an import or a sync. Two providers may share a URL
    /// (a hosting company's one receiver), so each is named by provider and URL.
    public struct NewSecret: Sendable, Equatable, Encodable {
        /// The provider's organisation.
        public let provider: String
        /// The webhook's URL.
        public let url: String
        /// The secret, shown this once.
        public let secret: String
    }

    /// A member and the edit that makes it match the file.
    public struct Change {
        /// The member as it is.
        public var member: Provider
        /// What changes.
        public var edit: ProviderEdit

        /// "+b@x, -a@x, +project other, listed": what changes, in a few words; `redact` shows URLs.
        public func summary(_ redact: (String) -> String) -> String {
            var parts = edit.addEmails.map { "+\($0)" } + edit.removeEmails.map { "-\($0)" }
            parts +=
                edit.addWebhooks.map { "+webhook \(redact($0.url))" }
                + edit.removeWebhooks.map { "-webhook \(redact($0))" }
            parts += edit.addProjects.map { "+project \($0)" } + edit.removeProjects.map { "-project \($0)" }
            if let listed = edit.listed { parts.append(listed ? "listed" : "not listed") }
            if let language = edit.language { parts.append("language \(language.rawValue)") }
            return parts.joined(separator: ", ")
        }
    }

    /// New providers, in the file's order.
    public private(set) var additions: [NewProvider] = []
    /// Members to change: those in the file first, in its order, then those who only stop
    /// following the file's projects, by id.
    public private(set) var changes: [Change] = []
    /// Members to remove: not in the file and following none of the other projects, by id.
    public private(set) var removals: [Provider] = []

    /// Plans the sync of `members` (active and suspended providers) with `list`.
    public init(members: [Provider], list: ProviderImport) throws(Refusal) {
        let scope = list.projects
        var byName = Dictionary(
            members.filter { !scope.isDisjoint(with: $0.projects) }.map { ($0.organization.lowercased(), $0) },
            uniquingKeysWith: { first, _ in first })
        for entry in list.entries {
            let wanted = entry.provider
            guard let current = byName.removeValue(forKey: wanted.organization.lowercased()) else {
                additions.append(wanted)
                continue
            }
            let lower = { (list: [String]) in Set(list.map { $0.lowercased() }) }
            let currentHooks = Set(current.webhooks.map(\.url))
            let wantedHooks = Set(wanted.webhooks.map(\.url))
            let addEmails = wanted.emails.filter { !lower(current.emails).contains($0.lowercased()) }
            let removeEmails = current.emails.filter { !lower(wanted.emails).contains($0.lowercased()) }
            let addWebhooks = wanted.webhooks.filter { !currentHooks.contains($0.url) }
            let removeWebhooks = current.webhooks.map(\.url).filter { !wantedHooks.contains($0) }
            let addProjects = wanted.projects.filter { !current.projects.contains($0) }
            let removeProjects = current.projects.filter { scope.contains($0) && !wanted.projects.contains($0) }
            let listed = entry.listed.flatMap { $0 != current.listed ? $0 : nil }
            let language = entry.language.flatMap { $0 != current.language ? $0 : nil }
            let unchanged =
                addEmails.isEmpty && removeEmails.isEmpty && addWebhooks.isEmpty && removeWebhooks.isEmpty
                && addProjects.isEmpty && removeProjects.isEmpty && listed == nil && language == nil
            if unchanged { continue }
            let edit = try ProviderEdit(
                addEmails: addEmails, removeEmails: removeEmails, addWebhooks: addWebhooks.map { ($0.url, $0.kind) },
                removeWebhooks: removeWebhooks, addProjects: addProjects, removeProjects: removeProjects,
                listed: listed, language: language)
            changes.append(Change(member: current, edit: edit))
        }
        for gone in byName.values.sorted(by: { $0.id < $1.id }) {
            if gone.projects.allSatisfy(scope.contains) {
                removals.append(gone)
            } else {
                // It follows other projects too: it only stops following these.
                let edit = try ProviderEdit(removeProjects: gone.projects.filter(scope.contains))
                changes.append(Change(member: gone, edit: edit))
            }
        }
    }
}
