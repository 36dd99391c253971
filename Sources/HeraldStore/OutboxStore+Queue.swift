import Foundation
import HeraldApp
import HeraldCore

/// The outbox queue: workers claim due deliveries per host, record outcomes in batches; a
/// release manager re-drives failed ones.
extension OutboxStore {
    /// Leases up to `limit` due deliveries for `lease`, at most `capacity(host)` of each host:
    /// `freeSlots` gives the free slots of hosts with sends in flight, and a host not in it may
    /// take `perHost`. So a claim never takes rows it cannot start, and one slow host's backlog
    /// is left in the table for later. Each claim counts as an attempt; a worker that dies
    /// leaves its rows to be claimed again when the lease ends.
    public func claim(limit: Int, lease: TimeInterval, freeSlots: [String: Int] = [:], perHost: Int = 8) throws
        -> [ClaimedDelivery]
    {
        try database.write { try claimRows(limit: limit, lease: lease, freeSlots: freeSlots, perHost: perHost) }
    }

    /// Records `outcomes` and claims, in one transaction: under load the worker does both
    /// many times a second, and the rows it records and claims often share pages.
    public func recordAndClaim(
        _ outcomes: [DeliveryOutcome], limit: Int, lease: TimeInterval, freeSlots: [String: Int] = [:],
        perHost: Int = 8
    ) throws -> [ClaimedDelivery] {
        try database.write {
            try recordRows(outcomes)
            return try claimRows(limit: limit, lease: lease, freeSlots: freeSlots, perHost: perHost)
        }
    }

