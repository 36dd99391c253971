import Foundation
import HeraldApp
import HeraldCore
import HeraldStore
import Logging

/// Fires advisories' notices at their instants: sleeps until the next one is due (at most
/// `poll`, so changes made by the CLI in another process are seen within it), then runs each
/// due notice as one transaction and rings the workers.
///
/// It runs on a thread of its own, not on the Swift concurrency pool that serves HTTP: however
/// busy request handling is, the instant is kept. An error in one pass or one notice is
/// logged and tried again at the next pass; it never stops the scheduler or `serve`.
public struct Scheduler: Sendable {
    let databasePath: String
    let clock: any Clock
    let outbox: OutboxSettings
    let doorbell: Doorbell
    let logger: Logger
    let poll: Duration
    let bell: SchedulerBell
    /// Called after every pass with what fired: health checks and caches listen here.
    public var onLoop: @Sendable ([Advisories.Fired]) -> Void = { _ in }
    /// Where a publication's chat and webhook channels are sent: once it is decided, inside its
    /// transaction and before its rows are written, connections to its first endpoints are made
    /// (never earlier: a publication is decided only at or after its instant).
    public var webhooks: (any Transport)?
    /// Where the rows of a publication's chat and webhook channels go, leased as they are
    /// written, when the worker of this process has room for them: it sends them without
    /// claiming them (`DeliveryHandoff`).
    public var handoff: DeliveryHandoff?
    /// The endpoints connected to ahead: the worker's first cut of a fan-out.
    static let endpointsConnectedAhead = 64

    /// Creates a scheduler that opens its own connection to `databasePath` and rings `doorbell`
    /// after a fan-out; `bell` wakes it before its next look (a request that changed rows).
    public init(
        databasePath: String, clock: any Clock = SystemClock(), outbox: OutboxSettings, doorbell: Doorbell,
        logger: Logger, poll: Duration = .seconds(1), bell: SchedulerBell = SchedulerBell()
    ) {
        self.databasePath = databasePath
        self.clock = clock
        self.outbox = outbox
        self.doorbell = doorbell
        self.logger = logger
        self.poll = poll
        self.bell = bell
    }

    /// The least the scheduler leaves the write lock free between two shares of a fan-out:
    /// longer than one turn of a waiting connection's busy handler (`Database`).
    static let pauseBetweenShares = Duration.milliseconds(2)
    /// How long the shares wait after a notice fired: the worker claims what fired within its
    /// 10 ms look for new work, and a publication's first sends are not behind a share.
    static let pauseAfterFiring = Duration.milliseconds(15)
    /// …but a publication's channels beyond its first share are written sooner: about when the
    /// worker has claimed the first share (it starts within a millisecond of the ring), before
    /// those 64 sends run out (some 2 ms at this machine's 30,000 a second).
    static let pauseBeforeChannels = Duration.milliseconds(1)

    /// The least time between two passes a ring asks for: a flood of requests that change rows
    /// costs at most this many passes a second.
    static let ringedPassInterval = Duration.milliseconds(20)

    /// How soon a ring may end a sleep of `sleep`: not before the least interval between two
    /// passes, nor before a pause between two shares has left the lock free as long as the
    /// share took, nor at all after a failed pass (a ring must not make a failure repeat, and
    /// be logged, fifty times a second).
    static func ringsAfter(sleep: Duration, sharePause: Duration?, passFailed: Bool) -> Duration {
        if passFailed { return sleep }
        return max(ringedPassInterval, sharePause ?? .zero)
    }

