import Foundation
import HeraldCore
import Testing

/// A project's release window: read as written, checked in the project's zone, and the
/// refusal of an instant outside it names the next allowed ones.
@Suite struct ReleaseWindowTests {
    let amsterdam = TimeZone(identifier: "Europe/Amsterdam")!

    func at(_ text: String) throws -> Date { try Instant.parse(text, field: "t") }

    @Test func aWindowIsReadAsWrittenAndBadOnesAreRefused() throws {
        let window = try ReleaseWindow("Tue-Thu 14:00-17:00")
        #expect(window.days == [2, 3, 4] && window.opens == 840 && window.closes == 1020)
        #expect(window.description == "Tue-Thu 14:00-17:00")
        #expect(try ReleaseWindow("mon,wed-thu 16:00-16:00").description == "Mon,Wed-Thu 16:00-16:00")
        for bad in [
            "Tue-Mon 14:00-17:00", "Tue 17:00-14:00", ", 14:00-17:00", "Tue 14:00", "Xyz 10:00-11:00",
            "Tue 24:00-25:00",
            "Tue 9:00-17:00",
            "", String(repeating: "Tue,", count: 30) + " 10:00-11:00",
        ] {
            #expect(throws: Refusal.self, "\(bad)") { try ReleaseWindow(bad) }
        }
    }

    @Test func instantsAreReadInTheProjectsZoneAcrossSummerTime() throws {
        let window = try ReleaseWindow("Tue-Thu 14:00-17:00")
        // Tuesday 1 December 2026, 15:00 in Amsterdam is 14:00 UTC (winter).
        #expect(window.contains(try at("2026-12-01 15:00 Europe/Amsterdam"), in: amsterdam))
        #expect(window.contains(try at("2026-12-01T15:30:00Z"), in: amsterdam), "16:30 local")
        #expect(!window.contains(try at("2026-12-01 17:01 Europe/Amsterdam"), in: amsterdam))
        #expect(!window.contains(try at("2026-12-04 15:00 Europe/Amsterdam"), in: amsterdam), "a Friday")
        // Tuesday 7 July 2026, 14:00 in Amsterdam is 12:00 UTC (summer).
        #expect(window.contains(try at("2026-07-07T12:00:00Z"), in: amsterdam))
        #expect(!window.contains(try at("2026-07-07T11:59:00Z"), in: amsterdam))
        let next = window.openings(from: try at("2026-12-04 15:00 Europe/Amsterdam"), in: amsterdam)
        #expect(next.map(Instant.rfc3339) == ["2026-12-08T13:00:00Z", "2026-12-09T13:00:00Z", "2026-12-10T13:00:00Z"])
    }

    @Test func anEmbargoOutsideTheWindowIsRefusedWithTheNextAllowedInstantsUnlessAReasonIsGiven() throws {
        let window = try ReleaseWindow("Tue-Thu 14:00-17:00")
        let now = try at("2026-12-01 09:00 Europe/Amsterdam")
        let friday = Schedule(embargo: try at("2026-12-04 16:00 Europe/Amsterdam"), earlyNotice: now)
        let policy = EmbargoPolicy(maxEmbargoDays: 14, zone: amsterdam, releaseWindow: window, windowZone: amsterdam)
        do {
            try policy.check(friday, now: now)
            Issue.record("a Friday release was accepted")
        } catch {
            #expect(error.description.contains("outside the project's release window (Tue-Thu 14:00-17:00"))
            #expect(error.description.contains("2026-12-08 14:00:00 +01:00"), "\(error)")
        }
        let excused = EmbargoPolicy(
            maxEmbargoDays: 14, zone: amsterdam, releaseWindow: window, windowZone: amsterdam,
            outsideWindow: "the fix ships with the Friday release train")
        try excused.check(friday, now: now)
        // An instant accepted before (unchanged by this change) is not checked again.
        try policy.check(friday, now: now, current: friday)
        try policy.check(Schedule(embargo: try at("2026-12-03 16:00 Europe/Amsterdam"), earlyNotice: now), now: now)
    }
}
