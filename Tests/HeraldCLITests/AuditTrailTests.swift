import Foundation
import Testing

/// Every change made through the CLI leaves one audit row, named for what happened.
@Suite struct AuditTrailTests {
    @Test func everyChangeWritesOneAuditRowAndRefusalsWriteNone() throws {
        let sandbox = try Sandbox()
        var expected: [String] = []
        /// Runs a change that must succeed and leave exactly `action` behind.
        func change(_ action: String, _ arguments: String...) throws {
            let result = try sandbox.herald(arguments: arguments)
            #expect(result.status == 0, "\(arguments): \(result)")
            expected.append(action)
            #expect(try sandbox.auditActions() == expected, "after \(arguments.joined(separator: " "))")
        }
        /// Runs a command that must be refused and leave the audit log as it was.
        func refused(_ arguments: String...) throws {
            let result = try sandbox.herald(arguments: arguments)
            #expect(result.status == 2, "\(arguments): \(result)")
            #expect(
                try sandbox.auditActions() == expected, "a refusal is not audited: \(arguments.joined(separator: " "))")
        }

        try change("token.create", "token", "create", "--name", "ci", "--role", "admin")
        try change("token.revoke", "token", "revoke", "ci")
        try change("project.add", "project", "add", "demo", "--name", "Demo", "--timezone", "Europe/Amsterdam")
        try refused("project", "add", "demo", "--name", "Again")
        try change(
            "provider.add", "provider", "add", "--organization", "Acme", "--email", "sec@acme.example", "--project",
            "demo")
        try change("provider.approve", "provider", "approve", "1")
        try change("provider.suspend", "provider", "suspend", "1", "--reason", "bounced")
        try change("provider.remove", "provider", "remove", "1")
        try refused("provider", "approve", "1")
        let csv = try sandbox.write(
            "list.csv", "organization,email,project\nBeta,sec@beta.example,demo\nBeta,noc@beta.example,demo\n")
        try change("provider.import", "provider", "import", csv)
        try change(
            "channel.add", "channel", "add", "--project", "demo", "--kind", "email", "--target",
            "announce@lists.example")
        try change("channel.remove", "channel", "remove", "1")
        try change(
            "advisory.create", "advisory", "create", "--project", "demo", "--title", "Overflow", "--embargo",
            HeraldProcess.instant(daysFromNow: 3))
        try change(
            "advisory.reschedule", "advisory", "reschedule", "1", "--embargo", HeraldProcess.instant(daysFromNow: 4),
            "--reason", "distros")
        try change("advisory.revise", "advisory", "revise", "1", "--title", "Heap overflow", "--reason", "precision")
        try refused("advisory", "publish", "1", "--reason", "leak")
        try change("advisory.publish", "advisory", "publish", "1", "--now", "--reason", "leak")
        try refused("advisory", "cancel", "1", "--reason", "too late")
        try change("advisory.create", "advisory", "create", "--project", "demo", "--title", "Draft")
        try change("advisory.cancel", "advisory", "cancel", "2", "--reason", "not a bug")

        let rows = try sandbox.rows("SELECT action, actor, subject_type, at FROM audit ORDER BY id")
        #expect(
            Set(rows.compactMap { $0["action"] as? String }) == [
                "token.create", "token.revoke", "project.add", "provider.add", "provider.approve", "provider.suspend",
                "provider.remove",
                "provider.import", "channel.add", "channel.remove", "advisory.create", "advisory.reschedule",
                "advisory.revise",
                "advisory.publish", "advisory.cancel",
            ])
        #expect(rows.allSatisfy { ($0["actor"] as? String)?.hasPrefix("cli:") == true }, "\(rows)")
        #expect(
            rows.allSatisfy {
                ($0["action"] as? String)?.hasPrefix(($0["subject_type"] as? String ?? "?") + ".") == true
            },
            "subject type matches the action: \(rows)")
        let times = rows.compactMap { $0["at"] as? Int }
        #expect(times.count == rows.count && times == times.sorted(), "audit times are recorded and in order")
    }

    @Test func theAuditCommandFiltersByAdvisoryActorAndTime() throws {
        let sandbox = try Sandbox()
        try sandbox.succeed("project", "add", "demo", "--name", "Demo")
        let csv = try sandbox.write(
            "list.csv", "organization,email,project\nBeta Hosting,sec@beta.example,demo\nGamma,sec@gamma.example,demo\n"
        )
        try sandbox.succeed("provider", "import", csv)
        try sandbox.succeed(
            "advisory", "create", "--project", "demo", "--title", "First", "--embargo",
            HeraldProcess.instant(daysFromNow: 3))
        try sandbox.succeed(
            "advisory", "create", "--project", "demo", "--title", "Second", "--embargo",
            HeraldProcess.instant(daysFromNow: 3))
        try sandbox.succeed(
            "advisory", "reschedule", "1", "--embargo", HeraldProcess.instant(daysFromNow: 4), "--reason", "distros")
        // Written by someone else (the API, say) an hour ago.
        _ = try sandbox.sqlite(
            "INSERT INTO audit (at, actor, action, subject_type, subject_id) VALUES (strftime('%s','now') * 1000 - 3600000, 'token:ci', 'advisory.revise', 'advisory', 2)"
        )

        func entries(_ arguments: String...) throws -> [[String: Any]] {
            let result = try sandbox.herald(arguments: ["audit", "--json"] + arguments)
            #expect(result.status == 0, "\(result)")
            return try #require(try sandbox.json(result.stdout) as? [[String: Any]], "\(result)")
        }
        #expect(
            try entries("--advisory", "1").compactMap { $0["action"] as? String } == [
                "advisory.reschedule", "advisory.create",
            ])
        #expect(try entries("--actor", "token:ci").compactMap { $0["subject_id"] as? Int } == [2])
        #expect(try entries("--actor", "token:*").count == 1)
        #expect(try entries("--actor", "cli:%").isEmpty, "a % is the user's text, not a wildcard")
        let recent = try entries("--since", HeraldProcess.instant(daysFromNow: -0.01))
        #expect(!recent.isEmpty && !recent.contains { $0["actor"] as? String == "token:ci" }, "\(recent)")
        // Details are JSON objects, and the import names what it added.
        let imported = try #require(try entries().first { $0["action"] as? String == "provider.import" })
        let details = try #require(imported["details"] as? [String: Any], "\(imported)")
        #expect(
            (details["added"] as? String)?.contains("Beta Hosting") == true
                && (details["added"] as? String)?.contains("Gamma") == true)
        // The table labels its times as UTC.
        let table = try sandbox.succeed("audit", "--advisory", "1")
        #expect(table.stdout.contains(" UTC") && table.stdout.contains("advisory.reschedule"), "\(table)")
        try sandbox.refuse(["audit", "--advisory", "99"], naming: "advisory")
    }
}
