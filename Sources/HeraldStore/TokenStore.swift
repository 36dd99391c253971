import Foundation
import HeraldCore

/// API tokens. The token is shown once at creation; only its SHA-256 is stored, so a copy of
/// the database gives no access.
public struct TokenStore {
    /// Every token starts with this, so secret scanners and people recognise one.
    public static let prefix = "hrld_"

    let database: Database
    let clock: any Clock

    /// Creates a store over `database`.
    public init(database: Database, clock: any Clock) {
        self.database = database
        self.clock = clock
    }

    /// Creates a token; returns its record and the token itself, which is not kept.
    public func create(name: String, role: TokenRole, actor: String) throws -> (record: TokenRecord, token: String) {
        let name = try Validate.line(name, field: "name", maxLength: 100)
        let now = clock.now
        let token = Secrets.token(prefix: Self.prefix)
        return try database.write {
            if try database.first(
                "SELECT 1 FROM tokens WHERE name = ? AND revoked_at IS NULL", .text(name), map: { _ in true }) != nil
            {
                throw Refusal.conflict(
                    field: "name", rule: "a live token '\(name)' exists already; revoke it first or pick another name")
            }
            try database.run(
                "INSERT INTO tokens (name, role, hash, created_at) VALUES (?, ?, ?, ?)",
                .text(name), .text(role.rawValue), .blob(Secrets.hash(token)), .date(now))
            let id = database.lastInsertID
            try AuditLog(database: database).record(
                at: now, actor: actor, action: "token.create", subjectType: "token", subjectID: id,
                details: ["name": name, "role": role.rawValue])
            return (TokenRecord(id: id, name: name, role: role, createdAt: now, revokedAt: nil), token)
        }
    }

    /// Revokes the live token called `name`.
    public func revoke(name: String, actor: String) throws -> TokenRecord {
        let now = clock.now
        return try database.write {
            guard
                let record = try database.first(
                    "SELECT \(Self.columns) FROM tokens WHERE name = ? AND revoked_at IS NULL", .text(name),
                    map: Self.record)
            else {
                throw Refusal.notFound(subject: "live token", id: "'\(name)'")
            }
            try database.run("UPDATE tokens SET revoked_at = ? WHERE id = ?", .date(now), .integer(record.id))
            try AuditLog(database: database).record(
                at: now, actor: actor, action: "token.revoke", subjectType: "token", subjectID: record.id,
                details: ["name": name])
            var revoked = record
            revoked.revokedAt = now
            return revoked
        }
    }

    /// Every token, live and revoked.
    public func list() throws -> [TokenRecord] {
        try database.query("SELECT \(Self.columns) FROM tokens ORDER BY id", map: Self.record)
    }

    /// The live token matching `token`, or nil. The lookup is by hash, so no comparison runs
    /// over the secret itself.
    public func authenticate(_ token: String) throws -> TokenRecord? {
        guard token.hasPrefix(Self.prefix), token.count < 200 else { return nil }
        return try database.first(
            "SELECT \(Self.columns) FROM tokens WHERE hash = ? AND revoked_at IS NULL",
            .blob(Secrets.hash(token)), map: Self.record)
    }

    static let columns = "id, name, role, created_at, revoked_at"

    static func record(_ row: Row) -> TokenRecord {
        TokenRecord(
            id: row.int(0), name: row.text(1), role: TokenRole(rawValue: row.text(2)) ?? .auditor,
            createdAt: row.date(3), revokedAt: row.optionalDate(4))
    }
}
