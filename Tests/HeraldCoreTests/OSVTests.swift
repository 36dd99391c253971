import HeraldCore
import Testing

/// The words release managers type for affected versions, read as OSV's range events, and
/// matched the way a scanner does.
@Suite struct OSVTests {
    @Test(arguments: [
        ("1.0.0 to 1.4.2", "1.4.3", "SEMVER", ["introduced 1.0.0", "fixed 1.4.3"]),
        ("1.0.0 to 1.4.2", "", "SEMVER", ["introduced 1.0.0", "last_affected 1.4.2"]),
        ("< 2.3", "", "ECOSYSTEM", ["introduced 0", "fixed 2.3"]),
        ("<= 2.3.1", "", "SEMVER", ["introduced 0", "last_affected 2.3.1"]),
        (">= 3.0.0", "3.2.1", "SEMVER", ["introduced 3.0.0", "fixed 3.2.1"]),
        ("", "1.4.3", "SEMVER", ["introduced 0", "fixed 1.4.3"]),
    ])
    func wordsBecomeEvents(affected: String, fixed: String, type: String, events: [String]) throws {
        let range = try #require(AffectedRange.read(affected: affected, fixed: fixed))
        #expect(range.type == type)
        #expect(range.events.map { "\($0.kind) \($0.version)" } == events)
    }

    @Test func wordsItCannotReadGiveNoRangeRatherThanAWrongOne() {
        #expect(AffectedRange.read(affected: "all versions before the spring release", fixed: "") == nil)
        #expect(AffectedRange.read(affected: "1.0 to 1.4", fixed: "the next release") == nil)
    }

    @Test func aScannerMatchesInsideAndNotOutside() throws {
        let range = try #require(AffectedRange.read(affected: "1.0.0 to 1.4.2", fixed: "1.4.3"))
        for inside in ["1.0.0", "1.2.9", "1.4.2", "1.10.0"] where inside != "1.10.0" {
            #expect(range.contains(inside), "\(inside)")
        }
        for outside in ["0.9.9", "1.4.3", "1.10.0", "2.0.0"] { #expect(!range.contains(outside), "\(outside)") }
        let open = try #require(AffectedRange.read(affected: ">= 3.0.0", fixed: ""))
        #expect(open.contains("9.9.9") && !open.contains("2.9.9"))
    }

    @Test func packagesAndReferencesAreOSVsOwn() {
        #expect(throws: Refusal.self) { try Package(ecosystem: "pypi", name: "open-zaak") }
        #expect(throws: Never.self) { try Package(ecosystem: "PyPI", name: "open-zaak") }
        #expect(throws: Refusal.self) { try Reference("PATCH=https://example.org/x") }
        #expect(throws: Refusal.self) { try Reference("FIX=javascript:alert(1)") }
        #expect((try? Reference("fix=https://example.org/commit/1"))?.type == "FIX")
        #expect(OSV.id("demo-2026-abc123").hasPrefix("x_"))
    }

    @Test(arguments: ["1.0-2.0", "1.4.2", "2.x", "1.0 to 1.4.x"])
    func aRangeItCannotReadExactlyGivesNone(affected: String) {
        // Each of these was once read as a range that matched the wrong versions.
        #expect(AffectedRange.read(affected: affected, fixed: "") == nil, "\(affected)")
    }

    @Test func anEndBeforeItsStartIsNoRange() {
        #expect(AffectedRange.read(affected: "2.0 to 2.3", fixed: "1.9.8") == nil)
        #expect(AffectedRange.read(affected: "1.0.0-rc1 to 1.4.2", fixed: "")?.events.first?.version == "1.0.0-rc1")
    }

    @Test func cvssVectorsAreKeptInTheSpecificationsOrder() throws {
        // OSV's schema accepts CVSS 4.0 vectors in the specification's order only.
        #expect(
            try CVSS.validate("CVSS:4.0/AC:L/AV:N/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:A")
                == "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:A")
        #expect(
            try CVSS.validate("CVSS:3.1/C:H/AV:N/AC:L/PR:N/UI:N/S:U/I:H/A:H")
                == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
    }
}
