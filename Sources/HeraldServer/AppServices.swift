import Foundation
import HeraldCore
import HeraldStore

/// What every route works through, built once by `buildApplication`: the connection pool, the
/// process's clock and its settings. A handler asks for the stores of one request with `run`.
public struct AppServices: Sendable {
    let pool: DatabasePool
    /// The clock: the system's in `serve`, a manual one in tests.
    public let clock: any Clock
    /// What messages and pages render with.
    public let settings: OutboxSettings

    init(pool: DatabasePool, clock: any Clock, settings: OutboxSettings) {
        self.pool = pool
        self.clock = clock
        self.settings = settings
    }

    /// The instant of a request, read once: everything it writes carries the same one.
    var now: Date { clock.now }

    /// Runs `body` with the stores over a pooled connection, their clock fixed at `instant`
    /// (default: now), so one request's writes share one instant.
    func run<T: Sendable>(at instant: Date? = nil, _ body: @escaping @Sendable (Stores) throws -> T) async throws -> T {
        let clock = FixedClock(instant ?? self.clock.now)
        let settings = self.settings
        return try await pool.run { db in try body(Stores(database: db, clock: clock, settings: settings)) }
    }
}
