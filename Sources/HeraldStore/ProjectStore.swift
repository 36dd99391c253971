import Foundation
import HeraldCore

/// Projects: add, list, look up.
public struct ProjectStore {
    let database: Database
    let clock: any Clock

    /// Creates a store over `database`.
    public init(database: Database, clock: any Clock) {
        self.database = database
        self.clock = clock
    }

    /// Adds a project and its audit row in one transaction.
    public func add(_ project: NewProject, actor: String) throws -> Project {
        let now = clock.now
        return try database.write {
            if try find(project.slug) != nil {
                throw Refusal.conflict(field: "slug", rule: "a project '\(project.slug)' exists already")
            }
            try database.run(
                "INSERT INTO projects (slug, name, timezone, max_embargo_days, created_at) VALUES (?, ?, ?, ?, ?)",
                .text(project.slug), .text(project.name), .text(project.timezone), .int(project.maxEmbargoDays),
                .date(now))
            let id = database.lastInsertID
            try AuditLog(database: database).record(
                at: now, actor: actor, action: "project.add", subjectType: "project", subjectID: id,
                details: [
                    "slug": project.slug, "name": project.name, "timezone": project.timezone,
                    "max_embargo_days": String(project.maxEmbargoDays),
                ])
            return Project(
                id: id, slug: project.slug, name: project.name, timezone: project.timezone,
                maxEmbargoDays: project.maxEmbargoDays, createdAt: now)
        }
    }

    /// Every project, by slug.
    public func list() throws -> [Project] {
        try withPackages(database.query("SELECT \(Self.columns) FROM projects ORDER BY slug", map: Self.project))
    }

    /// The project with `slug`, or nil.
    public func find(_ slug: String) throws -> Project? {
        try withPackages(
            database.query("SELECT \(Self.columns) FROM projects WHERE slug = ?", [.text(slug)], map: Self.project)
        ).first
    }

    /// Sets the packages a project ships (replacing the list), with its audit row.
    public func setPackages(_ slug: String, _ packages: [Package], actor: String) throws -> Project {
        let now = clock.now
        return try database.write {
            let project = try require(slug)
            try database.run("DELETE FROM project_packages WHERE project_id = ?", .integer(project.id))
            var seen = Set<String>()
            for (position, package) in packages.enumerated()
            where seen.insert("\(package.ecosystem)/\(package.name)").inserted {
                try database.run(
                    "INSERT INTO project_packages (project_id, position, ecosystem, name) VALUES (?, ?, ?, ?)",
                    .integer(project.id), .int(position), .text(package.ecosystem), .text(package.name))
            }
            try AuditLog(database: database).record(
                at: now, actor: actor, action: "project.set", subjectType: "project", subjectID: project.id,
                details: ["packages": packages.map { "\($0.ecosystem)/\($0.name)" }.joined(separator: ", ")])
            return try require(slug)
        }
    }

    /// `projects` with the packages each ships: one query for all.
    private func withPackages(_ projects: [Project]) throws -> [Project] {
        guard !projects.isEmpty else { return projects }
        var byID = Dictionary(
            grouping: try database.query(
                "SELECT project_id, ecosystem, name FROM project_packages ORDER BY project_id, position"
            ) {
                ($0.int(0), $0.text(1), $0.text(2))
            }, by: \.0)
        return projects.map { project in
            var project = project
            project.packages = (byID.removeValue(forKey: project.id) ?? []).compactMap {
                try? Package(ecosystem: $0.1, name: $0.2)
            }
            return project
        }
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
        guard
            let project = try withPackages(
                database.query("SELECT \(Self.columns) FROM projects WHERE id = ?", [.integer(id)], map: Self.project)
            ).first
        else {
            throw Refusal.notFound(subject: "project", id: String(id))
        }
        return project
    }

    /// Sets the release managers' address of a project (nil: none), with its audit row.
    public func setContact(_ slug: String, contact: String?, actor: String) throws -> Project {
        try set(slug, "contact = ?", [.optionalText(contact)], actor: actor, details: ["contact": contact ?? ""])
    }

    /// Sets the language of a project's public messages and alerts (nil: the deployment's default), with its audit row.
    public func setLanguage(_ slug: String, language: Language?, actor: String) throws -> Project {
        try set(
            slug, "language = ?", [.optionalText(language?.rawValue)], actor: actor,
            details: ["language": language?.rawValue ?? ""])
    }

