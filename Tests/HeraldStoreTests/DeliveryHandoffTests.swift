import Foundation
import HeraldCore
import Testing

@testable import HeraldStore

/// The worker's room bounds what a writer leases for it; nothing is kept for a stopped worker.
@Suite struct DeliveryHandoffTests {
    func row(_ id: Int64) -> ClaimedDelivery {
        ClaimedDelivery(
            id: id, transport: .webhook, format: .webhook, recipient: "https://hooks.example/\(id)",
            host: "hooks.example", messageID: "msg_\(id)", payload: [], secret: nil, attempts: 1)
    }

    @Test func aWriterLeasesOnlyWhatFitsTheRoomTheWorkerOffered() throws {
        let rings = Counter()
        let handoff = DeliveryHandoff(ring: { rings.add() })
        // Closed (no worker yet): nothing is leased for it, whatever the room.
        handoff.offer(room: 100)
        #expect(handoff.reserve(1) == nil)
        handoff.open(lease: 90)
        handoff.offer(room: 5)
        #expect(handoff.reserve(3) == 90)
        #expect(handoff.reserve(3) == nil)  // two left
        #expect(handoff.reserve(2) == 90)
        handoff.hand([row(1), row(2)])
        #expect(rings.value == 1)
        // Rows handed and not taken count against the next offer.
        handoff.offer(room: 3)
        #expect(handoff.reserve(2) == nil)
        #expect(handoff.reserve(1) == 90)
        #expect(handoff.take().map(\.id) == [1, 2])
        #expect(handoff.take().isEmpty)
        // Stopping gives back what was not taken; later rows are not kept, nor rung for.
        handoff.hand([row(3)])
        #expect(handoff.close().map(\.id) == [3])
        handoff.hand([row(4)])
        #expect(handoff.take().isEmpty)
        #expect(rings.value == 2)
        handoff.offer(room: 100)
        #expect(handoff.reserve(1) == nil)
    }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var count = 0
        func add() { lock.withLock { count += 1 } }
        var value: Int { lock.withLock { count } }
    }
}
