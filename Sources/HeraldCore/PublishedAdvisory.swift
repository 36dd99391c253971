import Foundation

/// What the public may read of a published advisory, with its project's name: the only
/// input the feeds and pages get, so they cannot show what is not published.
public struct PublishedAdvisory: Equatable, Sendable {
    /// The advisory; published, or it would not be here.
    public var advisory: Advisory
    /// Its project's display name.
    public var projectName: String
    /// Its project's IANA time zone, for instants shown to people.
    public var projectTimezone: String
    /// The packages the project ships, for OSV's `affected`.
    public var packages: [Package]
    /// The body rendered from Markdown to HTML by the caller (cmark-gfm, safe); empty: none.
    public var bodyHTML: String = ""

    /// Refuses anything but a published advisory, so nothing else can reach a public surface.
    public init?(_ advisory: Advisory, projectName: String, projectTimezone: String, packages: [Package] = []) {
        guard advisory.state == .published, advisory.publishedAt != nil else { return nil }
        self.advisory = advisory
        self.projectName = projectName
        self.projectTimezone = projectTimezone
        self.packages = packages
    }

    /// When it became public; always set, as the initialiser checks.
    public var published: Date { advisory.publishedAt! }
    /// Bumped by every revision after publication, so feed readers show corrections.
    public var updated: Date { max(advisory.updatedAt, published) }
}
