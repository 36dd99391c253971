import CSQLite
import Foundation

/// Copies the WAL back into the database on a thread and connection of its own, for a
/// connection whose commits must not wait for it (`Database.handCheckpoints(to:)`): the
/// delivery worker's. SQLite's automatic checkpoint runs inside the commit that finds the WAL
/// past 1,000 pages, and the worker, which commits every few milliseconds, made most of them:
/// 2 % of `serve`'s CPU in a 10,000-webhook fan-out, in stalls of milliseconds while its sends
/// waited to be started.
public final class Checkpointer: @unchecked Sendable {
    /// What a commit that leaves the WAL at some length asks for.
    enum Step: Equatable {
        case nothing
        /// The checkpointer's turn: past SQLite's own threshold.
        case ring
        /// The committing connection checkpoints itself, as SQLite would: the checkpointer has
        /// fallen far behind, and the WAL must not grow without bound.
        case checkpointHere
    }

    static func step(afterCommitWithFrames frames: Int32) -> Step {
        frames >= 16_000 ? .checkpointHere : frames >= 1000 ? .ring : .nothing
    }

    private let path: String
    // All guarded by `condition`.
    private let condition = NSCondition()
    private var wanted = false
    private var stopping = false
    private var thread: Thread?
    private var finished: DispatchSemaphore?
    /// Checkpoints asked for and made, for tests.
    private(set) var rings = 0
    private(set) var checkpoints = 0

    /// A checkpointer of the database at `path`; its thread starts at the first ring.
    public init(path: String) {
        self.path = path
    }

    /// Asks for a checkpoint soon; rings while one runs make one more after it.
    func ring() {
        condition.withLock {
            rings += 1
            guard !stopping else { return }
            wanted = true
            if thread == nil {
                let finished = DispatchSemaphore(value: 0)
                self.finished = finished
                let thread = Thread { [self] in
                    run()
                    finished.signal()
                }
                thread.name = "herald-checkpoint"
                self.thread = thread
                thread.start()
            }
            condition.signal()
        }
    }

    /// Stops the thread after the checkpoint under way, if any; waits for it.
    public func stop() {
        let finished = condition.withLock { () -> DispatchSemaphore? in
            stopping = true
            condition.signal()
            defer { self.finished = nil }
            return self.finished
        }
        finished?.wait()
    }

    private func run() {
        // Without a connection (the file went away), the committing connections checkpoint
        // themselves once the WAL is long.
        guard let database = try? Database(path: path, busyTimeout: .zero) else { return }
        try? database.execute("PRAGMA wal_autocheckpoint = 0")
        while true {
            let stop = condition.withLock { () -> Bool in
                while !wanted && !stopping { condition.wait() }
                wanted = false
                return stopping
            }
            if stop { return }
            // PASSIVE: copies what no reader still needs, never waits, never blocks a writer.
            try? database.execute("PRAGMA wal_checkpoint(PASSIVE)")
            condition.withLock { checkpoints += 1 }
        }
    }
}
