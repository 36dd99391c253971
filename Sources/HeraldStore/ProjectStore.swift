import Foundation
import HeraldCore

/// Projects: add, list, look up.
public struct ProjectStore {
    let database: Database
    let clock: any Clock

    public init(database: Database, clock: any Clock) {
        self.database = database
        self.clock = clock
    }

    /// Adds a project and its audit row in one transaction.
    public func add(_ project: NewProject, actor: String) throws -> Project {
        let now = clock.now
        return try database.write {
            if try find(project.slug) != nil { throw Refusal.conflict(field: "slug", rule: "a project '\(project.slug)' exists already") }
            try database.run("INSERT INTO projects (slug, name, timezone, max_embargo_days, created_at) VALUES (?, ?, ?, ?, ?)",
                             .text(project.slug), .text(project.name), .text(project.timezone), .int(project.maxEmbargoDays), .date(now))
            let id = database.lastInsertID
            try AuditLog(database: database).record(at: now, actor: actor, action: "project.add", subjectType: "project", subjectID: id,
                                                    details: ["slug": project.slug, "name": project.name, "timezone": project.timezone,
                                                              "max_embargo_days": String(project.maxEmbargoDays)])
            return Project(id: id, slug: project.slug, name: project.name, timezone: project.timezone,
                           maxEmbargoDays: project.maxEmbargoDays, createdAt: now)
        }
    }

    /// Every project, by slug.
    public func list() throws -> [Project] {
        try database.query("SELECT \(Self.columns) FROM projects ORDER BY slug", map: Self.project)
    }

    /// The project with `slug`, or nil.
    public func find(_ slug: String) throws -> Project? {
        try database.first("SELECT \(Self.columns) FROM projects WHERE slug = ?", .text(slug), map: Self.project)
    }

    /// The project with `slug`, or a refusal naming `field`.
    public func require(_ slug: String, field: String = "project") throws -> Project {
        guard let project = try find(slug) else {
            throw Refusal.invalid(field: field, rule: "no project '\(slug)'; `herald project list` shows them")
        }
        return project
    }

    /// The project with database id `id`.
    func require(id: Int64) throws -> Project {
        guard let project = try database.first("SELECT \(Self.columns) FROM projects WHERE id = ?", .integer(id), map: Self.project) else {
            throw Refusal.notFound(subject: "project", id: String(id))
        }
        return project
    }

    /// Sets the release managers' address of a project (nil: none), with its audit row.
    public func setContact(_ slug: String, contact: String?, actor: String) throws -> Project {
        let now = clock.now
        return try database.write {
            let project = try require(slug)
            try database.run("UPDATE projects SET contact = ? WHERE id = ?", .optionalText(contact), .integer(project.id))
            try AuditLog(database: database).record(at: now, actor: actor, action: "project.set", subjectType: "project", subjectID: project.id,
                                                    details: ["contact": contact ?? ""])
            return try require(slug)
        }
    }

    static let columns = "id, slug, name, timezone, max_embargo_days, created_at, contact"

    static func project(_ row: Row) -> Project {
        var project = Project(id: row.int(0), slug: row.text(1), name: row.text(2), timezone: row.text(3),
                              maxEmbargoDays: Int(row.int(4)), createdAt: row.date(5))
        project.contact = row.optionalText(6)
        return project
    }
}
