import Foundation
import HeraldCore

/// Public announcement channels of each project.
public struct ChannelStore {
    let database: Database
    let clock: any Clock

    /// Creates a store over `database`.
    public init(database: Database, clock: any Clock) {
        self.database = database
        self.clock = clock
    }

    /// Adds a channel; a generic webhook without a secret gets a new `whsec_` one.
    public func add(_ channel: NewChannel, actor: String) throws -> Channel {
        let now = clock.now
        return try database.write {
            let project = try ProjectStore(database: database, clock: clock).require(channel.projectSlug)
            let duplicate = try database.first(
                "SELECT id FROM channels WHERE project_id = ? AND kind = ? AND target = ?",
                .integer(project.id), .text(channel.kind.rawValue), .text(channel.target), map: { $0.int(0) })
            if let duplicate {
                throw Refusal.conflict(
                    field: "target", rule: "the project has this channel already (channel \(duplicate))")
            }
            let secret = channel.secret ?? (channel.kind == .webhook ? Secrets.webhookSecret() : nil)
            try database.run(
                "INSERT INTO channels (project_id, kind, target, secret, created_at, language) VALUES (?, ?, ?, ?, ?, ?)",
                .integer(project.id), .text(channel.kind.rawValue), .text(channel.target), .optionalText(secret),
                .date(now),
                .optionalText(channel.language?.rawValue))
            let id = database.lastInsertID
            try AuditLog(database: database).record(
                at: now, actor: actor, action: "channel.add", subjectType: "channel", subjectID: id,
                details: [
                    "project": project.slug, "kind": channel.kind.rawValue,
                    "language": channel.language?.rawValue ?? "",
                ])
            return try get(id)
        }
    }

    /// Removes a channel; deliveries already made stay in the record.
    public func remove(_ id: Int64, actor: String) throws {
        let now = clock.now
        try database.write {
            let channel = try get(id)
            // Its secret goes with it; what still waits for it is stopped when claimed.
            try database.run("DELETE FROM channels WHERE id = ?", .integer(id))
            try AuditLog(database: database).record(
                at: now, actor: actor, action: "channel.remove", subjectType: "channel", subjectID: id,
                details: ["project": channel.projectSlug, "kind": channel.kind.rawValue])
        }
    }

    /// The channel with `id`.
    public func get(_ id: Int64) throws -> Channel {
        guard let channel = try database.first("SELECT \(Self.columns) WHERE c.id = ?", .integer(id), map: Self.channel)
        else {
            throw Refusal.notFound(subject: "channel", id: String(id))
        }
        return channel
    }

    /// Channels, optionally of one project, their URLs and secrets by fingerprint; whole only
    /// when `revealedTo` names who asks, which is audited.
    public func list(project: String? = nil, revealedTo actor: String? = nil) throws -> [Channel] {
        let channels = try database.query(
            "SELECT \(Self.columns) WHERE ?1 IS NULL OR p.slug = ?1 ORDER BY p.slug, c.id",
            [.optionalText(project)], map: Self.channel)
        guard let actor else { return channels.map(\.redacted) }
        try AuditLog(database: database).record(
            at: clock.now, actor: actor, action: "secrets.reveal", subjectType: "channel", subjectID: nil)
        return channels
    }

    static let columns =
        "c.id, p.slug, c.kind, c.target, c.secret, c.created_at, c.disabled_at, c.language FROM channels c JOIN projects p ON p.id = c.project_id"

    static func channel(_ row: Row) -> Channel {
        var channel = Channel(
            id: row.int(0), projectSlug: row.text(1), kind: ChannelKind(rawValue: row.text(2)) ?? .webhook,
            target: row.text(3), secret: row.optionalText(4), createdAt: row.date(5), disabledAt: row.optionalDate(6))
        channel.language = row.optionalText(7).flatMap(Language.init(rawValue:))
        return channel
    }
}