    /// Sets how a project chases its participants during an embargo, with its audit row.
    public func setChasing(_ slug: String, _ chasing: Chasing, actor: String) throws -> Project {
        try set(
            slug, "reminder_after = ?, final_notice = ?",
            [
                chasing.reminderAfter.map { .int(Int($0)) } ?? .null,
                chasing.finalNotice.map { .int(Int($0)) } ?? .null,
            ], actor: actor,
            details: [
                "reminder-after": Chasing.said(chasing.reminderAfter),
                "final-notice": Chasing.said(chasing.finalNotice),
            ])
    }

    /// Sets when a project releases (nil: any time), with its audit row.
    public func setReleaseWindow(_ slug: String, _ window: ReleaseWindow?, actor: String) throws -> Project {
        try set(
            slug, "release_window = ?", [.optionalText(window?.description)], actor: actor,
            details: ["release-window": window?.description ?? "any time"])
    }

    /// Sets whether a project's private notices are encrypted, with its audit row.
    public func setEncryption(_ slug: String, _ policy: EncryptionPolicy, actor: String) throws -> Project {
        try set(
            slug, "encryption = ?", [.text(policy.rawValue)], actor: actor, details: ["encryption": policy.rawValue])
    }

    /// Sets the embargo terms a project's advisories take unless one says otherwise, with its audit row.
    public func setTerms(_ slug: String, _ terms: EmbargoTerms, actor: String) throws -> Project {
        try set(
            slug, "embargo_terms = ?", [.text(String(decoding: try JSONEncoder.herald.encode(terms), as: UTF8.self))],
            actor: actor,
            details: [
                "deployment": terms.deploymentAllowed ? "allowed" : "not-allowed",
                "patch": terms.patchEmbargoed ? "embargoed" : "public", "tlp": terms.tlp.rawValue,
            ])
    }

    /// Sets the longest embargo a project allows: 1 to 90 days as usual, up to 365 only with a
    /// reason (hardware-style embargoes), audited either way.
    public func setMaxEmbargo(_ slug: String, days: Int, reason: String, actor: String) throws -> Project {
        let reason = try Validate.reason(reason, required: days > 90)
        guard (1...365).contains(days) else {
            throw Refusal.invalid(field: "max-embargo-days", rule: "must be between 1 and 365 (above 90 with --reason)")
        }
        return try set(
            slug, "max_embargo_days = ?, max_embargo_days_raised = ?",
            [.int(min(days, 90)), days > 90 ? .int(days) : .null],
            actor: actor, reason: reason, details: ["max-embargo-days": String(days)])
    }

    /// Writes `assignments` to one project's row with its `project.set` audit row, in one transaction.
    private func set(
        _ slug: String, _ assignments: String, _ values: [SQLValue], actor: String, reason: String = "",
        details: [String: String]
    ) throws -> Project {
        let now = clock.now
        return try database.write {
            let project = try require(slug)
            try database.run("UPDATE projects SET \(assignments) WHERE id = ?", values + [.integer(project.id)])
            try AuditLog(database: database).record(
                at: now, actor: actor, action: "project.set", subjectType: "project", subjectID: project.id,
                reason: reason, details: details)
            return try require(slug)
        }
    }

    static let columns =
        "id, slug, name, timezone, max_embargo_days, created_at, contact, language, reminder_after, final_notice, release_window, embargo_terms, max_embargo_days_raised, encryption"

    static func project(_ row: Row) -> Project {
        var project = Project(
            id: row.int(0), slug: row.text(1), name: row.text(2), timezone: row.text(3),
            maxEmbargoDays: Int(row.int(4)), createdAt: row.date(5))
        project.contact = row.optionalText(6)
        project.language = row.optionalText(7).flatMap(Language.init(rawValue:))
        project.chasing = Chasing(
            reminderAfter: row.optionalInt(8).map(TimeInterval.init),
            finalNotice: row.optionalInt(9).map(TimeInterval.init))
        // Stored as written by ReleaseWindow itself, so it reads back; a row that does not is no window.
        project.releaseWindow = row.optionalText(10).flatMap { try? ReleaseWindow($0) }
        if let raised = row.optionalInt(12) { project.maxEmbargoDays = Int(raised) }
        project.terms =
            row.optionalText(11).flatMap { try? JSONDecoder.herald.decode(EmbargoTerms.self, from: Data($0.utf8)) }
            ?? .standard
        project.encryption = EncryptionPolicy(rawValue: row.text(13)) ?? .whenAvailable
        return project
    }
}
