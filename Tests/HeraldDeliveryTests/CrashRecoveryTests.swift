import Foundation
import HeraldCore
import HeraldStore
import HeraldTestSupport
import Testing

/// `herald serve` as a user runs it: the built binary, killed and restarted.
@Suite(.serialized) struct CrashRecoveryTests {
    func serve(_ db: TestDatabase, _ arguments: [String], log: String) throws -> Process {
        let process = Process()
        process.executableURL = heraldBinary
        process.arguments =
            [
                "serve", "--database", db.path, "--public-url", "https://herald.test", "--mail-from",
                "herald@herald.test",
            ] + arguments
        process.currentDirectoryURL = db.directory
        var environment = ProcessInfo.processInfo.environment
        environment["HERALD_LOG_LEVEL"] = "notice"
        process.environment = environment
        _ = FileManager.default.createFile(atPath: db.directory.appending(path: log).path, contents: nil)
        let output = try FileHandle(forWritingTo: db.directory.appending(path: log))
        process.standardOutput = output
        process.standardError = output
        try process.run()
        return process
    }

    /// Runs `serve`, SIGKILLs it once the scheduler has written a few shares of a fan-out after
    /// the first (`unfinishedAfter`: the last one written, nil when all are) and before the last,
    /// then runs it again until `total` rows are `written` and stops it with SIGTERM. Returns
    /// how many rows were written before the restart.
    func killBetweenSharesAndFinish(
        _ db: TestDatabase, _ arguments: [String], total: Int, written: () throws -> Int64,
        unfinishedAfter: () throws -> Int64?
    ) async throws -> Int64 {
        let first = try serve(db, arguments, log: "serve-1.log")
        let midway = try await eventually(timeout: .seconds(30)) { try (unfinishedAfter() ?? 0) >= 3000 }
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        #expect(midway, "the scheduler wrote no share after the first")
        let beforeRestart = try written()
        #expect(try unfinishedAfter() != nil, "the fan-out finished before the kill; nothing was tested")
        #expect(beforeRestart > 0 && beforeRestart < total)

        let second = try serve(db, arguments, log: "serve-2.log")
        let finished = try await eventually(timeout: .seconds(60)) {
            try unfinishedAfter() == nil && written() >= total
        }
        kill(second.processIdentifier, SIGTERM)
        second.waitUntilExit()
        #expect(finished)
        #expect(second.terminationStatus == 0, "SIGTERM should stop serve cleanly")
        #expect(try written() == total)
        return beforeRestart
    }

