import Foundation
import HeraldCore
import HeraldServer
import HeraldStore
import HeraldTestSupport
import Hummingbird
import HummingbirdTesting
import Testing

@Suite struct FeedParserTests {
    struct Report: Decodable {
        struct Feed: Decodable {
            var bozo: Int
            var bozo_exception: String
            var version: String
            var title: String?
            var entries: [Entry]
        }
        struct Entry: Decodable {
            var title: String?
            var id: String?
            var link: String?
            var updated: String?
            var published: String?
        }
        struct JSONFeed: Decodable {
            var version: String?
            var missing: [String]
            var items: Int
        }
        var atom: Feed
        var rss: Feed
        var json: JSONFeed
    }

    @Test func everyFeedParsesCleanlyWithFeedparser() async throws {
        let fixture = try ServerFixture()
        let db = fixture.db
        for (title, cve) in [
            ("Heap overflow in the <parser> & friends", "CVE-2026-1001"),
            ("Ünïcode normalisation bypass", "CVE-2026-1002"),
        ] {
            let advisory = try db.advisories.create(
                project: "demo",
                content: AdvisoryContent(
                    title: title, summary: "Summary of \(title)", body: "Line one\nLine two",
                    cves: [cve], severity: .high, affected: "< 1.4", fixed: "1.4"),
                schedule: Schedule(embargo: Date() + 60), actor: db.actor)
            _ = try db.advisories.publishNow(advisory.id, notes: try ChangeNotes(reason: "x"), actor: db.actor)
        }
        let draft = try db.advisories.create(
            project: "demo", content: AdvisoryContent(title: "Draft never shown"), schedule: Schedule(), actor: db.actor
        )
        let files = try await fixture.app().test(.live) { client in
            var files: [URL] = []
            for route in ["feed.atom", "feed.rss", "feed.json"] {
                let file = db.directory.appending(path: route)
                let body = try await client.execute(uri: "/" + route, method: .get) { Data(buffer: $0.body) }
                try body.write(to: file)
                files.append(file)
            }
            return files
        }
        let report = try JSONDecoder().decode(Report.self, from: runPython(["check_feeds.py"] + files.map(\.path)))
        #expect(report.atom.bozo == 0, "\(report.atom.bozo_exception)")
        #expect(report.rss.bozo == 0, "\(report.rss.bozo_exception)")
        #expect(report.atom.version == "atom10")
        #expect(report.rss.version == "rss20")
        #expect(report.json.missing.isEmpty, "\(report.json.missing)")
        #expect(report.json.version == "https://jsonfeed.org/version/1.1")
        #expect(report.json.items == 2)
        for feed in [report.atom, report.rss] {
            #expect(feed.entries.count == 2)
            #expect(feed.entries.contains { $0.title == "Demo: Heap overflow in the <parser> & friends" })
            #expect(
                feed.entries.allSatisfy {
                    $0.id?.hasPrefix("https://herald.test/advisories/demo-") == true && $0.link == $0.id
                })
            #expect(!feed.entries.contains { $0.title?.contains(draft.content.title) == true })
        }
    }

    @Test func aRevisionBumpsUpdatedButKeepsTheEntryId() throws {
        let clock = ManualClock(Date())
        let db = try TestDatabase(clock: clock)
        try db.addProject()
        let advisory = try db.advisories.create(
            project: "demo", content: AdvisoryContent(title: "T"), schedule: Schedule(embargo: clock.now + 60),
            actor: db.actor)
        _ = try db.advisories.publishNow(advisory.id, notes: try ChangeNotes(reason: "x"), actor: db.actor)
        let writer = FeedWriter(publicURL: "https://herald.test")
        let first = writer.atom(try PublicStore(database: db.database, clock: clock).published())
        clock.advance(by: 3600)
        _ = try db.advisories.revise(
            advisory.id, AdvisoryPatch(fixed: "1.2.3"), notes: try ChangeNotes(reason: "fixed version"), actor: db.actor
        )
        let second = writer.atom(try PublicStore(database: db.database, clock: clock).published())
        let id = "<id>https://herald.test/advisories/\(advisory.publicID)</id>"
        #expect(first.contains(id) && second.contains(id))
        #expect(first.contains("<updated>\(Instant.rfc3339(advisory.createdAt))</updated>"))
        #expect(second.contains("<updated>\(Instant.rfc3339(clock.now))</updated>"))
        #expect(second.contains("1.2.3"))
    }
}
