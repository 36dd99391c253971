import Foundation
import HeraldCore
import HeraldDelivery
import HeraldStore
import HeraldTestSupport
import Testing

/// The fault matrix: real peers that fail the way production peers do. Every message ends
/// delivered, or dead with its error recorded; none is silently dropped; where the test runs
/// `herald serve`, it is still up and /healthz answers 200 afterwards.
@Suite(.serialized) struct FaultTests {
    /// Each delivery's state, attempts and last error, by recipient.
    func records(_ db: TestDatabase) throws -> [(recipient: String, state: String, attempts: Int64, error: String?)] {
        try db.database.query("SELECT recipient, state, attempts, last_error FROM deliveries ORDER BY id") {
            ($0.text(0), $0.text(1), $0.int(2), $0.optionalText(3))
        }
    }

    /// Public webhook channels on `receiver` at `paths`, and an advisory published on them now.
    func publish(to receiver: WebhookReceiver, paths: [String], db: TestDatabase) throws {
        try db.addProject()
        for path in paths {
            _ = try db.channels.add(
                NewChannel(projectSlug: "demo", kind: .slack, target: receiver.base + path, secret: nil),
                actor: db.actor)
        }
        let advisory = try db.advisories.create(
            project: "demo", content: AdvisoryContent(title: "Overflow"),
            schedule: Schedule(embargo: db.clock.now + 3600), actor: db.actor)
        _ = try db.advisories.publishNow(advisory.id, notes: try ChangeNotes(reason: "test"), actor: db.actor)
    }

    /// Runs the service with webhooks over libcurl (2 s timeouts, private targets allowed) until `condition` holds.
    func runWebhooks(_ db: TestDatabase, until condition: () throws -> Bool) async throws -> Bool {
        let engine = CurlEngine(settings: CurlSettings(connectTimeout: 2, totalTimeout: 2))
        defer { engine.shutdown() }
        return try await runService(
            db, mail: MaildirTransport(directory: db.directory.appending(path: "mail")),
            webhooks: WebhookTransport(engine: engine, allowPrivateTargets: true), until: condition)
    }

