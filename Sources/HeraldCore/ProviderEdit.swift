import Foundation

/// A change to a provider, as a release manager asks for it, validated (every list counted
/// before it is looked at). What is not named stays as it is.
public struct ProviderEdit: Sendable, Equatable {
    /// A new organisation name; nil keeps it.
    public let organization: String?
    /// Addresses to add.
    public let addEmails: [String]
    /// Addresses to remove.
    public let removeEmails: [String]
    /// Endpoints to add.
    public let addWebhooks: [ProviderWebhook]
    /// URLs of endpoints to remove.
    public let removeWebhooks: [String]
    /// A broken webhook URL and its replacement: the secret is kept, and what failed is sent again.
    public let replaceWebhook: (from: String, to: String)?
    /// Slugs of projects to follow as well.
    public let addProjects: [String]
    /// Slugs of projects to stop following.
    public let removeProjects: [String]
    /// Whether it appears on the members page; nil keeps it.
    public let listed: Bool?
    /// The language of its messages; nil keeps it.
    public let language: Language?

    /// Validates the change; refuses one that names nothing to change.
    public init(
        organization: String? = nil, addEmails: [String] = [], removeEmails: [String] = [],
        addWebhooks: [(url: String, kind: WebhookKind)] = [], removeWebhooks: [String] = [],
        replaceWebhook: (from: String, to: String)? = nil,
        addProjects: [String] = [], removeProjects: [String] = [], listed: Bool? = nil, language: Language? = nil
    ) throws(Refusal) {
        self.language = language
        for (list, field, max) in [
            (addEmails, "add-email", NewProvider.maxEmails), (removeEmails, "remove-email", NewProvider.maxEmails),
            (removeWebhooks, "remove-webhook", NewProvider.maxWebhooks),
            (addProjects, "add-project", NewProvider.maxProjects),
            (removeProjects, "remove-project", NewProvider.maxProjects),
        ] {
            try Validate.count(list, field: field, max: max, noun: "at a time")
        }
        try Validate.count(addWebhooks, field: "add-webhook", max: NewProvider.maxWebhooks, noun: "at a time")
        /// Each element through `check`, with the typed refusal kept.
        func each<T>(_ list: [String], _ check: (String) throws(Refusal) -> T) throws(Refusal) -> [T] {
            var out: [T] = []
            for item in list { out.append(try check(item)) }
            return out
        }
        self.organization = try organization.map { (name) throws(Refusal) in
            try Validate.name(name, field: "organization")
        }
        /// Duplicates merged (addresses without regard to case), as `NewProvider` does.
        func unique(_ list: [String], caseInsensitive: Bool = true) -> [String] {
            var seen = Set<String>()
            return list.filter { seen.insert(caseInsensitive ? $0.lowercased() : $0).inserted }
        }
        self.addEmails = unique(try each(addEmails) { (a) throws(Refusal) in try Address.email(a, field: "add-email") })
        self.removeEmails = unique(
            try each(removeEmails) { (a) throws(Refusal) in try Address.email(a, field: "remove-email") })
        var hooks: [ProviderWebhook] = []
        var urls = Set<String>()
        for hook in addWebhooks {
            let url = try Address.webURL(hook.url, field: "add-webhook")
            if urls.insert(url).inserted { hooks.append(ProviderWebhook(url: url, kind: hook.kind)) }
        }
        self.addWebhooks = hooks
        self.removeWebhooks = unique(
            try each(removeWebhooks) { (u) throws(Refusal) in try Address.webURL(u, field: "remove-webhook") },
            caseInsensitive: false)
        if let replace = replaceWebhook {
            self.replaceWebhook = (
                try Address.webURL(replace.from, field: "replace-webhook"),
                try Address.webURL(replace.to, field: "replace-webhook")
            )
        } else {
            self.replaceWebhook = nil
        }
        self.addProjects = unique(
            try each(addProjects) { (p) throws(Refusal) in try Slug.validate(p, field: "add-project") })
        self.removeProjects = unique(
            try each(removeProjects) { (p) throws(Refusal) in try Slug.validate(p, field: "remove-project") })
        self.listed = listed
        let nothing =
            organization == nil && addEmails.isEmpty && removeEmails.isEmpty && addWebhooks.isEmpty
            && removeWebhooks.isEmpty
            && replaceWebhook == nil && addProjects.isEmpty && removeProjects.isEmpty && listed == nil
            && language == nil
        if nothing {
            throw .invalid(
                field: "edit", rule: "name at least one change (--organization, --add-email, --remove-webhook, …)")
        }
    }

    /// The change that makes `current` what a form shows as a whole: its name, its addresses
    /// and projects as complete lists (compared without regard to case), its language and
    /// whether it is listed. Only what differs is named; a form that changes nothing is refused.
    public static func toward(
        _ current: Provider, organization: String, emails: [String], projects: [String], language: Language,
        listed: Bool
    ) throws(Refusal) -> ProviderEdit {
        try Validate.count(emails, field: "email", max: NewProvider.maxEmails, noun: "addresses per provider")
        try Validate.count(projects, field: "project", max: NewProvider.maxProjects, noun: "projects per provider")
        func missing(_ list: [String], from other: [String]) -> [String] {
            let others = Set(other.map { $0.lowercased() })
            return list.filter { !others.contains($0.lowercased()) }
        }
        let name = organization.trimmingCharacters(in: .whitespaces)
        let (addEmails, removeEmails) = (missing(emails, from: current.emails), missing(current.emails, from: emails))
        let (addProjects, removeProjects) = (
            missing(projects, from: current.projects), missing(current.projects, from: projects)
        )
        guard
            name != current.organization || language != current.language || listed != current.listed
                || !(addEmails + removeEmails + addProjects + removeProjects).isEmpty
        else {
            throw .invalid(field: "edit", rule: "the form changes nothing")
        }
        return try ProviderEdit(
            organization: name == current.organization ? nil : name, addEmails: addEmails, removeEmails: removeEmails,
            addProjects: addProjects, removeProjects: removeProjects, listed: listed == current.listed ? nil : listed,
            language: language == current.language ? nil : language)
    }

    /// Equal when they make the same change.
    public static func == (a: ProviderEdit, b: ProviderEdit) -> Bool {
        (a.organization, a.addEmails, a.removeEmails, a.addWebhooks, a.removeWebhooks) == (
            b.organization, b.addEmails, b.removeEmails, b.addWebhooks, b.removeWebhooks
        )
            && a.replaceWebhook?.from == b.replaceWebhook?.from && a.replaceWebhook?.to == b.replaceWebhook?.to
            && (a.addProjects, a.removeProjects, a.listed, a.language) == (
                b.addProjects, b.removeProjects, b.listed, b.language
            )
    }
}
