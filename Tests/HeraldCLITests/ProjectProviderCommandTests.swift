import Foundation
import Testing

/// `herald project add | list` and `herald provider add | list | approve | suspend | remove`.
@Suite struct ProjectProviderCommandTests {
    @Test func projectAddThenListAsTableAndJSON() throws {
        let sandbox = try Sandbox()
        let added = try sandbox.herald(
            "project", "add", "openfoo", "--name", "Open Foo", "--timezone", "Europe/Amsterdam", "--max-embargo-days",
            "30")
        #expect(added.status == 0, "\(added)")
        #expect(added.stdout.contains("openfoo"), "\(added)")
        try sandbox.succeed("project", "add", "bar-lib", "--name", "Bar Lib")

        let stored = try sandbox.rows("SELECT slug, name, timezone, max_embargo_days FROM projects ORDER BY id")
        #expect(stored.count == 2)
        #expect(stored.first?["slug"] as? String == "openfoo")
        #expect(stored.first?["name"] as? String == "Open Foo")
        #expect(stored.first?["timezone"] as? String == "Europe/Amsterdam")
        #expect(stored.first?["max_embargo_days"] as? Int == 30)
        #expect(stored.last?["timezone"] as? String == "UTC", "default zone")
        #expect(stored.last?["max_embargo_days"] as? Int == 14, "default embargo limit")

        let table = try sandbox.herald("project", "list")
        #expect(table.status == 0)
        let lines = table.stdout.split(separator: "\n")
        #expect(lines.count == 3, "a header and a row per project: \(table)")
        #expect(lines.first?.contains("SLUG") == true)
        #expect(
            lines.contains {
                $0.contains("openfoo") && $0.contains("Open Foo") && $0.contains("Europe/Amsterdam")
                    && $0.contains("30")
            }, "\(table)")
        #expect(lines.contains { $0.contains("bar-lib") && $0.contains("UTC") && $0.contains("14") }, "\(table)")

