import Foundation
import Testing

@testable import HeraldCore

/// Every list and string a request can carry has a bound that is checked before any other work
/// on it, and names people read cannot hide behind invisible or look-alike characters.
@Suite struct HostileInputTests {
    /// Runs `body` and returns how long it took.
    func timed(_ body: () -> Void) -> Duration {
        let clock = ContinuousClock()
        return clock.measure(body)
    }

    @Test func oversizedListsAreRefusedBeforeTheirElementsAreLookedAt() {
        // The body that starved the instant: 100,000 projects in ~440 KB, de-duplicated in O(n²).
        let projects = (0..<100_000).map { "p\($0)" }
        let emails = (0..<10_000).map { "a\($0)@example.org" }
        let cases: [(String, () throws -> Void)] = [
            ("project", { _ = try NewProvider(organization: "Acme", emails: ["a@acme.example"], projects: projects) }),
            ("email", { _ = try NewProvider(organization: "Acme", emails: emails, projects: ["demo"]) }),
            (
                "webhook",
                {
                    _ = try NewProvider(
                        organization: "Acme", emails: ["a@acme.example"],
                        webhooks: Array(repeating: ("https://x.example/h", .webhook), count: 10_000), projects: ["demo"]
                    )
                }
            ),
            ("cve", { _ = try AdvisoryContent(title: "T", cves: Array(repeating: "CVE-2026-1234", count: 100_000)) }),
        ]
        for (field, make) in cases {
            var refusal: Refusal?
            let took = timed { do { try make() } catch { refusal = error as? Refusal } }
            #expect(refusal?.description.contains(field) == true, "\(field): \(String(describing: refusal))")
            #expect(took < .milliseconds(50), "\(field) took \(took)")
        }
    }

    @Test func oversizedStringsAreRefusedWithoutBeingEchoed() {
        let huge = String(repeating: "A", count: 1_000_000)
        let cases: [(String, () throws -> Void)] = [
            (
                "organization",
                { _ = try NewProvider(organization: huge, emails: ["a@acme.example"], projects: ["demo"]) }
            ),
            ("email", { _ = try NewProvider(organization: "Acme", emails: [huge], projects: ["demo"]) }),
            (
                "webhook",
                {
                    _ = try NewProvider(
                        organization: "Acme", emails: ["a@acme.example"], webhooks: [(huge, .webhook)],
                        projects: ["demo"])
                }
            ),
            ("project", { _ = try NewProvider(organization: "Acme", emails: ["a@acme.example"], projects: [huge]) }),
            ("title", { _ = try AdvisoryContent(title: huge) }),
            ("body", { _ = try AdvisoryContent(title: "T", body: huge + huge + huge + huge) }),
            ("cve", { _ = try AdvisoryContent(title: "T", cves: [huge]) }),
            ("cvss", { _ = try AdvisoryContent(title: "T", cvss: huge) }),
            ("note-to-providers", { _ = try ChangeNotes(toProviders: huge) }),
            ("reason", { _ = try ChangeNotes(reason: huge) }),
        ]
        for (field, make) in cases {
            var refusal: Refusal?
            let took = timed { do { try make() } catch { refusal = error as? Refusal } }
            let text = refusal?.description ?? ""
            #expect(text.contains(field), "\(field): \(text.prefix(200))")
            #expect(text.utf8.count < 400, "\(field): the error repeats the input (\(text.utf8.count) bytes)")
            #expect(took < .milliseconds(50), "\(field) took \(took)")
        }
    }

    @Test func bidiControlsInNamesAreRefused() {
        for control in ["\u{202E}", "\u{202A}", "\u{2066}", "\u{2069}", "\u{200F}", "\u{061C}"] {
            #expect(throws: Refusal.self, "U+\(String(control.unicodeScalars.first!.value, radix: 16))") {
                try NewProvider(organization: "Evil\(control)Corp", emails: ["a@evil.example"], projects: ["demo"])
            }
        }
        #expect(throws: Never.self) {
            try NewProvider(organization: "Gemeente Århus — ICT", emails: ["a@aarhus.example"], projects: ["demo"])
        }
        // Invisible characters make two names differ while they look the same.
        for invisible in ["\u{200B}", "\u{2060}", "\u{FEFF}", "\u{00AD}", "\u{200D}"] {
            #expect(throws: Refusal.self) {
                try NewProvider(organization: "Dim\(invisible)pact", emails: ["a@evil.example"], projects: ["demo"])
            }
        }
    }

    @Test func lookAlikeNamesShareASkeleton() {
        // Cyrillic С and о, Greek Ο, a digit zero, "rn" for "m", diacritics.
        #expect(Confusable.lookAlike("Соmpany Hosting", "Company Hosting"))
        #expect(Confusable.lookAlike("ΟpenHost", "OpenHost"))
        #expect(Confusable.lookAlike("0penHost", "OpenHost"))
        #expect(Confusable.lookAlike("Dimpact", "Dirnpact"))
        #expect(Confusable.lookAlike("Gemeente Tilburg", "Gemeente Tilbürg"))
        #expect(Confusable.lookAlike("PayPaI Hosting", "PayPal Hosting"), "a capital I for a small l")
        // The same name in another case is a duplicate, not a look-alike; different names differ.
        #expect(!Confusable.lookAlike("Acme", "ACME"))
        #expect(!Confusable.lookAlike("Acme Hosting", "Acne Hosting"))
        #expect(!Confusable.lookAlike("Gemeente Utrecht", "Gemeente Tilburg"))
    }

    @Test func broadcastMentionsAreNeutralizedInChat() throws {
        let text = "Ping @channel, @here and @everyone, @all and @room; mail security@example.org; <!here>"
        let content = NoticeContent(
            headline: "@channel " + text, intro: text, facts: [("Affected", "@everyone")], body: text, link: nil,
            footer: "@here", embargoed: false)
        for format in [WebhookKind.slack, .mattermost, .discord, .matrix] {
            let payload = String(
                decoding: ChatPayload.render(
                    content, as: format, event: "herald.publication", project: "demo", advisoryID: nil,
                    revision: 1, at: Date(timeIntervalSince1970: 0)), as: UTF8.self)
            for mention in ["@channel", "@here", "@everyone", "@all", "@room"] + (format == .slack ? ["<!here>"] : []) {
                #expect(!payload.contains(mention), "\(format) carries \(mention)")
            }
            #expect(payload.contains("security@example.org"), "\(format) changed an address")
        }
        let bytes = ChatPayload.render(
            content, as: .discord, event: "e", project: "demo", advisoryID: nil, revision: 1, at: Date())
        let discord = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        let allowed = try #require(discord["allowed_mentions"] as? [String: Any])
        #expect((allowed["parse"] as? [Any])?.isEmpty == true)
    }
}
