import Foundation
import Testing

@testable import HeraldCore

/// Every chat payload stays inside every limit its service documents, whatever the advisory
/// says: measured after escaping, in the unit the service counts.
@Suite struct ChatLimitsTests {
    /// A small seeded generator, so a failure can be run again.
    struct Xorshift: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
    }

    static let pieces = [
        "<", ">", "&", "&amp;", "```", "\n", "\n\n", " ", "**bold**", "<script>x</script>", "é", "ø", "Ünïcødé", "👩‍💻",
        "🔥", "中文",
        "| a | b |\n|---|---|", "# Heading", "- item", "[link](https://x.example)", "@channel", "word", "longerword",
        "\t",
    ]

    func text(_ rng: inout Xorshift, upTo size: Int) -> String {
        let count = Int.random(in: 0...size, using: &rng)
        var out = ""
        var length = 0
        while length < count {
            let piece = Self.pieces.randomElement(using: &rng)!
            out += piece
            length += piece.count
        }
        return out
    }

    func object(_ bytes: [UInt8]) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    func u16(_ value: Any?) -> Int { (value as? String)?.utf16.count ?? 0 }

    @Test func randomAdvisoriesAlwaysGivePayloadsInsideEveryLimit() throws {
        var rng = Xorshift(state: 0x9E37_79B9_7F4A_7C15)
        for round in 0..<80 {
            let cves = (0..<Int.random(in: 0...30, using: &rng)).map { "CVE-2026-\(10000 + $0)" }.joined(
                separator: ", ")
            let content = NoticeContent(
                headline: text(&rng, upTo: 220), intro: text(&rng, upTo: 3000),
                facts: [("CVE", cves), ("Affected", text(&rng, upTo: 2000)), ("Fixed", text(&rng, upTo: 300))],
                body: text(&rng, upTo: round % 10 == 0 ? 60_000 : 9_000),
                link: ("Advisory", "https://herald.example/advisories/demo-2026-abc123"),
                footer: text(&rng, upTo: 400), embargoed: round % 2 == 0)
            func render(_ format: WebhookKind) -> [UInt8] {
                ChatPayload.render(
                    content, as: format, event: "herald.publication", project: "demo", advisoryID: "demo-2026-abc123",
                    revision: 1,
                    at: Date(timeIntervalSince1970: 0))
            }
            // Slack: header 150, section text 3,000, a field 2,000 (10 at most), 50 blocks.
            let slack = try object(render(.slack))
            let blocks = slack["blocks"] as? [[String: Any]] ?? []
            #expect(blocks.count <= 50)
            for block in blocks {
                let textObject = block["text"] as? [String: Any]
                if block["type"] as? String == "header" {
                    #expect(u16(textObject?["text"]) <= 150, "round \(round): header")
                }
                if block["type"] as? String == "section" {
                    #expect(u16(textObject?["text"]) <= 3000, "round \(round): section")
                }
                let fields = block["fields"] as? [[String: Any]] ?? []
                #expect(fields.count <= 10)
                for field in fields { #expect(u16(field["text"]) <= 2000, "round \(round): field") }
                for element in block["elements"] as? [[String: Any]] ?? [] { #expect(u16(element["text"]) <= 3000) }
            }
            // Discord: title 256, description 4,096, 25 fields of 256/1,024, footer 2,048, 6,000 in all; content 2,000.
            let discord = try object(render(.discord))
            let embed = try #require((discord["embeds"] as? [[String: Any]])?.first)
            let fields = embed["fields"] as? [[String: Any]] ?? []
            let footer = (embed["footer"] as? [String: Any])?["text"]
            #expect(
                u16(embed["title"]) <= 256 && u16(embed["description"]) <= 4096 && fields.count <= 25
                    && u16(footer) <= 2048, "round \(round)")
            #expect(fields.allSatisfy { u16($0["name"]) <= 256 && u16($0["value"]) <= 1024 }, "round \(round)")
            let total =
                u16(embed["title"]) + u16(embed["description"]) + u16(footer)
                + fields.reduce(0) { $0 + u16($1["name"]) + u16($1["value"]) }
            #expect(total <= 6000, "round \(round): the embed holds \(total) units")
            #expect(u16(discord["content"]) <= 2000)
            // Teams: about 28 KB a payload; the card must stay one.
            #expect(render(.teams).count <= 28_000, "round \(round)")
            // Matrix: 65,536 bytes an event. Mattermost: 16,383 characters a post.
            #expect(render(.matrix).count <= 65_536, "round \(round)")
            #expect(u16(try object(render(.mattermost))["text"]) <= 16_383, "round \(round)")
        }
    }

    @Test func aCutEndsAtABoundaryClosesItsFenceAndPointsToTheRest() {
        let body = "Intro line.\n\n```\n" + String(repeating: "code & <more> code\n", count: 400)
        let cut = ChatLimits.fit(
            body, limit: 1000, unit: .utf16, url: "https://herald.example/a", escape: ChatPayload.slackEscape)
        #expect(cut.utf16.count <= 1000)
        #expect(cut.hasSuffix("\n… full advisory: https://herald.example/a"))
        #expect(cut.components(separatedBy: "```").count % 2 == 1, "the fence is closed")
        #expect(!cut.contains("&am\n") && !cut.contains("&l\n"), "no entity cut in half")
        #expect(
            ChatLimits.fit("short & sweet", limit: 1000, unit: .utf16, url: nil, escape: ChatPayload.slackEscape)
                == "short &amp; sweet")
    }

    @Test func slackLinksCannotCarryMentionsOrASecondTarget() {
        let mrkdwn = ChatMarkup.slack(
            "[the patch](https://example.org/fix><@U0ADMIN1>) and [docs](https://evil.example/x|https://example.org/official) "
                + "and [m](mailto:a@b.c><#C0GENERAL>)")
        #expect(
            !mrkdwn.contains("<@U0ADMIN1>") && !mrkdwn.contains("<#C0GENERAL>") && !mrkdwn.contains("<https://evil"),
            "\(mrkdwn)")
        #expect(ChatMarkup.slack("[ok](https://example.org/a)") == "<https://example.org/a|ok>")
    }

    @Test func aMatrixEventStaysUnder64KiBWhateverJSONEscapingCosts() throws {
        let content = NoticeContent(
            headline: "T", intro: "", facts: [], body: String(repeating: "\\\"\n\t", count: 30_000),
            link: ("Advisory", "https://herald.example/a"), footer: "", embargoed: false)
        let event = ChatPayload.render(
            content, as: .matrix, event: "e", project: "demo", advisoryID: nil, revision: 1, at: Date())
        #expect(event.count <= 65_536, "\(event.count) bytes")
    }

    @Test func anInlineTripleBacktickIsNoFence() {
        let cut = ChatLimits.fit(
            "Use ``` sparingly. " + String(repeating: "word ", count: 400), limit: 300, unit: .utf16,
            url: "https://h.example/a")
        #expect(cut.hasSuffix("… full advisory: https://h.example/a"), "\(cut)")
    }
}
