import Foundation
import HeraldStore

/// A few SQLite connections, each on a serial queue of its own, so handlers run their
/// blocking queries off the Swift concurrency pool and one connection is never used by two
/// threads at once. WAL lets the readers run beside a writer.
public final class DatabasePool: @unchecked Sendable {
    /// The database file the connections are open on.
    public let path: String
    private let lanes: [Lane]
    // Guarded by `lock`.
    private let lock = NSLock()
    private var next = 0

    /// Called after a request's work changed rows: `serve` rings the delivery worker, so what a
    /// request queued (a confirmation, a sign-in link, a notice sent from the console) goes at
    /// once, not at the worker's next look (up to a second later).
    private let onWrite: @Sendable () -> Void

    /// Opens `size` connections to `path`; `onWrite` runs after any work that changed rows.
    public init(path: String, size: Int = 4, onWrite: @escaping @Sendable () -> Void = {}) throws {
        self.path = path
        self.onWrite = onWrite
        lanes = try (0..<max(1, size)).map { index in
            Lane(
                queue: DispatchQueue(label: "herald-db-\(index)"),
                database: try Database(path: path, busyTimeout: .seconds(10)))
        }
    }

    /// Runs `body` with a connection on its queue.
    public func run<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        let lane = lock.withLock { () -> Lane in
            defer { next = (next + 1) % lanes.count }
            return lanes[next]
        }
        return try await withCheckedThrowingContinuation { continuation in
            lane.queue.async { [onWrite] in
                let before = lane.database.totalChanges
                let result = Result { try body(lane.database) }
                // A rolled-back change counts too: a needless ring costs the worker one look.
                if lane.database.totalChanges != before { onWrite() }
                continuation.resume(with: result)
            }
        }
    }
}

/// A connection and the one queue that uses it.
private final class Lane: @unchecked Sendable {
    let queue: DispatchQueue
    let database: Database

    init(queue: DispatchQueue, database: Database) {
        self.queue = queue
        self.database = database
    }
}
