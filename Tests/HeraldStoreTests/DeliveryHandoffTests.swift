import Foundation
import HeraldCore
import Testing

@testable import HeraldStore

/// The worker's room, in all and per host, bounds what a writer leases for it; nothing is kept
/// for a stopped worker.
@Suite struct DeliveryHandoffTests {
    func row(_ id: Int64, _ host: String) -> ClaimedDelivery {
        ClaimedDelivery(
            id: id, transport: .webhook, format: .webhook, recipient: "https://\(host).example/\(id)", host: host,
            messageID: "msg_\(id)", payload: [], secret: nil, attempts: 1)
    }

    @Test func aWriterLeasesTheFirstRowsThatFitTheRoomTheWorkerOfferedInAllAndForEachHost() throws {
        let rings = Counter()
        let handoff = DeliveryHandoff(ring: { rings.add() })
        func reserve(_ hosts: [String], atLeast minimum: Int = 1) -> Int? {
            handoff.reserve(prefixOf: hosts, atLeast: minimum).map {
                #expect($0.lease == 90)
                return $0.count
            }
        }
        // Closed (no worker yet): nothing is leased for it, whatever the room.
        handoff.offer(room: 100, perHost: [:], otherHosts: 100, sending: false)
        #expect(reserve(["a"]) == nil)
        handoff.open(lease: 90, wake: {})
        handoff.offer(room: 5, perHost: [:], otherHosts: 100, sending: false)
        #expect(reserve(["a", "a", "b"]) == 3)
        #expect(reserve(["c", "c", "c"]) == 2)  // two left in all: the first two
        #expect(reserve(["c"]) == nil)
        #expect(reserve([]) == nil)
        // A host's backlog bounds its rows however much room there is in all: a slow host fills
        // its own, never the others'; a host not named has the room of any other. The share is
        // cut before the first row that does not fit, so rows go in their order.
        handoff.offer(room: 100, perHost: ["slow": 2], otherHosts: 10, sending: false)
        #expect(reserve(["slow", "fast", "slow", "slow", "fast"]) == 3)
        #expect(reserve(["fast", "fast", "slow"]) == 2)
        #expect(reserve(["slow", "fast"]) == nil)
        // Fewer than asked for fit: none are leased (unless that is all of them).
        #expect(reserve(Array(repeating: "fast", count: 8), atLeast: 8) == nil)
        #expect(reserve(Array(repeating: "fast", count: 8), atLeast: 7) == 7)
        handoff.offer(room: 100, perHost: [:], otherHosts: 10, sending: false)
        #expect(reserve(["other", "other"], atLeast: 32) == 2)

        handoff.hand([row(1, "slow"), row(2, "slow")])
        #expect(rings.value == 1)
        // Rows handed and not taken count against the next offer, in all and for their host.
        handoff.offer(room: 3, perHost: ["slow": 3], otherHosts: 10, sending: false)
        #expect(reserve(["slow", "slow"]) == 1)
        #expect(reserve(["fast"]) == nil)
        #expect(handoff.take().map(\.id) == [1, 2])
        #expect(handoff.take().isEmpty)
        // Stopping gives back what was not taken; later rows are not kept, nor rung for.
        handoff.hand([row(3, "a")])
        #expect(handoff.close().map(\.id) == [3])
        handoff.hand([row(4, "a")])
        #expect(handoff.take().isEmpty)
        #expect(rings.value == 2)
        handoff.offer(room: 100, perHost: [:], otherHosts: 100, sending: false)
        #expect(reserve(["a"]) == nil)
    }

    @Test func handedRowsWakeASendingWorkerWithoutItsDoorbellAndAnIdleOneWithIt() throws {
        let rings = Counter()
        let wakes = Counter()
        let handoff = DeliveryHandoff(ring: { rings.add() })
        handoff.open(lease: 90, wake: { wakes.add() })
        // Idle, the worker waits for its doorbell.
        handoff.offer(room: 100, perHost: [:], otherHosts: 100, sending: false)
        handoff.hand([row(1, "a")])
        #expect(rings.value == 1 && wakes.value == 0)
        // Sending, it is woken apart: a ring would make it look for rows to claim, and these
        // are not to be claimed.
        handoff.offer(room: 100, perHost: [:], otherHosts: 100, sending: true)
        handoff.hand([row(2, "a")])
        handoff.hand([])
        #expect(rings.value == 1 && wakes.value == 1)
        // Handed after the worker last took rows and before it offers again: the offer says so,
        // and the worker, about to sleep on its doorbell, takes them first.
        #expect(handoff.offer(room: 100, perHost: [:], otherHosts: 100, sending: false))
        #expect(handoff.take().map(\.id) == [1, 2])
        #expect(!handoff.offer(room: 100, perHost: [:], otherHosts: 100, sending: false))
        handoff.hand([row(3, "a")])
        #expect(rings.value == 2 && wakes.value == 1)
        // A stopped worker's state is not kept: the next one is idle until it offers.
        handoff.offer(room: 100, perHost: [:], otherHosts: 100, sending: true)
        #expect(handoff.close().map(\.id) == [3])
        handoff.open(lease: 90, wake: {})
        handoff.hand([row(4, "a")])
        #expect(rings.value == 3 && wakes.value == 1)
    }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var count = 0
        func add() { lock.withLock { count += 1 } }
        var value: Int { lock.withLock { count } }
    }
}
