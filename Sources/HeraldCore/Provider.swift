import Foundation

/// Where a provider stands on the early-notice list.
public enum ProviderStatus: String, Codable, Sendable, CaseIterable {
    /// Subscribed through the public form; has not clicked the confirmation link yet.
    case pendingConfirmation = "pending-confirmation"
    /// Address confirmed (or added by a release manager); waits for a release manager.
    case pendingApproval = "pending-approval"
    /// Receives early notices.
    case active
    /// Temporarily receives nothing; can be approved again.
    case suspended
    /// Left or was removed; kept for the record of what it received.
    case removed

    /// The status after `action`, or the refusal that names where `action` is allowed.
    public func after(_ action: ProviderAction, subject: String) throws(Refusal) -> ProviderStatus {
        let allowed: [ProviderStatus]
        let next: ProviderStatus
        switch action {
        case .confirm:
            allowed = [.pendingConfirmation]
            next = .pendingApproval
        case .approve:
            allowed = [.pendingApproval, .suspended]
            next = .active
        case .suspend:
            allowed = [.active, .pendingApproval]
            next = .suspended
        case .remove:
            allowed = [.pendingConfirmation, .pendingApproval, .active, .suspended]
            next = .removed
        }
        guard allowed.contains(self) else {
            throw .illegalTransition(
                subject: subject, state: rawValue, action: action.rawValue, allowedFrom: allowed.map(\.rawValue))
        }
        return next
    }
}

/// What can happen to a provider's status.
public enum ProviderAction: String, Sendable {
    case confirm, approve, suspend, remove
}

/// How a chat or webhook endpoint expects its payload.
public enum WebhookKind: String, Codable, Sendable, CaseIterable {
    case slack, mattermost, discord, teams, matrix
    /// Generic JSON signed with Standard Webhooks headers.
    case webhook
}

/// A webhook endpoint of a provider.
public struct ProviderWebhook: Equatable, Sendable, Codable {
    /// Where notices are posted.
    public var url: String
    /// The payload shape the endpoint expects.
    public var kind: WebhookKind
    /// `whsec_…` for the generic kind, so the provider can verify signatures.
    public var secret: String?
    /// Set when the endpoint answered 410 Gone.
    public var disabledAt: Date?

    /// Creates a webhook value.
    public init(url: String, kind: WebhookKind, secret: String? = nil, disabledAt: Date? = nil) {
        self.url = url
        self.kind = kind
        self.secret = secret
        self.disabledAt = disabledAt
    }
}

/// A service provider on the early-notice list.
public struct Provider: Equatable, Sendable, Codable {
    /// Database id.
    public var id: Int64
    /// The organisation's name, as release managers and the members page show it.
    public var organization: String
    /// Where it stands on the list; only an `active` provider receives early notices.
    public var status: ProviderStatus
    /// Whether the organisation agreed to appear on the public members page.
    public var listed: Bool
    /// Role addresses; each gets its own copy of every notice.
    public var emails: [String]
    /// Chat or webhook endpoints; each gets its own copy of every notice.
    public var webhooks: [ProviderWebhook]
    /// Slugs of the projects it receives notices for.
    public var projects: [String]
    /// When it joined the list (subscribed or was added).
    public var createdAt: Date
    /// The last change to it.
    public var updatedAt: Date
    /// The language of its messages.
    public var language: Language = .english
    /// For a request waiting for approval: members whose names look like this one's (TS #39).
    public var looksLike: [String]?

    /// Creates a provider value; `language` and `looksLike` are set apart.
    public init(
        id: Int64, organization: String, status: ProviderStatus, listed: Bool, emails: [String],
        webhooks: [ProviderWebhook], projects: [String], createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.organization = organization
        self.status = status
        self.listed = listed
        self.emails = emails
        self.webhooks = webhooks
        self.projects = projects
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// A provider as a release manager or a subscriber asks for it, validated.
public struct NewProvider: Equatable, Sendable {
    /// The organisation's name.
    public let organization: String
    /// Role addresses, duplicates merged without regard to case.
    public let emails: [String]
    /// Endpoints, duplicate URLs merged.
    public let webhooks: [ProviderWebhook]
    /// Slugs of the projects it receives notices for.
    public let projects: [String]
    /// Whether it agreed to appear on the public members page.
    public let listed: Bool
    /// The language of its messages.
    public let language: Language

    /// Most addresses, webhooks and projects one provider may have: counted before any is looked at.
    public static let maxEmails = 20, maxWebhooks = 5, maxProjects = 100

    /// Validates and normalises; duplicate addresses, URLs and projects are merged. Every list
    /// is counted before its elements are validated, so a hostile body costs almost nothing.
    public init(
        organization: String, emails: [String], webhooks: [(url: String, kind: WebhookKind)] = [],
        projects: [String], listed: Bool = false, language: Language = .english
    ) throws(Refusal) {
        self.language = language
        try Validate.count(emails, field: "email", max: Self.maxEmails, noun: "addresses per provider")
        try Validate.count(webhooks, field: "webhook", max: Self.maxWebhooks, noun: "webhooks per provider")
        try Validate.count(projects, field: "project", max: Self.maxProjects, noun: "projects per provider")
        self.organization = try Validate.name(organization, field: "organization")
        guard !emails.isEmpty else {
            throw .invalid(field: "email", rule: "give at least one address to send notices to")
        }
        var seen = Set<String>()
        var addresses: [String] = []
        for email in emails {
            let address = try Address.email(email, field: "email")
            if seen.insert(address.lowercased()).inserted { addresses.append(address) }
        }
        self.emails = addresses
        var urls = Set<String>()
        var hooks: [ProviderWebhook] = []
        for hook in webhooks {
            let url = try Address.webURL(hook.url, field: "webhook")
            if urls.insert(url).inserted { hooks.append(ProviderWebhook(url: url, kind: hook.kind)) }
        }
        self.webhooks = hooks
        guard !projects.isEmpty else {
            throw .invalid(field: "project", rule: "name at least one project the provider receives notices for")
        }
        var slugs: [String] = []
        var seenSlugs = Set<String>()
        for project in projects {
            let slug = try Slug.validate(project, field: "project")
            if seenSlugs.insert(slug).inserted { slugs.append(slug) }
        }
        self.projects = slugs
        self.listed = listed
    }
}

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
