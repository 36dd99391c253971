import Foundation
import HeraldCore

/// Alerts to release managers when notices are not getting through: a provider's early notice
/// or revision dead, or failing for an hour; anything still undelivered an hour before the
/// release; a public channel that refused an announcement for good (a chat service's 4xx).
/// Each is raised once per advisory and kind, mailed to the project's contact address (when
/// it has one), audited, and shown by `advisory show`.
public struct AlertStore {
    let database: Database
    let clock: any Clock
    let settings: OutboxSettings

    /// How long a private notice may keep failing before release managers are told, and how
    /// long before the release anything undelivered is.
    public static let patience: TimeInterval = 3600

    /// Creates a store over `database`; `settings` address and word the alert mails.
    public init(database: Database, clock: any Clock, settings: OutboxSettings) {
        self.database = database
        self.clock = clock
        self.settings = settings
    }

    /// An alert as `advisory show` lists it.
    public struct Alert: Sendable, Equatable, Codable {
        /// Database id of the advisory.
        public var advisoryID: Int64
        /// What is wrong, e.g. `private-notice-failing` or `undelivered-before-release`.
        public var kind: String
        /// The alert in words, for release managers.
        public var detail: String
        /// When it was raised.
        public var createdAt: Date
    }

    /// Raises what is due now; returns the alerts raised. Deliveries stopped on purpose (to a
    /// suspended provider, an address that left) are no failure.
    @discardableResult
    public func raiseDue() throws -> [Alert] {
        let now = clock.now
        // Scheduled advisories only (few), each with the state of its provider deliveries.
        let rows = try database.query(
            """
            SELECT a.id, a.embargo_at,
                   sum(d.state = 'dead'), sum(d.state = 'retrying' AND d.created_at <= ?2), sum(d.state <> 'delivered'), count(DISTINCT
                       CASE WHEN d.state = 'dead' OR (d.state = 'retrying' AND d.created_at <= ?2) THEN d.provider_id END), a.revision
            FROM advisories a JOIN notices n ON n.advisory_id = a.id AND n.kind IN ('early-notice', 'revision')
            JOIN deliveries d ON d.notice_id = n.id AND d.provider_id IS NOT NULL
            WHERE a.state = 'scheduled'
              -- Not what was stopped on purpose: a suspended provider, an address that left.
              AND NOT (d.state = 'dead' AND d.last_error LIKE 'not sent:%')
            GROUP BY a.id
            """, [.date(now), .date(now - Self.patience)]
        ) {
            (
                id: $0.int(0), embargo: $0.optionalDate(1), dead: Int($0.int(2)), stuck: Int($0.int(3)),
                undelivered: Int($0.int(4)), providers: Int($0.int(5)),
                revision: Int($0.int(6))
            )
        }
        var raised: [Alert] = []
        for row in rows {
            if row.dead + row.stuck > 0 {
                let detail =
                    "Private notices to \(row.providers) provider\(row.providers == 1 ? "" : "s") are not getting through: "
                    + [
                        row.dead > 0 ? "\(row.dead) failed for good" : nil,
                        row.stuck > 0 ? "\(row.stuck) kept failing for over an hour" : nil,
                    ]
                    .compactMap { $0 }.joined(separator: ", ") + "."
                if let alert = try raise(
                    row.id, kind: "private-notice-failing", revision: row.revision, detail: detail, now: now)
                {
                    raised.append(alert)
                }
            }
            if row.undelivered > 0, let embargo = row.embargo, embargo > now,
                embargo.timeIntervalSince(now) <= Self.patience
            {
                let detail =
                    "\(row.undelivered) private deliver\(row.undelivered == 1 ? "y is" : "ies are") not delivered, and the release is in less than an hour."
                if let alert = try raise(
                    row.id, kind: "undelivered-before-release", revision: row.revision, detail: detail, now: now)
                {
                    raised.append(alert)
                }
            }
        }
        // Public channels that refused an announcement for good, in the last week's notices.
        let refused = try database.query(
            """
            SELECT n.advisory_id, count(*), min(d.last_error), max(n.revision) FROM notices n JOIN deliveries d ON d.notice_id = n.id
            WHERE n.advisory_id IS NOT NULL AND n.kind IN ('pre-announcement', 'publication', 'cancellation') AND n.created_at >= ?1
              AND d.channel_id IS NOT NULL AND d.state = 'dead' AND d.last_error NOT LIKE 'not sent:%'
            GROUP BY n.advisory_id
            """, [.date(now - 7 * 86_400)]
        ) { ($0.int(0), Int($0.int(1)), $0.optionalText(2) ?? "", Int($0.int(3))) }
        for (advisoryID, count, error, revision) in refused {
            let detail =
                "\(count) public channel\(count == 1 ? "" : "s") refused the announcement for good (\(error.prefix(160)))."
            if let alert = try raise(
                advisoryID, kind: "public-channel-failing", revision: revision, detail: detail, now: now)
            {
                raised.append(alert)
            }
        }
        return raised
    }

    /// The advisory's alerts, oldest first.
    public func list(advisory id: Int64) throws -> [Alert] {
        try database.query(
            "SELECT advisory_id, kind, detail, created_at FROM alerts WHERE advisory_id = ? ORDER BY id", .integer(id)
        ) {
            Alert(advisoryID: $0.int(0), kind: $0.text(1), detail: $0.text(2), createdAt: $0.date(3))
        }
    }

    /// Records the alert, mails it and audits it, once per advisory, kind and revision; nil
    /// when it was raised already.
    private func raise(_ advisoryID: Int64, kind: String, revision: Int, detail: String, now: Date) throws -> Alert? {
        try database.write {
            try database.run(
                "INSERT OR IGNORE INTO alerts (advisory_id, kind, revision, detail, created_at) VALUES (?, ?, ?, ?, ?)",
                .integer(advisoryID), .text(kind), .int(revision), .text(detail), .date(now))
            guard database.changes > 0 else { return nil }
            let advisory = try AdvisoryStore(database: database, clock: clock, settings: settings).get(advisoryID)
            let project = try ProjectStore(database: database, clock: clock).require(advisory.projectSlug)
            if let contact = project.contact {
                try OutboxStore(database: database, clock: clock, settings: settings)
                    .enqueueMail(
                        .alert, to: contact, project: project,
                        content: settings.writer(for: project).alert(
                            advisory: advisory, problem: detail, command: "herald advisory show \(advisoryID)"))
            }
            try AuditLog(database: database).record(
                at: now, actor: "delivery", action: "advisory.alert", subjectType: "advisory", subjectID: advisoryID,
                reason: detail, details: ["kind": kind, "mailed": project.contact ?? ""])
            return Alert(advisoryID: advisoryID, kind: kind, detail: detail, createdAt: now)
        }
    }
}