        let json = try sandbox.herald("project", "list", "--json")
        #expect(json.status == 0)
        let projects = try #require(try sandbox.json(json.stdout) as? [[String: Any]])
        #expect(projects.count == 2)
        let openfoo = try #require(projects.first { $0["slug"] as? String == "openfoo" })
        #expect(openfoo["name"] as? String == "Open Foo")
        #expect(openfoo["timezone"] as? String == "Europe/Amsterdam")
        #expect(openfoo["max_embargo_days"] as? Int == 30)
        #expect(try sandbox.auditActions() == ["project.add", "project.add"])
    }

    @Test(arguments: [
        (["project", "add", "Bad_Slug", "--name", "X"], "slug"),
        (["project", "add", "trailing-", "--name", "X"], "slug"),
        (["project", "add", "ok", "--name", "X", "--timezone", "Mars/Olympus"], "timezone"),
        (["project", "add", "ok", "--name", "X", "--max-embargo-days", "0"], "max-embargo-days"),
        (["project", "add", "ok", "--name", "X", "--max-embargo-days", "91"], "max-embargo-days"),
        (["project", "add", "taken", "--name", "Again"], "slug"),
    ])
    func badProjectInputExitsTwoNamingTheFieldAndWritesNothing(arguments: [String], field: String) throws {
        let sandbox = try Sandbox()
        try sandbox.succeed("project", "add", "taken", "--name", "Taken")
        let before = try sandbox.count("audit")

        let result = try sandbox.refuse(arguments, naming: field)
        #expect(result.stdout.isEmpty, "\(result)")
        #expect(try sandbox.count("projects") == 1)
        #expect(try sandbox.count("audit") == before)
    }

    @Test func providerAddIsPendingUnlessApproved() throws {
        let sandbox = try Sandbox()
        try sandbox.succeed("project", "add", "demo", "--name", "Demo")
        try sandbox.succeed("project", "add", "other", "--name", "Other")

        let pending = try sandbox.herald(
            "provider", "add", "--organization", "Acme Hosting", "--email", "sec@acme.example",
            "--email", "noc@acme.example", "--project", "demo", "--project", "other")
        #expect(pending.status == 0, "\(pending)")
        #expect(pending.stdout.contains("pending-approval"), "\(pending)")
        let active = try sandbox.herald(
            "provider", "add", "--organization", "Beta Cloud", "--email", "psirt@beta.example",
            "--project", "demo", "--approve")
        #expect(active.status == 0, "\(active)")
        #expect(active.stdout.contains("active"), "\(active)")

        let stored = try sandbox.rows(
            """
            SELECT p.organization, p.status,
                   (SELECT count(*) FROM provider_contacts c WHERE c.provider_id = p.id) AS emails,
                   (SELECT count(*) FROM subscriptions s WHERE s.provider_id = p.id) AS projects
            FROM providers p ORDER BY p.id
            """)
        #expect(stored.count == 2)
        #expect(stored.first?["organization"] as? String == "Acme Hosting")
        #expect(stored.first?["status"] as? String == "pending-approval")
        #expect(stored.first?["emails"] as? Int == 2)
        #expect(stored.first?["projects"] as? Int == 2)
        #expect(stored.last?["status"] as? String == "active")

        let listed = try #require(
            try sandbox.json(try sandbox.herald("provider", "list", "--json").stdout) as? [[String: Any]])
        #expect(listed.count == 2)
        let onlyActive = try #require(
            try sandbox.json(try sandbox.herald("provider", "list", "--status", "active", "--json").stdout)
                as? [[String: Any]])
        #expect(onlyActive.compactMap { $0["organization"] as? String } == ["Beta Cloud"])
        let table = try sandbox.herald("provider", "list")
        #expect(table.stdout.contains("Acme Hosting") && table.stdout.contains("sec@acme.example"), "\(table)")
    }

    @Test func providerLifecycleTransitionsWithAnAuditRowEach() throws {
        let sandbox = try Sandbox()
        try sandbox.succeed("project", "add", "demo", "--name", "Demo")
        try sandbox.succeed(
            "provider", "add", "--organization", "Acme", "--email", "sec@acme.example", "--project", "demo")
        func status() throws -> String { try sandbox.sqlite("SELECT status FROM providers WHERE id = 1") }

        #expect(try status() == "pending-approval")
        let approved = try sandbox.herald("provider", "approve", "1")
        #expect(approved.status == 0, "\(approved)")
        #expect(approved.stdout.contains("active"))
        #expect(try status() == "active")

        let suspended = try sandbox.herald("provider", "suspend", "1", "--reason", "mail bounced")
        #expect(suspended.status == 0, "\(suspended)")
        #expect(try status() == "suspended")

        #expect(
            try sandbox.herald("provider", "approve", "1").status == 0, "a suspended provider can be approved again")
        #expect(try status() == "active")

        let removed = try sandbox.herald("provider", "remove", "1")
        #expect(removed.status == 0, "\(removed)")
        #expect(try status() == "removed")
        #expect(
            try sandbox.herald("provider", "list", "--json").stdout.contains("Acme") == false,
            "removed providers are hidden by default")

        let auditBefore = try sandbox.count("audit")
        let illegal = try sandbox.herald("provider", "approve", "1")
        #expect(illegal.status == 2, "\(illegal)")
        #expect(illegal.stderrLines.count == 1, "\(illegal)")
        #expect(illegal.stderr.contains("removed"), "names the current state: \(illegal)")
        #expect(
            illegal.stderr.contains("allowed") && illegal.stderr.contains("pending-approval")
                && illegal.stderr.contains("suspended"),
            "names the states approve is allowed from: \(illegal)")
        #expect(try status() == "removed")
        #expect(try sandbox.count("audit") == auditBefore, "a refusal writes no audit row")

        let missing = try sandbox.herald("provider", "suspend", "42")
        #expect(missing.status == 2, "\(missing)")
        #expect(missing.stderr.contains("42"), "\(missing)")

        let providerAudit = try sandbox.rows(
            "SELECT action, subject_id, reason FROM audit WHERE subject_type = 'provider' ORDER BY id")
        #expect(
            providerAudit.compactMap { $0["action"] as? String }
                == ["provider.add", "provider.approve", "provider.suspend", "provider.approve", "provider.remove"])
        #expect(providerAudit.allSatisfy { $0["subject_id"] as? Int == 1 })
        #expect(
            providerAudit.first { $0["action"] as? String == "provider.suspend" }?["reason"] as? String
                == "mail bounced")
        #expect(
            try sandbox.count("audit", where: "actor LIKE 'cli:%'") == sandbox.count("audit"),
            "the CLI audits as cli:USER")
    }

    @Test func aDuplicateOrganisationIsRefused() throws {
        let sandbox = try Sandbox()
        try sandbox.succeed("project", "add", "demo", "--name", "Demo")
        try sandbox.succeed(
            "provider", "add", "--organization", "Acme", "--email", "sec@acme.example", "--project", "demo", "--approve"
        )
        let before = try sandbox.count("audit")

        try sandbox.refuse(
            ["provider", "add", "--organization", "ACME", "--email", "other@acme.example", "--project", "demo"],
            naming: "organization")
        #expect(try sandbox.count("providers") == 1)
        #expect(try sandbox.count("provider_contacts") == 1)
        #expect(try sandbox.count("audit") == before)
    }

    @Test func approvingALookAlikeNameNeedsToBeSaidOutright() throws {
        let sandbox = try Sandbox()
        try sandbox.succeed("project", "add", "demo", "--name", "Demo")
        try sandbox.succeed(
            "provider", "add", "--organization", "Company Hosting", "--email", "sec@company.example", "--project",
            "demo", "--approve")
        // "Сompany" with a Cyrillic С, from the public form or a release manager's typo.
        try sandbox.succeed(
            "provider", "add", "--organization", "\u{0421}ompany Hosting", "--email", "sec@c0mpany.example",
            "--project", "demo")
        let listed = try sandbox.succeed("provider", "list")
        #expect(listed.stdout.contains("looks like: Company Hosting"), "\(listed)")
        try sandbox.refuse(["provider", "approve", "2"], naming: "organization")
        #expect(try sandbox.sqlite("SELECT status FROM providers WHERE id = 2") == "pending-approval")
        try sandbox.succeed("provider", "approve", "2", "--despite-look-alike", "--reason", "checked by phone")
        #expect(try sandbox.sqlite("SELECT status FROM providers WHERE id = 2") == "active")
    }

    @Test func aRequestBlocksNoOneButItsApprovalIsRefusedWhenTheNameIsAMembers() throws {
        // A request, even one confirmed from an attacker's own mailbox, must not block the real
        // organisation; approving a duplicate is what is refused, where a release manager sees it.
        let sandbox = try Sandbox()
        try sandbox.succeed("project", "add", "demo", "--name", "Demo")
        try sandbox.succeed(
            "provider", "add", "--organization", "Dimpact", "--email", "evil@attacker.example", "--project", "demo")
        try sandbox.succeed(
            "provider", "add", "--organization", "DIMPACT", "--email", "security@dimpact.example", "--project", "demo",
            "--approve")
        try sandbox.refuse(["provider", "approve", "1"], naming: "organization")
        #expect(try sandbox.sqlite("SELECT status FROM providers WHERE id = 1") == "pending-approval")
    }

    @Test(arguments: [
        (["--organization", "Acme", "--email", "sec@acme.example", "--project", "ghost"], "project"),
        (
            ["--organization", "Acme", "--email", "sec@acme.example", "--project", "demo", "--project", "ghost"],
            "project"
        ),
        (["--organization", "Acme", "--email", "not-an-address", "--project", "demo"], "email"),
        (
            [
                "--organization", "Acme", "--email", "sec@acme.example", "--webhook", "ftp://acme.example/x",
                "--project", "demo",
            ], "webhook"
        ),
        (
            ["--organization", "Acme", "--email", "sec@acme.example", "--project", "demo", "--webhook-kind", "pager"],
            "webhook-kind"
        ),
    ])
    func badProviderInputExitsTwoAndWritesNothing(arguments: [String], field: String) throws {
        let sandbox = try Sandbox()
        try sandbox.succeed("project", "add", "demo", "--name", "Demo")
        try sandbox.refuse(["provider", "add"] + arguments, naming: field)
        for table in ["providers", "provider_contacts", "provider_webhooks", "subscriptions"] {
            #expect(try sandbox.count(table) == 0, "\(table) is empty after \(arguments)")
        }
        #expect(try sandbox.auditActions() == ["project.add"])
    }

    @Test func providersCanBeMaintainedWithEdit() throws {
        let sandbox = try Sandbox()
        try sandbox.succeed("project", "add", "demo", "--name", "Demo")
        try sandbox.succeed("project", "add", "other", "--name", "Other")
        try sandbox.succeed(
            "provider", "add", "--organization", "Acme", "--email", "a@acme.example", "--webhook",
            "https://old.acme.example/hook",
            "--project", "demo", "--approve")
        // A delivery that failed for good to the old URL.
        _ = try sandbox.sqlite(
            """
            INSERT INTO notices (id, kind, revision, recipients, created_at, key) VALUES (1, 'welcome', 0, 1, 0, 'k');
            INSERT INTO payloads (id, body) VALUES (1, X'7B7D');
            INSERT INTO deliveries (notice_id, provider_id, transport, format, recipient, host, message_id, payload_id, state, attempts, next_attempt_at, created_at)
                VALUES (1, 1, 'webhook', 'webhook', 'https://old.acme.example/hook', 'old.acme.example', 'm1', 1, 'dead', 9, 0, 0);
            """)
        let edited = try sandbox.succeed(
            "provider", "edit", "1", "--organization", "Acme Cloud", "--add-email", "b@acme.example",
            "--remove-email", "a@acme.example", "--replace-webhook",
            "https://old.acme.example/hook=https://new.acme.example/hook",
            "--add-project", "other", "--listed", "yes", "--reason", "their new endpoint")
        #expect(edited.stdout.contains("edited provider 1 (Acme Cloud)"), "\(edited)")
        let row = try sandbox.rows("SELECT organization, listed FROM providers").first
        #expect(row?["organization"] as? String == "Acme Cloud" && row?["listed"] as? Int == 1)
        #expect(try sandbox.sqlite("SELECT group_concat(email) FROM provider_contacts") == "b@acme.example")
        #expect(try sandbox.sqlite("SELECT url FROM provider_webhooks") == "https://new.acme.example/hook")
        // The failed delivery goes again, to the new URL.
        #expect(
            try sandbox.sqlite("SELECT state || ' ' || recipient || ' ' || attempts FROM deliveries")
                == "pending https://new.acme.example/hook 0")
        #expect(try sandbox.sqlite("SELECT count(*) FROM subscriptions") == "2")
        #expect(try sandbox.auditActions().last == "provider.edit")
        // Filters: by project and status.
        let listed = try sandbox.succeed("provider", "list", "--project", "other", "--status", "active", "--json")
        #expect((try sandbox.json(listed.stdout) as? [[String: Any]])?.count == 1)
        // Refusals name their field and change nothing.
        let before = try sandbox.auditActions()
        try sandbox.refuse(["provider", "edit", "1", "--remove-email", "b@acme.example"], naming: "remove-email")
        try sandbox.refuse(["provider", "edit", "1", "--remove-project", "ghost"], naming: "remove-project")
        try sandbox.refuse(["provider", "edit", "1"], naming: "edit")
        #expect(try sandbox.auditActions() == before)
    }

    @Test func anEditMergesRepeatsAndRefusesAReplacementThatExists() throws {
        let sandbox = try Sandbox()
        try sandbox.succeed("project", "add", "demo", "--name", "Demo")
        try sandbox.succeed(
            "provider", "add", "--organization", "Acme", "--email", "a@acme.example", "--webhook",
            "https://acme.example/one",
            "--webhook", "https://acme.example/two", "--project", "demo", "--approve")
        try sandbox.succeed(
            "provider", "edit", "1", "--add-email", "d@acme.example", "--add-email", "D@acme.example",
            "--add-webhook", "https://acme.example/three", "--add-webhook", "https://acme.example/three")
        #expect(try sandbox.sqlite("SELECT count(*) FROM provider_contacts") == "2")
        #expect(try sandbox.sqlite("SELECT count(*) FROM provider_webhooks") == "3")
        try sandbox.refuse(
            ["provider", "edit", "1", "--replace-webhook", "https://acme.example/one=https://acme.example/two"],
            naming: "replace-webhook")
        #expect(try sandbox.sqlite("SELECT count(*) FROM provider_webhooks") == "3")
    }

    @Test func providerListSaysWhoLeftByThemselvesThisWeek() throws {
        let sandbox = try Sandbox()
        try sandbox.succeed("project", "add", "demo", "--name", "Demo")
        try sandbox.succeed(
            "provider", "add", "--organization", "Acme", "--email", "a@acme.example", "--email", "b@acme.example",
            "--project", "demo",
            "--approve")
        // What a one-click unsubscribe writes (the link itself is tested in SubscriptionStoreTests).
        _ = try sandbox.sqlite(
            """
            INSERT INTO audit (at, actor, action, subject_type, subject_id, reason, details)
            VALUES (strftime('%s','now') * 1000, 'subscriber', 'provider.contact-remove', 'provider', 1, 'unsubscribed', '{"email":"b@acme.example"}')
            """)
        let listed = try sandbox.succeed("provider", "list")
        #expect(
            listed.stdout.contains("Left by themselves in the last 7 days:")
                && listed.stdout.contains("address b@acme.example of provider 1"),
            "\(listed)")
    }
}
