import Foundation
import HeraldCore

/// The append-only audit log. `record` is called inside the transaction of the change it
/// describes, so there is never a change without its row, nor a row without its change.
public struct AuditLog {
    let database: Database

    /// Creates a log over `database`.
    public init(database: Database) { self.database = database }

    /// Appends an entry; call it inside `database.write`.
    public func record(
        at: Date, actor: String, action: String, subjectType: String, subjectID: Int64?,
        reason: String = "", details: [String: String] = [:]
    ) throws {
        let json = JSON.object(details.mapValues(JSON.string)).text
        try database.run(
            "INSERT INTO audit (at, actor, action, subject_type, subject_id, reason, details) VALUES (?, ?, ?, ?, ?, ?, ?)",
            .date(at), .text(actor), .text(action), .text(subjectType), subjectID.map(SQLValue.integer) ?? .null,
            .text(reason), .text(json))
    }

    /// Entries, newest first: optionally only those about one subject, by one actor (exactly,
    /// or every actor starting with it when it ends in `*`), or at or after `since`.
    public func list(
        subjectType: String? = nil, subjectID: Int64? = nil, actor: String? = nil, since: Date? = nil,
        limit: Int = 100
    ) throws -> [AuditEntry] {
        // LIKE with the user's text escaped: only a trailing * is a wildcard.
        let actorPattern = actor.map { actor in
            let prefix = actor.hasSuffix("*")
            let escaped = (prefix ? String(actor.dropLast()) : actor).replacingOccurrences(of: "\\", with: "\\\\")
                .replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
            return prefix ? escaped + "%" : escaped
        }
        return try database.query(
            """
            SELECT id, at, actor, action, subject_type, subject_id, reason, details FROM audit
            WHERE (?1 IS NULL OR subject_type = ?1) AND (?2 IS NULL OR subject_id = ?2)
              AND (?3 IS NULL OR actor LIKE ?3 ESCAPE '\\') AND (?4 IS NULL OR at >= ?4)
            ORDER BY id DESC LIMIT ?5
            """,
            [
                .optionalText(subjectType), subjectID.map(SQLValue.integer) ?? .null,
                .optionalText(actorPattern), .date(since), .int(limit),
            ]
        ) { row in
            AuditEntry(
                id: row.int(0), at: row.date(1), actor: row.text(2), action: row.text(3), subjectType: row.text(4),
                subjectID: row.optionalInt(5), reason: row.text(6), details: Self.details(row.text(7)))
        }
    }

    /// The stored details object; a value that is not an object of strings is kept whole under "raw".
    static func details(_ text: String) -> [String: String] {
        (try? JSONDecoder().decode([String: String].self, from: Data(text.utf8))) ?? ["raw": text]
    }
}
