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
        /// The committing connection checkpoints itself, as SQLite would. SQLite starts the WAL
        /// over only when a writer begins and finds all of it copied back; a checkpoint beside
        /// a writer that commits every few milliseconds may always end a commit behind, and the
        /// WAL would grow for as long as the writer goes on. Here the checkpointer has copied
        /// most of it, and the commit copies the last few pages.
        case checkpointHere
    }

    static let ringAtFrames: Int32 = 1000
    static let checkpointHereAtFrames: Int32 = 4000

    static func step(afterCommitWithFrames frames: Int32) -> Step {
        frames >= checkpointHereAtFrames ? .checkpointHere : frames >= ringAtFrames ? .ring : .nothing
    }

    private let path: String
    // All guarded by `condition`.
    private let condition = NSCondition()
    private var wanted = false
    private var stopping = false
    private var started = false
    private var ringCount = 0
    private var checkpointCount = 0

    /// A checkpointer of the database at `path`; its thread starts at the first ring.
    public init(path: String) {
        self.path = path
    }

    /// Rings so far, and checkpoints that copied the whole WAL back: for tests.
    var rings: Int { condition.withLock { ringCount } }
    var checkpoints: Int { condition.withLock { checkpointCount } }

    /// Asks for a checkpoint soon; rings while one runs make one more after it.
    func ring() {
        condition.withLock {
            ringCount += 1
            guard !stopping else { return }
            wanted = true
            if !started {
                started = true
                Thread.start(named: "herald-ckpt") { [self] in run() }
            }
            condition.signal()
        }
    }

    /// Ends the thread after the checkpoint under way, if any, without waiting for it: a
    /// checkpoint cut short by the process's exit is one SQLite recovers from.
    public func stop() {
        condition.withLock {
            stopping = true
            condition.signal()
        }
    }

    private func run() {
        // Without a connection the committing connections checkpoint themselves, as SQLite
        // would, once the WAL is past `checkpointHereAtFrames`.
        guard let database = try? Database(path: path) else { return }
        try? database.execute("PRAGMA wal_autocheckpoint = 0")
        while true {
            let stop = condition.withLock { () -> Bool in
                while !wanted && !stopping { condition.wait() }
                wanted = false
                return stopping
            }
            if stop { return }
            // PASSIVE: copies what no reader still needs, never waits, never blocks a writer.
            let whole = try? database.first("PRAGMA wal_checkpoint(PASSIVE)") { row in
                row.int(0) == 0 && row.int(1) == row.int(2)
            }
            if whole == true { condition.withLock { checkpointCount += 1 } }
        }
    }
}
