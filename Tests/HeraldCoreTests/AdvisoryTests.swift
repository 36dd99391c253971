import Foundation
import HeraldCore
import Testing

@Suite struct AdvisoryTests {
    let now = Date(timeIntervalSince1970: 1_795_000_000)
    let policy = EmbargoPolicy(maxEmbargoDays: 14)

    func advisory(embargo: Date? = nil) throws -> Advisory {
        try Advisory.new(
            projectSlug: "demo", publicID: "demo-2026-abc", content: AdvisoryContent(title: "Overflow"),
            schedule: Schedule(embargo: embargo), policy: policy, now: now)
    }

    @Test func withoutEmbargoItIsADraftWithEmbargoScheduled() throws {
        #expect(try advisory().state == .draft)
        let scheduled = try advisory(embargo: now + 3600)
        #expect(scheduled.state == .scheduled)
        #expect(scheduled.revision == 1)
    }

    @Test func everyDateOrContentChangeIsANewRevision() throws {
        var a = try advisory(embargo: now + 3600)
        a = try a.rescheduled(Schedule(embargo: now + 7200), policy: policy, now: now)
        #expect(a.revision == 2)
        a = try a.revised(AdvisoryPatch(summary: "More detail"), now: now)
        #expect(a.revision == 3)
        #expect(a.content.summary == "More detail")
        #expect(a.content.title == "Overflow")
    }

    @Test func aRevisionThatChangesNothingIsRefused() throws {
        let a = try advisory(embargo: now + 3600)
        #expect(throws: Refusal.self) { try a.revised(AdvisoryPatch(title: "Overflow"), now: now) }
        #expect(throws: Refusal.self) { try a.rescheduled(a.schedule, policy: policy, now: now) }
    }

    @Test func reschedulingADraftSchedulesIt() throws {
        let a = try advisory().rescheduled(Schedule(embargo: now + 60), policy: policy, now: now)
        #expect(a.state == .scheduled)
    }

    @Test func publishingOnScheduleIsNeverEarly() throws {
        let a = try advisory(embargo: now + 60)
        #expect(throws: Refusal.self) { try a.publishedOnSchedule(now + 59.999) }
        let published = try a.publishedOnSchedule(now + 60)
        #expect(published.state == .published)
        #expect(published.publishedAt == now + 60)
    }

    // Every (state, action) pair not in the lifecycle is refused and names where it is allowed.
    @Test func everyIllegalTransitionIsRefused() throws {
        let scheduled = try advisory(embargo: now + 3600)
        let published = try scheduled.publishedNow(now)
        let cancelled = try scheduled.cancelled(now)
        let later = Schedule(embargo: now + 7200)
        let actions: [(String, (Advisory) throws -> Advisory)] = [
            ("reschedule", { try $0.rescheduled(later, policy: policy, now: now) }),
            ("revise", { try $0.revised(AdvisoryPatch(title: "Other"), now: now) }),
            ("publish", { try $0.publishedNow(now) }),
            ("cancel", { try $0.cancelled(now) }),
        ]
        let illegal: [(Advisory, String)] = [
            (published, "reschedule"), (published, "publish"), (published, "cancel"),
            (cancelled, "reschedule"), (cancelled, "revise"), (cancelled, "publish"), (cancelled, "cancel"),
        ]
        for (subject, name) in illegal {
            let action = try #require(actions.first { $0.0 == name }).1
            #expect {
                try action(subject)
            } throws: { error in
                guard case let .illegalTransition(_, state, act, allowed) = error as? Refusal else { return false }
                return state == subject.state.rawValue && act == name && !allowed.contains(subject.state.rawValue)
            }
        }
        // And the legal ones go through.
        for (subject, name) in [
            (scheduled, "reschedule"), (scheduled, "revise"), (scheduled, "publish"), (scheduled, "cancel"),
            (published, "revise"),
        ] {
            _ = try #require(actions.first { $0.0 == name }).1(subject)
        }
    }

    @Test func contentRulesNameTheField() {
        func field(_ build: () throws -> AdvisoryContent) -> String? {
            do {
                _ = try build()
                return nil
            } catch let Refusal.invalid(field, _) { return field } catch { return "?" }
        }
        #expect(field { try AdvisoryContent(title: "") } == "title")
        #expect(field { try AdvisoryContent(title: "Evil\r\nBcc: victim@example.org") } == "title")
        #expect(field { try AdvisoryContent(title: String(repeating: "x", count: 201)) } == "title")
        #expect(field { try AdvisoryContent(title: "ok", cves: ["CVE-26-1"]) } == "cve")
        #expect(field { try AdvisoryContent(title: "ok", cvss: "CVSS:3.1/AV:N") } == "cvss")
        #expect(field { try AdvisoryContent(title: "ok", summary: "bell\u{7}") } == "summary")
        #expect(field { try AdvisoryContent(title: "ok", cves: ["cve-2026-12345"]) } == nil)
    }
}

