import Foundation
import HeraldCore

/// Advisories, their CVEs and revision history. Every change is one transaction with its
/// revision row (when the revision grows) and its audit row.
public struct AdvisoryStore {
    let database: Database
    let clock: any Clock
    let settings: OutboxSettings

    /// Creates a store over `database`; `settings` shape the notices its changes fan out.
    public init(database: Database, clock: any Clock, settings: OutboxSettings = OutboxSettings()) {
        self.database = database
        self.clock = clock
        self.settings = settings
    }

    var outbox: OutboxStore { OutboxStore(database: database, clock: clock, settings: settings) }

    /// Creates an advisory: scheduled when `schedule` has an embargo, a draft otherwise.
    /// `typedZone` is the zone the user wrote the instants in: refusals repeat them in it.
    public func create(
        project slug: String, content: AdvisoryContent, schedule: Schedule, actor: String, typedZone: TimeZone? = nil
    ) throws -> Advisory {
        let now = clock.now
        return try database.write {
            let project = try ProjectStore(database: database, clock: clock).require(slug)
            let publicID = "\(project.slug)-\(Instant.rfc3339(now).prefix(4))-\(Secrets.readableID(length: 6))"
            var advisory = try Advisory.new(
                projectSlug: project.slug, publicID: publicID, content: content, schedule: schedule,
                policy: project.embargoPolicy(sayingInstantsIn: typedZone), now: now)
            advisory.id = try save(advisory, newIn: project.id, notes: .none, actor: actor, action: "advisory.create")
            return advisory
        }
    }

    /// Moves the embargo (and optionally the notices).
    public func reschedule(
        _ id: Int64, to change: (Schedule) -> Schedule, notes: ChangeNotes, actor: String, typedZone: TimeZone? = nil
    ) throws -> Advisory {
        try transition(
            id, notes: notes, actor: actor, typedZone: typedZone, action: "advisory.reschedule", notice: .revision
        ) { advisory, policy, now throws(Refusal) in
            try advisory.rescheduled(change(advisory.schedule), policy: policy, now: now)
        }
    }

    /// Changes the content; the revision grows.
    public func revise(_ id: Int64, _ patch: AdvisoryPatch, notes: ChangeNotes, actor: String) throws -> Advisory {
        try transition(id, notes: notes, actor: actor, action: "advisory.revise", notice: .revision) {
            advisory, _, now throws(Refusal) in
            try advisory.revised(patch, now: now)
        }
    }

    /// Breaks the embargo: publishes now. The reason is required.
    public func publishNow(_ id: Int64, notes: ChangeNotes, actor: String) throws -> Advisory {
        _ = try Validate.reason(notes.reason, required: true)
        return try transition(id, notes: notes, actor: actor, action: "advisory.publish", notice: .publication) {
            advisory, _, now throws(Refusal) in
            try advisory.publishedNow(now)
        }
    }

