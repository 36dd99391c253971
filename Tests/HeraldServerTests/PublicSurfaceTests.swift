import Foundation
import HeraldCore
import HeraldStore
import HeraldTestSupport
import Hummingbird
import HummingbirdTesting
import Testing

@testable import HeraldServer

#if canImport(Glibc)
    import Glibc
#endif

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// The first invariant, from the outside: nothing of an embargoed advisory on any public
/// route before its instant, everything within a second after it.
@Suite(.serialized) struct LeakTests {
    static let secrets = ["Embargoed heap overflow", "CVE-2026-31337", "only the embargo knows"]

    @Test func noPublicRouteShowsAnEmbargoedAdvisoryBeforeItsInstant() async throws {
        let fixture = try ServerFixture(background: true)
        let db = fixture.db
        _ = try db.channels.add(
            NewChannel(projectSlug: "demo", kind: .email, target: "announce@lists.example", secret: nil),
            actor: db.actor)
        let published = try db.advisories.create(
            project: "demo", content: AdvisoryContent(title: "Old public issue", cves: ["CVE-2025-1000"]),
            schedule: Schedule(embargo: db.clock.now + 3600), actor: db.actor)
        _ = try db.advisories.publishNow(published.id, notes: try ChangeNotes(reason: "released"), actor: db.actor)
        let embargo = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 3).rounded(.up))
        let embargoed = try db.advisories.create(
            project: "demo",
            content: AdvisoryContent(
                title: Self.secrets[0], summary: Self.secrets[2], cves: [Self.secrets[1]], severity: .critical),
            schedule: Schedule(embargo: embargo, preAnnounce: db.clock.now + 0.1), actor: db.actor)
        let secrets = Self.secrets + [embargoed.publicID]
        let publicID = embargoed.publicID
        let routes = [
            "/", "/feed.atom", "/feed.rss", "/feed.json", "/providers", "/.well-known/security.txt", "/healthz",
            "/metrics",
            "/openapi.yaml", "/style.css", "/subscribe", "/advisories/\(publicID)", "/advisories/\(publicID).osv.json",
            "/advisories/\(published.publicID)", "/advisories/\(published.publicID).osv.json",
            "/advisories/nonexistent",
            "/advisories/\(embargoed.id)", "/advisories/%2e%2e", "/ack?token=x", "/unsubscribe?token=x",
            "/subscriptions/confirm?token=x",
        ]

        try await fixture.app().test(.live) { client in
            // Before the instant: every route, plain and conditional.
            try await Task.sleep(for: .milliseconds(500))  // the pre-announcement has fired
            var etags: [String: String] = [:]
            for route in routes {
                try await client.execute(uri: route, method: .get) { response in
                    let everything =
                        response.text + response.headers.map { "\($0.name): \($0.value)" }.joined(separator: "\n")
                    for secret in secrets {
                        #expect(!everything.contains(secret), "\(route) shows '\(secret)' before the instant")
                    }
                    if let etag = response.headers[.eTag] { etags[route] = etag }
                }
                try await client.execute(
                    uri: route, method: .get,
                    headers: [.ifNoneMatch: "\"0\", *", .ifModifiedSince: "Thu, 01 Jan 1970 00:00:00 GMT"]
                ) { response in
                    for secret in secrets { #expect(!response.text.contains(secret)) }
                }
            }
            // An embargoed id and an unknown one answer alike, byte for byte.
            let embargoedPage = try await client.execute(uri: "/advisories/\(publicID)", method: .get) {
                ($0.status, $0.text)
            }
            let unknownPage = try await client.execute(uri: "/advisories/nonexistent", method: .get) {
                ($0.status, $0.text)
            }
            #expect(embargoedPage.0 == .notFound)
            #expect(embargoedPage == unknownPage)
            // The pre-announcement shows date and severity, nothing else.
            let index = try await client.execute(uri: "/", method: .get) { $0.text }
            #expect(index.contains("security release at"))
            #expect(index.contains("critical"))
            #expect(index.contains("Old public issue"))

            // After the instant: within a second, everywhere.
            let deadline = embargo.addingTimeInterval(1)
            while Date() < embargo { try await Task.sleep(for: .milliseconds(20)) }
            var shown: [String: Date] = [:]
            let everywhere = [
                "/": Self.secrets[0], "/feed.atom": Self.secrets[1], "/feed.rss": Self.secrets[1],
                "/feed.json": Self.secrets[1],
                "/advisories/\(publicID)": Self.secrets[2], "/advisories/\(publicID).osv.json": Self.secrets[1],
            ]
            while Date() < deadline.addingTimeInterval(0.5) && shown.count < everywhere.count {
                for (route, secret) in everywhere where shown[route] == nil {
                    let text = try await client.execute(uri: route, method: .get) { $0.text }
                    if text.contains(secret) { shown[route] = Date() }
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(
                Set(shown.keys) == Set(everywhere.keys), "not shown: \(Set(everywhere.keys).subtracting(shown.keys))")
            #expect(
                shown.values.allSatisfy { $0 <= deadline && $0 >= embargo },
                "shown at \(shown.mapValues { $0.timeIntervalSince(embargo) })")
            // A conditional request with the old validator now gets the new document.
            if let old = etags["/feed.atom"] {
                try await client.execute(uri: "/feed.atom", method: .get, headers: [.ifNoneMatch: old]) { response in
                    #expect(response.status == .ok)
                    #expect(response.text.contains(Self.secrets[0]))
                }
            }
        }
    }

    /// Fresh cached documents are answered on the event loop, before the router: the answer
    /// must be the router's, byte for byte (the Date header aside), for GET, HEAD and 304.
    @Test func theEventLoopAnswersCachedDocumentsExactlyAsTheRouterDoes() async throws {
        let fixture = try ServerFixture()
        let advisory = try fixture.published("Public")
        @Sendable func fields(_ response: TestResponse) -> [String] {
            response.headers.filter { $0.name != .date }.map { "\($0.name): \($0.value)" }
        }
        try await fixture.app().test(.live) { client in
            for route in [
                "/", "/providers", "/feed.atom", "/feed.rss", "/feed.json", "/advisories/\(advisory.publicID)",
                "/advisories/\(advisory.publicID).osv.json",
            ] {
                // The first request renders through the router; the next ones find the document fresh.
                let routed = try await client.execute(uri: route, method: .get) { ($0.status, fields($0), $0.text) }
                #expect(routed.0 == .ok)
                for _ in 0..<3 {
                    let cached = try await client.execute(uri: route, method: .get) { ($0.status, fields($0), $0.text) }
                    #expect(cached == routed, "\(route)")
                }
                try await client.execute(uri: route, method: .head) { response in
                    #expect(response.status == .ok)
                    #expect(fields(response) == routed.1, "\(route)")
                    #expect(response.body.readableBytes == 0)
                }
                let etag = try #require(routed.1.first { $0.hasPrefix("ETag: ") }.map { String($0.dropFirst(6)) })
                try await client.execute(uri: route, method: .get, headers: [.ifNoneMatch: etag]) { response in
                    #expect(response.status == .notModified)
                    #expect(response.body.readableBytes == 0)
                    #expect(response.headers[.contentSecurityPolicy] != nil && response.headers[.eTag] == etag)
                }
            }
            // Whatever is not a cached document still reaches the router.
            try await client.execute(uri: "/advisories/nonexistent", method: .get) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/feed.atom?page=2", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
        }
    }

    /// A connection's whole, plain GETs of fresh cached documents are answered from the bytes
    /// read, before the HTTP decoder: the bytes must be the HTTP pipeline's (Date aside), for
    /// 200 and 304, two requests in one read answered in order; anything else (HEAD, a request
    /// split over reads) goes to the pipeline, and that connection stays with it.
    @Test func theRawPathAnswersExactlyAsTheHTTPPipelineDoes() async throws {
        let fixture = try ServerFixture()
        let advisory = try fixture.published("Public")
        try await fixture.app().test(.live) { client in
            let port = try #require(client.port)
            let get = "GET /feed.atom HTTP/1.1\r\nHost: herald.test\r\nUser-Agent: test\r\n\r\n"
            // A split request goes to the pipeline (and renders the feed into the cache).
            let split = try RawConnection(port: port)
            try split.send(String(get.prefix(20)))
            try await Task.sleep(for: .milliseconds(50))
            try split.send(String(get.dropFirst(20)))
            let piped = try split.responses(1)[0]
            #expect(piped.hasPrefix("HTTP/1.1 200 OK\r\n") && piped.contains("<feed"), "\(piped.prefix(300))")
            func withoutDate(_ response: String) -> String {
                response.split(separator: "\r\n", omittingEmptySubsequences: false)
                    .filter { !$0.hasPrefix("Date: ") && !$0.hasPrefix("date: ") }.joined(separator: "\r\n")
            }
            // On the same connection, the pipeline keeps answering: the raw path stays out.
            let before = RawDocumentHandler.answered.load(ordering: .relaxed)
            try split.send(get)
            #expect(withoutDate(try split.responses(1)[0]) == withoutDate(piped))
            #expect(RawDocumentHandler.answered.load(ordering: .relaxed) == before)

            // A new connection, the feed fresh in the cache: two requests in one read, answered
            // from the bytes, in order, the same bytes as the pipeline's.
            try await client.execute(uri: "/feed.atom", method: .get) { #expect($0.status == .ok) }
            let raw = try RawConnection(port: port)
            let etag = try #require(piped.split(separator: "\r\n").first { $0.lowercased().hasPrefix("etag: ") })
                .dropFirst(6)
            try raw.send(get + "GET /feed.atom HTTP/1.1\r\nHost: h\r\nIf-None-Match: \(etag)\r\n\r\n")
            let answers = try raw.responses(2)
            #expect(RawDocumentHandler.answered.load(ordering: .relaxed) >= before + 2, "the raw path answered")
            #expect(withoutDate(answers[0]) == withoutDate(piped))
            #expect(answers[1].hasPrefix("HTTP/1.1 304 Not Modified\r\n") && !answers[1].contains("<feed"))
            // A document not in the cache yet: the pipeline answers (and renders it); the same
            // connection is answered here again once it has.
            let cold = try RawConnection(port: port)
            let rss = "GET /feed.rss HTTP/1.1\r\nHost: h\r\n\r\n"
            let countBefore = RawDocumentHandler.answered.load(ordering: .relaxed)
            try cold.send(rss)
            let rendered = try cold.responses(1)[0]
            #expect(
                rendered.hasPrefix("HTTP/1.1 200 OK")
                    && RawDocumentHandler.answered.load(ordering: .relaxed) == countBefore)
            try await client.execute(uri: "/feed.rss", method: .get) { #expect($0.status == .ok) }  // fresh again
            let afterClient = RawDocumentHandler.answered.load(ordering: .relaxed)
            try cold.send(rss)
            #expect(withoutDate(try cold.responses(1)[0]) == withoutDate(rendered))
            #expect(RawDocumentHandler.answered.load(ordering: .relaxed) > afterClient, "answered here again")
            // A read with a cached document and something else: both go to the pipeline (which
            // answers the feed from the cache itself), and the connection still comes back.
            let mixed = try RawConnection(port: port)
            try await client.execute(uri: "/feed.atom", method: .get) { #expect($0.status == .ok) }
            try mixed.send(get + "GET /advisories/nonexistent HTTP/1.1\r\nHost: h\r\n\r\n")
            let both = try mixed.responses(2)
            #expect(both[0].hasPrefix("HTTP/1.1 200 OK") && both[1].hasPrefix("HTTP/1.1 404"))
            try await client.execute(uri: "/feed.atom", method: .get) { #expect($0.status == .ok) }
            let beforeMixed = RawDocumentHandler.answered.load(ordering: .relaxed)
            try mixed.send(get)
            #expect(withoutDate(try mixed.responses(1)[0]) == withoutDate(piped))
            #expect(RawDocumentHandler.answered.load(ordering: .relaxed) > beforeMixed, "answered here again")
            // What the pipeline answers to the same 304 request, byte for byte.
            let conditional = try RawConnection(port: port)
            try conditional.send("HEAD / HTTP/1.1\r\nHost: h\r\n\r\n")  // HEAD: the pipeline's from now on
            _ = try conditional.responses(1)
            try conditional.send("GET /feed.atom HTTP/1.1\r\nHost: h\r\nIf-None-Match: \(etag)\r\n\r\n")
            #expect(withoutDate(try conditional.responses(1)[0]) == withoutDate(answers[1]))
        }
    }

    /// A connection the raw path answers keeps the read timeout: one that keeps asking stays
    /// open past it, one that falls silent is closed after it.
    @Test func theRawPathKeepsTheIdleTimeout() async throws {
        var fixture = try ServerFixture()
        fixture.configuration.readTimeout = .seconds(1)
        let advisory = try fixture.published("Public")
        try await fixture.app().test(.live) { client in
            let port = try #require(client.port)
            let connection = try RawConnection(port: port)
            let before = RawDocumentHandler.answered.load(ordering: .relaxed)
            for _ in 0..<8 {
                // Fresh in the cache each time (it is checked against the database every 100 ms).
                try await client.execute(uri: "/feed.atom", method: .get) { #expect($0.status == .ok) }
                try connection.send("GET /feed.atom HTTP/1.1\r\nHost: h\r\n\r\n")
                #expect(try connection.responses(1)[0].hasPrefix("HTTP/1.1 200 OK"))
                try await Task.sleep(for: .milliseconds(300))
            }
            #expect(RawDocumentHandler.answered.load(ordering: .relaxed) >= before + 8, "the raw path answered")
            // 2.4 s of asking, open; then silent, closed within the timeout and a check.
            try await Task.sleep(for: .milliseconds(2500))
            #expect(throws: (any Error).self) {
                try connection.send("GET /feed.atom HTTP/1.1\r\nHost: h\r\n\r\n")
                _ = try connection.responses(1)
            }
        }
    }

    /// Answers share the cache's one copy of a document: readers that ask for a large feed many
    /// times in one read and never read the answers cost the server no copies of it (each
    /// answer copied the body: 20 connections made hundreds of MiB).
    @Test func theRawPathCopiesNoDocument() async throws {
        let fixture = try ServerFixture()
        let body = String(repeating: "Long advisory text, paragraph after paragraph. ", count: 3_000)
        for index in 0..<6 {
            _ = try fixture.published("Public \(index)", body: body)
        }
        try await fixture.app().test(.live) { client in
            let port = try #require(client.port)
            let size = try await client.execute(uri: "/feed.json", method: .get) { $0.body.readableBytes }
            _ = try await client.execute(uri: "/feed.atom", method: .get) { $0.body.readableBytes }
            #expect(size > 800_000, "a large feed: \(size) bytes")
            let before = residentBytes()
            var silent: [RawConnection] = []
            for _ in 0..<20 {
                try await client.execute(uri: "/feed.json", method: .get) { #expect($0.status == .ok) }  // fresh
                let connection = try RawConnection(port: port)
                let requests = (0..<16).map { "GET /feed.\($0 % 2 == 0 ? "json" : "atom") HTTP/1.1\r\nHost: h\r\n\r\n" }
                try connection.send(requests.joined())
                silent.append(connection)
            }
            try await Task.sleep(for: .milliseconds(500))
            let grown = residentBytes() - before
            #expect(grown < 64 << 20, "the server grew by \(grown >> 20) MiB for 320 answers it could not send")
            #expect(silent.count == 20)
        }
    }

    /// Many readers of a stale cache share one check against the database; when something was
    /// published meanwhile, every one of them gets the new feed, none the old one.
    @Test func concurrentReadersOfAStaleCacheAllGetTheNewPublication() async throws {
        let fixture = try ServerFixture()
        let db = fixture.db
        @Sendable func publish(_ title: String) throws {
            let advisory = try db.advisories.create(
                project: "demo", content: AdvisoryContent(title: title), schedule: Schedule(embargo: Date() + 60),
                actor: db.actor)
            _ = try db.advisories.publishNow(advisory.id, notes: try ChangeNotes(reason: "x"), actor: db.actor)
        }
        try publish("First one")
        try await fixture.app().test(.live) { client in
            func readers() async throws -> [String] {
                try await withThrowingTaskGroup(of: String.self) { group in
                    for _ in 0..<32 {
                        group.addTask { try await client.execute(uri: "/feed.atom", method: .get) { $0.text } }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
            }
            #expect(try await readers().allSatisfy { $0.contains("First one") && !$0.contains("Second one") })
            // Published by another process (the CLI): no invalidation, only the cache's own check.
            try publish("Second one")
            try await Task.sleep(for: .milliseconds(150))
            let feeds = try await readers()
            #expect(feeds.count == 32 && feeds.allSatisfy { $0.contains("Second one") })
        }
    }

    @Test func conditionalRequestsGet304() async throws {
        let fixture = try ServerFixture()
        let advisory = try fixture.published("Public")
        try await fixture.app().test(.live) { client in
            for route in [
                "/", "/feed.atom", "/feed.rss", "/feed.json", "/advisories/\(advisory.publicID)",
                "/advisories/\(advisory.publicID).osv.json",
            ] {
                let (etag, modified) = try await client.execute(uri: route, method: .get) { response in
                    #expect(response.status == .ok)
                    return (response.headers[.eTag] ?? "", response.headers[.lastModified] ?? "")
                }
                #expect(etag.hasPrefix("\""))
                try await client.execute(uri: route, method: .get, headers: [.ifNoneMatch: etag]) { response in
                    #expect(response.status == .notModified, "\(route)")
                    #expect(response.body.readableBytes == 0)
                }
                try await client.execute(uri: route, method: .get, headers: [.ifModifiedSince: modified]) { response in
                    #expect(response.status == .notModified, "\(route)")
                }
                try await client.execute(uri: route, method: .get, headers: [.ifNoneMatch: "\"other\""]) { response in
                    #expect(response.status == .ok)
                }
            }
        }
    }

    @Test func pagesCarrySecurityHeadersAndEscapeEverything() async throws {
        let fixture = try ServerFixture()
        let hostile = "<script>alert(1)</script>\"'&"
        let advisory = try fixture.db.advisories.create(
            project: "demo",
            content: AdvisoryContent(title: hostile, summary: hostile, body: hostile, affected: hostile),
            schedule: Schedule(embargo: Date() + 60), actor: fixture.db.actor)
        _ = try fixture.db.advisories.publishNow(
            advisory.id, notes: try ChangeNotes(reason: "x"), actor: fixture.db.actor)
        _ = try fixture.db.providers.add(
            NewProvider(organization: hostile, emails: ["a@b.example"], projects: ["demo"], listed: true),
            status: .active, actor: fixture.db.actor)
        try await fixture.app().test(.live) { client in
            for route in [
                "/", "/advisories/\(advisory.publicID)", "/providers", "/feed.atom", "/feed.rss", "/subscribe",
                "/nowhere",
            ] {
                try await client.execute(uri: route, method: .get) { response in
                    #expect(!response.text.contains("<script>"), "\(route) carries the payload unescaped")
                    #expect(response.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'none'") == true)
                    #expect(response.headers[.xContentTypeOptions] == "nosniff")
                    #expect(response.headers[.init("Referrer-Policy")!] == "no-referrer")
                }
            }
            try await client.execute(uri: "/", method: .head) { response in
                #expect(response.status == .ok)
                #expect(response.body.readableBytes == 0)
            }
        }
    }

    /// Markup that must never reach a page or feed as markup, tagged with the field it came in.
    static func markup(_ field: String) -> String {
        "<script>alert('\(field)')</script>\"><img src=x onerror=alert(1)>'><svg onload=alert(2)>]]><x/>{{& \(field)}}{{{raw}}}&amp;"
    }

    @Test func markupInEveryFieldIsTextOnEveryPageAndFeed() async throws {
        let fixture = try ServerFixture()
        let db = fixture.db
        let advisory = try db.advisories.create(
            project: "demo",
            content: AdvisoryContent(
                title: Self.markup("title"), summary: Self.markup("summary"),
                body: Self.markup("body"), cves: ["CVE-2026-1234"],
                affected: Self.markup("affected"), fixed: Self.markup("fixed")),
            schedule: Schedule(embargo: Date() + 60), actor: db.actor)
        _ = try db.advisories.publishNow(advisory.id, notes: try ChangeNotes(reason: "x"), actor: db.actor)
        _ = try db.providers.add(
            NewProvider(
                organization: Self.markup("organization"), emails: ["a@b.example"], projects: ["demo"], listed: true),
            status: .active, actor: db.actor)
        // Past validation: a project name, a CVSS vector and a CVE id that no rule would let in.
        try db.database.run("UPDATE projects SET name = ?", .text(Self.markup("project")))
        try db.database.run("UPDATE advisories SET cvss = ?", .text(Self.markup("cvss")))
        try db.database.run("UPDATE advisory_cves SET cve = ?", .text("CVE-2026-1234" + Self.markup("cve")))
        let fields = ["title", "summary", "body", "affected", "fixed", "project", "cvss", "cve"]
        let routes = [
            "/", "/advisories/\(advisory.publicID)", "/providers", "/feed.atom", "/feed.rss", "/feed.json",
            "/advisories/\(advisory.publicID).osv.json",
        ]
        // route → fields whose text it shows
        let seen = try await fixture.app().test(.live) { client in
            var seen: [String: Set<String>] = [:]
            for route in routes {
                let decoded = try await client.execute(uri: route, method: .get) { response in
                    #expect(response.status == .ok, "\(route)")
                    let text = response.text
                    if route.hasSuffix(".json") {
                        // JSON carries the text as is; it must never be sniffed as HTML.
                        #expect(response.headers[.contentType]?.contains("json") == true, "\(route)")
                        #expect(response.headers[.xContentTypeOptions] == "nosniff", "\(route)")
                    } else {
                        for tag in ["<script", "<img", "<svg", "<x/>", "]]><"] {
                            #expect(!text.contains(tag), "\(route) carries \(tag) as markup")
                        }
                    }
                    // What a reader or parser gets back must be the literal text: escaped once, not dropped, not twice.
                    let decoded: String
                    if route.hasSuffix(".json") {
                        let json = try JSONSerialization.jsonObject(with: Data(text.utf8))
                        decoded = Self.strings(in: json).joined(separator: "\n")
                    } else if route.hasPrefix("/feed") {
                        let collector = TextCollector()
                        let parser = XMLParser(data: Data(text.utf8))
                        parser.delegate = collector
                        #expect(
                            parser.parse(), "\(route) is not well-formed XML: \(String(describing: parser.parserError))"
                        )
                        decoded = collector.text
                    } else {
                        decoded = text.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(
                            of: "&gt;", with: ">"
                        )
                        .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
                        .replacingOccurrences(of: "&#x27;", with: "'").replacingOccurrences(of: "&#34;", with: "\"")
                        .replacingOccurrences(of: "&amp;", with: "&")
                    }
                    return decoded
                }
                for field in fields + ["organization"] where decoded.contains(Self.markup(field)) {
                    seen[route, default: []].insert(field)
                }
            }
            return seen
        }
        // Each field is shown somewhere, intact, so the checks above looked at it.
        #expect(
            seen["/advisories/\(advisory.publicID)"]?.isSuperset(of: [
                "title", "summary", "body", "affected", "fixed", "project",
            ]) == true, "\(seen)")
        #expect(seen["/providers"]?.contains("organization") == true, "\(seen)")
        #expect(
            seen["/feed.atom"]?.contains("title") == true && seen["/feed.rss"]?.contains("title") == true
                && seen["/feed.json"]?.contains("title") == true, "\(seen)")
        print(
            "markupInEveryFieldIsTextOnEveryPageAndFeed: fields shown intact per route: \(seen.mapValues { $0.sorted() })"
        )
    }

    static func strings(in json: Any) -> [String] {
        switch json {
        case let text as String: return [text]
        case let array as [Any]: return array.flatMap(strings)
        case let object as [String: Any]: return object.values.flatMap(strings)
        default: return []
        }
    }

    @Test func healthMetricsSecurityTxtAndTheAPIDescription() async throws {
        let fixture = try ServerFixture()
        try await fixture.app().test(.live) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.object["database"] as? String == "ok")
            }
            // Metrics count private notices: a token of any role reads them, nobody else.
            for headers: HTTPFields in [[:], [.authorization: "Bearer hrld_forged"]] {
                try await client.execute(uri: "/metrics", method: .get, headers: headers) { response in
                    #expect(response.status == .unauthorized)
                    #expect(response.headers[.contentType] == "application/problem+json")
                    #expect(!response.text.contains("herald_"))
                }
            }
            try await client.execute(
                uri: "/metrics", method: .get, headers: [.authorization: "Bearer \(fixture.auditor)"]
            ) { response in
                #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
                #expect(response.text.contains("herald_outbox_depth 0"))
            }
            try await client.execute(uri: "/.well-known/security.txt", method: .get) { response in
                let lines = response.text.split(separator: "\n")
                #expect(lines.contains("Contact: mailto:herald@herald.test"))
                #expect(lines.contains("Canonical: https://herald.test/.well-known/security.txt"))
                let expires = try #require(lines.first { $0.hasPrefix("Expires: ") }.map { String($0.dropFirst(9)) })
                let date = try Instant.parse(expires, field: "expires")
                #expect(date > Date() && date < Date().addingTimeInterval(365 * 86_400))
            }
            try await client.execute(uri: "/openapi.yaml", method: .get) { response in
                let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                    .deletingLastPathComponent()
                    .appending(path: "openapi.yaml")
                let expected = try String(contentsOf: file, encoding: .utf8)
                #expect(response.text == expected)
            }
        }
    }
}

