import Foundation
import HeraldCore
import HeraldMarkdown

/// What public surfaces may read: published advisories, releases whose date was
/// pre-announced, and the organisations that agreed to be listed. Nothing else leaves here.
public struct PublicStore {
    let database: Database
    let clock: any Clock

    /// Creates a store over `database`.
    public init(database: Database, clock: any Clock) {
        self.database = database
        self.clock = clock
    }

    /// Published advisories, newest first.
    public func published() throws -> [PublishedAdvisory] {
        let zones = try projectInfo()
        return try AdvisoryStore(database: database, clock: clock).list(state: .published)
            .compactMap { advisory in
                let project = zones[advisory.projectSlug]
                return PublishedAdvisory(
                    advisory, projectName: project?.name ?? advisory.projectSlug,
                    projectTimezone: project?.timezone ?? "UTC",
                    packages: project?.packages ?? []
                ).map(Self.rendered)
            }
            .sorted { ($0.published, $0.advisory.id) > ($1.published, $1.advisory.id) }
    }

    /// The published advisory with `publicID`, or nil: the same nil, in the same time, for one
    /// that does not exist and one that is not public yet. Its revisions carry only what is
    /// public of them (when, and the public note).
    public func published(publicID: String) throws -> (advisory: PublishedAdvisory, revisions: [PublicRevision])? {
        let store = AdvisoryStore(database: database, clock: clock)
        guard publicID.utf8.count <= 80, let advisory = try store.find(publicID: publicID, state: .published) else {
            return nil
        }
        let project = try projectInfo()[advisory.projectSlug]
        guard
            let item = PublishedAdvisory(
                advisory, projectName: project?.name ?? advisory.projectSlug,
                projectTimezone: project?.timezone ?? "UTC", packages: project?.packages ?? []
            ).map(Self.rendered)
        else { return nil }
        return (item, try store.revisions(of: advisory.id).map(PublicRevision.init))
    }

    /// Scheduled releases whose pre-announcement has gone out: project, instant, severity.
    public func upcoming() throws -> [UpcomingRelease] {
        try database.query(
            """
            SELECT p.name, p.timezone, a.embargo_at, a.severity FROM advisories a JOIN projects p ON p.id = a.project_id
            WHERE a.state = 'scheduled' AND EXISTS (SELECT 1 FROM notices n WHERE n.advisory_id = a.id AND n.kind = 'pre-announcement')
            ORDER BY a.embargo_at
            """
        ) { row in
            UpcomingRelease(
                projectName: row.text(0), projectTimezone: row.text(1), instant: row.date(2),
                severity: row.optionalText(3).flatMap(Severity.init(rawValue:)))
        }
    }

    /// Active providers that agreed to be listed, by name.
    public func listedOrganizations() throws -> [String] {
        try database.query(
            "SELECT organization FROM providers WHERE status = 'active' AND listed = 1 ORDER BY lower(organization)"
        ) { $0.text(0) }
    }

    /// Changes whenever anything public changes: a publication, a revision of a published
    /// advisory, a pre-announcement, a change to a pre-announced release, the members list.
    /// Caches compare it. It is made of public data only: a private notice, an embargoed
    /// advisory's changes or a pending request leave it as it was, so no timing can tell.
    public func fingerprint() throws -> String {
        try database.first(
            """
            SELECT (SELECT count(*) || ':' || coalesce(max(updated_at), 0) FROM advisories WHERE state = 'published') || '/' ||
                   (SELECT coalesce(group_concat(a.id || '@' || a.state || ':' || a.embargo_at || ':' || coalesce(a.severity, ''), ','), '') FROM advisories a
                    WHERE a.state IN ('scheduled', 'cancelled')
                      AND EXISTS (SELECT 1 FROM notices n WHERE n.advisory_id = a.id AND n.kind = 'pre-announcement')) || '/' ||
                   (SELECT count(*) || ':' || coalesce(sum(id), 0) || ':' || coalesce(max(updated_at), 0) FROM providers
                    WHERE status = 'active' AND listed = 1) || '/' ||
                   (SELECT coalesce(group_concat(project_id || ':' || ecosystem || '/' || name, ','), '') FROM project_packages) || '/' ||
                   (SELECT coalesce(group_concat(project_id || ':' || fingerprint, ','), '') FROM project_keys)
            """
        ) { $0.text(0) } ?? ""
    }

    /// The item with its Markdown body rendered (pages and feeds show HTML).
    static func rendered(_ item: PublishedAdvisory) -> PublishedAdvisory {
        var item = item
        item.bodyHTML =
            item.advisory.content.body.isEmpty ? "" : Markdown.html(item.advisory.content.body, headingOffset: 2)
        return item
    }

    private func projectInfo() throws -> [String: Project] {
        Dictionary(
            uniqueKeysWithValues: try ProjectStore(database: database, clock: clock).list().map { ($0.slug, $0) })
    }
}
