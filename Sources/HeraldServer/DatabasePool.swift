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

    /// Opens `size` connections to `path`.
    public init(path: String, size: Int = 4) throws {
        self.path = path
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
            lane.queue.async {
                continuation.resume(with: Result { try body(lane.database) })
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
