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
        #expect(Checkpointer.step(afterCommitWithFrames: 3999) == .ring)
        #expect(Checkpointer.step(afterCommitWithFrames: 4000) == .checkpointHere)
    }

    @Test func theCheckpointerCopiesTheWALBackOnItsOwnThread() async throws {
        let (db, checkpointer) = try handingCheckpoints()
        defer { checkpointer.stop() }
        let before = try fileSize(db.path)
        // 1,500 pages, each a WAL frame, in one commit.
        try fill(db.database, commits: 1, pages: 1500)
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

    @Test func theWALStaysShortWhileItsConnectionKeepsCommitting() throws {
        // As the worker does through a fan-out: 300 commits of about 50 pages, 15,000 frames in
        // all. SQLite starts the WAL over only when a writer begins and finds all of it copied
        // back, which a checkpoint beside the writer may always miss by a commit; past 4,000
        // frames the commit copies the rest itself (once the checkpointer's run is over), and
        // the next begin starts it over.
        let (db, checkpointer) = try handingCheckpoints()
        defer { checkpointer.stop() }
        try fill(db.database, commits: 300, pages: 50)
        // The WAL file keeps its longest length: a header, and frames of a page and 24 bytes.
        let longest = (try fileSize(db.path + "-wal") - 32) / (4096 + 24)
        #expect(longest > 1000)
        // 5,200–6,900 in six runs (the commits go on while the checkpointer copies); when the
        // commit left it to the checkpointer up to 16,000 frames, all 15,000 stayed.
        #expect(longest <= 8000, "\(longest) frames")
    }

    /// A database whose connection hands its checkpoints to a checkpointer, with a table to fill.
    func handingCheckpoints() throws -> (TestDatabase, Checkpointer) {
        let db = try TestDatabase()
        let checkpointer = Checkpointer(path: db.path)
        db.database.handCheckpoints(to: checkpointer)
        try db.database.execute("CREATE TABLE filler (bytes BLOB)")
        return (db, checkpointer)
    }

    /// `commits` transactions of `pages` rows of 4,000 bytes: a page each.
    func fill(_ database: Database, commits: Int, pages: Int) throws {
        for _ in 0..<commits {
            try database.write {
                for _ in 0..<pages {
                    try database.run("INSERT INTO filler (bytes) VALUES (?)", .blob([UInt8](repeating: 7, count: 4000)))
                }
            }
        }
    }

    func fileSize(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    }
}