    private func claimRows(limit: Int, lease: TimeInterval, freeSlots: [String: Int], perHost: Int) throws
        -> [ClaimedDelivery]
    {
        guard limit > 0 else { return [] }
        let now = clock.now
        // The hosts with waiting rows, by skip-scan over the (host, due) index: one seek per host.
        let hosts = try database.query(
            """
            WITH RECURSIVE waiting(host) AS (
                SELECT min(host) FROM deliveries WHERE state IN ('pending', 'retrying')
                UNION ALL
                SELECT (SELECT min(host) FROM deliveries WHERE state IN ('pending', 'retrying') AND host > waiting.host)
                FROM waiting WHERE waiting.host IS NOT NULL)
            SELECT host FROM waiting WHERE host IS NOT NULL
            """
        ) { $0.text(0) }
        struct Row {
            var id: Int64, transport: TransportKind, format: WebhookKind?, recipient: String, host: String,
                messageID: String, payloadID: Int64, secret: String?, attempts: Int, stoppedBecause: String?
        }
        // Each host's due rows, read whole in the one pass that finds them: the signing secret or
        // access token from where it lives (the channel, or the provider's webhook), and whether
        // the message may still go. That is decided here, at the last moment, in one place: not
        // to a provider that is suspended, removed or excluded from the advisory, nor to an
        // address or webhook it no longer has, nor to a channel that was removed (its secret
        // went with it). Such rows are dead, however they got here (queued before, in flight at
        // the change, or retried by hand).
        var rows: [Row] = []
        for host in hosts {
            let room = min(freeSlots[host] ?? perHost, limit - rows.count)
            guard room > 0 else { continue }
            rows += try database.query(
                """
                SELECT deliveries.id, transport, format, recipient, host, message_id, payload_id,
                       CASE WHEN transport = 'email' THEN NULL
                            WHEN channel_id IS NOT NULL THEN c.secret
                            ELSE (SELECT w.secret FROM provider_webhooks w WHERE w.provider_id = deliveries.provider_id AND w.url = recipient) END,
                       attempts,
                       CASE WHEN channel_id IS NOT NULL THEN
                                CASE WHEN c.id IS NULL THEN 'the channel was removed' END
                            WHEN provider_id IS NOT NULL THEN CASE
                                WHEN EXISTS (SELECT 1 FROM notices n JOIN participation x ON x.advisory_id = n.advisory_id
                                             WHERE n.id = deliveries.notice_id AND x.provider_id = deliveries.provider_id
                                               AND x.decision = 'excluded') THEN 'the provider was excluded from the advisory'
                                WHEN (SELECT status FROM providers WHERE id = deliveries.provider_id) IN ('suspended', 'removed')
                                    THEN 'the provider is ' || (SELECT status FROM providers WHERE id = deliveries.provider_id)
                                WHEN transport = 'email' AND NOT EXISTS (SELECT 1 FROM provider_contacts pc
                                        WHERE pc.provider_id = deliveries.provider_id AND pc.email = deliveries.recipient)
                                    THEN 'the provider no longer has this address or webhook'
                                WHEN transport = 'webhook' AND NOT EXISTS (SELECT 1 FROM provider_webhooks w
                                        WHERE w.provider_id = deliveries.provider_id AND w.url = deliveries.recipient)
                                    THEN 'the provider no longer has this address or webhook' END END
                FROM deliveries LEFT JOIN channels c ON c.id = deliveries.channel_id
                WHERE host = ?1 AND state IN ('pending', 'retrying') AND next_attempt_at <= ?2 AND (lease_until IS NULL OR lease_until <= ?2)
                ORDER BY next_attempt_at, deliveries.id LIMIT ?3
                """, [.text(host), .date(now), .int(room)]
            ) { row in
                Row(
                    id: row.int(0), transport: TransportKind(rawValue: row.text(1)) ?? .webhook,
                    format: WebhookKind(rawValue: row.text(2)), recipient: row.text(3), host: row.text(4),
                    messageID: row.text(5), payloadID: row.int(6), secret: row.optionalText(7),
                    attempts: Int(row.int(8)) + 1, stoppedBecause: row.optionalText(9))
            }
            if rows.count >= limit { break }
        }
        guard !rows.isEmpty else { return [] }
        // Each claim counts as an attempt, a stopped one too.
        try database.run(
            "UPDATE deliveries SET lease_until = ?, attempts = attempts + 1 WHERE id IN (SELECT value FROM json_each(?))",
            .date(now.addingTimeInterval(lease)), .text(Self.jsonList(rows.map(\.id))))
        let stopped = rows.filter { $0.stoppedBecause != nil }
        if !stopped.isEmpty {
            try database.run(
                """
                UPDATE deliveries SET state = 'dead', lease_until = NULL, last_error = 'not sent: ' || (s.value ->> 1)
                FROM json_each(?) AS s WHERE deliveries.id = s.value ->> 0
                """,
                .text(
                    JSON.array(stopped.map { JSON.array([.int(Int($0.id)), .string($0.stoppedBecause ?? "")]) }).text))
        }
        var claimed = stopped.isEmpty ? rows : rows.filter { $0.stoppedBecause == nil }
        let seals = try seals(of: claimed.filter { $0.transport == .email }.map(\.id), at: now)
        if !seals.unsendable.isEmpty { claimed = claimed.filter { !seals.unsendable.contains($0.id) } }
        // Each body read once per claim: the public channels of one format share theirs, and
        // the addresses of one fan-out and language their template.
        let payloadIDs = Array(Set(claimed.map(\.payloadID)))
        var bodies: [Int64: [UInt8]] = [:]
        var templates: [Int64: MailTemplate] = [:]
        for (id, body, isTemplate) in try database.query(
            "SELECT id, body, is_template FROM payloads WHERE id IN (SELECT value FROM json_each(?))",
            .text(Self.jsonList(payloadIDs)), map: { ($0.int(0), $0.blob(1), $0.int(2) != 0) })
        {
            if isTemplate { templates[id] = MailTemplate(stored: body) } else { bodies[id] = body }
        }
        // Made if it went missing (a partial restore): a message is never sent with its slots unfilled.
        let links = templates.isEmpty ? nil : try DeliveryLinks.make(database)
        return claimed.map { row in
            var payload = bodies[row.payloadID] ?? []
            if let template = templates[row.payloadID], let links {
                payload = links.message(template, delivery: row.id, recipient: row.recipient, messageID: row.messageID)
            }
            return ClaimedDelivery(
                id: row.id, transport: row.transport, format: row.format, recipient: row.recipient, host: row.host,
                messageID: row.messageID, payload: payload, secret: row.secret, attempts: row.attempts,
                seal: seals.byDelivery[row.id])
        }
    }

