import Foundation
import Testing

/// `herald provider import FILE.csv`: all or nothing, every bad line named, imported as active.
@Suite struct ImportCommandTests {
    @Test func aGoodFileImportsEveryOrganisationAsActiveWithItsAddressesMerged() throws {
        let sandbox = try Sandbox()
        try sandbox.succeed("project", "add", "demo", "--name", "Demo")
        try sandbox.succeed("project", "add", "other", "--name", "Other")
        let file = try sandbox.write(
            "providers.csv",
            """
            organization,email,project,webhook
            Acme Hosting,sec@acme.example,demo,
            Acme Hosting,noc@acme.example,other,https://hooks.acme.example/herald
            Acme Hosting,ops@acme.example,demo,
            Beta Cloud,psirt@beta.example,demo,
            Gamma,security@gamma.example,other,

            """)

        let imported = try sandbox.herald("provider", "import", file)
        #expect(imported.status == 0, "\(imported)")
        #expect(imported.stdout.contains("3 providers") && imported.stdout.contains("5 addresses"), "\(imported)")

        let providers = try sandbox.rows(
            """
            SELECT p.organization, p.status,
                   (SELECT group_concat(email, ',') FROM (SELECT email FROM provider_contacts c WHERE c.provider_id = p.id ORDER BY email)) AS emails,
                   (SELECT group_concat(slug, ',') FROM (SELECT j.slug FROM subscriptions s JOIN projects j ON j.id = s.project_id
                                                          WHERE s.provider_id = p.id ORDER BY j.slug)) AS projects,
                   (SELECT count(*) FROM provider_webhooks w WHERE w.provider_id = p.id) AS webhooks
            FROM providers p ORDER BY p.organization
            """)
        #expect(providers.count == 3, "rows of one organisation merge into one provider: \(providers)")
        #expect(providers.allSatisfy { $0["status"] as? String == "active" }, "imported as approved: \(providers)")
        let acme = try #require(providers.first { $0["organization"] as? String == "Acme Hosting" })
        #expect(acme["emails"] as? String == "noc@acme.example,ops@acme.example,sec@acme.example")
        #expect(acme["projects"] as? String == "demo,other")
        #expect(acme["webhooks"] as? Int == 1)
        #expect(try sandbox.count("provider_contacts") == 5)
        #expect(try sandbox.count("audit", where: "action = 'provider.import'") == 1)

        let listed = try #require(
            try sandbox.json(try sandbox.herald("provider", "list", "--status", "active", "--json").stdout)
                as? [[String: Any]])
        #expect(listed.count == 3)
    }

    @Test func aFileWithBadLinesNamesEveryOneAndImportsNothing() throws {
        let sandbox = try Sandbox()
        try sandbox.succeed("project", "add", "demo", "--name", "Demo")
        let auditBefore = try sandbox.count("audit")
        let file = try sandbox.write(
            "providers.csv",
            """
            organization,email,project
            Acme,sec@acme.example,demo
            Beta,not-an-address,demo
            Gamma,security@gamma.example,demo
            Delta,psirt@delta.example,ghost
            Epsilon,sec@epsilon.example,demo

            """)

        let refused = try sandbox.herald("provider", "import", file)
        #expect(refused.status == 2, "\(refused)")
        #expect(refused.stderr.contains("line 3"), "the bad e-mail's line: \(refused)")
        #expect(refused.stderr.contains("line 4") == false, "a good line is not blamed: \(refused)")
        #expect(refused.stderr.contains("line 5"), "the unknown project's line: \(refused)")
        let lineThree = refused.stderrLines.first { $0.contains("line 3") }
        let lineFive = refused.stderrLines.first { $0.contains("line 5") }
        #expect(lineThree?.contains("email") == true, "\(refused)")
        #expect(lineFive?.contains("project") == true && lineFive?.contains("ghost") == true, "\(refused)")
        #expect(refused.stderr.contains("nothing imported"), "\(refused)")

        #expect(try sandbox.count("providers") == 0, "all or nothing")
        #expect(try sandbox.count("provider_contacts") == 0)
        #expect(try sandbox.count("subscriptions") == 0)
        #expect(try sandbox.count("audit") == auditBefore)
    }

    @Test func aListCanComeFromStandardInput() throws {
        let sandbox = try Sandbox()
        try sandbox.succeed("project", "add", "demo", "--name", "Demo")
        let imported = try sandbox.herald(
            "provider", "import", "-", stdin: "organization,email,project\nAcme,sec@acme.example,demo\n")
        #expect(imported.status == 0, "\(imported)")
        #expect(try sandbox.sqlite("SELECT organization || ':' || status FROM providers") == "Acme:active")
    }

    @Test func aMissingFileOrBadHeaderIsRefused() throws {
        let sandbox = try Sandbox()
        try sandbox.succeed("project", "add", "demo", "--name", "Demo")
        let missing = try sandbox.herald("provider", "import", sandbox.directory.appending(path: "nope.csv").path)
        #expect(missing.status == 2, "\(missing)")
        #expect(missing.stderr.contains("nope.csv"), "\(missing)")
        let header = try sandbox.write("header.csv", "name,mail,slug\nAcme,sec@acme.example,demo\n")
        let badHeader = try sandbox.herald("provider", "import", header)
        #expect(badHeader.status == 2, "\(badHeader)")
        #expect(try sandbox.count("providers") == 0)
    }

    @Test func tenThousandRowsImportInUnderTenSeconds() throws {
        let sandbox = try Sandbox()
        try sandbox.succeed("project", "add", "demo", "--name", "Demo")
        try sandbox.succeed("project", "add", "other", "--name", "Other")
        var csv = "organization,email,project,webhook\n"
        csv.reserveCapacity(600_000)
        for row in 0..<10_000 {
            let org = row / 4  // 2,500 organisations with four contacts each
            csv += "Provider \(org),contact\(row)@org\(org).example,\(row % 2 == 0 ? "demo" : "other"),"
            csv += row % 4 == 0 ? "https://hooks.org\(org).example/herald\n" : "\n"
        }
        let file = try sandbox.write("big.csv", csv)

        let start = ContinuousClock.now
        let result = try sandbox.herald("provider", "import", file)
        let elapsed = ContinuousClock.now - start
        print("herald provider import: 10,000 rows (2,500 providers) in \(elapsed)")

        #expect(result.status == 0, "\(result)")
        #expect(elapsed < .seconds(10), "10,000 rows took \(elapsed)")
        #expect(try sandbox.count("providers", where: "status = 'active'") == 2_500)
        #expect(try sandbox.count("provider_contacts") == 10_000)
        #expect(try sandbox.count("provider_webhooks") == 2_500)
        #expect(try sandbox.count("subscriptions") == 5_000)
    }

    @Test func aSpreadsheetExportImportsByHeaderNameInAnyOrderWithSemicolons() throws {
        let sandbox = try Sandbox()
        try sandbox.succeed("project", "add", "demo", "--name", "Demo")
        // As a Dutch spreadsheet saves it: semicolons, its own column order, yes/no in Dutch.
        let file = try sandbox.write(
            "export.csv",
            """
            Project;Language;E-mail;Listed;Organization
            demo;nl;cert@voorbeeld.example;ja;Gemeente Voorbeeld
            demo;nl;noc@voorbeeld.example;ja;Gemeente Voorbeeld
            demo;da;sikkerhed@aarhus.example;nej;Aarhus Kommune

            """.replacingOccurrences(of: "E-mail", with: "email"))
        try sandbox.succeed("provider", "import", file)
        let rows = try sandbox.rows("SELECT organization, listed, language FROM providers ORDER BY id")
        #expect(
            rows.map { "\($0["organization"]!) \($0["listed"]!) \($0["language"]!)" } == [
                "Gemeente Voorbeeld 1 nl", "Aarhus Kommune 0 da",
            ])
        let unknown = try sandbox.write("unknown.csv", "organization,email,project,fax\nA,a@a.example,demo,1\n")
        let refused = try sandbox.herald("provider", "import", unknown)
        #expect(
            refused.status == 2 && refused.stderr.contains("header") && refused.stderr.contains("'fax'"), "\(refused)")
    }

    @Test func syncBringsTheListUpToDateAllOrNothingAndSaysWhatItWouldDoFirst() throws {
        let sandbox = try Sandbox()
        try sandbox.succeed("project", "add", "demo", "--name", "Demo")
        try sandbox.succeed("project", "add", "other", "--name", "Other")
        try sandbox.succeed(
            "provider", "import",
            try sandbox.write(
                "first.csv",
                """
                organization,email,project
                Acme,a@acme.example,demo
                Beta,b@beta.example,demo
                Gone,g@gone.example,demo

                """))
        // A request waiting for approval is not the list's business.
        try sandbox.succeed(
            "provider", "add", "--organization", "Waiting", "--email", "w@waiting.example", "--project", "demo")
        let next = try sandbox.write(
            "next.csv",
            """
            organization,email,project,listed
            Acme,a@acme.example,demo,no
            Beta,b2@beta.example,other,yes
            New Hosting,n@new.example,demo,no

            """)
        let before = try sandbox.count("audit")
        let plan = try sandbox.succeed("provider", "import", next, "--sync", "--dry-run")
        for line in [
            "would add     New Hosting (n@new.example)",
            "would change  Beta: +b2@beta.example, -b@beta.example, +project other, -project demo, listed",
            "would remove  Gone", "would add 1, change 1, remove 1",
        ] {
            #expect(plan.stdout.contains(line), "\(line) in \(plan)")
        }
        #expect(!plan.stdout.contains("Acme") && !plan.stdout.contains("Waiting"), "\(plan)")
        #expect(try sandbox.count("audit") == before, "a dry run writes nothing")

        let done = try sandbox.succeed("provider", "import", next, "--sync")
        #expect(done.stdout.contains("synced: added 1, changed 1, removed 1"), "\(done)")
        let statuses = try sandbox.rows("SELECT organization, status FROM providers ORDER BY id").map {
            "\($0["organization"]!) \($0["status"]!)"
        }
        #expect(
            statuses == [
                "Acme active", "Beta active", "Gone removed", "Waiting pending-approval", "New Hosting active",
            ], "\(statuses)")
        #expect(
            try sandbox.sqlite("SELECT group_concat(email) FROM provider_contacts WHERE provider_id = 2")
                == "b2@beta.example")
        // All or nothing: a file with one bad line changes nothing.
        let bad = try sandbox.write(
            "bad.csv", "organization,email,project\nAcme,a@acme.example,demo\nBroken,not-an-address,demo\n")
        let refused = try sandbox.herald("provider", "import", bad, "--sync")
        #expect(refused.status == 2, "\(refused)")
        #expect(try sandbox.sqlite("SELECT count(*) FROM providers WHERE status = 'active'") == "3")
    }

    @Test func aSyncConcernsTheProjectsItsFileNamesAndOnlyTheColumnsItHas() throws {
        let sandbox = try Sandbox()
        try sandbox.succeed("project", "add", "alpha", "--name", "Alpha")
        try sandbox.succeed("project", "add", "beta", "--name", "Beta")
        try sandbox.succeed(
            "provider", "import",
            try sandbox.write(
                "all.csv",
                """
                organization;email;project;listed;language
                Shared;s@shared.example;alpha;yes;nl
                Shared;s@shared.example;beta;yes;nl
                Beta Only;b@beta.example;beta;no;da
                Alpha Only;a@alpha.example;alpha;no;en

                """))
        // Alpha's own list, as alpha's release managers keep it: no listed or language columns,
        // an empty spreadsheet row, and Excel's separator line.
        let alpha = try sandbox.write(
            "alpha.csv", "sep=;\norganization;email;project\nShared;s@shared.example;alpha\n;;\n")
        let done = try sandbox.succeed("provider", "import", alpha, "--sync")
        #expect(
            done.stdout.contains("remove  Alpha Only") && done.stdout.contains("synced: added 0, changed 0, removed 1"),
            "\(done)")
        let rows = try sandbox.rows(
            """
            SELECT p.organization, p.status, p.listed, p.language,
                   (SELECT group_concat(j.slug) FROM subscriptions s JOIN projects j ON j.id = s.project_id WHERE s.provider_id = p.id) AS projects
            FROM providers p ORDER BY p.id
            """
        ).map { "\($0["organization"]!) \($0["status"]!) \($0["listed"]!) \($0["language"]!) \($0["projects"] ?? "")" }
        #expect(
            rows == ["Shared active 1 nl alpha,beta", "Beta Only active 0 da beta", "Alpha Only removed 0 en alpha"],
            "\(rows)")
    }
}