    /// Cancels before release. The reason is required.
    public func cancel(_ id: Int64, notes: ChangeNotes, actor: String) throws -> Advisory {
        _ = try Validate.reason(notes.reason, required: true)
        return try transition(id, notes: notes, actor: actor, action: "advisory.cancel", notice: .cancellation) {
            advisory, _, now throws(Refusal) in
            try advisory.cancelled(now)
        }
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

    // MARK: - Writing

    /// Applies `step` to the advisory, saves it, and fans out `notice`: one transaction.
    private func transition(
        _ id: Int64, notes: ChangeNotes, actor: String, typedZone: TimeZone? = nil, action: String, notice: NoticeKind,
        _ step: (Advisory, EmbargoPolicy, Date) throws(Refusal) -> Advisory
    ) throws -> Advisory {
        let now = clock.now
        return try database.write {
            let current = try get(id)
            let project = try ProjectStore(database: database, clock: clock).require(current.projectSlug)
            let next = try step(current, project.embargoPolicy(sayingInstantsIn: typedZone), now)
            try save(next, previous: current, notes: notes, actor: actor, action: action)
            try outbox.fanOut(notice, advisory: next, project: project, notes: notes, previous: current)
            return next
        }
    }

    // MARK: - The clock's notices

    /// A notice the scheduler fired.
    public struct Fired: Sendable, Equatable {
        /// Database id of the advisory.
        public var advisoryID: Int64
        /// Which notice fired.
        public var kind: NoticeKind
        /// How long after its instant it fired.
        public var lag: TimeInterval
    }

    /// A notice that could not be fired this pass; the scheduler logs it and tries again.
    public struct Failure: Error, Sendable {
        /// Database id of the advisory.
        public var advisoryID: Int64
        /// The notice that was due.
        public var kind: NoticeKind
        /// Why it could not be fired.
        public var error: any Error
    }

    /// Fires every notice due now, each in its own transaction (state change, outbox rows,
    /// audit row). An advisory whose release instant has passed is published and gets no early
    /// notice or pre-announcement any more: they would come after the fact. A notice that fails
    /// is reported to `failed` and the others still fire; advisories `skip` names wait (the
    /// scheduler's backoff after a failure); `beforeFire` runs between choosing a
    /// notice and firing it (tests use it to change the advisory in that gap).
    public func fireDue(
        actor: String = "scheduler", skip: (Int64) -> Bool = { _ in false }, failed: (Failure) -> Void = { _ in },
        beforeFire: (Int64, NoticeKind) throws -> Void = { _, _ in }
    ) throws -> [Fired] {
        let now = clock.now
        var fired: [Fired] = []
        // Which notice is due is decided by one rule (Schedule.due), here and again inside the
        // transaction that fires it; SQL only reads what it needs.
        let due = try scheduled().compactMap { advisory in
            advisory.schedule.due(at: now, sent: advisory.sent).map { (advisory.id, $0) }
        }
        for (id, kind) in due where !skip(id) {
            do {
                try beforeFire(id, kind)
                if let one = try fire(kind, advisory: id, now: now, actor: actor) { fired.append(one) }
            } catch {
                failed(Failure(advisoryID: id, kind: kind, error: error))
            }
        }
        return fired
    }

    private func fire(_ kind: NoticeKind, advisory id: Int64, now: Date, actor: String) throws -> Fired? {
        try database.write {
            let current = try get(id)
            // Read again inside the transaction: a reschedule, revision or cancellation may have
            // committed since the notice was chosen, and then it is not due (or not this one).
            guard current.state == .scheduled, let embargo = current.schedule.embargo else { return nil }
            let sent = Set(
                try database.query(
                    "SELECT kind FROM notices WHERE advisory_id = ? AND kind IN ('early-notice', 'pre-announcement')",
                    .integer(id)
                ) { NoticeKind(rawValue: $0.text(0)) }.compactMap { $0 })
            guard current.schedule.due(at: now, sent: sent) == kind else { return nil }
            let project = try ProjectStore(database: database, clock: clock).require(current.projectSlug)
            let instant: Date
            switch kind {
            case .publication:
                let published = try current.publishedOnSchedule(now)
                try save(published, previous: current, notes: .none, actor: actor, action: "advisory.publish")
                try outbox.fanOut(.publication, advisory: published, project: project, dueAt: embargo)
                instant = embargo
            case .earlyNotice:
                instant = current.schedule.earlyNotice ?? now
                try outbox.fanOut(.earlyNotice, advisory: current, project: project, dueAt: instant)
                try AuditLog(database: database).record(
                    at: now, actor: actor, action: "advisory.early-notice", subjectType: "advisory",
                    subjectID: id, details: ["revision": String(current.revision)])
            default:
                instant = current.schedule.preAnnounce ?? now
                try outbox.fanOut(.preAnnouncement, advisory: current, project: project, dueAt: instant)
                try AuditLog(database: database).record(
                    at: now, actor: actor, action: "advisory.pre-announce", subjectType: "advisory",
                    subjectID: id, details: ["revision": String(current.revision)])
            }
            return Fired(advisoryID: id, kind: kind, lag: now.timeIntervalSince(instant))
        }
    }

    /// Whether `schedule` makes the clock's notice `kind` due at `now`, judged on the dates
    /// alone (whether it went out already is fanOut's once-check to say). Once the release
    /// instant has passed, only the publication is due.
    /// The next instant at which `fireDue` will have something to do, or nil.
    public func nextDue() throws -> Date? {
        try scheduled().compactMap { $0.schedule.nextInstant(sent: $0.sent) }.min()
    }

    /// Every scheduled advisory's schedule and the clock-driven notices it has sent, by release.
    /// A handful of rows: advisories under embargo at one time are few.
    private func scheduled() throws -> [(id: Int64, schedule: Schedule, sent: Set<NoticeKind>)] {
        try database.query(
            """
            SELECT a.id, a.embargo_at, a.early_notice_at, a.pre_announce_at,
                   (SELECT group_concat(n.kind) FROM notices n WHERE n.advisory_id = a.id AND n.kind IN ('early-notice', 'pre-announcement'))
            FROM advisories a WHERE a.state = 'scheduled' AND a.embargo_at IS NOT NULL ORDER BY a.embargo_at, a.id
            """
        ) { row in
            (
                row.int(0),
                Schedule(
                    embargo: row.optionalDate(1), earlyNotice: row.optionalDate(2), preAnnounce: row.optionalDate(3)),
                Set((row.optionalText(4) ?? "").split(separator: ",").compactMap { NoticeKind(rawValue: String($0)) })
            )
        }
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
        ]
        var advisory = advisory
        if let projectID {
            try database.run(
                """
                INSERT INTO advisories (state, revision, title, summary, body, severity, cvss, affected, fixed, reference_list, embargo_at,
                    early_notice_at, pre_announce_at, published_at, cancelled_at, updated_at, public_id, project_id, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, fields + [.text(advisory.publicID), .integer(projectID), .date(advisory.createdAt)])
            advisory.id = database.lastInsertID
        } else {
            try database.run(
                """
                UPDATE advisories SET state = ?, revision = ?, title = ?, summary = ?, body = ?, severity = ?, cvss = ?, affected = ?, fixed = ?,
                    reference_list = ?, embargo_at = ?, early_notice_at = ?, pre_announce_at = ?, published_at = ?, cancelled_at = ?, updated_at = ?
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
                   a.embargo_at, a.early_notice_at, a.pre_announce_at, a.published_at, a.cancelled_at, a.created_at, a.updated_at, a.reference_list
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