    @Test func smtpServerDownAtTheInstantDeliversOnceItIsBack() async throws {
        let db = try TestDatabase(clock: SystemClock())
        try db.addProject()
        try db.addProviders(3)
        let port = freePort()  // nothing listens there yet
        let serve = try await HeraldServe(
            database: db.path, environment: ["HERALD_SMTP_URL": "smtp://127.0.0.1:\(port)"])
        defer { serve.stop() }
        _ = try db.advisories.create(
            project: "demo", content: AdvisoryContent(title: "T"),
            schedule: Schedule(embargo: db.clock.now + 3600, earlyNotice: db.clock.now + 0.2), actor: db.actor)

        // The first attempt fails and says why; nothing is dropped.
        #expect(try await eventually { try db.deliveries("retrying") == 3 }, "log:\n\(serve.logText)")
        for record in try records(db) {
            #expect(record.error?.contains("connect") == true, "error: \(record.error ?? "none")")
        }
        // The server comes up; the retry (about 5 s later) delivers every message, once.
        let sink = try SMTPSink(in: db.directory, port: port)
        defer { sink.server.stop() }
        #expect(
            try await eventually(timeout: .seconds(20)) { try db.deliveries("delivered") == 3 },
            "log:\n\(serve.logText)")
        let mails = try sink.parsed()
        #expect(mails.count == 3)
        #expect(Set(mails.compactMap { $0.headers["message-id"] }).count == 3)
        #expect(try records(db).allSatisfy { $0.attempts == 2 && $0.error == nil })
        #expect(await serve.health() == 200)
        #expect(serve.stop() == 0, "log:\n\(serve.logText)")
    }

    @Test func aConnectionResetIsRetriedAndItsErrorKept() async throws {
        let db = try TestDatabase(clock: SystemClock())
        let receiver = try WebhookReceiver(in: db.directory)
        defer { receiver.server.stop() }
        try publish(to: receiver, paths: ["/reset/x", "/ok/x"], db: db)
        let settled = try await runWebhooks(db) {
            try db.deliveries("dead") == 1 && db.deliveries("delivered") == 1
        }
        #expect(settled)
        // Every attempt reached the receiver and was reset; the last error says so.
        let reset = try #require(try records(db).first { $0.recipient.hasSuffix("/reset/x") })
        #expect(reset.attempts == 4)
        // libcurl itself resends once when a reused connection dies before any answer, so at least 4.
        let resets = try receiver.requests().filter { $0.path == "/reset/x" }.count
        #expect(resets >= 4, "requests to /reset/x: \(resets)")
        let error = reset.error?.lowercased() ?? ""
        #expect(
            error.contains("after 4 attempts") && (error.contains("reset") || error.contains("recv failure")),
            "error: \(error)")
    }

    @Test func aCertificateThatDoesNotVerifyIsNeverSentTo() async throws {
        let db = try TestDatabase(clock: SystemClock())
        let receiver = try WebhookReceiver(in: db.directory, tls: try selfSignedCertificate(in: db.directory))
        defer { receiver.server.stop() }
        #expect(receiver.base.hasPrefix("https://"))
        try publish(to: receiver, paths: ["/ok/tls"], db: db)
        let settled = try await runWebhooks(db) {
            try db.deliveries("dead") == 1
        }
        #expect(settled)
        // The handshake failed every time: no request was ever made, and the error names the certificate.
        #expect(try receiver.requests().isEmpty)
        let record = try #require(try records(db).first)
        #expect(record.attempts == 4)
        let error = record.error?.lowercased() ?? ""
        #expect(error.contains("certificate") || error.contains("ssl"), "error: \(error)")
    }

    @Test func redirectsAreNeverFollowed() async throws {
        let db = try TestDatabase(clock: SystemClock())
        let receiver = try WebhookReceiver(in: db.directory)
        defer { receiver.server.stop() }
        try publish(to: receiver, paths: ["/moved302/a", "/moved307/b"], db: db)
        let settled = try await runWebhooks(db) {
            try db.deliveries("dead") == 2
        }
        #expect(settled)
        let requests = try receiver.requests()
        // The redirect's target never saw a request; the redirecting path saw every attempt.
        #expect(requests.filter { $0.path.hasPrefix("/target/") }.isEmpty, "requests: \(requests.map(\.path))")
        #expect(requests.filter { $0.path.hasPrefix("/moved") }.count == 8)
        for record in try records(db) {
            #expect(record.state == "dead")
            #expect(record.error?.contains("redirects are not followed") == true, "error: \(record.error ?? "none")")
        }
    }

    @Test func aFullMaildirFailsCleanlyAndDeliversOnceThereIsRoom() async throws {
        let db = try TestDatabase(clock: SystemClock())
        // A real full disk: a 256 KiB tmpfs, filled up but for a few bytes.
        let mount = db.directory.appending(path: "small-disk")
        try FileManager.default.createDirectory(at: mount, withIntermediateDirectories: true)
        let mounted = try runTool("mount", ["-t", "tmpfs", "-o", "size=256k", "tmpfs", mount.path])
        try #require(mounted.status == 0, "this test mounts a tmpfs and needs root (CAP_SYS_ADMIN): \(mounted.output)")
        defer { _ = try? runTool("umount", ["-l", mount.path]) }
        let maildir = mount.appending(path: "mail")
        for folder in ["tmp", "new", "cur"] {
            try FileManager.default.createDirectory(
                at: maildir.appending(path: folder), withIntermediateDirectories: true)
        }
        let filler = mount.appending(path: "filler").path
        let fd = open(filler, O_WRONLY | O_CREAT, 0o600)
        let block = [UInt8](repeating: 0, count: 4096)
        while write(fd, block, block.count) == block.count {}
        close(fd)

        try db.addProject()
        try db.addProviders(3)
        let serve = try await HeraldServe(database: db.path, environment: ["HERALD_MAILDIR": maildir.path])
        defer { serve.stop() }
        _ = try db.advisories.create(
            project: "demo", content: AdvisoryContent(title: "T", body: String(repeating: "Details. ", count: 400)),
            schedule: Schedule(embargo: db.clock.now + 3600, earlyNotice: db.clock.now + 0.2), actor: db.actor)
        #expect(try await eventually { try db.deliveries("retrying") == 3 }, "log:\n\(serve.logText)")
        for record in try records(db) {
            #expect(record.error?.contains("No space left on device") == true, "error: \(record.error ?? "none")")
        }
        // Nothing half-written where a mail reader looks, and no partial file left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: maildir.appending(path: "new").path).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: maildir.appending(path: "tmp").path).isEmpty)

        try FileManager.default.removeItem(atPath: filler)
        #expect(
            try await eventually(timeout: .seconds(20)) { try db.deliveries("delivered") == 3 },
            "log:\n\(serve.logText)")
        let mails = try JSONDecoder().decode(
            [ParsedMail].self, from: runPython(["check_mail.py", maildir.appending(path: "new").path]))
        #expect(mails.count == 3)
        #expect(
            mails.allSatisfy {
                $0.defects.isEmpty
                    && $0.body.contains(String(repeating: "Details. ", count: 400).trimmingCharacters(in: .whitespaces))
            })
        #expect(await serve.health() == 200)
        #expect(serve.stop() == 0, "log:\n\(serve.logText)")
    }

    @Test func outcomesWaitOutALockedDatabaseAndNoneIsLost() async throws {
        let db = try TestDatabase(clock: SystemClock())
        let receiver = try WebhookReceiver(in: db.directory)
        defer { receiver.server.stop() }
        // Sends that take a second each, so the lock below lands while they are in flight.
        try publish(to: receiver, paths: (0..<12).map { "/slow/\($0)" }, db: db)
        var settings = fastRetries
        settings.busyTimeout = .milliseconds(500)  // shorter than the lock: recording outcomes fails while it is held
        let engine = CurlEngine()
        defer { engine.shutdown() }
        var lockHeld = false
        let settled = try await runService(
            db, mail: MaildirTransport(directory: db.directory.appending(path: "mail")),
            webhooks: WebhookTransport(engine: engine, allowPrivateTargets: true), settings: settings,
            timeout: .seconds(30)
        ) {
            let leased =
                try db.database.first(
                    "SELECT count(*) FROM deliveries WHERE lease_until IS NOT NULL", map: { $0.int(0) }) ?? 0
            if !lockHeld, leased > 0 {
                lockHeld = true
                // Another writer (a sqlite3 process) holds the write lock for 3 s: 6× the busy timeout.
                let holder = try takeWriteLock(db.path)
                Thread.sleep(forTimeInterval: 3)
                #expect(try db.deliveries("delivered") == 0)  // nothing could be recorded meanwhile
                holder.release()
            }
            return try db.deliveries("delivered") == 12
        }
        #expect(settled)
        #expect(lockHeld)
        // Every channel got it at least once; a duplicate could only come from a lease that ran out.
        let counts = Dictionary(grouping: try receiver.requests(), by: \.path).mapValues(\.count)
        #expect(counts.count == 12)
        let duplicates = counts.values.reduce(0, +) - 12
        #expect(duplicates == 0, "duplicates: \(duplicates)")
    }

    @Test func serveRidesOutALockedDatabaseDuringDelivery() async throws {
        let db = try TestDatabase(clock: SystemClock())
        let receiver = try WebhookReceiver(in: db.directory)
        defer { receiver.server.stop() }
        let serve = try await HeraldServe(database: db.path)
        defer { serve.stop() }
        try publish(to: receiver, paths: (0..<12).map { "/slow/\($0)" }, db: db)
        #expect(
            try await eventually {
                try db.database.first("SELECT count(*) FROM deliveries WHERE lease_until IS NOT NULL") { $0.int(0) }
                    ?? 0 > 0
            })
        // Longer than SQLite's default 5 s busy timeout, while sends finish and want recording.
        let holder = try takeWriteLock(db.path)
        let lockedAt = Date()
        var healthDuringLock: [Int?] = []
        while Date().timeIntervalSince(lockedAt) < 6 {
            healthDuringLock.append(await serve.health())
            try await Task.sleep(for: .milliseconds(500))
        }
        #expect(try db.deliveries("delivered") == 0)
        holder.release()
        #expect(
            try await eventually(timeout: .seconds(20)) { try db.deliveries("delivered") == 12 },
            "log:\n\(serve.logText)")
        let counts = Dictionary(grouping: try receiver.requests(), by: \.path).mapValues(\.count)
        #expect(counts.count == 12)
        #expect(counts.values.reduce(0, +) - 12 == 0, "duplicates: \(counts)")
        print("serveRidesOutALockedDatabaseDuringDelivery: /healthz while locked: \(healthDuringLock)")
        #expect(serve.isRunning)
        #expect(await serve.health() == 200)
        #expect(serve.stop() == 0, "log:\n\(serve.logText)")
    }

    /// The record says when a message was delivered, not when the worker got round to writing
    /// the batch it is in: here the worker waits for the database while the send ends.
    @Test func aDeliveryIsRecordedAtTheMomentItsSendEnded() async throws {
        let db = try TestDatabase(clock: SystemClock())
        try db.addProject()
        try db.addProviders(1)
        _ = try db.advisories.create(
            project: "demo", content: AdvisoryContent(title: "Overflow"),
            schedule: Schedule(embargo: db.clock.now + 86_400, earlyNotice: db.clock.now + 0.1), actor: db.actor)
        let transport = TimedTransport(delay: 0.2)
        var holder: WriteLockHolder?
        var heldSince = Date.distantFuture
        let delivered = try await runService(db, mail: transport, webhooks: transport) {
            // Once the send has started, the worker's next claim waits for this lock.
            if transport.startedAt != nil && holder == nil {
                holder = try takeWriteLock(db.path)
                heldSince = Date()
            }
            if Date().timeIntervalSince(heldSince) > 1 { holder?.release() }
            return try db.deliveries("delivered") == 1
        }
        holder?.release()
        #expect(delivered)
        let ended = try #require(transport.endedAt)
        let recorded = try #require(
            try db.database.first("SELECT delivered_at FROM deliveries") { $0.optionalDate(0) } ?? nil)
        #expect(abs(recorded.timeIntervalSince(ended)) < 0.3, "recorded \(recorded), ended \(ended)")
    }

    /// A sqlite3 process in BEGIN IMMEDIATE; retried while Herald itself is mid-write.
    func takeWriteLock(_ path: String) throws -> WriteLockHolder {
        var lastError: Error?
        for _ in 0..<100 {
            do { return try WriteLockHolder(database: path) } catch {
                lastError = error
                Thread.sleep(forTimeInterval: 0.02)
            }
        }
        throw lastError!
    }
}

/// Delivers every message `delay` after it starts, and says when the first started and ended.
final class TimedTransport: Transport, @unchecked Sendable {
    private let lock = NSLock()
    private var started: Date?
    private var ended: Date?
    let delay: TimeInterval

    init(delay: TimeInterval) { self.delay = delay }

    var startedAt: Date? { lock.withLock { started } }
    var endedAt: Date? { lock.withLock { ended } }
    var destination: String { "timed" }

    func send(_ delivery: ClaimedDelivery) async -> SendResult { .delivered }

    func start(_ delivery: ClaimedDelivery, completion: @escaping @Sendable (SendResult) -> Void) {
        lock.withLock { started = started ?? Date() }
        DispatchQueue.global().asyncAfter(deadline: .now() + delay) { [self] in
            lock.withLock { ended = ended ?? Date() }
            completion(.delivered)
        }
    }
}
