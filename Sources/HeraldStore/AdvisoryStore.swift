import Foundation
import HeraldApp
import HeraldCore

/// Advisories, their CVEs and revision history. Every change is one transaction with its
/// revision row (when the revision grows) and its audit row.
public struct AdvisoryStore: AdvisoryRepository {
    let database: Database
    let clock: any Clock
    let settings: OutboxSettings

    /// Creates a store over `database`; `settings` shape the notices its changes fan out.
    public init(database: Database, clock: any Clock, settings: OutboxSettings = OutboxSettings()) {
        self.database = database
        self.clock = clock
        self.settings = settings
    }

    /// The advisory with database id `id`.
    public func get(_ id: Int64) throws -> Advisory {
        guard let advisory = try load(where: "a.id = ?", [.integer(id)]).first else {
            throw Refusal.notFound(subject: "advisory", id: String(id))
        }
        return advisory
    }

    /// Advisories, newest first, optionally of one project or state.
    public func list(project: String? = nil, state: AdvisoryState? = nil) throws -> [Advisory] {
        try load(
            where: "(?1 IS NULL OR p.slug = ?1) AND (?2 IS NULL OR a.state = ?2)",
            [.optionalText(project), .optionalText(state?.rawValue)])
    }

    /// The advisory with public id `publicID`, in any state; callers on public surfaces must
    /// check the state (see `PublicStore`).
    public func find(publicID: String) throws -> Advisory? {
        try load(where: "a.public_id = ?", [.text(publicID)]).first
    }

    /// The advisory with public id `publicID` if it is in `state`, decided in the query: a row
    /// in another state is never loaded, so it costs the same time as one that does not exist.
    public func find(publicID: String, state: AdvisoryState) throws -> Advisory? {
        try load(where: "a.public_id = ? AND a.state = ?", [.text(publicID), .text(state.rawValue)]).first
    }

    /// The advisory's revisions, oldest first.
    public func revisions(of id: Int64) throws -> [AdvisoryRevision] {
        try database.query(
            "SELECT snapshot FROM advisory_revisions WHERE advisory_id = ? ORDER BY revision", .integer(id)
        ) { row in
            try JSONDecoder.herald.decode(AdvisoryRevision.self, from: Data(row.text(0).utf8))
        }
    }

    // MARK: - Writing (the repository behind the Advisories use cases)

    /// Writes a new advisory with its CVEs, first revision row and audit row; returns its id.
    public func insert(_ advisory: Advisory, projectID: Int64, actor: String, action: String) throws -> Int64 {
        try save(advisory, newIn: projectID, notes: .none, actor: actor, action: action)
    }

    /// Writes a change: the advisory, its CVEs, a revision row when the revision grew, the audit row.
    public func update(_ advisory: Advisory, previous: Advisory, notes: ChangeNotes, actor: String, action: String)
        throws
    {
        try save(advisory, previous: previous, notes: notes, actor: actor, action: action)
    }

    /// Every scheduled advisory's schedule, the clock-driven notices it has sent, and how its
    /// project chases, by release. A handful of rows: advisories under embargo at one time are few.
    public func scheduled() throws -> [ScheduledAdvisory] {
        try database.query(
            """
            SELECT a.id, a.embargo_at, a.early_notice_at, a.pre_announce_at,
                   (SELECT group_concat(n.kind) FROM notices n WHERE n.advisory_id = a.id AND n.kind IN ('early-notice', 'pre-announcement', 'reminder')),
                   p.reminder_after, p.final_notice,
                   (SELECT n.due_at FROM notices n WHERE n.advisory_id = a.id AND n.kind = 'final-notice' ORDER BY n.id DESC LIMIT 1)
            FROM advisories a JOIN projects p ON p.id = a.project_id
            WHERE a.state = 'scheduled' AND a.embargo_at IS NOT NULL ORDER BY a.embargo_at, a.id
            """
        ) { row in
            ScheduledAdvisory(
                id: row.int(0),
                schedule:
                    Schedule(
                        embargo: row.optionalDate(1), earlyNotice: row.optionalDate(2), preAnnounce: row.optionalDate(3)
                    ),
                sent: Set(
                    (row.optionalText(4) ?? "").split(separator: ",").compactMap { NoticeKind(rawValue: String($0)) }),
                chasing: Chasing(
                    reminderAfter: row.optionalInt(5).map(TimeInterval.init),
                    finalNotice: row.optionalInt(6).map(TimeInterval.init)),
                finalNoticeSentFor: row.optionalDate(7))
        }
    }

