import Foundation
import HeraldCore
import HeraldDelivery
import HeraldStore
import HeraldTestSupport
import Testing

@Suite(.serialized) struct PublicationTests {
    /// Publication 2 s ahead: nothing reaches a public channel before the instant, everything
    /// does soon after, and the lag from the instant to each arrival is measured.
    @Test func nothingPublicBeforeTheInstantEverythingAfter() async throws {
        let db = try TestDatabase(clock: SystemClock())
        let sink = try SMTPSink(in: db.directory)
        defer { sink.server.stop() }
        let receiver = try WebhookReceiver(in: db.directory)
        defer { receiver.server.stop() }
        try db.addProject()
        try db.addProviders(3)
        _ = try db.channels.add(
            NewChannel(projectSlug: "demo", kind: .email, target: "announce@lists.example", secret: nil),
            actor: db.actor)
        _ = try db.channels.add(
            NewChannel(projectSlug: "demo", kind: .slack, target: receiver.base + "/ok/slack", secret: nil),
            actor: db.actor)
        _ = try db.channels.add(
            NewChannel(projectSlug: "demo", kind: .webhook, target: receiver.base + "/ok/generic", secret: nil),
            actor: db.actor)
        let embargo = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 2).rounded(.up))
        let advisory = try db.advisories.create(
            project: "demo",
            content: AdvisoryContent(title: "Secret overflow title", cves: ["CVE-2026-9999"], severity: .critical),
            schedule: Schedule(embargo: embargo, earlyNotice: db.clock.now + 0.1, preAnnounce: db.clock.now + 0.1),
            actor: db.actor)

        let engine = CurlEngine()
        defer { engine.shutdown() }
        var sawEarlyPublicLeak = false
        let done = try await runService(
            db, mail: SMTPTransport(engine: engine, url: sink.url, from: "herald@herald.test"),
            webhooks: WebhookTransport(engine: engine, allowPrivateTargets: true)
        ) {
            // Before the instant, public channels may have the pre-announcement only. What was read
            // before the instant (the clock is checked after reading) arrived before it.
            let publicBodies =
                try receiver.requests().map(\.body)
                + sink.parsed().filter { $0.envelope_to == "announce@lists.example" }.map {
                    ($0.headers["subject"] ?? "") + $0.body
                }
            if Date() < embargo,
                publicBodies.contains(where: { $0.contains("Secret overflow") || $0.contains("CVE-2026-9999") })
            {
                sawEarlyPublicLeak = true
            }
            return try db.database.first(
                "SELECT count(*) FROM deliveries d JOIN notices n ON n.id = d.notice_id WHERE n.kind = 'publication' AND d.state = 'delivered'"
            ) { $0.int(0) } == 6
        }
        #expect(done)
        #expect(!sawEarlyPublicLeak)
        #expect(try db.advisories.get(advisory.id).state == .published)
        #expect(try db.advisories.get(advisory.id).publishedAt! >= embargo)

        // Every public message about the advisory arrived at or after the instant.
        let hooks = try receiver.requests()
        let publicationHooks = hooks.filter { $0.body.contains("Secret overflow") }
        #expect(publicationHooks.count == 2)
        let lags = publicationHooks.map { $0.time - embargo.timeIntervalSince1970 }
        #expect(lags.allSatisfy { $0 >= 0 }, "early by \(lags)")
        #expect(lags.allSatisfy { $0 < 1 }, "late by \(lags)")
        // The pre-announcement said date and severity, and nothing that names the issue.
        let preAnnouncements = hooks.filter { $0.body.contains("planned for") }
        #expect(preAnnouncements.count == 2)
        #expect(
            preAnnouncements.allSatisfy {
                !$0.body.contains("Secret") && !$0.body.contains("CVE") && $0.body.contains("critical")
            })
        #expect(preAnnouncements.allSatisfy { $0.time < embargo.timeIntervalSince1970 })
        let lag =
            try db.database.first(
                "SELECT (min(d.delivered_at) - n.due_at) FROM deliveries d JOIN notices n ON n.id = d.notice_id WHERE n.kind = 'publication'"
            ) { $0.int(0) } ?? -1
        print(
            "publication lag, instant to first delivery: \(lag) ms; to webhook arrivals: \(lags.map { Int($0 * 1000) }) ms"
        )
        #expect(lag >= 0)
    }

    /// As a publication fires, and not before its instant, connections to its chat and webhook
    /// endpoints are asked for (not its mailing lists', nor a disabled channel's), before its
    /// rows are written: its first sends find them made. The early notice before it asks for none.
    @Test func aPublicationConnectsToItsEndpointsAsItFiresNeverBefore() async throws {
        let db = try TestDatabase(clock: SystemClock())
        try db.addProject()
        try db.addProviders(2)
        func add(_ kind: ChannelKind, _ target: String) throws -> Int64 {
            try db.channels.add(
                NewChannel(projectSlug: "demo", kind: kind, target: target, secret: nil), actor: db.actor
            ).id
        }
        _ = try add(.email, "announce@lists.example")
        _ = try add(.slack, "https://hooks.slack.example/services/T1")
        let disabled = try add(.webhook, "https://disabled.example/hook")
        _ = try add(.webhook, "https://receiver.example/hook")
        try db.database.run("UPDATE channels SET disabled_at = 1 WHERE id = ?", .integer(disabled))
        let embargo = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 1.5).rounded(.up))
        _ = try db.advisories.create(
            project: "demo", content: AdvisoryContent(title: "Overflow"),
            schedule: Schedule(embargo: embargo, earlyNotice: db.clock.now + 0.1), actor: db.actor)

        let webhooks = try ConnectAheadRecorder(databasePath: db.path)
        let done = try await runService(db, mail: TimedTransport(delay: 0), webhooks: webhooks) {
            try db.database.first(
                "SELECT count(*) FROM deliveries d JOIN notices n ON n.id = d.notice_id WHERE n.kind = 'publication' AND d.state = 'delivered'"
            ) { $0.int(0) } == 5  // the two providers told early, the list, the two endpoints
        }
        #expect(done)
        let asked = webhooks.asked
        #expect(asked.count == 1, "\(asked)")
        #expect(
            asked.first?.recipients == ["https://hooks.slack.example/services/T1", "https://receiver.example/hook"])
        #expect((asked.first?.at ?? .distantPast) >= embargo, "asked before the instant")
        #expect(asked.first?.stateThen == "scheduled", "asked after the publication was written")
    }

    /// A restart after the instant publishes at once, without a late early notice.
    @Test func aRestartAfterTheInstantPublishesAtOnce() async throws {
        let clock = ManualClock(Date())
        let db = try TestDatabase(clock: clock)
        try db.addProject()
        try db.addProviders(2)
        let advisory = try db.advisories.create(
            project: "demo", content: AdvisoryContent(title: "Overflow"),
            schedule: Schedule(embargo: clock.now + 60, earlyNotice: clock.now + 30), actor: db.actor)
        clock.advance(by: 120)  // the service was down through both instants
        let fired = try db.advisories.fireDue()
        #expect(fired.map(\.kind) == [.publication])
        #expect(abs((fired.first?.lag ?? 0) - 60) < 0.01)
        #expect(try db.advisories.get(advisory.id).state == .published)
        // Nobody had the early notice, so nobody gets "now public" privately either.
        #expect(try db.count("deliveries") == 0)
        #expect(try db.advisories.fireDue().isEmpty)
    }

    /// A notice that fails (here: a trigger refuses its row) is logged and tried again; the
    /// scheduler keeps running, the other advisory publishes on time, and the failed one
    /// publishes once the fault is gone. Before, the error ended the scheduler and `serve`.
    @Test func aFailingNoticeNeitherStopsTheSchedulerNorTheOthers() async throws {
        let db = try TestDatabase(clock: SystemClock())
        try db.addProject()
        let embargo = Date() + 0.3
        let failing = try db.advisories.create(
            project: "demo", content: AdvisoryContent(title: "First"), schedule: Schedule(embargo: embargo),
            actor: db.actor)
        let healthy = try db.advisories.create(
            project: "demo", content: AdvisoryContent(title: "Second"), schedule: Schedule(embargo: embargo),
            actor: db.actor)
        try db.database.execute(
            """
            CREATE TRIGGER fail_one BEFORE INSERT ON notices WHEN NEW.advisory_id = \(failing.id)
            BEGIN SELECT RAISE(ABORT, 'disk full, say'); END
            """)
        var healthyLag: TimeInterval?
        var failingSince: ContinuousClock.Instant?
        var dropped = false
        let log = LogCounter()
        let engine = CurlEngine()
        defer { engine.shutdown() }
        let done = try await runService(
            db, mail: MaildirTransport(directory: db.directory.appending(path: "mail")),
            webhooks: WebhookTransport(engine: engine, allowPrivateTargets: true), log: log
        ) {
            let second = try db.advisories.get(healthy.id)
            if second.state == .published, failingSince == nil {
                healthyLag = second.publishedAt.map { $0.timeIntervalSince(embargo) }
                failingSince = .now
            }
            // The fault lasts two seconds: tried again with backoff, not in a busy loop.
            if !dropped, let since = failingSince, ContinuousClock.now - since > .seconds(2) {
                let attempts = log.count("notice not fired; the scheduler tries again")
                #expect((2...6).contains(attempts), "\(attempts) attempts in about two seconds")
                #expect(try db.advisories.get(failing.id).state == .scheduled)
                try db.database.execute("DROP TRIGGER fail_one")
                dropped = true
            }
            return try db.advisories.get(failing.id).state == .published
        }
        #expect(done, "the failed notice was not tried again")
        #expect(
            try #require(healthyLag) < 0.1, "the healthy advisory was published \(healthyLag ?? -1) s after its instant"
        )
    }
}

/// Delivers everything at once and records each ask to connect ahead: when, for whom, and the
/// advisory's state at that moment (read on a connection of its own).
final class ConnectAheadRecorder: Transport, @unchecked Sendable {
    private let lock = NSLock()
    private let database: Database
    private var records: [(at: Date, recipients: [String], stateThen: String?)] = []

    init(databasePath: String) throws { database = try Database(path: databasePath) }

    var asked: [(at: Date, recipients: [String], stateThen: String?)] { lock.withLock { records } }
    var destination: String { "webhook" }

    func send(_ delivery: ClaimedDelivery) async -> SendResult { .delivered }

    func connectAhead(to recipients: [String]) {
        let at = Date()
        let state = try? database.first("SELECT state FROM advisories ORDER BY id DESC LIMIT 1") { $0.text(0) }
        lock.withLock { records.append((at, recipients, state)) }
    }
}
