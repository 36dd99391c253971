import Foundation
import Testing

@testable import HeraldDelivery

/// A ring is never lost to another waiter: the worker's ticker may be the only one waiting when
/// the worker itself is about to sleep.
@Suite struct DoorbellTests {
    @Test func aRingThatWokeOneWaiterStillEndsTheNextWait() async throws {
        let doorbell = Doorbell()
        let ticker = Task { await doorbell.wait(timeout: .seconds(30)) }
        let registered = ContinuousClock.now + .seconds(5)
        while doorbell.waiting == 0 && ContinuousClock.now < registered {
            try await Task.sleep(for: .milliseconds(1))
        }
        #expect(doorbell.waiting == 1)
        doorbell.ring()
        await ticker.value
        // The worker waits after the ring: it is not left asleep for its whole poll.
        let started = ContinuousClock.now
        await doorbell.wait(timeout: .seconds(10))
        #expect(ContinuousClock.now - started < .seconds(2))
        // Kept once, not for every later wait.
        let next = ContinuousClock.now
        await doorbell.wait(timeout: .milliseconds(200))
        #expect(ContinuousClock.now - next >= .milliseconds(150))
    }
}
