import Foundation
import HeraldCore
import HeraldStore
import Logging

/// Tunables of the delivery workers.
public struct WorkerSettings: Sendable {
    /// Transfers handed to the engine at once: more than five hosts' full shares, so hosts
    /// that hang (each send up to `sendTimeout`) leave the others room.
    public var maxInFlight = 1024
    /// Transfers handed to the engine for one host (one SMTP relay, one webhook host); the
    /// engine runs 8 of them at a time and starts the next as one ends. A slow host fills its
    /// own share, never the others'. Enough for the engine to go on sending while the worker
    /// records and claims (1–3 ms, more when its thread is preempted): at 64, some 2 ms of
    /// sends to one host, the engine ran dry during the transaction.
    public var maxPerHost = 192
    /// The first claim from idle: its sends start while the next, bigger cut is claimed.
    public var firstCut = 64
    /// Rows claimed and not yet recorded, in flight or waiting for their host: it bounds one
    /// claim's transaction, which a publication due meanwhile waits for.
    public var maxHeld = 1024
    /// How long a claim lasts, at least. Only one `serve` runs per database and it gives every
    /// lease back at start, so a lease only has to outlast the wait of a claimed row behind
    /// its host's slow sends, never a crash: the worker stretches it to the host's whole
    /// backlog times `sendTimeout` when that is longer.
    public var lease: TimeInterval = 3600
    /// The longest one send may take (the engine's total timeout).
    public var sendTimeout: TimeInterval = 30
    /// Outcomes are written in batches of at most this many, one transaction each.
    public var batchSize = 256
    /// …or at least this often.
    public var flushInterval: Duration = .milliseconds(20)
    /// The longest idle sleep: changes made by another process are seen within it.
    public var idlePoll: Duration = .seconds(1)
    /// When a failed send is tried again, and after how many attempts it is dead.
    public var retryPolicy = RetryPolicy.standard
    /// How long one database call waits for another writer before it counts as busy.
    public var busyTimeout: Duration = .seconds(30)

    /// The defaults; set the fields that need changing.
    public init() {}
}

/// Claims due deliveries, sends them through the transports, and records what happened.
/// Owns its database connection: nothing here is shared across threads but the transports.
public struct OutboxWorker: Sendable {
    let databasePath: String
    let clock: any Clock
    let mail: any Transport
    let webhooks: any Transport
    let settings: WorkerSettings
    let doorbell: Doorbell
    let logger: Logger
    let handoff: DeliveryHandoff?

    /// Creates a worker that opens its own connection to `databasePath`; the scheduler wakes it
    /// through `doorbell`, and hands it the rows it leased as it wrote them through `handoff`.
    public init(
        databasePath: String, clock: any Clock = SystemClock(), mail: any Transport, webhooks: any Transport,
        settings: WorkerSettings = WorkerSettings(), doorbell: Doorbell, logger: Logger,
        handoff: DeliveryHandoff? = nil
    ) {
        self.handoff = handoff
        self.databasePath = databasePath
        self.clock = clock
        self.mail = mail
        self.webhooks = webhooks
        self.settings = settings
        self.doorbell = doorbell
        self.logger = logger
    }

    private enum Event: Sendable {
        /// A send that ended, where it went, and when: the outcome is recorded later, in a batch.
        case finished(ClaimedDelivery, SendResult, String, at: Date)
        /// The look for new work every 10 ms, or the doorbell: rows may be due to be claimed.
        case tick
        /// Rows handed (`DeliveryHandoff`): taken at once, without a claim.
        case handed

        var isFinished: Bool {
            if case .finished = self { true } else { false }
        }
    }

    /// Ended sends, handed from the transports' threads (libcurl's engine calls back on its
    /// own) to the worker loop, which takes them all at once: no task per message.
    private final class Events: @unchecked Sendable {
        private let lock = NSLock()
        private var items: [Event] = []
        private var waiter: CheckedContinuation<Void, Never>?
        /// How many ended sends wake the waiting loop; a tick always does.
        private var wakeAt = 1

