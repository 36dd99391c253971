import Foundation
import HeraldCore
import Testing

@Suite struct EmbargoPolicyTests {
    let now = Date(timeIntervalSince1970: 1_795_000_000)
    let policy = EmbargoPolicy(maxEmbargoDays: 14)
    let day: TimeInterval = 86_400

    @Test func futureEmbargoWithinTheLimitIsAccepted() throws {
        try policy.check(Schedule(embargo: now + 3 * day, earlyNotice: now, preAnnounce: now + day), now: now)
    }

    @Test func pastEmbargoIsRefused() {
        #expect(throws: Refusal.self) { try policy.check(Schedule(embargo: now - 1), now: now) }
        #expect(throws: Refusal.self) { try policy.check(Schedule(embargo: now), now: now) }
    }

    @Test func embargoBeyondMaxDaysIsRefused() {
        #expect {
            try policy.check(Schedule(embargo: now + 14 * day + 1), now: now)
        } throws: { error in
            guard case let .invalid(field, rule) = error as? Refusal else { return false }
            return field == "embargo" && rule.contains("at most 14")
        }
        #expect(throws: Never.self) { try policy.check(Schedule(embargo: now + 14 * day), now: now) }
    }

    @Test func maxDaysCountFromTheEarlyNotice() throws {
        // A notice in 5 days allows a release up to 19 days from now, as the distros list counts.
        try policy.check(Schedule(embargo: now + 19 * day, earlyNotice: now + 5 * day), now: now)
        #expect(throws: Refusal.self) {
            try policy.check(Schedule(embargo: now + 19 * day + 1, earlyNotice: now + 5 * day), now: now)
        }
    }

    @Test func noticesMustComeBeforeTheEmbargo() {
        #expect(throws: Refusal.self) {
            try policy.check(Schedule(embargo: now + day, earlyNotice: now + day), now: now)
        }
        #expect(throws: Refusal.self) {
            try policy.check(Schedule(embargo: now + day, preAnnounce: now + 2 * day), now: now)
        }
    }

    @Test func newNoticesInThePastAreRefusedButSentOnesStay() throws {
        #expect(throws: Refusal.self) {
            try policy.check(Schedule(embargo: now + day, earlyNotice: now - 60), now: now)
        }
        let sent = Schedule(embargo: now + day, earlyNotice: now - 3600)
        try policy.check(Schedule(embargo: now + 2 * day, earlyNotice: now - 3600), now: now, current: sent)
    }

    @Test func noticesWithoutAnEmbargoAreRefused() {
        #expect(throws: Refusal.self) { try policy.check(Schedule(earlyNotice: now), now: now) }
        #expect(throws: Refusal.self) { try policy.check(Schedule(preAnnounce: now), now: now) }
    }

    @Test func refusalsNameInstantsInTheProjectsZone() throws {
        let zone = try #require(TimeZone(identifier: "Europe/Amsterdam"))
        let now = try Instant.parse("2026-12-01T12:00:00Z", field: "now")
        let policy = EmbargoPolicy(maxEmbargoDays: 14, zone: zone)
        #expect {
            try policy.check(Schedule(embargo: now - 3600), now: now)
        } throws: { error in
            "\(error)".contains("2026-12-01 12:00:00 +01:00 (Europe/Amsterdam; 11:00:00 UTC) is not in the future")
        }
    }

    @Test func refusalsRepeatTheZoneTheUserTyped() throws {
        let project = Project(
            id: 1, slug: "demo", name: "Demo", timezone: "Europe/Amsterdam", maxEmbargoDays: 14, createdAt: Date())
        let now = try Instant.parse("2026-12-02T12:00:00Z", field: "now")
        for (typed, said) in [
            ("2026-12-01 08:00 America/New_York", "2026-12-01 08:00:00 -05:00 (America/New_York; 13:00:00 UTC)"),
            ("2026-12-01T09:00:00Z", "2026-12-01 09:00:00 UTC"),
            ("2026-12-01 10:00 Europe/Amsterdam", "2026-12-01 10:00:00 +01:00 (Europe/Amsterdam; 09:00:00 UTC)"),
        ] {
            let policy = project.embargoPolicy(sayingInstantsIn: Instant.zone(of: typed))
            #expect {
                try policy.check(Schedule(embargo: try Instant.parse(typed, field: "embargo")), now: now)
            } throws: { error in
                "\(error)".contains(said)
            }
        }
        #expect(Instant.zone(of: "2026-12-01T17:00:00+01:00")?.secondsFromGMT() == 3600)
    }
}

/// When a notice is due: one rule, decided without a database.
@Suite struct DueNoticeTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func eachNoticeIsDueOnceAtItsInstantAndTheReleaseComesFirst() {
        let schedule = Schedule(embargo: t0 + 3 * 3600, earlyNotice: t0 + 3600, preAnnounce: t0 + 2 * 3600)
        #expect(schedule.due(at: t0, sent: []) == nil)
        #expect(schedule.nextInstant(sent: []) == t0 + 3600)
        #expect(schedule.due(at: t0 + 3600, sent: []) == .earlyNotice)
        #expect(schedule.due(at: t0 + 3600, sent: [.earlyNotice]) == nil, "once only")
        #expect(schedule.nextInstant(sent: [.earlyNotice]) == t0 + 2 * 3600)
        // Both passed (a restart after both instants): the early notice first, then the pre-announcement.
        #expect(schedule.due(at: t0 + 2.5 * 3600, sent: []) == .earlyNotice)
        #expect(schedule.due(at: t0 + 2.5 * 3600, sent: [.earlyNotice]) == .preAnnouncement)
        #expect(schedule.nextInstant(sent: [.earlyNotice, .preAnnouncement]) == t0 + 3 * 3600)
        // At the release nothing earlier is sent late: the publication is due, whatever was sent.
        #expect(schedule.due(at: t0 + 3 * 3600, sent: []) == .publication)
        #expect(schedule.due(at: t0 + 4 * 3600, sent: [.earlyNotice, .preAnnouncement]) == .publication)
    }

    @Test func aDraftWithoutAReleaseInstantIsNeverDue() {
        let draft = Schedule(embargo: nil, earlyNotice: t0, preAnnounce: t0)
        #expect(draft.due(at: t0 + 86_400, sent: []) == nil)
        #expect(draft.nextInstant(sent: []) == nil)
        let releaseOnly = Schedule(embargo: t0)
        #expect(releaseOnly.due(at: t0 - 1, sent: []) == nil && releaseOnly.due(at: t0, sent: []) == .publication)
        #expect(releaseOnly.nextInstant(sent: []) == t0)
    }
}
