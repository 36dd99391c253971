import Foundation
import HeraldCore

/// What the outbox holds, read for people and metrics.
extension OutboxStore {

    /// Deliveries, newest first, optionally of one advisory or state (`failing`: retrying or
    /// dead, from the first failed attempt on); a webhook's URL by fingerprint (it may be the credential).
    public func list(advisory: Int64? = nil, state filter: DeliveryFilter? = nil, limit: Int = 1000) throws
        -> [DeliveryRecord]
    {
        try database.query(
            """
            SELECT d.id, n.id, n.kind, n.advisory_id, n.revision, p.organization, d.transport, d.recipient, d.state, d.attempts, d.last_error,
                   d.next_attempt_at, d.delivered_at, d.created_at, d.delivered_via
            FROM deliveries d JOIN notices n ON n.id = d.notice_id LEFT JOIN providers p ON p.id = d.provider_id
            WHERE (?1 IS NULL OR n.advisory_id = ?1) AND (?2 IS NULL OR d.state IN (SELECT value FROM json_each(?2)))
            ORDER BY d.id DESC LIMIT ?3
            """,
            [
                advisory.map(SQLValue.integer) ?? .null,
                filter.map { .text("[" + $0.states.map { "\"\($0.rawValue)\"" }.joined(separator: ",") + "]") }
                    ?? .null,
                .int(limit),
            ]
        ) { row in
            let state = DeliveryState(rawValue: row.text(8)) ?? .dead
            return DeliveryRecord(
                id: row.int(0), noticeID: row.int(1), notice: row.text(2), advisoryID: row.optionalInt(3),
                revision: Int(row.int(4)),
                organization: row.optionalText(5), transport: TransportKind(rawValue: row.text(6)) ?? .webhook,
                recipient: row.text(7), state: state, attempts: Int(row.int(9)), lastError: row.optionalText(10),
                nextAttemptAt: state == .pending || state == .retrying ? row.optionalDate(11) : nil,
                deliveredAt: row.optionalDate(12), deliveredVia: row.optionalText(14), createdAt: row.date(13)
            ).redacted
        }
    }

    /// Who one notice reaches, counted: what `--dry-run` reports.
    public struct Reach: Sendable, Equatable, Encodable {
        /// The notice's kind, such as `revision`.
        public var notice: String
        /// Providers it reaches.
        public var providers: Int
        /// Their e-mail addresses it goes to.
        public var addresses: Int
        /// Their webhooks it goes to.
        public var providerWebhooks: Int
        /// Public channels it goes to.
        public var channels: Int
        /// The organisations it would reach, by name.
        public var organizations: [String]

        /// "the revision: 3 providers (4 addresses, 1 webhook)"
        public var sentence: String {
            var parts: [String] = []
            if providers > 0 {
                let names =
                    organizations.prefix(10).joined(separator: ", ")
                    + (organizations.count > 10 ? " and \(organizations.count - 10) more" : "")
                parts.append(
                    "\(providers) provider\(providers == 1 ? "" : "s") (\(addresses) address\(addresses == 1 ? "" : "es"), "
                        + "\(providerWebhooks) webhook\(providerWebhooks == 1 ? "" : "s"): \(names))")
            }
            if channels > 0 { parts.append("\(channels) public channel\(channels == 1 ? "" : "s")") }
            return "the \(notice) would go to " + (parts.isEmpty ? "no one" : parts.joined(separator: " and "))
        }
    }

    /// The highest delivery id so far: what a rehearsal wrote comes after it.
    public func lastDeliveryID() throws -> Int64 {
        try database.first("SELECT coalesce(max(id), 0) FROM deliveries") { $0.int(0) } ?? 0
    }

    /// Who the notices of `advisory` written after delivery `after` reach, per notice, with the
    /// rest of those still being written counted, not written (what a dry run shows).
    public func reach(advisory: Int64, after: Int64) throws -> [Reach] {
        let rest = try restReach(advisory: advisory)
        return try written(advisory: advisory, after: after).map { notice, reach in
            guard let more = rest[notice] else { return reach }
            var whole = reach
            whole.providers += more.providers
            whole.addresses += more.addresses
            whole.channels += more.channels
            whole.organizations = Array(Set(reach.organizations + more.organizations)).sorted()
            return whole
        }
    }

    /// Who the notices of `advisory` written after delivery `after` reach, by notice id.
    private func written(advisory: Int64, after: Int64) throws -> [(notice: Int64, reach: Reach)] {
        try database.query(
            """
            SELECT n.id, n.kind, count(DISTINCT d.provider_id), sum(d.provider_id IS NOT NULL AND d.transport = 'email'),
                   sum(d.provider_id IS NOT NULL AND d.transport = 'webhook'), sum(d.channel_id IS NOT NULL),
                   (SELECT json_group_array(organization) FROM (SELECT DISTINCT p.organization FROM deliveries d2 JOIN providers p ON p.id = d2.provider_id
                                                                WHERE d2.notice_id = n.id AND d2.id > ?1 ORDER BY p.organization))
            FROM deliveries d JOIN notices n ON n.id = d.notice_id
            WHERE d.id > ?1 AND n.advisory_id = ?2 GROUP BY n.id ORDER BY n.id
            """, [.integer(after), .integer(advisory)]
        ) {
            (
                $0.int(0),
                Reach(
                    notice: $0.text(1), providers: Int($0.int(2)), addresses: Int($0.int(3)),
                    providerWebhooks: Int($0.int(4)), channels: Int($0.int(5)),
                    organizations: $0.strings(6))
            )
        }
    }

    /// Deliveries waiting (pending or retrying) and the age of the oldest, for metrics.
    public func queueDepth() throws -> (count: Int, oldest: Date?) {
        try database.first("SELECT count(*), min(created_at) FROM deliveries WHERE state IN ('pending', 'retrying')") {
            (Int($0.int(0)), $0.optionalDate(1))
        } ?? (0, nil)
    }
}