        func push(_ event: Event) {
            let waiting = lock.withLock { () -> CheckedContinuation<Void, Never>? in
                items.append(event)
                if event.isFinished, items.count < wakeAt { return nil }
                defer { waiter = nil }
                return waiter
            }
            waiting?.resume()
        }

        /// Everything pushed since the last call; waits until `batch` sends have ended or
        /// something else comes. Waking a thread costs more than recording a message, and the
        /// engine has a line of sends of its own meanwhile, so a busy loop wakes per batch, not
        /// per send.
        func next(batch: Int = 1) async -> [Event] {
            while true {
                let ready = lock.withLock { () -> [Event] in
                    guard items.count >= batch || items.contains(where: { !$0.isFinished }) else {
                        return []
                    }
                    defer { items.removeAll(keepingCapacity: true) }
                    return items
                }
                if !ready.isEmpty { return ready }
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let now = lock.withLock { () -> Bool in
                        guard items.count < batch && items.allSatisfy(\.isFinished) else { return true }
                        wakeAt = batch
                        waiter = continuation
                        return false
                    }
                    if now { continuation.resume() }
                }
            }
        }
    }

    /// Runs until cancelled; then stops claiming, lets transfers in flight finish, records
    /// them, and returns.
    public func run() async throws {
        let database = try Database(path: databasePath, busyTimeout: settings.busyTimeout)
        // This connection commits every few milliseconds while sending, so it would make most
        // of the WAL's checkpoints (the scheduler's makes none): they are made beside it.
        let checkpointer = Checkpointer(path: databasePath)
        database.handCheckpoints(to: checkpointer)
        defer { checkpointer.stop() }
        let outbox = OutboxStore(database: database, clock: clock, settings: OutboxSettings())
        let events = Events()
        var perHost: [String: Int] = [:]
        var inFlight = 0
        // Claimed rows waiting for a free slot on their host. Claiming many at once keeps the
        // database out of the per-message path; a host holds at most `backlogPerHost` rows, so
        // a claimed row waits a bounded time, well inside its lease.
        var queued: [String: [ClaimedDelivery]] = [:]
        var queuedCount = 0
        let backlogPerHost = settings.maxPerHost * 2
        // Even if every send to a host hung until its timeout, one at a time, no claimed row of
        // it would outlive its lease and be claimed a second time while still waiting here. Rows
        // handed to it are bound by the same backlog.
        let lease = max(settings.lease, Double(backlogPerHost) * settings.sendTimeout)
        handoff?.open(lease: lease, wake: { events.push(.handed) })
        defer { _ = handoff?.close() }
        var outcomes: [DeliveryOutcome] = []
        var lastFlush = ContinuousClock.now
        var lastClaim = ContinuousClock.now - .seconds(1)
        var tickerRunning = false
        var appetite = ClaimAppetite(backlogPerHost: backlogPerHost)
        var droppedWaiting = false
        var rehearsed = false

        // Only the ticker runs in the group; sends report through `events`.
        try await withThrowingDiscardingTaskGroup { group in
            /// Records the outcomes so far and, given a `limit`, claims in the same transaction.
            /// A busy database means "nothing now" and returns nil: nothing recorded nor claimed,
            /// the outcomes wait for the next try, since throwing would stop the worker (and
            /// `serve`) over a passing lock.
            @discardableResult
            func flush(claiming limit: Int = 0, free: [String: Int] = [:]) throws -> [ClaimedDelivery]? {
                guard !outcomes.isEmpty || limit > 0 else { return [] }
                do {
                    let claimed = try outbox.recordAndClaim(
                        outcomes, limit: limit, lease: lease, freeSlots: free, perHost: backlogPerHost)
                    outcomes.removeAll(keepingCapacity: true)
                    lastFlush = .now
                    return claimed
                } catch let error as SQLiteError where error.kind == .busy {
                    logger.warning(
                        "database busy; outcomes kept for the next try",
                        metadata: ["outcomes": "\(outcomes.count)", "error": "\(error)"])
                    lastFlush = .now
                    return nil
                }
            }

            /// How many more rows of each host with rows held the worker may hold (any other: `backlogPerHost`).
            func roomOfHosts() -> [String: Int] {
                var room: [String: Int] = [:]
                for host in Set(perHost.keys).union(queued.keys) {
                    room[host] = backlogPerHost - perHost[host, default: 0] - (queued[host]?.count ?? 0)
                }
                return room
            }

            func startReady() {
                for host in Array(queued.keys) {
                    let free = min(settings.maxInFlight - inFlight, settings.maxPerHost - perHost[host, default: 0])
                    guard free > 0, let waiting = queued[host]?.count else { continue }
                    // A host's ready rows leave its line in one cut, in place: holding a copy of
                    // the line while cutting it would copy the whole line every time.
                    let ready: [ClaimedDelivery]
                    if free >= waiting {
                        ready = queued.removeValue(forKey: host) ?? []
                    } else {
                        ready = Array(queued[host]?[..<free] ?? [])
                        queued[host]?.removeFirst(free)
                    }
                    queuedCount -= ready.count
                    perHost[host, default: 0] += ready.count
                    inFlight += ready.count
                    for delivery in ready {
                        let transport = delivery.transport == .email ? mail : webhooks
                        let destination = transport.destination
                        transport.start(delivery) { [clock] in
                            events.push(.finished(delivery, $0, destination, at: clock.now))
                        }
                    }
                }
            }

            while true {
                let stopping = Task.isCancelled
                if stopping, let handoff {
                    // Rows handed and not taken go back unsent with the queued ones below.
                    for delivery in handoff.close() {
                        queued[delivery.host, default: []].append(delivery)
                        queuedCount += 1
                    }
                }
                if stopping && queuedCount > 0 {
                    // Not started: give the leases back so the next run sends them at once.
                    outcomes += queued.values.joined().map { .released(id: $0.id) }
                    queued.removeAll()
                    queuedCount = 0
                }
                if stopping && !droppedWaiting {
                    // Sends handed over but still waiting for a connection come back unsent too:
                    // a stop waits for the sends under way, not for a slow host's whole line.
                    droppedWaiting = true
                    mail.stopWaiting()
                    webhooks.stopWaiting()
                }
                if !stopping {
                    // Rows the scheduler leased as it wrote them: sent as if claimed.
                    for delivery in handoff?.take() ?? [] {
                        queued[delivery.host, default: []].append(delivery)
                        queuedCount += 1
                    }
                    startReady()
                    let held = inFlight + queuedCount
                    let room = roomOfHosts()
                    // A claim is a write transaction: take rows in big cuts, when some may be
                    // found (`ClaimAppetite`), and look for other hosts' work every 10 ms.
                    if held < settings.maxHeld
                        && (appetite.isHungry(inFlight: inFlight, room: room)
                            || ContinuousClock.now - lastClaim >= .milliseconds(10))
                    {
                        lastClaim = .now
                        // From idle, a small first cut: its sends start while the next cut is
                        // claimed, not after a claim of hundreds of rows.
                        let limit = held == 0 ? settings.firstCut : settings.maxHeld - held
                        let result = try flush(claiming: limit, free: room)
                        if let result { appetite.claimed(result, limit: limit, room: room) }
                        let claimed = result ?? []
                        for delivery in claimed {
                            queued[delivery.host, default: []].append(delivery)
                            queuedCount += 1
                        }
                        startReady()
                        // A full first cut: the next is claimed now, not after the first sends end.
                        if held == 0 && claimed.count == limit { continue }
                    }
                    let handedMeanwhile =
                        handoff?.offer(
                            room: settings.maxHeld - inFlight - queuedCount, perHost: roomOfHosts(),
                            otherHosts: backlogPerHost, sending: inFlight > 0) ?? false
                    // Handed while this pass claimed: taken now, not after the idle sleep.
                    if inFlight == 0 && handedMeanwhile { continue }
                }
                if inFlight == 0 {
                    try flush()
                    if stopping {
                        // Still busy: the rows stay leased; the next start releases and resends them.
                        if !outcomes.isEmpty {
                            logger.error(
                                "stopping with outcomes unrecorded; they are sent again at the next start",
                                metadata: ["outcomes": "\(outcomes.count)"])
                        }
                        break
                    }
                    // Idle (what was due at start is sent), when no notice is near.
                    if !rehearsed {
                        rehearsed = PublicationRehearsal.warmUpIfQuiet(
                            on: database, clock: clock, settings: OutboxSettings(), claiming: true, logger: logger)
                    }
                    // Idle: sleep until the next retry is due, a ring, or the poll interval.
                    var sleep = settings.idlePoll
                    if let next = try? outbox.nextDue() {
                        let wait = next.timeIntervalSince(clock.now)
                        sleep = min(sleep, .milliseconds(max(0, Int(wait * 1000))))
                    }
                    if sleep > .zero { await doorbell.wait(timeout: sleep) }
                    appetite.mayHaveMore()
                    continue
                }
                if !tickerRunning && !stopping {
                    // While sends are in flight, look for new work now and then (and notice a
                    // cancellation: the tick wakes the loop).
                    tickerRunning = true
                    group.addTask {
                        await doorbell.wait(timeout: .milliseconds(10))
                        events.push(.tick)
                    }
                }
                // A quarter of what is in flight, at most 32: the engine keeps sending the rest
                // meanwhile, and the last sends of a fan-out still wake the loop one by one.
                for event in await events.next(batch: max(1, min(32, inFlight / 4))) {
                    switch event {
                    case .tick:
                        tickerRunning = false
                        appetite.mayHaveMore()
                    case .handed:
                        break
                    case let .finished(delivery, result, destination, ended):
                        inFlight -= 1
                        perHost[delivery.host, default: 1] -= 1
                        if perHost[delivery.host] == 0 { perHost[delivery.host] = nil }
                        outcomes.append(outcome(delivery, result, destination: destination, ended: ended))
                    }
                }
                if Self.recordsNow(
                    outcomes: outcomes.count, inFlight: inFlight, queued: queuedCount,
                    nothingLeftToClaim: perHost.keys.allSatisfy(appetite.isExhausted),
                    sinceLastRecord: ContinuousClock.now - lastFlush, settings: settings)
                {
                    try flush()
                }
            }
        }
    }

    /// Whether the outcomes of ended sends are recorded now, between claims: in batches of
    /// `batchSize`, at least every `flushInterval`, and at a fan-out's tail (nothing claimed
    /// waits, no host with sends in flight has rows left to claim) as soon as they outnumber the
    /// sends still in flight: each record then overlaps the sends left, and the one after the
    /// last send is small. (A batch of up to 255 recorded after it ended a 1,000-webhook fan-out
    /// 1-4 ms after its last send.)
    static func recordsNow(
        outcomes: Int, inFlight: Int, queued: Int, nothingLeftToClaim: Bool, sinceLastRecord: Duration,
        settings: WorkerSettings
    ) -> Bool {
        outcomes >= settings.batchSize || sinceLastRecord >= settings.flushInterval
            || (queued == 0 && nothingLeftToClaim && outcomes >= inFlight && outcomes > 0)
    }

    /// What a send that ended at `ended` records: delivered at that moment, not when the batch
    /// it is recorded in is written.
    private func outcome(_ delivery: ClaimedDelivery, _ result: SendResult, destination: String, ended: Date)
        -> DeliveryOutcome
    {
        let now = clock.now
        // Built only when logged: the delivered path runs tens of thousands of times a second.
        // A chat webhook's URL is its credential: logs name it by fingerprint.
        var meta: Logger.Metadata {
            [
                "delivery": "\(delivery.id)",
                "recipient":
                    "\(delivery.transport == .webhook ? Redaction.url(delivery.recipient) : delivery.recipient)",
                "attempt": "\(delivery.attempts)",
            ]
        }
        switch result {
        case .notAttempted:
            return .released(id: delivery.id)
        case .delivered:
            DeliveryMetrics.attempt(transport: delivery.transport, outcome: "delivered")
            logger.debug("delivered", metadata: meta)
            return .delivered(
                id: delivery.id, at: ended, via: delivery.transport == .email ? destination : "webhook:" + delivery.host
            )
        case let .gone(error):
            DeliveryMetrics.attempt(transport: delivery.transport, outcome: "gone")
            logger.warning("endpoint gone; disabled", metadata: meta.merging(["error": "\(error)"]) { $1 })
            return .gone(id: delivery.id, url: delivery.recipient, error: error)
        case let .permanent(error):
            DeliveryMetrics.attempt(transport: delivery.transport, outcome: "dead")
            logger.error("delivery failed for good", metadata: meta.merging(["error": "\(error)"]) { $1 })
            return .dead(id: delivery.id, error: error)
        case let .failed(error, retryAfter):
            if let next = settings.retryPolicy.nextAttempt(
                after: delivery.attempts, now: now, retryAfter: retryAfter, random: Double.random(in: 0..<1))
            {
                DeliveryMetrics.attempt(transport: delivery.transport, outcome: "retry")
                logger.notice(
                    "delivery failed; will retry",
                    metadata: meta.merging(["error": "\(error)", "next": "\(Instant.rfc3339(next))"]) { $1 })
                return .retry(id: delivery.id, at: next, error: error)
            }
            DeliveryMetrics.attempt(transport: delivery.transport, outcome: "dead")
            logger.error("delivery failed after the last attempt", metadata: meta.merging(["error": "\(error)"]) { $1 })
            return .dead(id: delivery.id, error: "after \(delivery.attempts) attempts: \(error)")
        }
    }
}

