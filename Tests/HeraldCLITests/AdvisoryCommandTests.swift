import Foundation
import Testing

/// `herald advisory create | list | show | reschedule | revise | publish | cancel`.
@Suite struct AdvisoryCommandTests {
    /// A sandbox with project `demo` in Europe/Amsterdam and the default 14-day embargo limit.
    private func sandboxWithProject() throws -> Sandbox {
        let sandbox = try Sandbox()
        try sandbox.succeed("project", "add", "demo", "--name", "Demo", "--timezone", "Europe/Amsterdam")
        return sandbox
    }

    /// Milliseconds since the epoch, as the database stores instants.
    private func milliseconds(_ date: Date) -> Int { Int((date.timeIntervalSince1970 * 1000).rounded()) }

    @Test func readinessSaysWhoTakesPartAndReleaseManagersInviteAndExclude() throws {
        let sandbox = try sandboxWithProject()
        try sandbox.succeed("project", "add", "other", "--name", "Other")
        try sandbox.succeed(
            "provider", "add", "--organization", "Acme", "--email", "sec@acme.example", "--project", "other",
            "--approve")
        try sandbox.succeed(
            "advisory", "create", "--project", "demo", "--title", "Overflow", "--embargo",
            HeraldProcess.instant(daysFromNow: 2))
        #expect(try sandbox.succeed("advisory", "readiness", "1").stdout.contains("No participants yet"))
        // Acme follows another project: invited, it takes part all the same.
        #expect(
            try sandbox.succeed("advisory", "invite", "1", "--provider", "1").stdout
                .contains("provider 1 (Acme) takes part in advisory 1"))
        let table = try sandbox.succeed("advisory", "readiness", "1").stdout
        #expect(table.hasPrefix("1 participant · 0 notified · 0 seen · 0 acknowledged · 1 silent"), "\(table)")
        #expect(table.contains("Acme") && table.contains("invited"), "\(table)")
        try sandbox.refuse(["advisory", "exclude", "1", "--provider", "1", "--reason", " "], naming: "reason")
        try sandbox.refuse(["advisory", "invite", "1", "--provider", "99"], naming: "provider")
        try sandbox.succeed("advisory", "exclude", "1", "--provider", "1", "--reason", "told the press")
        let json = try #require(
            try sandbox.json(try sandbox.succeed("advisory", "readiness", "1", "--json").stdout) as? [String: Any])
        #expect(
            json["totals"] as? String
                == "0 participants · 0 notified · 0 seen · 0 acknowledged · 0 silent · 1 excluded",
            "\(json)")
        // `advisory show` starts with the totals.
        #expect(try sandbox.succeed("advisory", "show", "1").stdout.hasPrefix("participants: 0 participants"))
        #expect(try sandbox.auditActions().suffix(2) == ["advisory.invite", "advisory.exclude"])
    }

    @Test func createWithAnEmbargoAndEarlyNoticeNowIsScheduledAtRevisionOne() throws {
        let sandbox = try sandboxWithProject()
        let embargo = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 3 * 86_400).rounded(.down))
        let before = Date()
        let created = try sandbox.herald(
            "advisory", "create", "--project", "demo", "--title", "Heap overflow in the parser",
            "--summary", "A crafted header overflows a buffer.", "--cve", "CVE-2026-12345", "--severity", "high",
            "--embargo", HeraldProcess.rfc3339(embargo), "--early-notice", "now")
        let after = Date()
        #expect(created.status == 0, "\(created)")
        #expect(created.stdout.contains("scheduled") && created.stdout.contains("revision 1"), "\(created)")
        #expect(created.stdout.contains("Europe/Amsterdam"), "shown in the project's zone: \(created)")
        // "now" is the scheduler's to act on: the command says so rather than look as if it ignored it.
        #expect(
            created.stdout.contains("the early-notice is due now: herald serve sends it within a second"), "\(created)")

        let row = try #require(
            try sandbox.rows(
                "SELECT state, revision, title, severity, embargo_at, early_notice_at, public_id FROM advisories"
            ).first)
        #expect(row["state"] as? String == "scheduled")
        #expect(row["revision"] as? Int == 1)
        #expect(row["title"] as? String == "Heap overflow in the parser")
        #expect(row["severity"] as? String == "high")
        #expect(row["embargo_at"] as? Int == milliseconds(embargo), "stored as the UTC instant given")
        let early = try #require(row["early_notice_at"] as? Int)
        #expect(
            early >= milliseconds(before) - 1 && early <= milliseconds(after) + 1,
            "--early-notice now is the command's instant")
        #expect(try sandbox.sqlite("SELECT cve FROM advisory_cves") == "CVE-2026-12345")
        #expect(try sandbox.count("advisory_revisions") == 1)
        #expect(try sandbox.auditActions() == ["project.add", "advisory.create"])
    }

    @Test func aLocalTimeWithAZoneIsStoredAsItsUTCInstant() throws {
        let sandbox = try sandboxWithProject()
        let amsterdam = try #require(TimeZone(identifier: "Europe/Amsterdam"))
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = amsterdam
        let day = calendar.dateComponents([.year, .month, .day], from: Date().addingTimeInterval(3 * 86_400))
        var wallClock = day
        wallClock.hour = 17
        wallClock.minute = 0
        let expected = try #require(calendar.date(from: wallClock))
        let text = String(format: "%04d-%02d-%02d 17:00 Europe/Amsterdam", day.year!, day.month!, day.day!)

        let created = try sandbox.herald("advisory", "create", "--project", "demo", "--title", "T", "--embargo", text)
        #expect(created.status == 0, "\(text): \(created)")
        #expect(try sandbox.sqlite("SELECT embargo_at FROM advisories") == String(milliseconds(expected)), "\(text)")
    }

    @Test(arguments: [
        ("2027-03-28 02:30 Europe/Amsterdam", "does not exist", "daylight saving time begins"),
        ("2027-10-31 02:30 Europe/Amsterdam", "happens twice", "daylight saving time ends"),
    ])
    func aLocalTimeInADSTGapOrOverlapIsRefusedForThatReason(embargo: String, what: String, why: String) throws {
        // Both instants are months ahead, beyond the project's 14 days: the message must still be the DST
        // one, because the CLI parses --embargo (Instant.parse) before the store checks the embargo policy.
        let sandbox = try sandboxWithProject()
        let refused = try sandbox.refuse(
            ["advisory", "create", "--project", "demo", "--title", "T", "--embargo", embargo], naming: "embargo")
        #expect(refused.stderr.contains(what) && refused.stderr.contains(why), "\(refused)")
        #expect(!refused.stderr.contains("days after"), "the DST reason, not the policy: \(refused)")
        #expect(try sandbox.count("advisories") == 0)
        #expect(try sandbox.auditActions() == ["project.add"])
    }

    @Test func theOverlapMessageOffersBothReadings() throws {
        // The message tells the user to write the offset they mean, so it shows both.
        let sandbox = try Sandbox()
        try sandbox.succeed(
            "project", "add", "demo", "--name", "Demo", "--timezone", "Europe/Amsterdam", "--max-embargo-days", "90")
        let overlap = try sandbox.herald(
            "advisory", "create", "--project", "demo", "--title", "T", "--embargo", "2027-10-31 02:30 Europe/Amsterdam")
        #expect(overlap.status == 2, "\(overlap)")
        #expect(
            overlap.stderr.contains("+02:00") && overlap.stderr.contains("+01:00"), "offers both readings: \(overlap)")
    }

    @Test(arguments: [
        (-3_600.0, "not in the future"),
        (20 * 86_400.0, "14"),
    ])
    func anEmbargoInThePastOrBeyondTheProjectLimitIsRefused(offset: Double, says: String) throws {
        let sandbox = try sandboxWithProject()
        let instant = HeraldProcess.rfc3339(Date().addingTimeInterval(offset))
        let refused = try sandbox.refuse(
            ["advisory", "create", "--project", "demo", "--title", "T", "--embargo", instant], naming: "embargo")
        #expect(refused.stderr.contains(says), "\(refused)")
        #expect(try sandbox.count("advisories") == 0)
        #expect(try sandbox.count("advisory_revisions") == 0)
        #expect(try sandbox.auditActions() == ["project.add"])
    }

    @Test func malformedInstantsAndUnknownProjectsAreRefused() throws {
        let sandbox = try sandboxWithProject()
        let cases: [([String], String)] = [
            (["--project", "demo", "--title", "T", "--embargo", "next tuesday"], "embargo"),
            (["--project", "demo", "--title", "T", "--embargo", "2027-02-30T12:00:00Z"], "embargo"),
            (["--project", "demo", "--title", "T", "--embargo", "2027-01-10 12:00 Mars/Olympus"], "Mars/Olympus"),
            (
                [
                    "--project", "demo", "--title", "T", "--embargo", HeraldProcess.instant(daysFromNow: 3),
                    "--early-notice", "yesterday",
                ], "early-notice"
            ),
            (["--project", "ghost", "--title", "T", "--embargo", HeraldProcess.instant(daysFromNow: 3)], "ghost"),
            (["--project", "demo", "--embargo", HeraldProcess.instant(daysFromNow: 3)], "title"),
            (["--project", "demo", "--title", "T", "--severity", "apocalyptic"], "severity"),
        ]
        for (arguments, says) in cases {
            try sandbox.refuse(["advisory", "create"] + arguments, naming: says)
        }
        #expect(try sandbox.count("advisories") == 0)
    }

    @Test func anAdvisoryIsRescheduledRevisedAndPublishedEarly() throws {
        let sandbox = try sandboxWithProject()
        try sandbox.succeed(
            "advisory", "create", "--project", "demo", "--title", "Heap overflow in the parser",
            "--embargo", HeraldProcess.instant(daysFromNow: 3), "--early-notice", "now")
        func state() throws -> (String, Int) {
            let row = try #require(try sandbox.rows("SELECT state, revision FROM advisories WHERE id = 1").first)
            return (row["state"] as? String ?? "?", row["revision"] as? Int ?? -1)
        }

        // reschedule → revision 2
        let newEmbargo = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 5 * 86_400).rounded(.down))
        let rescheduled = try sandbox.herald(
            "advisory", "reschedule", "1", "--embargo", HeraldProcess.rfc3339(newEmbargo), "--reason",
            "distros need time")
        #expect(rescheduled.status == 0, "\(rescheduled)")
        #expect(rescheduled.stdout.contains("revision 2"), "\(rescheduled)")
        #expect(try state() == ("scheduled", 2))
        #expect(try sandbox.sqlite("SELECT embargo_at FROM advisories") == String(milliseconds(newEmbargo)))
        let shown = try sandbox.herald("advisory", "show", "1", "--json")
        #expect(shown.status == 0, "\(shown)")
        let detail = try #require(try sandbox.json(shown.stdout) as? [String: Any])
        let revisions = try #require(detail["revisions"] as? [[String: Any]], "\(shown)")
        #expect(revisions.count == 2)
        #expect(revisions.compactMap { $0["revision"] as? Int }.sorted() == [1, 2])
        #expect((detail["advisory"] as? [String: Any])?["revision"] as? Int == 2)

        // revise → revision 3
        let revised = try sandbox.herald(
            "advisory", "revise", "1", "--summary", "Better words.", "--severity", "Medium", "--reason", "clarity")
        #expect(revised.status == 0, "\(revised)")
        #expect(revised.stdout.contains("revision 3"), "\(revised)")
        #expect(try state() == ("scheduled", 3))
        // CVSS says medium where Herald says moderate: both are understood.
        #expect(try sandbox.sqlite("SELECT summary || '|' || severity FROM advisories") == "Better words.|moderate")
        #expect(try sandbox.count("advisory_revisions") == 3)

        // publish without --now, and --now without --reason: refused, nothing changes
        let withoutNow = try sandbox.herald("advisory", "publish", "1", "--reason", "leak")
        #expect(withoutNow.status == 2, "\(withoutNow)")
        #expect(withoutNow.stderr.contains("now"), "\(withoutNow)")
        let withoutReason = try sandbox.herald("advisory", "publish", "1", "--now")
        #expect(withoutReason.status == 2, "\(withoutReason)")
        #expect(withoutReason.stderr.contains("reason"), "\(withoutReason)")
        #expect(try state() == ("scheduled", 3))
        #expect(try sandbox.count("audit", where: "action = 'advisory.publish'") == 0)

        // publish --now --reason → published
        let published = try sandbox.herald("advisory", "publish", "1", "--now", "--reason", "leak")
        #expect(published.status == 0, "\(published)")
        #expect(published.stdout.contains("published"), "\(published)")
        #expect(try state().0 == "published")
        #expect(try sandbox.count("advisories", where: "published_at IS NOT NULL") == 1)
        #expect(try sandbox.sqlite("SELECT reason FROM audit WHERE action = 'advisory.publish'") == "leak")

        // cancel after publication: refused, naming the states it is allowed from
        let cancel = try sandbox.herald("advisory", "cancel", "1", "--reason", "too late")
        #expect(cancel.status == 2, "\(cancel)")
        #expect(cancel.stderrLines.count == 1, "\(cancel)")
        #expect(cancel.stderr.contains("published") && cancel.stderr.contains("allowed"), "\(cancel)")
        #expect(
            cancel.stderr.contains("draft") && cancel.stderr.contains("scheduled"),
            "names the allowed states: \(cancel)")
        #expect(try state().0 == "published")

        // list --json
        let listed = try sandbox.herald("advisory", "list", "--json")
        #expect(listed.status == 0, "\(listed)")
        let advisories = try #require(try sandbox.json(listed.stdout) as? [[String: Any]])
        #expect(advisories.count == 1)
        #expect(advisories.first?["state"] as? String == "published")
        #expect(advisories.first?["revision"] as? Int == 3)
        #expect(
            ((advisories.first?["content"] as? [String: Any])?["title"] as? String) == "Heap overflow in the parser",
            "\(listed)")

        // show (human): title, revisions and the audit trail
        let human = try sandbox.herald("advisory", "show", "1")
        #expect(human.status == 0, "\(human)")
        #expect(human.stdout.contains("Heap overflow in the parser"))
        for action in ["advisory.create", "advisory.reschedule", "advisory.revise", "advisory.publish"] {
            #expect(human.stdout.contains(action), "show lists \(action): \(human)")
        }
        #expect(
            human.stdout.contains("distros need time") && human.stdout.contains("leak"), "with the reasons: \(human)")

        let advisoryAudit = try sandbox.rows("SELECT action FROM audit WHERE subject_type = 'advisory' ORDER BY id")
            .compactMap { $0["action"] as? String }
        #expect(advisoryAudit == ["advisory.create", "advisory.reschedule", "advisory.revise", "advisory.publish"])
    }

    @Test func aDraftOrScheduledAdvisoryCanBeCancelledWithAReason() throws {
        let sandbox = try sandboxWithProject()
        let draft = try sandbox.herald("advisory", "create", "--project", "demo", "--title", "Maybe a bug")
        #expect(draft.status == 0, "\(draft)")
        #expect(draft.stdout.contains("draft"), "no --embargo: a draft: \(draft)")
        try sandbox.succeed(
            "advisory", "create", "--project", "demo", "--title", "Scheduled", "--embargo",
            HeraldProcess.instant(daysFromNow: 2))

        let noReason = try sandbox.herald("advisory", "cancel", "1")
        #expect(noReason.status == 2, "\(noReason)")
        #expect(noReason.stderr.contains("reason"), "\(noReason)")

        #expect(try sandbox.herald("advisory", "cancel", "1", "--reason", "not a bug").status == 0)
        #expect(try sandbox.herald("advisory", "cancel", "2", "--reason", "fixed upstream").status == 0)
        #expect(
            try sandbox.rows("SELECT state FROM advisories ORDER BY id").compactMap { $0["state"] as? String } == [
                "cancelled", "cancelled",
            ])
        #expect(try sandbox.count("audit", where: "action = 'advisory.cancel'") == 2)

        let again = try sandbox.herald("advisory", "cancel", "2", "--reason", "twice")
        #expect(again.status == 2, "\(again)")
        #expect(again.stderr.contains("cancelled"), "\(again)")
        let missing = try sandbox.herald("advisory", "show", "42")
        #expect(missing.status == 2, "\(missing)")
        #expect(missing.stderr.contains("advisory 42"), "\(missing)")
    }

    @Test func dryRunsSayWhoWouldGetWhatAndWriteNothing() throws {
        let sandbox = try Sandbox()
        try sandbox.succeed("project", "add", "demo", "--name", "Demo")
        try sandbox.succeed(
            "provider", "add", "--organization", "Acme", "--email", "a@acme.example", "--email", "b@acme.example",
            "--webhook", "https://acme.example/hook", "--project", "demo", "--approve")
        try sandbox.succeed(
            "channel", "add", "--project", "demo", "--kind", "email", "--target", "announce@lists.example")
        func tables() throws -> [String] {
            try ["advisories", "advisory_revisions", "notices", "deliveries", "payloads", "link_tokens", "audit"].map {
                "\($0)=\(try sandbox.count($0))"
            }
        }
        var before = try tables()
        let created = try sandbox.succeed(
            "advisory", "create", "--project", "demo", "--title", "Overflow", "--embargo",
            HeraldProcess.instant(daysFromNow: 3),
            "--early-notice", "now", "--dry-run")
        #expect(
            created.stdout.contains("nothing written")
                && created.stdout.contains("the early-notice would go to 1 provider (2 addresses, 1 webhook: Acme)"),
            "\(created)")
        #expect(try tables() == before, "a dry run writes nothing")

        try sandbox.succeed(
            "advisory", "create", "--project", "demo", "--title", "Overflow", "--embargo",
            HeraldProcess.instant(daysFromNow: 3))
        before = try tables()
        let moved = try sandbox.succeed(
            "advisory", "reschedule", "1", "--embargo", HeraldProcess.instant(daysFromNow: 4), "--dry-run")
        #expect(
            moved.stdout.contains("would be rescheduled") && moved.stdout.contains("no notice would go out now"),
            "\(moved)")
        let published = try sandbox.succeed(
            "advisory", "publish", "1", "--now", "--reason", "leak", "--dry-run", "--json")
        let plan = try #require(try sandbox.json(published.stdout) as? [String: Any])
        #expect((plan["advisory"] as? [String: Any])?["state"] as? String == "published")
        #expect((plan["notices"] as? [[String: Any]])?.first?["channels"] as? Int == 1, "\(published)")
        #expect(try tables() == before, "a dry run writes nothing")
        #expect(try sandbox.sqlite("SELECT state FROM advisories") == "scheduled")
    }

    /// Larger than one share (1,000 providers): the dry run counts all of it, and the command
    /// leaves it written whole, not its first share.
    @Test func aNoticeLargerThanOneTransactionIsCountedAndWrittenWhole() throws {
        let sandbox = try Sandbox()
        try sandbox.succeed("project", "add", "demo", "--name", "Demo")
        let providers = 1_200
        var csv = "organization,email,project\n"
        for i in 0..<providers { csv += "Org \(i),contact\(i)@org\(i).example,demo\n" }
        try sandbox.succeed("provider", "import", try sandbox.write("providers.csv", csv))
        try sandbox.succeed(
            "advisory", "create", "--project", "demo", "--title", "Overflow", "--embargo",
            HeraldProcess.instant(daysFromNow: 3))
        // Told of it before, as the scheduler's early notice would have (serve is not running).
        _ = try sandbox.sqlite(
            """
            INSERT INTO payloads (body) VALUES (x'00');
            INSERT INTO notices (advisory_id, kind, revision, recipients, created_at, key) VALUES (1, 'early-notice', 1, \(providers), 0, 'k');
            INSERT INTO deliveries (notice_id, provider_id, transport, format, recipient, host, message_id, payload_id, state, next_attempt_at, created_at)
            SELECT 1, p.id, 'email', 'email', 'x', 'mail', 'm' || p.id, 1, 'delivered', 0, 0 FROM providers p;
            """)
        let rehearsed = try sandbox.succeed(
            "advisory", "publish", "1", "--now", "--reason", "leak", "--dry-run", "--json")
        let plan = try #require(try sandbox.json(rehearsed.stdout) as? [String: Any])
        #expect((plan["notices"] as? [[String: Any]])?.first?["providers"] as? Int == providers, "\(rehearsed)")
        #expect(try sandbox.count("deliveries") == providers, "a dry run writes nothing")

        try sandbox.succeed("advisory", "publish", "1", "--now", "--reason", "leak")
        #expect(try sandbox.count("deliveries", where: "notice_id = 2 AND provider_id IS NOT NULL") == providers)
        #expect(try sandbox.count("provider_fan_outs") == 0)
        #expect(try sandbox.sqlite("SELECT recipients FROM notices WHERE id = 2") == "\(providers)")
    }

    @Test func previewPrintsWhatEachAudienceWouldReceive() throws {
        let sandbox = try Sandbox()
        try sandbox.succeed("project", "add", "demo", "--name", "Demo", "--timezone", "Europe/Amsterdam")
        try sandbox.succeed(
            "advisory", "create", "--project", "demo", "--title", "Secret overflow", "--cve", "CVE-2026-4242",
            "--severity", "high",
            "--embargo", HeraldProcess.instant(daysFromNow: 3))
        let mail = try sandbox.succeed("advisory", "preview", "1")
        for part in [
            "Subject: [EMBARGOED] Demo: Secret overflow", "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
            "CVE-2026-4242", "Message-ID: <herald.",
        ] {
            #expect(mail.stdout.contains(part), "\(part) in \(mail)")
        }
        let pre = try sandbox.succeed(
            "advisory", "preview", "1", "--as", "public", "--notice", "pre-announcement", "--format", "discord")
        #expect(
            pre.stdout.contains("security release planned") && !pre.stdout.contains("Secret")
                && !pre.stdout.contains("CVE-2026-4242"), "\(pre)")
        let announcement = try sandbox.succeed("advisory", "preview", "1", "--as", "public", "--format", "slack")
        #expect(
            announcement.stdout.contains("Demo has published a security advisory: Secret overflow."), "\(announcement)")
        try sandbox.refuse(
            ["advisory", "preview", "1", "--as", "public", "--notice", "early-notice"], naming: "notice")
        try sandbox.refuse(["advisory", "preview", "1", "--format", "fax"], naming: "format")
        #expect(try sandbox.count("deliveries") == 0 && sandbox.count("notices") == 0)
    }

    @Test func advisoryShowPutsAlertsFirstAndProjectSetTakesTheContact() throws {
        let sandbox = try Sandbox()
        try sandbox.succeed("project", "add", "demo", "--name", "Demo")
        let set = try sandbox.succeed("project", "set", "demo", "--contact", "security-team@demo.example")
        #expect(set.stdout.contains("alerts go to security-team@demo.example"), "\(set)")
        try sandbox.refuse(["project", "set", "demo", "--contact", "not-an-address"], naming: "contact")
        try sandbox.succeed(
            "advisory", "create", "--project", "demo", "--title", "Overflow", "--embargo",
            HeraldProcess.instant(daysFromNow: 3))
        _ = try sandbox.sqlite(
            "INSERT INTO alerts (advisory_id, kind, revision, detail, created_at) VALUES (1, 'private-notice-failing', 1, '2 private deliveries failed.', 0)"
        )
        let shown = try sandbox.succeed("advisory", "show", "1")
        #expect(shown.stdout.contains("ALERT (1970-01-01 00:00:00 UTC): 2 private deliveries failed."), "\(shown)")
        let json = try #require(
            try sandbox.json(try sandbox.succeed("advisory", "show", "1", "--json").stdout) as? [String: Any])
        #expect((json["alerts"] as? [[String: Any]])?.first?["kind"] as? String == "private-notice-failing")
        let failing = try sandbox.herald("deliveries", "list", "--state", "failing")
        #expect(failing.status == 0 && failing.stdout.contains("No deliveries."), "\(failing)")
    }
}