    @Test func sigkillMidFanOutLosesNoRecipient() async throws {
        let db = try TestDatabase(clock: SystemClock())
        let sink = try SMTPSink(in: db.directory)
        defer { sink.server.stop() }
        try db.addProject()
        let recipients = 1000
        try db.addProviders(recipients)
        _ = try db.advisories.create(
            project: "demo", content: AdvisoryContent(title: "Overflow"),
            schedule: Schedule(embargo: db.clock.now + 86_400, earlyNotice: db.clock.now + 0.2), actor: db.actor)

        let first = try serve(db, ["--smtp-url", sink.url], log: "serve-1.log")
        let started = await eventually(timeout: .seconds(30)) { sink.count >= 150 }
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        #expect(started, "the first run sent nothing")
        let beforeRestart = sink.count
        #expect(beforeRestart < recipients, "the fan-out finished before the kill; nothing was tested")

        let second = try serve(db, ["--smtp-url", sink.url], log: "serve-2.log")
        let finished = try await eventually(timeout: .seconds(60)) {
            try db.deliveries("delivered") == Int64(recipients)
        }
        kill(second.processIdentifier, SIGTERM)
        second.waitUntilExit()
        #expect(finished)
        #expect(second.terminationStatus == 0, "SIGTERM should stop serve cleanly")

        let mails = try sink.parsed()
        let byRecipient = Dictionary(grouping: mails, by: { $0.envelope_to ?? "" })
        let expected = Set((0..<recipients).map { "contact\($0)@org\($0).example" })
        #expect(
            Set(byRecipient.keys) == expected, "missing: \(expected.subtracting(byRecipient.keys).sorted().prefix(5))")
        let duplicates = mails.count - byRecipient.count
        // Only sends in flight at the kill can repeat (at most the worker's 64), and a repeat
        // carries the same Message-ID so a receiver can drop it.
        #expect(duplicates <= 64)
        for (_, copies) in byRecipient where copies.count > 1 {
            #expect(Set(copies.map { $0.headers["message-id"] ?? "" }).count == 1)
        }
        print(
            "SIGKILL after \(beforeRestart) of \(recipients) sent; after restart every recipient has it; \(duplicates) duplicates"
        )
        #expect(try db.database.first("PRAGMA integrity_check") { $0.text(0) } == "ok")
    }

    @Test func sigkillBetweenSharesOfAFanOutWritesEveryRecipientOnce() async throws {
        let db = try TestDatabase(clock: SystemClock())
        try db.addProject()
        let recipients = 20_000
        try db.addProviders(recipients)
        _ = try db.advisories.create(
            project: "demo", content: AdvisoryContent(title: "Overflow"),
            schedule: Schedule(embargo: db.clock.now + 86_400, earlyNotice: db.clock.now + 0.2), actor: db.actor)
        // Nothing listens there: the sends fail and wait, which is not what this is about.
        let smtp = ["--smtp-url", "smtp://127.0.0.1:\(freePort())"]
        func written() throws -> Int64 {
            try db.database.first("SELECT count(*) FROM deliveries WHERE provider_id IS NOT NULL") { $0.int(0) } ?? 0
        }
        func unfinishedAfter() throws -> Int64? {
            try db.database.first("SELECT after_provider FROM provider_fan_outs") { $0.int(0) }
        }

        let beforeRestart = try await killBetweenSharesAndFinish(
            db, smtp, total: recipients, written: written, unfinishedAfter: unfinishedAfter)
        #expect(
            try db.database.first("SELECT count(DISTINCT provider_id || ' ' || recipient) FROM deliveries") {
                $0.int(0)
            } == Int64(recipients))
        #expect(
            try db.database.first("SELECT recipients FROM notices WHERE kind = 'early-notice'") { $0.int(0) }
                == Int64(recipients))
        print("SIGKILL after \(beforeRestart) of \(recipients) rows written; after restart each written once")
        #expect(try db.database.first("PRAGMA integrity_check") { $0.text(0) } == "ok")
    }

    /// A publication's channels are written a share per transaction after the first, as a
    /// provider notice's providers are: SIGKILL between two shares, and the restarted scheduler
    /// writes the rest, each endpoint once, and the notice counts them all.
    @Test func sigkillBetweenSharesOfAPublicationsChannelsWritesEveryEndpointOnce() async throws {
        let db = try TestDatabase(clock: SystemClock())
        try db.addProject()
        let endpoints = 40_000
        // Nothing listens there: the sends fail and wait, which is not what this is about.
        let port = freePort()
        try db.database.run(
            """
            WITH RECURSIVE i(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM i WHERE x < ?1 - 1)
            INSERT INTO channels (project_id, kind, target, created_at)
            SELECT (SELECT id FROM projects WHERE slug = 'demo'), 'webhook', 'http://127.0.0.1:' || ?2 || '/hook/' || x, 0
            FROM i
            """, .int(endpoints), .int(port))
        let embargo = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 1.5).rounded(.up))
        _ = try db.advisories.create(
            project: "demo", content: AdvisoryContent(title: "Overflow"), schedule: Schedule(embargo: embargo),
            actor: db.actor)
        let arguments = ["--maildir", "mail", "--allow-private-targets"]
        func written() throws -> Int64 {
            try db.database.first("SELECT count(*) FROM deliveries WHERE channel_id IS NOT NULL") { $0.int(0) } ?? 0
        }
        func unfinishedAfter() throws -> Int64? {
            try db.database.first("SELECT after_channel FROM channel_fan_outs") { $0.int(0) }
        }

        let beforeRestart = try await killBetweenSharesAndFinish(
            db, arguments, total: endpoints, written: written, unfinishedAfter: unfinishedAfter)
        #expect(
            try db.database.first("SELECT count(DISTINCT channel_id) FROM deliveries") { $0.int(0) }
                == Int64(endpoints))
        #expect(
            try db.database.first("SELECT recipients FROM notices WHERE kind = 'publication'") { $0.int(0) }
                == Int64(endpoints))
        print("SIGKILL after \(beforeRestart) of \(endpoints) endpoints' rows written; after restart each written once")
        #expect(try db.database.first("PRAGMA integrity_check") { $0.text(0) } == "ok")
    }

    @Test func withoutSMTPMailLandsInTheMaildirAndShowSaysSo() async throws {
        let db = try TestDatabase(clock: SystemClock())
        try db.addProject()
        try db.addProviders(2)
        let process = try serve(db, ["--maildir", "mail"], log: "serve.log")
        // serve is already running: the CLI's change in another process is seen within a second.
        try await Task.sleep(for: .milliseconds(300))
        let advisory = try db.advisories.create(
            project: "demo", content: AdvisoryContent(title: "Overflow"),
            schedule: Schedule(embargo: db.clock.now + 86_400, earlyNotice: db.clock.now + 0.1), actor: db.actor)
        let created = Date()
        let delivered = try await eventually(timeout: .seconds(10)) { try db.deliveries("delivered") == 2 }
        let elapsed = Date().timeIntervalSince(created)
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(delivered)
        #expect(elapsed < 2.5, "took \(elapsed) s to notice the new advisory")
        let files = try FileManager.default.contentsOfDirectory(atPath: db.directory.appending(path: "mail/new").path)
        #expect(files.count == 2)
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: db.directory.appending(path: "mail/tmp").path).isEmpty)

        let show = Process()
        show.executableURL = heraldBinary
        show.arguments = ["advisory", "show", String(advisory.id), "--database", db.path]
        let output = Pipe()
        show.standardOutput = output
        try show.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        show.waitUntilExit()
        #expect(text.contains("contact0@org0.example (Org 0)"))
        #expect(text.contains("delivered"))
        #expect(text.contains("E-mail went to the Maildir"))
    }

    @Test func aSecondServeOnTheSameDatabaseIsRefused() async throws {
        let db = try TestDatabase(clock: SystemClock())
        let first = try serve(db, ["--maildir", "mail"], log: "serve-1.log")
        defer {
            kill(first.processIdentifier, SIGTERM)
            first.waitUntilExit()
        }
        try await Task.sleep(for: .milliseconds(500))
        let second = try serve(db, ["--maildir", "mail"], log: "serve-2.log")
        second.waitUntilExit()
        #expect(second.terminationStatus == 1)
        let log = try String(contentsOf: db.directory.appending(path: "serve-2.log"), encoding: .utf8)
        #expect(log.contains("another herald serve is running"))
    }
}
