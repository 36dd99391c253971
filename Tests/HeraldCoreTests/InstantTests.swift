import Foundation
import HeraldCore
import Testing

@Suite struct InstantTests {
    @Test func rfc3339WithZuluAndOffsetAreTheSameInstant() throws {
        let zulu = try Instant.parse("2026-12-01T16:00:00Z", field: "embargo")
        let offset = try Instant.parse("2026-12-01T17:00:00+01:00", field: "embargo")
        #expect(zulu == offset)
        #expect(zulu.timeIntervalSince1970 == 1_796_140_800)
        #expect(Instant.rfc3339(zulu) == "2026-12-01T16:00:00Z")
    }

    @Test func fractionalSecondsAreKept() throws {
        let date = try Instant.parse("2026-12-01T16:00:00.250Z", field: "embargo")
        #expect(date.timeIntervalSince1970 == 1_796_140_800.25)
    }

    @Test func localTimeInWinterUsesCET() throws {
        let date = try Instant.parse("2026-12-01 17:00 Europe/Amsterdam", field: "embargo")
        #expect(Instant.rfc3339(date) == "2026-12-01T16:00:00Z")
    }

    @Test func localTimeInSummerUsesCEST() throws {
        let date = try Instant.parse("2026-07-01 17:00 Europe/Amsterdam", field: "embargo")
        #expect(Instant.rfc3339(date) == "2026-07-01T15:00:00Z")
    }

    @Test func embargoInDSTGapIsRefused() {
        // 2026-03-29: clocks in Amsterdam jump from 02:00 to 03:00.
        #expect {
            try Instant.parse("2026-03-29 02:30 Europe/Amsterdam", field: "embargo")
        } throws: { error in
            guard case let .invalid(field, rule) = error as? Refusal else { return false }
            return field == "embargo" && rule.contains("does not exist") && rule.contains("daylight saving time begins")
        }
    }

    @Test func embargoInDSTOverlapIsRefusedWithBothChoices() {
        // 2026-10-25: clocks in Amsterdam go back from 03:00 to 02:00, so 02:30 happens twice.
        #expect {
            try Instant.parse("2026-10-25 02:30 Europe/Amsterdam", field: "embargo")
        } throws: { error in
            guard case let .invalid(_, rule) = error as? Refusal else { return false }
            return rule.contains("happens twice") && rule.contains("+02:00") && rule.contains("+01:00")
        }
    }

    @Test func timesBesideTheTransitionsAreAccepted() throws {
        let before = try Instant.parse("2026-03-29 01:59 Europe/Amsterdam", field: "e")
        let after = try Instant.parse("2026-03-29 03:00 Europe/Amsterdam", field: "e")
        #expect(after.timeIntervalSince(before) == 60)
        let overlapEnd = try Instant.parse("2026-10-25 03:00 Europe/Amsterdam", field: "e")
        #expect(Instant.rfc3339(overlapEnd) == "2026-10-25T02:00:00Z")
    }

    @Test(arguments: [
        "tomorrow", "2026-13-01T00:00:00Z", "2026-02-30T10:00:00Z", "2026-12-01T24:00:00Z",
        "2026-12-01T16:00:00", "2026-12-01 17:00 Mars/Olympus", "2026-12-01T16:00:00+25:00", "",
    ])
    func malformedInstantsAreRefused(text: String) {
        #expect(throws: Refusal.self) { try Instant.parse(text, field: "embargo") }
    }

    @Test func leapDayExistsOnlyInLeapYears() throws {
        _ = try Instant.parse("2028-02-29T12:00:00Z", field: "e")
        #expect(throws: Refusal.self) { try Instant.parse("2027-02-29T12:00:00Z", field: "e") }
    }

    @Test func localFormatShowsTheOffset() throws {
        let zone = try #require(TimeZone(identifier: "Europe/Amsterdam"))
        let date = try Instant.parse("2026-12-01T16:00:00Z", field: "e")
        #expect(Instant.local(date, in: zone) == "2026-12-01 17:00:00 +01:00")
        let newYork = try #require(TimeZone(identifier: "America/New_York"))
        #expect(Instant.local(date, in: newYork) == "2026-12-01 11:00:00 -05:00")
        // What Herald shows can be typed back.
        #expect(try Instant.parse(Instant.local(date, in: zone), field: "e") == date)
        // Everything that is not an advisory's own instant: UTC, labelled, with seconds.
        #expect(Instant.utc(date.addingTimeInterval(5)) == "2026-12-01 16:00:05 UTC")
    }

    @Test func formattingAndParsingRoundTripOverManyDays() throws {
        // Every 7 hours for three years covers all months, leap days and DST changes.
        var date = try Instant.parse("2026-01-01T00:00:00Z", field: "e")
        for _ in 0..<(3 * 365 * 24 / 7) {
            #expect(try Instant.parse(Instant.rfc3339(date), field: "e") == date)
            date += 7 * 3600
        }
    }
}