    /// The clock's notices (early notice, pre-announcement, reminder) advisory `id` has sent.
    public func sentClockNotices(of id: Int64) throws -> Set<NoticeKind> {
        Set(
            try database.query(
                "SELECT kind FROM notices WHERE advisory_id = ? AND kind IN ('early-notice', 'pre-announcement', 'reminder')",
                .integer(id)
            ) { NoticeKind(rawValue: $0.text(0)) }.compactMap { $0 })
    }

    /// The release instant the newest final notice of advisory `id` came before.
    public func finalNoticeSentFor(_ id: Int64) throws -> Date? {
        try database.first(
            "SELECT due_at FROM notices WHERE advisory_id = ? AND kind = 'final-notice' ORDER BY id DESC LIMIT 1",
            .integer(id)
        ) { $0.optionalDate(0) } ?? nil
    }

    /// Writes `advisory` (a new row when `projectID` is given), its CVEs, a revision row if the
    /// revision grew, and the audit row; returns the advisory's id.
    @discardableResult
    private func save(
        _ advisory: Advisory, newIn projectID: Int64? = nil, previous: Advisory? = nil,
        notes: ChangeNotes, actor: String, action: String
    ) throws -> Int64 {
        let c = advisory.content
        let s = advisory.schedule
        let fields: [SQLValue] = [
            .text(advisory.state.rawValue), .int(advisory.revision), .text(c.title), .text(c.summary), .text(c.body),
            .optionalText(c.severity?.rawValue), .optionalText(c.cvss), .text(c.affected), .text(c.fixed),
            .text(String(decoding: try JSONEncoder().encode(c.references), as: UTF8.self)),
            .date(s.embargo), .date(s.earlyNotice), .date(s.preAnnounce), .date(advisory.publishedAt),
            .date(advisory.cancelledAt),
            .date(advisory.updatedAt),
            try c.terms.map { .text(String(decoding: try JSONEncoder.herald.encode($0), as: UTF8.self)) } ?? .null,
        ]
        var advisory = advisory
        if let projectID {
            try database.run(
                """
                INSERT INTO advisories (state, revision, title, summary, body, severity, cvss, affected, fixed, reference_list, embargo_at,
                    early_notice_at, pre_announce_at, published_at, cancelled_at, updated_at, embargo_terms, public_id, project_id,
                    created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, fields + [.text(advisory.publicID), .integer(projectID), .date(advisory.createdAt)])
            advisory.id = database.lastInsertID
        } else {
            try database.run(
                """
                UPDATE advisories SET state = ?, revision = ?, title = ?, summary = ?, body = ?, severity = ?, cvss = ?, affected = ?, fixed = ?,
                    reference_list = ?, embargo_at = ?, early_notice_at = ?, pre_announce_at = ?, published_at = ?, cancelled_at = ?, updated_at = ?,
                    embargo_terms = ?
                WHERE id = ?
                """, fields + [.integer(advisory.id)])
        }
        if previous?.content.cves != c.cves {
            try database.run("DELETE FROM advisory_cves WHERE advisory_id = ?", .integer(advisory.id))
            for (position, cve) in c.cves.enumerated() {
                try database.run(
                    "INSERT INTO advisory_cves (advisory_id, position, cve) VALUES (?, ?, ?)",
                    .integer(advisory.id), .int(position), .text(cve))
            }
        }
        if previous?.revision != advisory.revision {
            let snapshot = AdvisoryRevision(of: advisory, notes: notes, actor: actor)
            let json = String(decoding: try JSONEncoder.herald.encode(snapshot), as: UTF8.self)
            try database.run(
                "INSERT INTO advisory_revisions (advisory_id, revision, snapshot, reason, actor, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                .integer(advisory.id), .int(advisory.revision), .text(json), .text(notes.reason), .text(actor),
                .date(advisory.updatedAt))
        } else if !notes.publicNote.isEmpty {
            // A change that keeps the revision (publish now, cancel) shows its public note too,
            // with the revision's own: it used to be dropped without a word.
            try database.run(
                """
                UPDATE advisory_revisions
                SET snapshot = json_set(snapshot, '$.public_note',
                    ltrim(coalesce(json_extract(snapshot, '$.public_note'), '') || char(10) || ?, char(10)))
                WHERE advisory_id = ? AND revision = ?
                """, .text(notes.publicNote), .integer(advisory.id), .int(advisory.revision))
        }
        var details = ["state": advisory.state.rawValue, "revision": String(advisory.revision)]
        if let previous, previous.state != advisory.state { details["from"] = previous.state.rawValue }
        if let embargo = s.embargo, previous?.schedule.embargo != embargo {
            details["embargo"] = Instant.rfc3339(embargo)
        }
        try AuditLog(database: database).record(
            at: advisory.updatedAt, actor: actor, action: action, subjectType: "advisory",
            subjectID: advisory.id, reason: notes.reason, details: details)
        return advisory.id
    }

    // MARK: - Reading

    private func load(where condition: String, _ values: [SQLValue]) throws -> [Advisory] {
        var advisories = try database.query(
            """
            SELECT a.id, a.public_id, p.slug, a.state, a.revision, a.title, a.summary, a.body, a.severity, a.cvss, a.affected, a.fixed,
                   a.embargo_at, a.early_notice_at, a.pre_announce_at, a.published_at, a.cancelled_at, a.created_at, a.updated_at, a.reference_list,
                   a.embargo_terms
            FROM advisories a JOIN projects p ON p.id = a.project_id
            WHERE \(condition) ORDER BY a.id DESC
            """, values
        ) { row in
            // Rows were validated on the way in; they are read back as they are.
            var advisory = Advisory(
                id: row.int(0), publicID: row.text(1), projectSlug: row.text(2),
                state: AdvisoryState(rawValue: row.text(3)) ?? .draft, revision: Int(row.int(4)),
                content: AdvisoryContent(
                    unchecked: row.text(5), row.text(6), row.text(7),
                    row.optionalText(8).flatMap(Severity.init(rawValue:)), row.optionalText(9),
                    row.text(10), row.text(11)),
                schedule: Schedule(
                    embargo: row.optionalDate(12), earlyNotice: row.optionalDate(13), preAnnounce: row.optionalDate(14)),
                publishedAt: row.optionalDate(15), cancelledAt: row.optionalDate(16), createdAt: row.date(17),
                updatedAt: row.date(18))
            advisory.content.references =
                (try? JSONDecoder().decode([Reference].self, from: Data(row.text(19).utf8))) ?? []
            advisory.content.terms = row.optionalText(20).flatMap {
                try? JSONDecoder.herald.decode(EmbargoTerms.self, from: Data($0.utf8))
            }
            return advisory
        }
        guard !advisories.isEmpty else { return [] }
        var index: [Int64: Int] = [:]
        for (i, advisory) in advisories.enumerated() { index[advisory.id] = i }
        let cves = try database.query(
            """
            SELECT c.advisory_id, c.cve FROM advisory_cves c
            WHERE c.advisory_id IN (SELECT a.id FROM advisories a JOIN projects p ON p.id = a.project_id WHERE \(condition))
            ORDER BY c.advisory_id, c.position
            """, values
        ) { ($0.int(0), $0.text(1)) }
        for (id, cve) in cves { if let i = index[id] { advisories[i].content.cves.append(cve) } }
        return advisories
    }
}

extension JSONEncoder {
    /// Herald's JSON: snake_case keys, sorted, RFC 3339 instants with milliseconds.
    public static var herald: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(
                Instant.rfc3339(date).replacingOccurrences(
                    of: "Z", with: String(format: ".%03dZ", Int(date.milliseconds % 1000))))
        }
        return encoder
    }
}

extension JSONDecoder {
    /// Reads what `JSONEncoder.herald` writes.
    public static var herald: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            do { return try Instant.parse(text, field: "date") } catch {
                throw DecodingError.dataCorrupted(
                    .init(codingPath: decoder.codingPath, debugDescription: "not an instant: \(text)"))
            }
        }
        return decoder
    }
}
