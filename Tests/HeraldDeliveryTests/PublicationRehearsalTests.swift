import Foundation
import HeraldCore
import HeraldStore
import HeraldTestSupport
import Logging
import Testing

@testable import HeraldDelivery

/// The publication `serve` rehearses at start to warm its connections: the whole path runs,
/// and nothing of it stays.
@Suite struct PublicationRehearsalTests {
    @Test func aRehearsedPublicationRunsTheWholePathAndLeavesNothing() throws {
        let db = try TestDatabase()
        try db.addProject()
        _ = try db.channels.add(
            NewChannel(projectSlug: "demo", kind: .webhook, target: "https://hooks.example/a", secret: nil),
            actor: db.actor)
        let before = try db.snapshot()
        let report = try PublicationRehearsal.run(
            on: db.database, clock: db.clock, settings: db.settings, claiming: true)
        // Fired, written, and its own webhook claimed: nothing of the real rows.
        #expect(report == .init(fired: 1, claimed: 1))
        #expect(try db.snapshot() == before)
        #expect(try db.count("provider_fan_outs") == 0)
        // The connection is free for real work afterwards.
        #expect(try db.outbox.claim(limit: 10, lease: 60).isEmpty)
    }

    /// At start another process may be writing: the warm-up is skipped after a quarter of a
    /// second, not waited for as long as the connection would (the first instant must not wait).
    @Test func aBusyDatabaseSkipsTheRehearsalAtOnce() throws {
        let db = try TestDatabase()
        let other = try Database(path: db.path, busyTimeout: .seconds(30))
        let waiting = try Database(path: db.path, busyTimeout: .seconds(30))
        try other.execute("BEGIN IMMEDIATE")
        defer { try? other.execute("ROLLBACK") }
        let started = ContinuousClock.now
        #expect(throws: SQLiteError.self) {
            try PublicationRehearsal.run(on: waiting, clock: db.clock, settings: db.settings, claiming: false)
        }
        #expect(ContinuousClock.now - started < .seconds(1))
        // The connection's own timeout is back: a later write waits for the lock as before.
        try other.execute("ROLLBACK")
        try waiting.write { try waiting.execute("CREATE TABLE after_rehearsal (x)") }
    }

    /// The scheduler and the worker rehearse at the same moment: the one that finds the lock
    /// taken waits for the other's short rehearsal instead of skipping its own.
    @Test func aRehearsalWaitsForAShortWriter() throws {
        let db = try TestDatabase()
        let (locked, released) = (DispatchSemaphore(value: 0), DispatchSemaphore(value: 0))
        let path = db.path
        Thread {
            // Its own connection, on its own thread: it holds the write lock for 50 ms.
            let other = try? Database(path: path, busyTimeout: .seconds(30))
            try? other?.execute("BEGIN IMMEDIATE")
            locked.signal()
            Thread.sleep(forTimeInterval: 0.05)
            try? other?.execute("ROLLBACK")
            released.signal()
        }.start()
        locked.wait()
        let report = try PublicationRehearsal.run(
            on: db.database, clock: db.clock, settings: db.settings, claiming: false)
        released.wait()
        #expect(report.fired == 1)
    }

    /// Never next to an instant: with a publication due within a second the warm-up waits (it
    /// would hold the lock the publication needs); with the next a minute away it runs.
    @Test func theWarmUpWaitsWhileAnInstantIsNear() throws {
        let db = try TestDatabase()
        try db.addProject()
        let logger = Logger(label: "test")
        let advisory = try db.advisories.create(
            project: "demo", content: AdvisoryContent(title: "Overflow"),
            schedule: Schedule(embargo: db.clock.now + 60), actor: db.actor)
        db.manualClock.advance(by: 59.5)
        #expect(
            !PublicationRehearsal.warmUpIfQuiet(
                on: db.database, clock: db.clock, settings: db.settings, claiming: false, logger: logger))
        _ = try db.advisories.publishNow(advisory.id, notes: try ChangeNotes(reason: "leak"), actor: db.actor)
        let before = try db.snapshot()
        #expect(
            PublicationRehearsal.warmUpIfQuiet(
                on: db.database, clock: db.clock, settings: db.settings, claiming: true, logger: logger))
        #expect(try db.snapshot() == before)
    }
}