    /// How the claimed e-mails `ids` are sealed. A private notice (its template has an outer
    /// subject) goes encrypted to a contact with a usable key unless its project says `off`;
    /// where the project says `required` and the contact has no usable key (removed or expired
    /// since the fan-out), it is not sent at all: marked dead here, in the claim's transaction.
    private func seals(of ids: [Int64], at now: Date) throws -> (byDelivery: [Int64: Seal], unsendable: Set<Int64>) {
        guard !ids.isEmpty else { return ([:], []) }
        var seals: [Int64: Seal] = [:]
        var unsendable: [Int64] = []
        _ = try database.query(
            """
            SELECT d.id, pr.encryption, pl.outer_subject, k.fingerprint, k.armored, pk.fingerprint, pk.sealed_secret,
                   k.encryption_subkey, k.encryption_subkey_expires
            FROM deliveries d
            JOIN payloads pl ON pl.id = d.payload_id
            JOIN notices n ON n.id = d.notice_id
            LEFT JOIN advisories a ON a.id = n.advisory_id
            JOIN projects pr ON pr.id = coalesce(a.project_id, pl.project_id)
            LEFT JOIN provider_keys k ON k.provider_id = d.provider_id AND k.email = d.recipient
                                     AND (k.expires_at IS NULL OR k.expires_at > ?2)
            LEFT JOIN project_keys pk ON pk.project_id = pr.id
            WHERE d.id IN (SELECT value FROM json_each(?1)) AND d.provider_id IS NOT NULL
              AND pl.outer_subject IS NOT NULL AND pr.encryption <> 'off'
            """, [.text(Self.jsonList(ids)), .date(now)]
        ) { row in
            guard let fingerprint = row.optionalText(3) else {
                if row.text(1) == EncryptionPolicy.required.rawValue { unsendable.append(row.int(0)) }
                return
            }
            seals[row.int(0)] = Seal(
                recipient: OpenPGPKeyMaterial(
                    fingerprint: fingerprint, bytes: Array(row.text(4).utf8),
                    encryptionSubkey: row.optionalText(7).map {
                        EncryptionSubkey(fingerprint: $0, expires: row.optionalDate(8))
                    }),
                signer: row.optionalText(5).map { ($0, row.blob(6)) }, outerSubject: row.text(2))
        }
        // A publication by a project with a key goes signed, to lists and providers alike.
        _ = try database.query(
            """
            SELECT d.id, pk.fingerprint, pk.sealed_secret FROM deliveries d
            JOIN notices n ON n.id = d.notice_id
            JOIN advisories a ON a.id = n.advisory_id
            JOIN project_keys pk ON pk.project_id = a.project_id
            WHERE d.id IN (SELECT value FROM json_each(?1)) AND n.kind = 'publication'
            """, [.text(Self.jsonList(ids))]
        ) { row in
            if seals[row.int(0)] == nil {
                seals[row.int(0)] = Seal(recipient: nil, signer: (row.text(1), row.blob(2)), outerSubject: "")
            }
        }
        if !unsendable.isEmpty {
            try database.run(
                """
                UPDATE deliveries SET state = 'dead', lease_until = NULL,
                    last_error = 'not sent: the project requires encryption and this address has no usable key'
                WHERE id IN (SELECT value FROM json_each(?))
                """, .text(Self.jsonList(unsendable)))
        }
        return (seals, Set(unsendable))
    }

    /// The message of delivery `id` as it is sent (a template filled in), for records and tests.
    public func message(ofDelivery id: Int64) throws -> [UInt8]? {
        guard
            let row = try database.first(
                """
                SELECT d.recipient, d.message_id, p.body, p.is_template FROM deliveries d JOIN payloads p ON p.id = d.payload_id
                WHERE d.id = ?
                """, .integer(id), map: { ($0.text(0), $0.text(1), $0.blob(2), $0.int(3) != 0) })
        else { return nil }
        guard row.3 else { return row.2 }
        guard let links = try DeliveryLinks.existing(database) else { return nil }
        return links.message(MailTemplate(stored: row.2), delivery: id, recipient: row.0, messageID: row.1)
    }

    /// Records a batch of outcomes in one transaction: one fsync for many messages.
    public func record(_ outcomes: [DeliveryOutcome]) throws {
        guard !outcomes.isEmpty else { return }
        try database.write { try recordRows(outcomes) }
    }

