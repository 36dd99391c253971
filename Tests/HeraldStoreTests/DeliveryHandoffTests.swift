import Foundation
import HeraldCore
import Testing

@testable import HeraldStore

/// The worker's room, in all and per host, bounds what a writer leases for it; nothing is kept
/// for a stopped worker.
@Suite struct DeliveryHandoffTests {
    func row(_ id: Int64, _ host: String) -> ClaimedDelivery {
        ClaimedDelivery(
            id: id, transport: .webhook, format: .webhook, recipient: "https://\(host)/\(id)", host: host,
            messageID: "msg_\(id)", payload: [], secret: nil, attempts: 1)
    }

    @Test func aWriterLeasesOnlyWhatFitsTheRoomTheWorkerOfferedInAllAndForEachHost() throws {
        let rings = Counter()
        let handoff = DeliveryHandoff(ring: { rings.add() })
        // Closed (no worker yet): nothing is leased for it, whatever the room.
        handoff.offer(room: 100, perHost: [:], otherHosts: 100)
        #expect(handoff.reserve(["a.example": 1]) == nil)
        handoff.open(lease: 90)
        handoff.offer(room: 5, perHost: [:], otherHosts: 100)
        #expect(handoff.reserve(["a.example": 2, "b.example": 1]) == 90)
        #expect(handoff.reserve(["c.example": 3]) == nil)  // two left in all
        #expect(handoff.reserve(["c.example": 2]) == 90)
        #expect(handoff.reserve([:]) == nil)
        // A host's backlog bounds its rows however much room there is in all: a slow host fills
        // its own, never the others'; a host not named has the room of any other.
        handoff.offer(room: 100, perHost: ["slow.example": 2], otherHosts: 10)
        #expect(handoff.reserve(["slow.example": 3]) == nil)
        #expect(handoff.reserve(["slow.example": 2, "fast.example": 10]) == 90)
        #expect(handoff.reserve(["slow.example": 1]) == nil)
        #expect(handoff.reserve(["fast.example": 1]) == nil)
        #expect(handoff.reserve(["other.example": 10]) == 90)

        handoff.hand([row(1, "slow.example"), row(2, "slow.example")])
        #expect(rings.value == 1)
        // Rows handed and not taken count against the next offer, in all and for their host.
        handoff.offer(room: 3, perHost: ["slow.example": 3], otherHosts: 10)
        #expect(handoff.reserve(["slow.example": 2]) == nil)
        #expect(handoff.reserve(["slow.example": 1]) == 90)
        #expect(handoff.reserve(["fast.example": 1]) == nil)
        #expect(handoff.take().map(\.id) == [1, 2])
        #expect(handoff.take().isEmpty)
        // Stopping gives back what was not taken; later rows are not kept, nor rung for.
        handoff.hand([row(3, "a.example")])
        #expect(handoff.close().map(\.id) == [3])
        handoff.hand([row(4, "a.example")])
        #expect(handoff.take().isEmpty)
        #expect(rings.value == 2)
        handoff.offer(room: 100, perHost: [:], otherHosts: 100)
        #expect(handoff.reserve(["a.example": 1]) == nil)
    }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var count = 0
        func add() { lock.withLock { count += 1 } }
        var value: Int { lock.withLock { count } }
    }
}
