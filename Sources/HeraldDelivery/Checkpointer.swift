import Foundation
import HeraldStore
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// Copies the WAL back into the database file, on a thread of its own, once 1,000 frames
/// wait (checked every `interval`).
///
/// SQLite has the connection that commits do it, inside that commit's call. After a
/// 100,000-recipient fan-out the WAL holds tens of megabytes: the scheduler once waited for it
/// at the next instant (137 ms), and since then the delivery worker did, its sends stopped
/// meanwhile. The scheduler and the worker leave it to this connection; a passive checkpoint
/// waits for no reader and no writer.
public struct Checkpointer: Sendable {
    let databasePath: String
    let interval: Duration
    let logger: Logger
    /// SQLite's own threshold: a checkpoint costs two fsyncs, not worth it for a few pages.
    let minimumFrames = 1000

    /// Checkpoints `databasePath`'s WAL every `interval` from its own connection.
    public init(databasePath: String, interval: Duration = .milliseconds(100), logger: Logger) {
        self.databasePath = databasePath
        self.interval = interval
        self.logger = logger
    }

    /// Runs until cancelled.
    public func run() async throws {
        try await Wake.runOnThread(named: "herald-checkpoint") { wake in
            let database = try Database(path: databasePath, busyTimeout: .seconds(1))
            try database.execute("PRAGMA wal_autocheckpoint = 0")
            while !wake.stopped {
                if (Self.framesPending(shm: databasePath + "-shm") ?? 0) >= minimumFrames {
                    do {
                        try database.execute("PRAGMA wal_checkpoint(PASSIVE)")
                    } catch {
                        // Another process's checkpoint (a CLI command's commit): the next pass goes on.
                        logger.debug("checkpoint skipped", metadata: ["error": "\(error)"])
                    }
                }
                wake.wait(for: interval)
            }
        }
    }

    /// Frames in the WAL not yet copied back, read from the wal-index header in the `-shm`
    /// file without a lock (https://www.sqlite.org/walformat.html: `mxFrame` at byte 16,
    /// `nBackfill` at byte 96, in the machine's byte order). A torn read only moves a checkpoint
    /// by one pass.
    static func framesPending(shm path: String) -> Int? {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var header = [UInt8](repeating: 0, count: 100)
        guard pread(descriptor, &header, header.count, 0) == header.count else { return nil }
        func word(at offset: Int) -> Int {
            Int(header.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: UInt32.self) })
        }
        return max(0, word(at: 16) - word(at: 96))
    }
}
