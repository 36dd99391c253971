import Foundation
import HeraldCore
import HeraldStore
import HeraldTestSupport
import Logging
import Testing

@testable import HeraldDelivery

/// The WAL copied back into the database by a connection of its own, so that the worker and
/// the scheduler, which no longer do it in their commits, never wait for it.
@Suite struct CheckpointerTests {
    func fileSize(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? Int) ?? 0
    }

    @Test func aWALWrittenByConnectionsThatDoNotCheckpointIsCopiedBack() async throws {
        let db = try TestDatabase()
        // A writer as the worker is now: its commits leave the WAL as it is.
        let writer = try Database(path: db.path, busyTimeout: .seconds(5))
        try writer.execute("PRAGMA wal_autocheckpoint = 0")
        try writer.execute(
            """
            CREATE TABLE filler (bytes BLOB);
            WITH RECURSIVE i(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM i WHERE x < 4000)
            INSERT INTO filler SELECT randomblob(1000) FROM i;
            """)
        let before = fileSize(db.path)
        #expect(fileSize(db.path + "-wal") > 4_000_000, "the rows are in the WAL")
        let pending = try #require(Checkpointer.framesPending(shm: db.path + "-shm"))
        #expect(pending > 1000, "\(pending) frames read from the wal-index")
        let checkpointer = Checkpointer(
            databasePath: db.path, interval: .milliseconds(20), logger: Logger(label: "herald-test"))
        let running = Task { try await checkpointer.run() }
        defer { running.cancel() }
        let copied = try await eventually(timeout: .seconds(5)) { fileSize(db.path) >= before + 4_000_000 }
        #expect(copied, "database file \(before) → \(fileSize(db.path)) bytes")
        running.cancel()
        try await running.value  // it stops when cancelled
        #expect(Checkpointer.framesPending(shm: db.path + "-shm") == 0)
    }
}
