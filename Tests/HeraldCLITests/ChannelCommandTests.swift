import Foundation
import Testing

/// `herald channel add | list | remove`: the public mailing lists and chat rooms.
@Suite struct ChannelCommandTests {
    @Test func addEmailSlackAndWebhookChannelsThenListThem() throws {
        let sandbox = try Sandbox()
        try sandbox.succeed("project", "add", "demo", "--name", "Demo")

        let email = try sandbox.herald(
            "channel", "add", "--project", "demo", "--kind", "email", "--target", "announce@lists.example")
        #expect(email.status == 0, "\(email)")
        #expect(!email.stdout.contains("whsec_"))
        let slack = try sandbox.herald(
            "channel", "add", "--project", "demo", "--kind", "slack", "--target",
            "https://hooks.slack.com/services/T0/B0/XYZ")
        #expect(slack.status == 0, "\(slack)")
        #expect(!slack.stdout.contains("whsec_"))

        let webhook = try sandbox.herald(
            "channel", "add", "--project", "demo", "--kind", "webhook", "--target", "https://receiver.example/herald")
        #expect(webhook.status == 0, "\(webhook)")
        let printed = try #require(
            webhook.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" }).first { $0.hasPrefix("whsec_") },
            "a webhook without --secret gets a generated secret, printed: \(webhook)")
        #expect(printed.count > "whsec_".count + 20, "\(printed)")
        #expect(
            try sandbox.sqlite("SELECT secret FROM channels WHERE kind = 'webhook'") == String(printed),
            "the printed secret is the stored one")

        let chosen = try sandbox.herald(
            "channel", "add", "--project", "demo", "--kind", "webhook", "--target", "https://second.example/herald",
            "--secret", "whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTIzNDU2")
        #expect(chosen.status == 0, "\(chosen)")
        #expect(!chosen.stdout.contains("whsec_c2Vj"), "a secret the user gave is not echoed: \(chosen)")

        let stored = try sandbox.rows(
            "SELECT c.kind, c.target, p.slug FROM channels c JOIN projects p ON p.id = c.project_id ORDER BY c.id")
        #expect(stored.compactMap { $0["kind"] as? String } == ["email", "slack", "webhook", "webhook"])
        #expect(stored.first?["target"] as? String == "announce@lists.example")
        #expect(stored.allSatisfy { $0["slug"] as? String == "demo" })

        let listed = try sandbox.herald("channel", "list", "--json")
        #expect(listed.status == 0, "\(listed)")
        let channels = try #require(try sandbox.json(listed.stdout) as? [[String: Any]])
        #expect(channels.count == 4)
        #expect(channels.compactMap { $0["kind"] as? String } == ["email", "slack", "webhook", "webhook"])
        // A chat webhook's URL is its credential: listed by fingerprint, whole only with --reveal (audited).
        #expect(!listed.stdout.contains("T0/B0/XYZ") && !listed.stdout.contains(String(printed)), "\(listed)")
        #expect(channels.compactMap { $0["target"] as? String }.contains { $0.hasPrefix("https://hooks.slack.com/…") })
        let revealed = try sandbox.herald("channel", "list", "--json", "--reveal")
        #expect(
            revealed.stdout.contains("https://hooks.slack.com/services/T0/B0/XYZ")
                && revealed.stdout.contains(String(printed)))
        #expect(channels.allSatisfy { $0["project_slug"] as? String == "demo" }, "\(channels)")
        #expect(channels.allSatisfy { $0["id"] as? Int != nil })

        let table = try sandbox.herald("channel", "list")
        #expect(table.stdout.split(separator: "\n").count == 5, "header and four rows: \(table)")
        #expect(
            try sandbox.auditActions() == [
                "project.add", "channel.add", "channel.add", "channel.add", "channel.add", "secrets.reveal",
            ])
    }

    @Test func channelTestPrintsTheIdOfItsDelivery() throws {
        let sandbox = try Sandbox()
        try sandbox.succeed("project", "add", "demo", "--name", "Demo")
        try sandbox.succeed(
            "channel", "add", "--project", "demo", "--kind", "email", "--target", "announce@lists.example")
        try sandbox.succeed(
            "channel", "add", "--project", "demo", "--kind", "slack", "--target",
            "https://hooks.slack.com/services/T0/B0/XYZ")
        for channel in [1, 2] {
            let queued = try sandbox.succeed("channel", "test", String(channel))
            // `deliveries retry ID` with the printed id must re-drive this message, nobody else's.
            let printed = try #require(queued.stdout.firstMatch(of: /delivery (\d+)/).map { String($0.1) }, "\(queued)")
            #expect(
                try sandbox.sqlite("SELECT channel_id FROM deliveries WHERE id = \(printed)") == String(channel),
                "\(queued)")
        }
    }

    @Test(arguments: [
        (["--project", "demo", "--kind", "fax", "--target", "+31 20 555 0100"], "kind"),
        (["--project", "demo", "--kind", "slack", "--target", "not a url"], "target"),
        (["--project", "demo", "--kind", "webhook", "--target", "ftp://receiver.example/x"], "target"),
        (["--project", "demo", "--kind", "email", "--target", "not-an-address"], "target"),
        (["--project", "ghost", "--kind", "email", "--target", "announce@lists.example"], "project"),
    ])
    func badChannelInputExitsTwoAndWritesNothing(arguments: [String], field: String) throws {
        let sandbox = try Sandbox()
        try sandbox.succeed("project", "add", "demo", "--name", "Demo")
        try sandbox.refuse(["channel", "add"] + arguments, naming: field)
        #expect(try sandbox.count("channels") == 0)
        #expect(try sandbox.auditActions() == ["project.add"])
    }

    @Test func removeDeletesTheChannelAndIsAudited() throws {
        let sandbox = try Sandbox()
        try sandbox.succeed("project", "add", "demo", "--name", "Demo")
        try sandbox.succeed(
            "channel", "add", "--project", "demo", "--kind", "email", "--target", "announce@lists.example")
        try sandbox.succeed(
            "channel", "add", "--project", "demo", "--kind", "mattermost", "--target", "https://chat.example/hooks/abc")

        let removed = try sandbox.herald("channel", "remove", "1")
        #expect(removed.status == 0, "\(removed)")
        #expect(try sandbox.rows("SELECT id FROM channels").compactMap { $0["id"] as? Int } == [2])
        let channels = try #require(
            try sandbox.json(try sandbox.herald("channel", "list", "--json").stdout) as? [[String: Any]])
        #expect(channels.compactMap { $0["kind"] as? String } == ["mattermost"])

        let again = try sandbox.herald("channel", "remove", "1")
        #expect(again.status == 2, "\(again)")
        #expect(again.stderr.contains("channel 1"), "\(again)")
        #expect(try sandbox.count("channels") == 1)
        #expect(try sandbox.auditActions() == ["project.add", "channel.add", "channel.add", "channel.remove"])
    }
}
