import Foundation
import HeraldCore
import Testing

/// The totals a release manager reads first, from the participants alone.
@Suite struct ReadinessTests {
    func participant(_ id: Int64, notified: Bool = true) -> Participant {
        Participant(
            providerID: id, organization: "Org \(id)", providerStatus: .active, decision: nil, reason: "",
            notifiedRevision: notified ? 1 : nil, notifiedAt: notified ? Date() : nil, waiting: 0, failed: 0,
            acknowledgedAt: nil)
    }

    @Test func anAnswerCountsAsAcknowledgedAndOnlyTheTrulySilentAreSilent() {
        let proposal = Date(timeIntervalSince1970: 1_796_832_000)  // 2026-12-09 16:00 UTC
        var ready = participant(1)
        ready.status = .ready
        ready.answeredAt = Date()
        ready.seenAt = Date()
        var later = participant(2)
        later.status = .needsMoreTime
        later.proposedInstant = proposal
        later.answeredAt = Date()
        var acked = participant(3)
        acked.acknowledgedAt = Date()
        acked.seenAt = Date()
        let silent = participant(4)
        var excluded = participant(5)
        excluded.decision = .excluded
        var failing = participant(6, notified: false)
        failing.failed = 2
        var suspended = participant(7)
        suspended.providerStatus = .suspended
        let readiness = Readiness(
            advisoryID: 1, participants: [ready, later, acked, silent, excluded, failing, suspended],
            timezone: "Europe/Amsterdam")
        #expect(
            readiness.totals
                == "5 participants · 4 notified · 2 seen · 3 acknowledged · 1 ready · 1 needs more time (latest proposal 2026-12-09 17:00:00 +01:00) · 2 silent · 1 not reached · 1 excluded"
        )
    }
}
