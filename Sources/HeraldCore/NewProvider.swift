import Foundation

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