    private func recordRows(_ outcomes: [DeliveryOutcome]) throws {
        guard !outcomes.isEmpty else { return }
        let now = clock.now
        // Delivered rows, most of any batch: one statement for each run of consecutive ids that
        // ended in the same millisecond by the same route. A fan-out's rows are written, sent
        // and answered in id order, so a batch takes a few statements a millisecond, not one
        // a row (recording went from 7.3 % to 5.7 % of `serve`'s CPU in a 10,000-webhook round;
        // a JSON list of ids for `UPDATE … FROM json_each` had cost more than a statement a row).
        var delivered: [DeliveredAt: [Int64]] = [:]
        for case let .delivered(id, at, via) in outcomes {
            delivered[DeliveredAt(milliseconds: at.milliseconds, via: via), default: []].append(id)
        }
        for (ended, ids) in delivered {
            for run in Self.runs(of: ids) {
                try database.run(
                    """
                    UPDATE deliveries SET state = 'delivered', delivered_at = ?, delivered_via = ?, lease_until = NULL,
                                          last_error = NULL
                    WHERE id BETWEEN ? AND ?
                    """, .integer(ended.milliseconds), .text(ended.via), .integer(run.lowerBound),
                    .integer(run.upperBound))
            }
        }
        for outcome in outcomes {
            switch outcome {
            case .delivered:
                continue
            case let .retry(id, at, error):
                try database.run(
                    "UPDATE deliveries SET state = 'retrying', next_attempt_at = ?, lease_until = NULL, last_error = ? WHERE id = ?",
                    .date(at), .text(error), .integer(id))
            case let .dead(id, error):
                try database.run(
                    "UPDATE deliveries SET state = 'dead', lease_until = NULL, last_error = ? WHERE id = ?",
                    .text(error), .integer(id))
            case let .gone(id, url, error):
                try database.run(
                    "UPDATE deliveries SET state = 'dead', lease_until = NULL, last_error = ? WHERE id = ?",
                    .text(error), .integer(id))
                try database.run(
                    "UPDATE provider_webhooks SET disabled_at = ? WHERE url = ? AND disabled_at IS NULL", .date(now),
                    .text(url))
                try database.run(
                    "UPDATE channels SET disabled_at = ? WHERE target = ? AND disabled_at IS NULL", .date(now),
                    .text(url))
                // The URL may be the credential itself (a chat webhook): the log names it by fingerprint.
                try AuditLog(database: database).record(
                    at: now, actor: "delivery", action: "endpoint.disable", subjectType: "delivery",
                    subjectID: id, reason: "410 Gone", details: ["url": Redaction.url(url)])
            case let .released(id):
                try database.run(
                    "UPDATE deliveries SET lease_until = NULL, attempts = max(attempts - 1, 0) WHERE id = ?",
                    .integer(id))
            }
        }
    }

    /// When and by which route sends ended: the delivered rows recorded by one statement.
    private struct DeliveredAt: Hashable {
        var milliseconds: Int64
        var via: String
    }

    /// `ids` as the fewest closed ranges of consecutive ids, each holding only ids of `ids`.
    static func runs(of ids: [Int64]) -> [ClosedRange<Int64>] {
        var runs: [ClosedRange<Int64>] = []
        for id in ids.sorted() {
            if let last = runs.last, id <= last.upperBound + 1 {
                runs[runs.count - 1] = last.lowerBound...max(last.upperBound, id)
            } else {
                runs.append(id...id)
            }
        }
        return runs
    }

    /// Gives back every lease: called by `herald serve` at start, while it holds the instance
    /// lock, so any lease left in the database belongs to a process that died mid-send.
    /// Those sends may or may not have reached their recipients; they go again (at least once).
    public func releaseAllLeases() throws -> Int {
        try database.write {
            try database.run(
                "UPDATE deliveries SET lease_until = NULL WHERE lease_until IS NOT NULL AND state IN ('pending', 'retrying')"
            )
        }
    }

    /// The earliest instant a delivery becomes due (or its lease ends), for the worker's sleep.
    public func nextDue() throws -> Date? {
        try database.first(
            """
            SELECT min(max(next_attempt_at, coalesce(lease_until, 0))) FROM deliveries WHERE state IN ('pending', 'retrying')
            """
        ) { $0.optionalDate(0) } ?? nil
    }

    /// The state of delivery `id`, or nil when there is none (a state the schema forbids reads as
    /// delivered: nothing to send again).
    public func state(ofDelivery id: Int64) throws -> DeliveryState? {
        try database.first(
            "SELECT state FROM deliveries WHERE id = ?", .integer(id),
            map: { DeliveryState(rawValue: $0.text(0)) ?? .delivered })
    }

    /// Makes delivery `id` pending at `at`, with a fresh set of attempts.
    public func requeue(_ id: Int64, at now: Date) throws {
        try database.run(
            "UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = ?, lease_until = NULL WHERE id = ?",
            .date(now), .integer(id))
    }

    /// Makes every dead delivery pending at `at`, with fresh attempts; returns how many.
    public func requeueDead(at now: Date) throws -> Int {
        try database.run(
            "UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = ?, lease_until = NULL WHERE state = 'dead'",
            .date(now))
    }
}
