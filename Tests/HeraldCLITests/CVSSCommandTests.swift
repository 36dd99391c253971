import Foundation
import Testing

/// `herald cvss`: the console's score, from the command line, with no database.
@Suite struct CVSSCommandTests {
    @Test func scoresVectorsGivenOrReadAndRefusesABadLineByItsNumber() throws {
        let sandbox = try Sandbox()
        let given = try sandbox.herald(
            arguments: [
                "cvss", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                "CVSS:4.0/SA:N/SI:N/SC:N/VA:H/VI:H/VC:H/UI:N/PR:N/AT:N/AC:L/AV:N/E:U",
            ], database: false)
        #expect(given.status == 0, "\(given)")
        let lines = given.stdout.split(separator: "\n").map {
            $0.split(separator: " ", omittingEmptySubsequences: true)
        }
        #expect(lines.count == 3, "\(given)")
        #expect(
            lines.dropFirst().first?.map(String.init) == [
                "9.8", "critical", "base", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            ])
        // In the specification's order, scored with its threat metric: E:U lowers 9.3 to 8.1.
        #expect(
            lines.last?.map(String.init)
                == ["8.1", "high", "CVSS-BT", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U"],
            "\(given)")

        let read = try sandbox.herald(
            arguments: ["cvss", "--json"],
            stdin: "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N\n\n", database: false)
        let scored = try #require(try sandbox.json(read.stdout) as? [[String: Any]], "\(read)")
        #expect(scored.count == 1 && scored.first?["score"] as? Double == 9.3, "\(read)")

        let bad = try sandbox.herald(
            arguments: ["cvss"], stdin: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\nCVSS:4.0/AV:X\n", database: false
        )
        #expect(bad.status == 2 && bad.stdout.isEmpty, "\(bad)")
        #expect(bad.stderr.hasPrefix("herald: line 2: cvss:"), "\(bad)")
    }
}