    /// Runs until cancelled.
    public func run() async throws {
        let wake = bell
        wake.restart()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                Thread.start(named: "herald-schedule", qualityOfService: .userInteractive) {
                    continuation.resume(with: Result(catching: { try loop(wake) }))
                }
            }
        } onCancel: {
            wake.stop()
        }
    }

    private func loop(_ wake: SchedulerBell) throws {
        let database = try Database(path: databasePath, busyTimeout: .seconds(30))
        // The connection that commits copies the WAL back into the database when it has grown:
        // after a 100,000-recipient fan-out that is tens of megabytes, and the next instant
        // would wait for it. The delivery worker's connection, which commits every few
        // milliseconds, asks for them (and its checkpointer makes them beside it).
        try database.execute("PRAGMA wal_autocheckpoint = 0")
        let advisories = Stores(database: database, clock: clock, settings: outbox, handoff: handoff).advisories
        // A notice that failed waits before it is tried again (0.5 s, doubling, at most a
        // minute), so a fault that persists costs a line a minute, not a spinning core.
        var backoff: [Int64: (failures: Int, until: Date)] = [:]
        let alerts = AlertStore(database: database, clock: clock, settings: outbox)
        let outboxStore = OutboxStore(database: database, clock: clock, settings: outbox, handoff: handoff)
        var alertsCheckedAt = Date.distantPast
        var rehearsed = false
        while !wake.stopped {
            var sleep = poll
            var sharePause: Duration?
            var passFailed = false
            do {
                let fired = try advisories.fireDue(
                    skip: { id in backoff[id].map { $0.until > clock.now } ?? false },
                    failed: { failure in
                        let failures = (backoff[failure.advisoryID]?.failures ?? 0) + 1
                        let delay = min(60, 0.5 * pow(2, Double(failures - 1)))
                        backoff[failure.advisoryID] = (failures, clock.now + delay)
                        logger.error(
                            "notice not fired; the scheduler tries again",
                            metadata: [
                                "advisory": "\(failure.advisoryID)", "notice": "\(failure.kind.rawValue)",
                                "error": "\(failure.error)",
                                "attempt": "\(failures)", "retry_in_s": "\(delay)",
                            ])
                    },
                    publishing: { id in
                        // Decided, inside its transaction: made while its rows are written, on
                        // the core that leaves free, so its first sends find them ready. A
                        // failed look only means the sends connect themselves.
                        guard let webhooks,
                            let endpoints = try? outboxStore.firstPublicEndpoints(
                                advisory: id, limit: Self.endpointsConnectedAhead), !endpoints.isEmpty
                        else { return }
                        webhooks.connectAhead(to: endpoints)
                    })
                for notice in fired { backoff[notice.advisoryID] = nil }
                // Private notices not getting through: looked at twice a minute, not every pass.
                if clock.now.timeIntervalSince(alertsCheckedAt) >= 30 {
                    alertsCheckedAt = clock.now
                    let raised = try alerts.raiseDue()
                    for alert in raised {
                        logger.error(
                            "alert: private notices failing",
                            metadata: [
                                "advisory": "\(alert.advisoryID)", "alert": "\(alert.kind)",
                                "detail": "\(alert.detail)",
                            ])
                    }
                    if !raised.isEmpty { doorbell.ring() }
                    // Keys about to expire: their holders and the release managers are told once.
                    // Its own failure must not hold up the notices that fired.
                    do {
                        if try outboxStore.warnOfExpiringKeys() > 0 { doorbell.ring() }
                    } catch {
                        logger.error("key expiry warnings failed; tried again", metadata: ["error": "\(error)"])
                    }
                }
                DeliveryMetrics.failingNotices(backoff.count)
                if !fired.isEmpty { doorbell.ring() }
                onLoop(fired)
                for notice in fired {
                    DeliveryMetrics.noticeLag(kind: notice.kind.rawValue, seconds: notice.lag)
                    logger.info(
                        "notice fired",
                        metadata: [
                            "advisory": "\(notice.advisoryID)", "notice": "\(notice.kind.rawValue)",
                            "lag_ms": "\(Int(notice.lag * 1000))",
                        ])
                }
                // A provider notice too large for one transaction is written a share at a time
                // between instants: a publication due meanwhile waits for one share, not all.
                // A pass that fired something writes no share, so the worker takes what fired
                // first. A failure is logged and tried again; it must not hold up what fired.
                var moreShares = false
                var pause = Self.pauseAfterFiring
                if fired.isEmpty {
                    do {
                        let started = ContinuousClock.now
                        let written = try outboxStore.writeShare()
                        pause = max(Self.pauseBetweenShares, ContinuousClock.now - started)
                        // Rows handed to the worker wake it themselves; a ring makes it claim.
                        if written?.toClaim == true { doorbell.ring() }
                        moreShares = written?.more == true
                    } catch {
                        logger.error("a share of a fan-out not written; tried again", metadata: ["error": "\(error)"])
                    }
                } else {
                    moreShares = try outboxStore.isWritingFanOut()
                    // A publication's endpoints beyond its first share wait for their rows while
                    // the first are sent: those are written next, without the pause.
                    if moreShares, try outboxStore.isWritingChannels() { pause = Self.pauseBeforeChannels }
                }
                if let next = try advisories.nextDue() {
                    var wait = next.timeIntervalSince(clock.now)
                    // Something due that did not fire waits for its backoff (or a moment), never a busy loop.
                    if wait <= 0 {
                        wait = max(0.01, backoff.values.map { $0.until.timeIntervalSince(clock.now) }.min() ?? 0.01)
                    }
                    // Wake at the instant, not before: fireDue refuses early publication anyway.
                    sleep = min(sleep, .microseconds(max(0, Int((wait * 1_000_000).rounded(.up)))))
                }
                // Between two shares the write lock and a core are left free as long as the share
                // took: the rows need only stay ahead of the sends, and the worker, the feed and a
                // publication due meanwhile get their turn. Longer after something fired.
                if moreShares {
                    sleep = min(sleep, pause)
                    sharePause = pause
                }
            } catch let error as SQLiteError where error.kind == .busy {
                logger.warning("database busy; the scheduler tries again", metadata: ["error": "\(error)"])
                passFailed = true
            } catch {
                logger.error("scheduler pass failed; it tries again", metadata: ["error": "\(error)"])
                passFailed = true
            }
            // Once, after the first pass (what was due at start has fired), when nothing is near.
            if !rehearsed {
                rehearsed = PublicationRehearsal.warmUpIfQuiet(
                    on: database, clock: clock, settings: outbox, claiming: false, logger: logger)
            }
            if sleep > .zero {
                wake.wait(
                    for: sleep,
                    ringsAfter: Self.ringsAfter(sleep: sleep, sharePause: sharePause, passFailed: passFailed))
            }
        }
    }
}

