import Foundation
import HeraldCore

/// The rules a change to a provider must keep, checked before anything is written: what it
/// removes is there, a replaced webhook exists and its new URL is not taken, and the provider
/// keeps at least one address and one project and at most the maximum of each. Pure.
struct ProviderEditCheck {
    let current: Provider
    let change: ProviderEdit

    /// Checks `change` against `current`; `redact` shows a URL in a refusal by fingerprint.
    init(current: Provider, change: ProviderEdit, redact: (String) -> String) throws(Refusal) {
        self.current = current
        self.change = change
        let id = current.id
        // Added and removed at once is two answers to one question (and written in that order,
        // the thing would be gone): say one.
        let both =
            Set(change.addEmails.map { $0.lowercased() }).intersection(change.removeEmails.map { $0.lowercased() })
            .sorted() + Set(change.addWebhooks.map(\.url)).intersection(change.removeWebhooks).map(redact).sorted()
            + Set(change.addProjects).intersection(change.removeProjects).sorted()
        if let first = both.first {
            throw .invalid(field: "edit", rule: "\(Validate.quoted(first)) is both added and removed; name it once")
        }
        let lowered = Set(current.emails.map { $0.lowercased() })
        for email in change.removeEmails where !lowered.contains(email.lowercased()) {
            throw .invalid(field: "remove-email", rule: "\(Validate.quoted(email)) is not an address of provider \(id)")
        }
        var hooks = current.webhooks.map(\.url)
        for url in change.removeWebhooks {
            guard let index = hooks.firstIndex(of: url) else {
                throw .invalid(
                    field: "remove-webhook", rule: "\(Validate.quoted(redact(url))) is not a webhook of provider \(id)")
            }
            hooks.remove(at: index)
        }
        hooks += change.addWebhooks.map(\.url).filter { !hooks.contains($0) }
        if let replace = change.replaceWebhook {
            if replace.from != replace.to, hooks.contains(replace.to) {
                throw .conflict(
                    field: "replace-webhook",
                    rule:
                        "provider \(id) has \(Validate.quoted(redact(replace.to))) already; remove one of the two instead"
                )
            }
            guard hooks.contains(replace.from) else {
                throw .invalid(
                    field: "replace-webhook",
                    rule: "\(Validate.quoted(redact(replace.from))) is not a webhook of provider \(id)")
            }
        }
        for slug in change.removeProjects where !current.projects.contains(slug) {
            throw .invalid(field: "remove-project", rule: "provider \(id) does not follow \(Validate.quoted(slug))")
        }
        let removedEmails = Set(change.removeEmails.map { $0.lowercased() })
        let emails = Set(lowered.subtracting(removedEmails)).union(change.addEmails.map { $0.lowercased() })
        let projects = Set(current.projects).subtracting(change.removeProjects).union(change.addProjects)
        guard !emails.isEmpty else {
            throw .invalid(
                field: "remove-email", rule: "a provider keeps at least one address (remove the provider instead)")
        }
        guard !projects.isEmpty else {
            throw .invalid(field: "remove-project", rule: "a provider follows at least one project")
        }
        guard emails.count <= NewProvider.maxEmails, hooks.count <= NewProvider.maxWebhooks else {
            throw .invalid(
                field: "edit",
                rule: "at most \(NewProvider.maxEmails) addresses and \(NewProvider.maxWebhooks) webhooks per provider")
        }
    }

    /// The audit row's details: every change, URLs by fingerprint.
    func details(_ redact: (String) -> String) -> [String: String] {
        var details: [String: String] = [:]
        if let organization = change.organization, organization != current.organization {
            details["organization"] = "\(current.organization) → \(organization)"
        }
        if let language = change.language, language != current.language { details["language"] = language.rawValue }
        if let listed = change.listed, listed != current.listed { details["listed"] = String(listed) }
        if !change.addEmails.isEmpty { details["added addresses"] = change.addEmails.joined(separator: ", ") }
        if !change.removeEmails.isEmpty { details["removed addresses"] = change.removeEmails.joined(separator: ", ") }
        if !change.addWebhooks.isEmpty {
            details["added webhooks"] = change.addWebhooks.map { redact($0.url) }.joined(separator: ", ")
        }
        if !change.removeWebhooks.isEmpty {
            details["removed webhooks"] = change.removeWebhooks.map(redact).joined(separator: ", ")
        }
        if let replace = change.replaceWebhook {
            details["replaced webhook"] = "\(redact(replace.from)) → \(redact(replace.to))"
        }
        if !change.addProjects.isEmpty { details["added projects"] = change.addProjects.joined(separator: ", ") }
        if !change.removeProjects.isEmpty {
            details["removed projects"] = change.removeProjects.joined(separator: ", ")
        }
        return details
    }
}
