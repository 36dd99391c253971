import Foundation
import Testing

@testable import HeraldDelivery

/// The scheduler's bell: a ring ends its wait early, but no sooner than the least time
/// between two passes, so a flood of requests cannot keep it busy.
@Suite struct SchedulerBellTests {
    /// How long `wait` took, in milliseconds, by the monotonic clock.
    func timed(_ body: () -> Void) -> Double {
        let start = ContinuousClock.now
        body()
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
    }

    @Test func aRingEndsTheWaitButNotBeforeTheLeastInterval() async throws {
        let bell = SchedulerBell()
        // Not rung: the whole wait.
        #expect(timed { bell.wait(for: .milliseconds(60), ringsAfter: .milliseconds(20)) } >= 55)
        // Rung before the wait: it ends after the least interval, not at once and not at the end.
        bell.ring()
        let early = timed { bell.wait(for: .seconds(5), ringsAfter: .milliseconds(40)) }
        #expect(early >= 35 && early < 2000, "\(early) ms")
        // The ring was used up: the next wait is whole again.
        #expect(timed { bell.wait(for: .milliseconds(60), ringsAfter: .zero) } >= 55)
        // Rung during the wait, from another thread.
        Thread.detachNewThread {
            Thread.sleep(forTimeInterval: 0.1)
            bell.ring()
        }
        let woken = timed { bell.wait(for: .seconds(10), ringsAfter: .milliseconds(20)) }
        #expect(woken >= 90 && woken < 5000, "\(woken) ms")
        // Stopped: every wait ends at once.
        bell.stop()
        #expect(timed { bell.wait(for: .seconds(10), ringsAfter: .zero) } < 1000)
        #expect(bell.stopped)
    }

    /// What a ring may shorten: nothing after a failed pass, a share's pause not below the time
    /// the share took, any other sleep not below the least interval.
    @Test func aRingNeitherCutsASharesPauseNorRepeatsAFailure() {
        #expect(Scheduler.ringsAfter(sleep: .seconds(1), sharePause: nil, passFailed: false) == .milliseconds(20))
        #expect(
            Scheduler.ringsAfter(sleep: .seconds(1), sharePause: .milliseconds(60), passFailed: false)
                == .milliseconds(60))
        #expect(
            Scheduler.ringsAfter(sleep: .milliseconds(5), sharePause: .milliseconds(5), passFailed: false)
                == .milliseconds(20))
        #expect(Scheduler.ringsAfter(sleep: .seconds(1), sharePause: nil, passFailed: true) == .seconds(1))
    }
}
