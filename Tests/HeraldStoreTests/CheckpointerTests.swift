import Foundation
import HeraldTestSupport
import Testing

@testable import HeraldStore

/// A connection that hands its checkpoints over rings the checkpointer instead of copying the
/// WAL back in its commit; the checkpointer copies it on its own thread.
@Suite struct CheckpointerTests {
    @Test func aCommitRingsPastSQLitesThresholdAndCheckpointsItselfOnlyFarBehind() {
        #expect(Checkpointer.step(afterCommitWithFrames: 0) == .nothing)
        #expect(Checkpointer.step(afterCommitWithFrames: 999) == .nothing)
        #expect(Checkpointer.step(afterCommitWithFrames: 1000) == .ring)
        #expect(Checkpointer.step(afterCommitWithFrames: 15_999) == .ring)
        #expect(Checkpointer.step(afterCommitWithFrames: 16_000) == .checkpointHere)
    }

    @Test func theCheckpointerCopiesTheWALBackOnItsOwnThread() async throws {
        let db = try TestDatabase()
        let database = db.database
        let checkpointer = Checkpointer(path: db.path)
        defer { checkpointer.stop() }
        database.handCheckpoints(to: checkpointer)
        try database.execute("CREATE TABLE filler (bytes BLOB)")
        let before = try fileSize(db.path)
        // 1,500 rows of 4,000 bytes: about as many pages, each a WAL frame, in one commit.
        try database.write {
            for _ in 0..<1500 {
                try database.run("INSERT INTO filler (bytes) VALUES (?)", .blob([UInt8](repeating: 7, count: 4000)))
            }
        }
        // Rung by the commit (SQLite's own checkpoint never rings it) …
        #expect(checkpointer.rings == 1)
        // … and the pages reach the database file by the checkpointer's hand.
        #expect(await eventually { checkpointer.checkpoints >= 1 })
        #expect(try fileSize(db.path) >= before + 1500 * 4000)
        // Stopped, it makes no more; a ring after the stop starts nothing.
        checkpointer.stop()
        let made = checkpointer.checkpoints
        checkpointer.ring()
        try await Task.sleep(for: .milliseconds(50))
        #expect(checkpointer.checkpoints == made)
    }

    func fileSize(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    }
}