/// Every text and CDATA run of an XML document, concatenated per element.
final class TextCollector: NSObject, XMLParserDelegate {
    var text = ""
    func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }
    func parser(_ parser: XMLParser, foundCDATA CDATABlock: Data) {
        text += String(decoding: CDATABlock, as: UTF8.self)
    }
    func parser(
        _ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?
    ) { text += "\n" }

    @Test func securityTxtNamesTheContactAndPolicyFromTheSettings() async throws {
        var configured = try ServerFixture()
        configured.configuration.securityContact = "https://example.org/security"
        configured.configuration.policyURL = "https://example.org/policy"
        configured.configuration.preferredLanguages = "nl, en"
        let fixture = configured
        try await fixture.app().test(.router) { client in
            try await client.execute(uri: "/.well-known/security.txt", method: .get) { response in
                let lines = response.text.split(separator: "\n")
                #expect(
                    lines.contains("Contact: https://example.org/security")
                        && lines.contains("Policy: https://example.org/policy"), "\(response.text)")
                #expect(lines.contains("Preferred-Languages: nl, en"), "\(response.text)")
            }
        }
    }
}

/// A blocking HTTP/1.1 connection that sends raw bytes and reads whole answers back, so a
/// test sees exactly what went over the wire.
final class RawConnection {
    private let fd: Int32
    private var pending: [UInt8] = []

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
    }

    deinit { close(fd) }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        // MSG_NOSIGNAL: a connection the server closed is an error here, not a SIGPIPE.
        guard bytes.withUnsafeBytes({ Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count
        else {
            throw POSIXError(.EIO)
        }
    }

    /// `count` whole answers (head and Content-Length bytes of body), as text.
    func responses(_ count: Int) throws -> [String] {
        var answers: [String] = []
        while answers.count < count {
            if let end = answerEnd() {
                answers.append(String(decoding: pending[..<end], as: UTF8.self))
                pending.removeFirst(end)
                continue
            }
            var buffer = [UInt8](repeating: 0, count: 65_536)
            let read = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            guard read > 0 else { throw POSIXError(.ETIMEDOUT) }
            pending += buffer[..<read]
        }
        return answers
    }

    private func answerEnd() -> Int? {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard pending.count >= 4,
            let headEnd = (0...(pending.count - 4)).first(where: { Array(pending[$0..<$0 + 4]) == separator })
        else { return nil }
        let head = String(decoding: pending[..<headEnd], as: UTF8.self).lowercased()
        let length =
            head.split(separator: "\r\n").first { $0.hasPrefix("content-length: ") }
            .flatMap { Int($0.dropFirst(16)) } ?? 0
        let status304 = head.hasPrefix("http/1.1 304")
        let end = headEnd + 4 + (status304 ? 0 : length)
        return pending.count >= end ? end : nil
    }
}

/// This process's resident memory, from /proc.
func residentBytes() -> Int {
    let statm = (try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8)) ?? ""
    let pages = statm.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}
