import Foundation
import HeraldCore
import HeraldMarkdown
import HeraldServer
import HeraldStore
import HeraldTestSupport
import Hummingbird
import HummingbirdTesting
import Testing

/// Bodies are Markdown: rendered (safely) on the page, in Atom, RSS and JSON Feed, and in
/// Matrix's formatted body; raw HTML in a body comes out as text.
@Suite struct MarkdownTests {
    static let body = """
        ## Impact
        A crafted header **overflows** a buffer.

        - upgrade to 1.4.3
        - or reject large headers

        ```sh
        herald --version
        ```

        | version | fixed |
        |---------|-------|
        | 1.4.x   | 1.4.3 |

        See [the release notes](https://example.org/notes) and <script>alert(1)</script> <b>bold?</b>
        [click](javascript:alert(2))
        """

    @Test func theBodyIsRenderedOnEverySurfaceAndRawHTMLIsText() async throws {
        let fixture = try ServerFixture()
        let db = fixture.db
        let advisory = try db.advisories.create(
            project: "demo", content: AdvisoryContent(title: "Overflow", body: Self.body),
            schedule: Schedule(embargo: db.clock.now + 3600), actor: db.actor)
        _ = try db.advisories.publishNow(advisory.id, notes: try ChangeNotes(reason: "x"), actor: db.actor)
        try await fixture.app().test(.router) { client in
            let page = try await client.execute(uri: "/advisories/\(advisory.publicID)", method: .get) { $0.text }
            for rendered in [
                "<h4>Impact</h4>", "<strong>overflows</strong>", "<li>upgrade to 1.4.3</li>",
                "<pre lang=\"sh\"><code>herald --version",
                "<table>", "<td>1.4.3</td>", "<a href=\"https://example.org/notes\">the release notes</a>",
                "&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;b&gt;bold?&lt;/b&gt;",
            ] {
                #expect(page.contains(rendered), "the page lacks \(rendered)")
            }
            #expect(
                !page.contains("<script>") && !page.contains("javascript:") && !page.contains("<b>"),
                "raw HTML or an unsafe link on the page")
            let atom = try await client.execute(uri: "/feed.atom", method: .get) { $0.text }
            #expect(
                atom.contains("<content type=\"html\">") && atom.contains("&lt;table&gt;")
                    && atom.contains("&amp;lt;script&amp;gt;"), "\(atom)")
            let rss = try await client.execute(uri: "/feed.rss", method: .get) { $0.text }
            #expect(rss.contains("&lt;li&gt;upgrade to 1.4.3&lt;/li&gt;"), "\(rss)")
            let feed = try await client.execute(uri: "/feed.json", method: .get) { $0.object }
            let item = try #require((feed["items"] as? [[String: Any]])?.first)
            let html = try #require(item["content_html"] as? String)
            #expect(
                html.contains("<table>") && !html.contains("<script>")
                    && (item["content_text"] as? String)?.contains("## Impact") == true)
        }
        // Slack and Teams get their own markup; Mattermost and Discord take Markdown as it is.
        let published = try db.advisories.get(advisory.id)
        func payload(_ format: WebhookKind) -> String {
            String(
                decoding: db.outbox.preview(
                    .publication, advisory: published, project: try! db.projects.require("demo"),
                    audience: .publicChannel,
                    format: format), as: UTF8.self)
        }
        let slack = payload(.slack)
        for part in [
            "*Impact*", "• upgrade to 1.4.3", "*overflows*", "<https://example.org/notes|the release notes>",
            "1.4.x · 1.4.3",
            "&lt;script&gt;", "```",
        ] {
            #expect(slack.contains(part), "Slack lacks \(part): \(slack)")
        }
        #expect(
            !slack.contains("## ") && !slack.contains("**") && !slack.contains("|---")
                && !slack.contains("javascript:"), "\(slack)")
        let teams = payload(.teams)
        #expect(
            teams.contains("**Impact**") && teams.contains("[the release notes](https://example.org/notes)")
                && !teams.contains("## ")
                && !teams.contains("|---") && !teams.contains("```"), "\(teams)")
        // Matrix shows HTML: the same rendering, the same safety.
        let project = try db.projects.require("demo")
        let matrix = db.outbox.preview(
            .publication, advisory: try db.advisories.get(advisory.id), project: project, audience: .publicChannel,
            format: .matrix)
        let formatted = try #require(
            (try JSONSerialization.jsonObject(with: Data(matrix)) as? [String: Any])?["formatted_body"] as? String)
        #expect(
            formatted.contains("<table>") && formatted.contains("<li>") && !formatted.contains("<script>"),
            "\(formatted)")
    }

    @Test func thousandsOfTagsAllComeOutAsText() {
        // The shim once gathered at most 4,096 raw-HTML nodes; the rest were dropped unseen.
        let html = Markdown.html(String(repeating: "<b>x</b> ", count: 3000) + "<script>alert(1)</script>")
        #expect(!html.contains("raw HTML omitted") && !html.contains("<script>") && html.contains("&lt;script&gt;"))
    }
}
