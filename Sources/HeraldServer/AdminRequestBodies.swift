import Foundation
import HeraldCore
import HeraldStore
import Hummingbird

// MARK: - Request bodies (snake_case keys)

struct ProjectInput: Decodable {
    var slug: String?
    var name: String?
    var timezone: String?
    var maxEmbargoDays: Int?
    var language: String?
}
struct WebhookInput: Decodable {
    var url: String
    var kind: String?
}
struct ProviderInput: Decodable {
    var organization: String?
    var emails: [String]?
    var webhooks: [WebhookInput]?
    var projects: [String]?
    var listed: Bool?
    var approve: Bool?
    var language: String?
}
/// `PATCH /api/v1/providers/{id}`: what to change; what is left out stays.
struct ProviderPatchInput: Decodable {
    struct Replacement: Decodable {
        var from: String
        var to: String
    }
    var organization: String?
    var addEmails: [String]?
    var removeEmails: [String]?
    var addWebhooks: [WebhookInput]?
    var removeWebhooks: [String]?
    var replaceWebhook: Replacement?
    var addProjects: [String]?
    var removeProjects: [String]?
    var listed: Bool?
    var language: String?
    var reason: String?

    func edit() throws -> ProviderEdit {
        let hooks = try (addWebhooks ?? []).map { hook throws -> (url: String, kind: WebhookKind) in
            guard let kind = WebhookKind(rawValue: hook.kind ?? "webhook") else {
                throw Refusal.invalid(
                    field: "add_webhooks.kind",
                    rule: "must be one of \(WebhookKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return (hook.url, kind)
        }
        return try ProviderEdit(
            organization: organization, addEmails: addEmails ?? [], removeEmails: removeEmails ?? [],
            addWebhooks: hooks,
            removeWebhooks: removeWebhooks ?? [], replaceWebhook: replaceWebhook.map { ($0.from, $0.to) },
            addProjects: addProjects ?? [], removeProjects: removeProjects ?? [], listed: listed,
            language: try language.map(Language.parse))
    }
}
/// The answer to an edit: the provider as listings show it, and the secrets of added webhooks (shown once).
struct EditedProvider: Encodable, Sendable {
    var provider: Provider
    var newSecrets: [String: String]
}
struct ChannelInput: Decodable {
    var project: String?
    var kind: String?
    var target: String?
    var secret: String?
    var language: String?
}
/// A provider's public key, armored, for one of its addresses or each one it names.
struct ProviderKeyInput: Decodable {
    var key: String?
    var email: String?
}
/// The addresses a removed key served.
struct RemovedKey: Encodable, Sendable {
    var addresses: [String]
}
struct ReasonInput: Decodable {
    var reason: String?
    var despiteLookAlike: Bool?
}
/// Why a release manager declines a participant's proposal: mailed to that participant.
struct NoteInput: Decodable {
    var note: String?
}
/// The three audiences' words of a change: `reason` (audit), `note_to_providers`, `public_note`.
struct NotesInput: Decodable {
    var reason: String?
    var noteToProviders: String?
    var publicNote: String?

    func notes(reasonRequired: Bool) throws(Refusal) -> ChangeNotes {
        try ChangeNotes(
            reason: reason ?? "", toProviders: noteToProviders ?? "", publicNote: publicNote ?? "",
            reasonRequired: reasonRequired)
    }
}
struct TokenInput: Decodable {
    var name: String?
    var role: String?
}
struct CreatedToken: Encodable, Sendable {
    var token: String
    var record: TokenRecord
}

struct AdvisoryInput: Decodable {
    var project: String?
    var title: String?
    var summary: String?
    var body: String?
    var cves: [String]?
    var severity: String?
    var cvss: String?
    var affected: String?
    var fixed: String?
    var embargo: String?
    var earlyNotice: String?
    var preAnnounce: String?
    /// Why the release instant is outside the project's release window.
    var outsideWindow: String?
    /// Embargo terms: `allowed` or `not-allowed`.
    var deployment: String?
    /// Embargo terms: `embargoed` or `public`.
    var patchTerms: String?
    /// Embargo terms: a TLP label.
    var tlp: String?
    var reason: String?
    var noteToProviders: String?
    var publicNote: String?
    var references: [ReferenceInput]?
    struct ReferenceInput: Decodable {
        var type: String
        var url: String
    }

    var notes: NotesInput { NotesInput(reason: reason, noteToProviders: noteToProviders, publicNote: publicNote) }

    /// The terms given here, starting from `base`; nil when none is given.
    func terms(from base: EmbargoTerms) throws -> EmbargoTerms? {
        guard deployment != nil || patchTerms != nil || tlp != nil else { return nil }
        return try base.changed(deployment: deployment, patch: patchTerms, tlp: tlp)
    }

    func patch() throws -> AdvisoryPatch {
        let severity = try self.severity.map(Severity.parse)
        try Validate.count(
            references ?? [], field: "references", max: AdvisoryContent.maxReferences, noun: "references per advisory")
        return AdvisoryPatch(
            title: title, summary: summary, body: body, cves: cves, severity: severity, cvss: cvss, affected: affected,
            fixed: fixed,
            references: try references.map { try $0.map { try Reference("\($0.type)=\($0.url)") } })
    }

    /// `current` with the instants given here; `now` is accepted for the notices.
    func schedule(applyingTo current: Schedule, now: Date) throws -> Schedule {
        func instant(_ text: String?, _ field: String, allowNow: Bool) throws -> Date? {
            guard let text else { return nil }
            if allowNow && text.lowercased() == "now" { return now }
            return try Instant.parse(text, field: field)
        }
        var next = current
        if let embargo = try instant(embargo, "embargo", allowNow: false) { next.embargo = embargo }
        if let early = try instant(earlyNotice, "early_notice", allowNow: true) { next.earlyNotice = early }
        if let pre = try instant(preAnnounce, "pre_announce", allowNow: true) { next.preAnnounce = pre }
        return next
    }
}
