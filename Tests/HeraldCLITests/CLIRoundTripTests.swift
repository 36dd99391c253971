import Foundation
import Testing

/// The release manager's CLI through the built binary: real files, real exit codes.
@Suite struct CLIRoundTripTests {
    @Test func migrateCreatesTheDatabaseAndARerunIsANoOp() throws {
        let cli = try CLIHarness()
        let first = try cli.herald("migrate")
        #expect(first.status == 0)
        #expect(first.out.contains("applied 0001_initial"))
        let second = try cli.herald("migrate")
        #expect(second.out.contains("up to date"))
        #expect(try cli.sql("SELECT count(*) FROM schema_migrations") == "3")
    }

    @Test func tokensArePrintedOnceAndStoredOnlyAsTheirHash() throws {
        let cli = try CLIHarness()
        let created = try cli.herald("token", "create", "--name", "alice", "--role", "admin")
        #expect(created.status == 0)
        let token = created.out.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(token.hasPrefix("hrld_") && token.count >= 48)
        #expect(created.err.contains("shown only this once"))
        let hashed = try cli.sql("SELECT lower(hex(hash)) FROM tokens")
        let expected = try cli.sha256(token)
        #expect(hashed == expected)
        _ = try cli.sql("PRAGMA wal_checkpoint(FULL)")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: cli.database))
        #expect(bytes.range(of: Data(token.utf8)) == nil)
        let listed = try cli.herald("token", "list", "--json")
        #expect(listed.out.contains("alice") && !listed.out.contains(token))
        #expect(try cli.herald("token", "revoke", "alice").status == 0)
        #expect(try cli.sql("SELECT revoked_at IS NOT NULL FROM tokens") == "1")
        let bad = try cli.herald("token", "create", "--name", "bob", "--role", "root")
        #expect(bad.status == 2)
        #expect(bad.err.contains("role"))
        #expect(try cli.count("tokens") == 1)
    }

    @Test func badInputExitsTwoWithOneLineAndWritesNothing() throws {
        let cli = try CLIHarness()
        try cli.herald("project", "add", "demo", "--name", "Demo", "--timezone", "Europe/Amsterdam")
        let cases: [([String], String)] = [
            (["project", "add", "Bad_Slug", "--name", "x"], "slug"),
            (["project", "add", "ok", "--name", "x", "--timezone", "Mars/Olympus"], "timezone"),
            (["project", "add", "ok", "--name", "x", "--max-embargo-days", "0"], "max-embargo-days"),
            (["project", "add", "demo", "--name", "Again"], "slug"),
            (["provider", "add", "--organization", "Acme", "--email", "not-an-address", "--project", "demo"], "email"),
            (["provider", "add", "--organization", "Acme", "--email", "a@acme.example", "--project", "ghost"], "project"),
            (["channel", "add", "--project", "demo", "--kind", "fax", "--target", "x"], "kind"),
            (["channel", "add", "--project", "demo", "--kind", "slack", "--target", "not a url"], "target"),
            (["advisory", "create", "--project", "demo", "--title", "T", "--embargo", "2020-01-01T00:00:00Z"], "embargo"),
            (["advisory", "create", "--project", "demo", "--title", "T", "--embargo", CLIHarness.instant(30 * 86_400)], "embargo"),
            (["advisory", "create", "--project", "demo", "--title", "T", "--cve", "CVE-26-1"], "cve"),
            (["advisory", "create", "--project", "demo", "--title", "T", "--cvss", "CVSS:3.1/AV:N"], "cvss"),
            (["advisory", "create", "--project", "demo"], "title"),
            (["advisory", "show", "42"], "advisory 42"),
            (["advisory", "frobnicate"], "Unexpected argument"),
        ]
        let before = try ["projects", "providers", "channels", "advisories", "audit"].map { try cli.count($0) }
        for (arguments, field) in cases {
            let result = try cli.run(arguments, withDatabase: arguments[1] != "frobnicate")
            #expect(result.status == 2, "\(arguments): \(result.err)")
            #expect(result.err.contains(field), "\(arguments): \(result.err)")
            if arguments[0] != "advisory" || arguments[1] != "frobnicate" {
                #expect(result.err.trimmingCharacters(in: .newlines).split(separator: "\n").count == 1, "\(arguments): \(result.err)")
            }
        }
        #expect(try ["projects", "providers", "channels", "advisories", "audit"].map { try cli.count($0) } == before)
    }

    @Test func embargoInDSTGapOrOverlapIsRefusedByName() throws {
        let cli = try CLIHarness()
        try cli.herald("project", "add", "demo", "--name", "Demo", "--timezone", "Europe/Amsterdam", "--max-embargo-days", "90")
        let gap = try cli.herald("advisory", "create", "--project", "demo", "--title", "T", "--embargo", "2027-03-28 02:30 Europe/Amsterdam")
        #expect(gap.status == 2)
        #expect(gap.err.contains("does not exist") && gap.err.contains("daylight saving time begins"))
        let overlap = try cli.herald("advisory", "create", "--project", "demo", "--title", "T", "--embargo", "2026-10-25 02:30 Europe/Amsterdam")
        #expect(overlap.status == 2)
        #expect(overlap.err.contains("happens twice"))
        #expect(try cli.count("advisories") == 0)
    }

    @Test func providersGoThroughTheirLifecycleWithAnAuditRowEach() throws {
        let cli = try CLIHarness()
        try cli.herald("project", "add", "demo", "--name", "Demo")
        let added = try cli.herald("provider", "add", "--organization", "Acme Hosting", "--email", "sec@acme.example", "--email", "noc@acme.example",
                                   "--webhook", "https://hooks.acme.example/herald", "--project", "demo")
        #expect(added.status == 0)
        #expect(added.out.contains("pending-approval"))
        #expect(added.out.contains("whsec_"))
        #expect(try cli.herald("provider", "approve", "1").out.contains("is active"))
        #expect(try cli.herald("provider", "suspend", "1", "--reason", "contact bounced").out.contains("is suspended"))
        #expect(try cli.herald("provider", "remove", "1").out.contains("is removed"))
        let illegal = try cli.herald("provider", "approve", "1")
        #expect(illegal.status == 2)
        #expect(illegal.err.contains("is removed") && illegal.err.contains("only from"))
        #expect(try cli.sql("SELECT group_concat(action, ',') FROM (SELECT action FROM audit WHERE subject_type = 'provider' ORDER BY id)")
                == "provider.add,provider.approve,provider.suspend,provider.remove")
        #expect(try cli.sql("SELECT reason FROM audit WHERE action = 'provider.suspend'") == "contact bounced")
        let list = try cli.herald("provider", "list", "--status", "removed", "--json")
        #expect(list.out.contains("\"organization\" : \"Acme Hosting\""))
    }

    @Test func importIsAllOrNothingWithEveryBadLineNamed() throws {
        let cli = try CLIHarness()
        try cli.herald("project", "add", "demo", "--name", "Demo")
        let bad = try cli.write("bad.csv", """
            organization,email,project
            Acme,sec@acme.example,demo
            Beta,not-an-address,demo
            Gamma,g@gamma.example,ghost
            """)
        let refused = try cli.herald("provider", "import", bad)
        #expect(refused.status == 2)
        #expect(refused.err.contains("line 3: email") && refused.err.contains("line 4: project"))
        #expect(try cli.count("providers") == 0)
        let good = try cli.write("good.csv", "organization,email,project,webhook\nAcme,sec@acme.example,demo,\nacme,noc@acme.example,demo,https://acme.example/hook\nBeta,b@beta.example,demo,\n")
        let imported = try cli.herald("provider", "import", good)
        #expect(imported.status == 0, "\(imported.err)")
        #expect(imported.out.contains("imported 2 providers with 3 addresses"))
        #expect(try cli.sql("SELECT count(*) FROM providers WHERE status = 'active'") == "2")
    }

    @Test func tenThousandRowsImportInSeconds() throws {
        let cli = try CLIHarness()
        try cli.herald("project", "add", "demo", "--name", "Demo")
        var csv = "organization,email,project\n"
        for i in 0..<10_000 { csv += "Org \(i / 2),contact\(i)@org\(i / 2).example,demo\n" }
        let file = try cli.write("list.csv", csv)
        let start = ContinuousClock.now
        let result = try cli.herald("provider", "import", file)
        let elapsed = ContinuousClock.now - start
        #expect(result.status == 0)
        #expect(try cli.count("provider_contacts") == 10_000)
        #expect(elapsed < .seconds(10), "took \(elapsed)")
        print("herald provider import: 10,000 rows in \(elapsed)")
    }

    @Test func anAdvisoryRunsThroughItsLife() throws {
        let cli = try CLIHarness()
        try cli.herald("project", "add", "demo", "--name", "Demo", "--timezone", "Europe/Amsterdam")
        let body = try cli.write("advisory.md", "Full details.\nUpgrade.")
        let created = try cli.herald("advisory", "create", "--project", "demo", "--title", "Heap overflow", "--cve", "CVE-2026-1234",
                                     "--severity", "high", "--cvss", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "--body-file", body,
                                     "--embargo", CLIHarness.instant(3 * 86_400), "--early-notice", "now")
        #expect(created.status == 0, "\(created.err)")
        #expect(created.out.contains("scheduled, revision 1"))
        #expect(try cli.herald("advisory", "reschedule", "1", "--embargo", CLIHarness.instant(4 * 86_400), "--reason", "distros").out.contains("revision 2"))
        #expect(try cli.herald("advisory", "revise", "1", "--summary", "Better words", "--reason", "typo").out.contains("revision 3"))
        #expect(try cli.herald("advisory", "publish", "1", "--reason", "leak").status == 2)   // --now required
        #expect(try cli.herald("advisory", "publish", "1", "--now").status == 2)              // --reason required
        #expect(try cli.herald("advisory", "publish", "1", "--now", "--reason", "exploited in the wild").out.contains("published"))
        let cancel = try cli.herald("advisory", "cancel", "1", "--reason", "too late")
        #expect(cancel.status == 2)
        #expect(cancel.err.contains("is published") && cancel.err.contains("draft or scheduled"))
        let show = try cli.herald("advisory", "show", "1")
        #expect(show.out.contains("Heap overflow") && show.out.contains("Full details."))
        for action in ["advisory.create", "advisory.reschedule", "advisory.revise", "advisory.publish"] { #expect(show.out.contains(action)) }
        let json = try cli.herald("advisory", "list", "--json")
        #expect(json.out.contains("\"state\" : \"published\"") && json.out.contains("\"revision\" : 3"))
        let draft = try cli.herald("advisory", "create", "--project", "demo", "--title", "Draft")
        #expect(draft.out.contains("draft"))
        #expect(try cli.herald("advisory", "cancel", "2", "--reason", "not a bug").out.contains("cancelled"))
    }

    @Test func feedPrintsPublishedAdvisoriesOnly() throws {
        let cli = try CLIHarness()
        try cli.herald("project", "add", "demo", "--name", "Demo")
        try cli.herald("advisory", "create", "--project", "demo", "--title", "Public overflow", "--embargo", CLIHarness.instant(86_400))
        try cli.herald("advisory", "publish", "1", "--now", "--reason", "released")
        try cli.herald("advisory", "create", "--project", "demo", "--title", "Embargoed overflow", "--embargo", CLIHarness.instant(86_400))
        let atom = try cli.herald("feed", "atom")
        #expect(atom.status == 0)
        #expect(atom.out.hasPrefix("<?xml") && atom.out.contains("Public overflow") && !atom.out.contains("Embargoed"))
        let output = cli.directory.appending(path: "feed.json").path
        #expect(try cli.herald("feed", "json", "--output", output).status == 0)
        let json = try String(contentsOfFile: output, encoding: .utf8)
        #expect(json.contains("https://jsonfeed.org/version/1.1") && json.contains("Public overflow") && !json.contains("Embargoed"))
        #expect(try cli.herald("feed", "rss").out.contains("<rss version=\"2.0\""))
        #expect(try cli.herald("feed", "yaml").status == 2)
    }

    @Test func aLockedOrForeignDatabaseGetsAClearErrorNotACrash() throws {
        let cli = try CLIHarness()
        try cli.herald("migrate")
        // Another process holds the write lock for longer than herald waits (5 s).
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        holder.arguments = [cli.database]
        let input = Pipe()
        holder.standardInput = input
        holder.standardOutput = FileHandle.nullDevice
        try holder.run()
        input.fileHandleForWriting.write(Data("BEGIN IMMEDIATE;\nINSERT INTO projects (slug, name, timezone, max_embargo_days, created_at) VALUES ('x', 'x', 'UTC', 14, 0);\n".utf8))
        Thread.sleep(forTimeInterval: 0.5)
        let locked = try cli.herald("project", "add", "demo", "--name", "Demo")
        try input.fileHandleForWriting.close()
        holder.waitUntilExit()
        #expect(locked.status == 1)
        #expect(locked.err.contains("locked by another process"))

        let notDatabase = try cli.write("notes.sqlite", String(repeating: "plain text, not a database\n", count: 200))
        let foreign = try cli.herald("project", "list", "--database", notDatabase, withDatabase: false)
        #expect(foreign.status == 1)
        #expect(foreign.err.contains("is not a SQLite database"))
    }

    @Test func helpExplainsTheCommands() throws {
        let cli = try CLIHarness()
        let help = try cli.herald("--help", withDatabase: false)
        #expect(help.status == 0)
        for command in ["serve", "migrate", "token", "project", "provider", "channel", "advisory", "deliveries", "feed"] { #expect(help.out.contains(command)) }
        let create = try cli.herald("advisory", "create", "--help", withDatabase: false)
        for flag in ["--embargo", "--early-notice", "--pre-announce", "--cvss", "--body-file"] { #expect(create.out.contains(flag)) }
    }
}