/// Wakes the scheduler before its next look: the connection pool rings it after a request
/// that changed rows, so an early notice sent "now" (the scheduler sends it) and the rest of a
/// notice a request started go at once, not at the scheduler's next poll (a second).
public final class SchedulerBell: @unchecked Sendable {
    // Guarded by `condition`.
    private let condition = NSCondition()
    private var isStopped = false
    private var rung = false

    /// A bell not yet rung.
    public init() {}

    var stopped: Bool { condition.withLock { isStopped } }

    /// Wakes the scheduler's wait, or the next one (once, however often it rang).
    public func ring() {
        condition.withLock {
            rung = true
            condition.broadcast()
        }
    }

    func stop() {
        condition.withLock {
            isStopped = true
            condition.broadcast()
        }
    }

    /// Ready for a new run of the scheduler after a stop.
    func restart() {
        condition.withLock { isStopped = false }
    }

    /// Waits `duration`, or less when stopped or rung; a ring ends the wait no sooner than
    /// `ringsAfter` after it began. No timer slack: publication is meant to happen at the instant.
    func wait(for duration: Duration, ringsAfter minimum: Duration) {
        let start = ContinuousClock.now
        let deadline = start + duration
        condition.withLock {
            while !isStopped {
                let now = ContinuousClock.now
                if rung && now >= start + minimum {
                    rung = false
                    return
                }
                let until = rung ? min(deadline, start + minimum) : deadline
                let left = until - now
                guard left > .zero else {
                    if until == deadline { return }
                    continue
                }
                let seconds = Double(left.components.seconds) + Double(left.components.attoseconds) / 1e18
                _ = condition.wait(until: Date(timeIntervalSinceNow: seconds))
            }
        }
    }
}
