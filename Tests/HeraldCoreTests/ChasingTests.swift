import Foundation
import HeraldCore
import Testing

/// When the reminder and the final notice are due: one pure rule, tested without a database.
@Suite struct ChasingTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)
    let chasing = Chasing(reminderAfter: 2 * 86_400, finalNotice: 86_400)
    var schedule: Schedule { Schedule(embargo: start + 7 * 86_400, earlyNotice: start) }

    @Test func theSilentAreRemindedOnceAndEveryoneGetsAFinalNoticeBeforeTheRelease() {
        let early: Set<NoticeKind> = [.earlyNotice]
        #expect(schedule.due(at: start + 86_400, sent: early, chasing: chasing) == nil)
        #expect(schedule.due(at: start + 2 * 86_400, sent: early, chasing: chasing) == .reminder)
        #expect(schedule.nextInstant(sent: early, chasing: chasing) == start + 2 * 86_400)
        let reminded = early.union([.reminder])
        #expect(schedule.due(at: start + 5 * 86_400, sent: reminded, chasing: chasing) == nil)
        let final = start + 6 * 86_400
        #expect(schedule.nextInstant(sent: reminded, chasing: chasing) == final)
        #expect(schedule.due(at: final, sent: reminded, chasing: chasing) == .finalNotice)
        let release = schedule.embargo!
        #expect(schedule.due(at: final + 60, sent: reminded, chasing: chasing, finalNoticeSentFor: release) == nil)
        #expect(
            schedule.nextInstant(sent: reminded, chasing: chasing, finalNoticeSentFor: release) == schedule.embargo,
            "after the final notice, only the release")
        // A changed setting does not send it again for the same release.
        let sooner = Chasing(reminderAfter: 2 * 86_400, finalNotice: 2 * 86_400)
        #expect(schedule.due(at: final + 60, sent: reminded, chasing: sooner, finalNoticeSentFor: release) == nil)
        // Nor is anyone reminded after a final notice went out.
        #expect(schedule.due(at: final + 60, sent: early, chasing: chasing, finalNoticeSentFor: release) == nil)
        // The release still comes first, and nothing is chased after it.
        #expect(schedule.due(at: start + 7 * 86_400, sent: early, chasing: chasing) == .publication)
    }

    @Test func theFinalNoticeGoesAgainWhenTheReleaseMovesAndNothingIsChasedBeforeTheEarlyNotice() {
        var moved = schedule
        moved.embargo = start + 9 * 86_400
        let sent: Set<NoticeKind> = [.earlyNotice, .reminder]
        let first = schedule.embargo!  // the release the first final notice came before
        #expect(moved.due(at: start + 7 * 86_400, sent: sent, chasing: chasing, finalNoticeSentFor: first) == nil)
        #expect(
            moved.due(at: start + 8 * 86_400, sent: sent, chasing: chasing, finalNoticeSentFor: first) == .finalNotice)
        // Before the early notice went out, nothing is chased, however late it is.
        var later = schedule
        later.earlyNotice = start + 3 * 86_400
        #expect(later.due(at: start + 2 * 86_400 + 1, sent: [], chasing: chasing) == nil)
        // A reminder that would fall after the final notice is not sent.
        let late = Chasing(reminderAfter: 6.5 * 86_400, finalNotice: 86_400)
        #expect(late.reminder(for: schedule) == nil)
        #expect(Chasing(finalNotice: 8 * 86_400).finalNotice(for: schedule) == nil, "before the early notice")
    }

    @Test func durationsAreReadAsWrittenAndBounded() throws {
        #expect(try Chasing.duration("48h", field: "f", maxDays: 30) == 172_800)
        #expect(try Chasing.duration("2d", field: "f", maxDays: 30) == 172_800)
        #expect(try Chasing.duration("90m", field: "f", maxDays: 30) == 5_400)
        #expect(try Chasing.duration("off", field: "f", maxDays: 30) == nil)
        #expect(try Chasing.duration("1m", field: "f", maxDays: 30) == 60)
        for bad in ["0m", "0h", "15d", "h", "2 days", "-3h", "30s", String(repeating: "9", count: 40) + "h"] {
            #expect(throws: Refusal.self, "\(bad)") { try Chasing.duration(bad, field: "f", maxDays: 14) }
        }
        #expect(Chasing.said(172_800) == "2d" && Chasing.said(5_400) == "90m" && Chasing.said(nil) == "off")
    }
}