@Suite struct VulnerabilityTests {
    @Test(arguments: ["CVE-2026-1234", "CVE-1999-0001", "cve-2026-1234567"])
    func wellFormedCVEsAreAccepted(id: String) throws {
        #expect(try CVE.validate(id) == id.uppercased())
    }

    @Test(arguments: [
        "CVE-2026-123", "CVE-1998-1234", "CAN-2026-1234", "CVE-2026-12a4", "2026-1234", "CVE-2026-1234 x",
    ])
    func malformedCVEsAreRefused(id: String) {
        #expect(throws: Refusal.self) { try CVE.validate(id) }
    }

    @Test(arguments: [
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "CVSS:3.1/AV:L/AC:H/PR:L/UI:R/S:C/C:L/I:N/A:N/E:P/RL:O/RC:C",
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:A",
    ])
    func validVectorsAreAccepted(vector: String) throws {
        #expect(try CVSS.validate(vector) == vector)
    }

    @Test(arguments: [
        "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",  // unsupported version
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",  // A missing
        "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",  // bad value
        "CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",  // repeated
        "CVSS:4.0/AV:N/AC:L/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",  // AT missing
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/ZZ:1",  // unknown metric
    ])
    func invalidVectorsAreRefused(vector: String) {
        #expect(throws: Refusal.self) { try CVSS.validate(vector) }
    }
}

/// CVSS 3.1 base scores as FIRST's calculator gives them.
@Suite struct CVSSScoreTests {
    @Test func baseScoresMatchTheSpecificationsCalculator() {
        let cases: [(String, Double)] = [
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),
            ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N", 5.5),
            ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N", 5.9),
            ("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 1.6),
            ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 9.9),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0),
        ]
        for (vector, score) in cases {
            #expect(CVSS.baseScore(vector) == score, "\(vector)")
        }
        #expect(CVSS.baseScore("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N") == nil)
        #expect(CVSS.rating(9.8) == "critical" && CVSS.rating(6.1) == "medium" && CVSS.rating(0) == "none")
        #expect(CVSS.roundUp(4.02) == 4.1 && CVSS.roundUp(4.0) == 4.0 && CVSS.roundUp(4.000_000_1) == 4.0)
    }

    /// A few by hand, as FIRST's 4.0 calculator gives them; scripts/lib/cvss4_check.py compares
    /// every base vector and 40,000 others with an independent implementation.
    @Test func scores40MatchTheSpecificationsCalculator() {
        let cases: [(String, Double, String)] = [
            ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 9.3, "CVSS-B"),
            ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U/CR:L", 8.0, "CVSS-BTE"),
            ("CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:P", 7.1, "CVSS-BT"),
            ("CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:P/VC:L/VI:L/VA:N/SC:L/SI:L/SA:N/MSI:S", 6.8, "CVSS-BE"),
            ("CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N", 1.0, "CVSS-B"),
            ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N/E:X/U:Red", 0, "CVSS-B"),
        ]
        for (vector, score, name) in cases {
            let scored = CVSS.score40(vector)
            #expect(scored?.score == score && scored?.nomenclature == name, "\(vector)")
        }
        #expect(CVSS.score40("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H") == nil)
        #expect(CVSS.score40("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H") == nil)
    }
}
