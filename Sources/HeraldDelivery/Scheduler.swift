import Foundation
import HeraldCore
import HeraldStore
import Logging

/// Fires advisories' notices at their instants: sleeps until the next one is due (at most
/// `poll`, so changes made by the CLI in another process are seen within it), then runs each
/// due notice as one transaction and rings the workers.
public struct Scheduler: Sendable {
    let databasePath: String
    let clock: any Clock
    let outbox: OutboxSettings
    let doorbell: Doorbell
    let logger: Logger
    let poll: Duration
    /// Called after every pass with what fired: health checks and caches listen here.
    public var onLoop: @Sendable ([AdvisoryStore.Fired]) -> Void = { _ in }

    public init(databasePath: String, clock: any Clock = SystemClock(), outbox: OutboxSettings, doorbell: Doorbell,
                logger: Logger, poll: Duration = .seconds(1)) {
        self.databasePath = databasePath
        self.clock = clock
        self.outbox = outbox
        self.doorbell = doorbell
        self.logger = logger
        self.poll = poll
    }

    /// Runs until cancelled.
    public func run() async throws {
        let database = try Database(path: databasePath, busyTimeout: .seconds(30))
        let advisories = AdvisoryStore(database: database, clock: clock, settings: outbox)
        while !Task.isCancelled {
            do {
                let fired = try advisories.fireDue()
                if !fired.isEmpty { doorbell.ring() }
                onLoop(fired)
                for notice in fired {
                    DeliveryMetrics.noticeLag(kind: notice.kind.rawValue, seconds: notice.lag)
                    logger.info("notice fired", metadata: ["advisory": "\(notice.advisoryID)", "notice": "\(notice.kind.rawValue)",
                                                           "lag_ms": "\(Int(notice.lag * 1000))"])
                }
            } catch let error as SQLiteError where error.kind == .busy {
                logger.warning("database busy; the scheduler tries again", metadata: ["error": "\(error)"])
            }
            var sleep = poll
            if let next = try advisories.nextDue() {
                let wait = next.timeIntervalSince(clock.now)
                // Wake at the instant, not before: fireDue refuses early publication anyway.
                sleep = min(sleep, .microseconds(max(0, Int((wait * 1_000_000).rounded(.up)))))
            }
            // No tolerance: left to itself the timer may coalesce the wake by up to a tenth of
            // the sleep, and publication is meant to happen at the instant.
            if sleep > .zero { try? await Task.sleep(for: sleep, tolerance: .zero) }
        }
    }
}