/// When the worker claims more rows between its looks for new work every 10 ms: a claim is a
/// write transaction, so only when it may find some. With nothing in flight, or when a host
/// has drawn down half its backlog, unless that host's last claim found fewer rows than it had
/// room for: then none are due there until a ring or a tick says there may be. (Claiming on
/// every ended batch found nothing at the start of a publication and kept taking the write
/// lock the scheduler needed to write the rows those sends waited for.)
struct ClaimAppetite {
    let backlogPerHost: Int
    private var exhausted: Set<String> = []

    init(backlogPerHost: Int) {
        self.backlogPerHost = backlogPerHost
    }

    /// `room`: how many more rows of each host the worker may hold.
    func isHungry(inFlight: Int, room: [String: Int]) -> Bool {
        inFlight == 0 || room.contains { host, free in free >= backlogPerHost / 2 && !exhausted.contains(host) }
    }

    /// A claim of at most `limit` rows with `room` per host (a host not named has a whole
    /// backlog's room) returned `claimed`; a busy database returns none and says nothing here.
    mutating func claimed(_ claimed: [ClaimedDelivery], limit: Int, room: [String: Int]) {
        guard claimed.count < limit else { return }  // cut by the limit: every host may have more
        var perHost: [String: Int] = [:]
        for delivery in claimed { perHost[delivery.host, default: 0] += 1 }
        for host in Set(room.keys).union(perHost.keys) {
            let free = room[host] ?? backlogPerHost
            if free > 0 && perHost[host, default: 0] < free { exhausted.insert(host) }
        }
    }

    /// Whether `host`'s last claim found fewer rows than it had room for, since the last ring or tick.
    func isExhausted(_ host: String) -> Bool { exhausted.contains(host) }

    /// A ring or a tick: new rows may be due anywhere.
    mutating func mayHaveMore() {
        exhausted.removeAll()
    }
}
