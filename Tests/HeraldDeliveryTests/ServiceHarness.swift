import Foundation
import HeraldCore
import HeraldDelivery
import HeraldStore
import HeraldTestSupport
import Logging

/// Runs the scheduler and a worker over `db` with real transports until `condition` holds
/// (checked every 20 ms from the test's own connection) or `timeout` passes; then stops them
/// the way SIGTERM does. Returns whether the condition held.
func runService(
    _ db: TestDatabase, mail: any Transport, webhooks: any Transport, settings: WorkerSettings = fastRetries,
    timeout: Duration = .seconds(15), log: LogCounter? = nil, until condition: () throws -> Bool
) async throws -> Bool {
    let doorbell = Doorbell()
    var logger = log.map { counter in Logger(label: "herald-test") { _ in counter } } ?? Logger(label: "herald-test")
    logger.logLevel = .warning
    var scheduler = Scheduler(
        databasePath: db.path, clock: SystemClock(), outbox: db.settings, doorbell: doorbell, logger: logger,
        poll: .milliseconds(200))
    // As `serve` has it: a publication connects to its endpoints as it fires.
    scheduler.webhooks = webhooks
    let handoff = DeliveryHandoff(ring: { doorbell.ring() })
    scheduler.handoff = handoff
    let worker = OutboxWorker(
        databasePath: db.path, clock: SystemClock(), mail: mail, webhooks: webhooks, settings: settings,
        doorbell: doorbell, logger: logger, handoff: handoff)
    return try await withThrowingTaskGroup(of: Void.self) { [scheduler] group in
        group.addTask { try await scheduler.run() }
        group.addTask { try await worker.run() }
        let held = try await eventually(timeout: timeout, condition)
        group.cancelAll()
        try await group.waitForAll()
        return held
    }
}

/// Worker settings with retries a fraction of a second apart, so retry tests take no time.
let fastRetries: WorkerSettings = {
    var settings = WorkerSettings()
    settings.retryPolicy = RetryPolicy(steps: [0.2, 0.2, 0.2], jitter: 0)
    settings.idlePoll = .milliseconds(100)
    return settings
}()

extension TestDatabase {
    /// Deliveries in `state`.
    func deliveries(_ state: String) throws -> Int64 {
        try database.first("SELECT count(*) FROM deliveries WHERE state = ?", .text(state)) { $0.int(0) } ?? 0
    }

    /// Adds `count` active providers of `project`, one address each: `contact<i>@org<i>.example`.
    func addProviders(_ count: Int, project: String = "demo") throws {
        var csv = "organization,email,project\n"
        for i in 0..<count { csv += "Org \(i),contact\(i)@org\(i).example,\(project)\n" }
        _ = try providers.importList(ProviderImport(csv: csv), actor: actor)
    }
}

/// Counts the log lines services write, by message, for tests that check how often
/// something was logged (and prints nothing).
final class LogCounter: LogHandler, @unchecked Sendable {
    private let lock = NSLock()
    private var counts: [String: Int] = [:]
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .warning

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        lock.withLock { counts[event.message.description, default: 0] += 1 }
    }

    /// How many times `message` was logged.
    func count(_ message: String) -> Int { lock.withLock { counts[message] ?? 0 } }
}
