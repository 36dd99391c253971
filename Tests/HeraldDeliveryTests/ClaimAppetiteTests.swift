import HeraldCore
import HeraldStore
import Testing

@testable import HeraldDelivery

/// When the worker takes another write transaction to claim rows between its 10 ms looks.
@Suite struct ClaimAppetiteTests {
    let backlog = 384

    func rows(_ count: Int, host: String) -> [ClaimedDelivery] {
        (0..<count).map {
            ClaimedDelivery(
                id: Int64($0), transport: .webhook, format: .webhook, recipient: "https://\(host)/\($0)", host: host,
                messageID: "m\($0)", payload: [], secret: nil, attempts: 1)
        }
    }

    @Test func idleOrAHostHalfDrawnDownIsHungry() {
        let appetite = ClaimAppetite(backlogPerHost: backlog)
        #expect(appetite.isHungry(inFlight: 0, room: [:]))
        #expect(appetite.isHungry(inFlight: 10, room: ["a": backlog / 2]))
        #expect(!appetite.isHungry(inFlight: 10, room: ["a": backlog / 2 - 1]))
    }

    /// A publication's first share is claimed before the scheduler has written the rest: the
    /// claim after it finds nothing, and claiming again on every ended batch only takes the
    /// write lock the scheduler needs for those rows. A ring (the rows are written) or a tick
    /// makes the host worth a claim again.
    @Test func aHostThatHadFewerRowsThanRoomWaitsForARingOrATick() {
        var appetite = ClaimAppetite(backlogPerHost: backlog)
        let room = ["hooks.example": 320]
        appetite.claimed([], limit: 960, room: room)
        #expect(!appetite.isHungry(inFlight: 64, room: room))
        // Its sends end and its room grows: still nothing due there.
        #expect(!appetite.isHungry(inFlight: 10, room: ["hooks.example": 374]))
        // Nothing in flight: one claim before the worker sleeps.
        #expect(appetite.isHungry(inFlight: 0, room: room))
        appetite.mayHaveMore()
        #expect(appetite.isHungry(inFlight: 64, room: room))
    }

    @Test func aClaimCutByItsLimitOrAHostsRoomLeavesItHungry() {
        var appetite = ClaimAppetite(backlogPerHost: backlog)
        // Cut by the limit: every host may have more.
        appetite.claimed(rows(64, host: "a"), limit: 64, room: [:])
        #expect(appetite.isHungry(inFlight: 64, room: ["a": 320]))
        // "a" filled its room, "b" (new: a whole backlog's room) had fewer rows than that.
        appetite.claimed(rows(320, host: "a") + rows(5, host: "b"), limit: 960, room: ["a": 320])
        #expect(appetite.isHungry(inFlight: 200, room: ["a": 192, "b": 379]))
        #expect(!appetite.isHungry(inFlight: 200, room: ["a": 100, "b": 379]))
    }

    @Test func aFanOutsTailIsRecordedAsItEndsNotAfterItsLastSend() {
        let settings = WorkerSettings()
        func recordsNow(_ outcomes: Int, inFlight: Int, queued: Int = 0, nothingLeft: Bool = true) -> Bool {
            OutboxWorker.recordsNow(
                outcomes: outcomes, inFlight: inFlight, queued: queued, nothingLeftToClaim: nothingLeft,
                sinceLastRecord: .milliseconds(1), settings: settings)
        }
        // The tail: what ended outnumbers what is still sending, and nothing is left to send after.
        #expect(recordsNow(100, inFlight: 92))
        #expect(recordsNow(1, inFlight: 0))
        // Mid fan-out the outcomes wait for a batch (or go with the next claim).
        #expect(!recordsNow(100, inFlight: 192, nothingLeft: true))
        #expect(!recordsNow(100, inFlight: 92, queued: 40))
        #expect(!recordsNow(100, inFlight: 92, nothingLeft: false))
        #expect(!recordsNow(0, inFlight: 0))
        // A full batch, or a record long ago, always.
        #expect(recordsNow(settings.batchSize, inFlight: 1000, queued: 384, nothingLeft: false))
        #expect(
            OutboxWorker.recordsNow(
                outcomes: 3, inFlight: 500, queued: 10, nothingLeftToClaim: false, sinceLastRecord: .milliseconds(20),
                settings: settings))
    }
}
