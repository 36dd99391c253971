import Foundation
import HeraldCore
import HeraldServer
import HeraldStore
import HeraldTestSupport
import Hummingbird
import HummingbirdTesting
import Testing

/// The first invariant, from the outside: nothing of an embargoed advisory on any public
/// route before its instant, everything within a second after it.
@Suite(.serialized) struct LeakTests {
    static let secrets = ["Embargoed heap overflow", "CVE-2026-31337", "only the embargo knows"]

    @Test func noPublicRouteShowsAnEmbargoedAdvisoryBeforeItsInstant() async throws {
        let fixture = try ServerFixture(background: true)
        let db = fixture.db
        _ = try db.channels.add(NewChannel(projectSlug: "demo", kind: .email, target: "announce@lists.example", secret: nil), actor: db.actor)
        let published = try db.advisories.create(project: "demo", content: AdvisoryContent(title: "Old public issue", cves: ["CVE-2025-1000"]),
                                                 schedule: Schedule(embargo: db.clock.now + 3600), actor: db.actor)
        _ = try db.advisories.publishNow(published.id, reason: "released", actor: db.actor)
        let embargo = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 3).rounded(.up))
        let embargoed = try db.advisories.create(
            project: "demo",
            content: AdvisoryContent(title: Self.secrets[0], summary: Self.secrets[2], cves: [Self.secrets[1]], severity: .critical),
            schedule: Schedule(embargo: embargo, preAnnounce: db.clock.now + 0.1), actor: db.actor)
        let secrets = Self.secrets + [embargoed.publicID]
        let publicID = embargoed.publicID
        let routes = ["/", "/feed.atom", "/feed.rss", "/feed.json", "/providers", "/.well-known/security.txt", "/healthz", "/metrics",
                      "/openapi.yaml", "/style.css", "/subscribe", "/advisories/\(publicID)", "/advisories/\(publicID).osv.json",
                      "/advisories/\(published.publicID)", "/advisories/\(published.publicID).osv.json", "/advisories/nonexistent",
                      "/advisories/\(embargoed.id)", "/advisories/%2e%2e", "/ack?token=x", "/unsubscribe?token=x", "/subscriptions/confirm?token=x"]

        try await fixture.app().test(.router) { client in
            // Before the instant: every route, plain and conditional.
            try await Task.sleep(for: .milliseconds(500))   // the pre-announcement has fired
            var etags: [String: String] = [:]
            for route in routes {
                try await client.execute(uri: route, method: .get) { response in
                    let everything = response.text + response.headers.map { "\($0.name): \($0.value)" }.joined(separator: "\n")
                    for secret in secrets { #expect(!everything.contains(secret), "\(route) shows '\(secret)' before the instant") }
                    if let etag = response.headers[.eTag] { etags[route] = etag }
                }
                try await client.execute(uri: route, method: .get, headers: [.ifNoneMatch: "\"0\", *", .ifModifiedSince: "Thu, 01 Jan 1970 00:00:00 GMT"]) { response in
                    for secret in secrets { #expect(!response.text.contains(secret)) }
                }
            }
            // An embargoed id and an unknown one answer alike, byte for byte.
            let embargoedPage = try await client.execute(uri: "/advisories/\(publicID)", method: .get) { ($0.status, $0.text) }
            let unknownPage = try await client.execute(uri: "/advisories/nonexistent", method: .get) { ($0.status, $0.text) }
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
            let everywhere = ["/": Self.secrets[0], "/feed.atom": Self.secrets[1], "/feed.rss": Self.secrets[1], "/feed.json": Self.secrets[1],
                              "/advisories/\(publicID)": Self.secrets[2], "/advisories/\(publicID).osv.json": Self.secrets[1]]
            while Date() < deadline.addingTimeInterval(0.5) && shown.count < everywhere.count {
                for (route, secret) in everywhere where shown[route] == nil {
                    let text = try await client.execute(uri: route, method: .get) { $0.text }
                    if text.contains(secret) { shown[route] = Date() }
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(Set(shown.keys) == Set(everywhere.keys), "not shown: \(Set(everywhere.keys).subtracting(shown.keys))")
            #expect(shown.values.allSatisfy { $0 <= deadline && $0 >= embargo }, "shown at \(shown.mapValues { $0.timeIntervalSince(embargo) })")
            // A conditional request with the old validator now gets the new document.
            if let old = etags["/feed.atom"] {
                try await client.execute(uri: "/feed.atom", method: .get, headers: [.ifNoneMatch: old]) { response in
                    #expect(response.status == .ok)
                    #expect(response.text.contains(Self.secrets[0]))
                }
            }
        }
    }

    @Test func conditionalRequestsGet304() async throws {
        let fixture = try ServerFixture()
        let advisory = try fixture.db.advisories.create(project: "demo", content: AdvisoryContent(title: "Public"), schedule: Schedule(embargo: Date() + 60), actor: fixture.db.actor)
        _ = try fixture.db.advisories.publishNow(advisory.id, reason: "x", actor: fixture.db.actor)
        try await fixture.app().test(.router) { client in
            for route in ["/", "/feed.atom", "/feed.rss", "/feed.json", "/advisories/\(advisory.publicID)", "/advisories/\(advisory.publicID).osv.json"] {
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
        let advisory = try fixture.db.advisories.create(project: "demo", content: AdvisoryContent(title: hostile, summary: hostile, body: hostile, affected: hostile),
                                                        schedule: Schedule(embargo: Date() + 60), actor: fixture.db.actor)
        _ = try fixture.db.advisories.publishNow(advisory.id, reason: "x", actor: fixture.db.actor)
        _ = try fixture.db.providers.add(NewProvider(organization: hostile, emails: ["a@b.example"], projects: ["demo"], listed: true), status: .active, actor: fixture.db.actor)
        try await fixture.app().test(.router) { client in
            for route in ["/", "/advisories/\(advisory.publicID)", "/providers", "/feed.atom", "/feed.rss", "/subscribe", "/nowhere"] {
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

    @Test func healthMetricsSecurityTxtAndTheAPIDescription() async throws {
        let fixture = try ServerFixture()
        try await fixture.app().test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.object["database"] as? String == "ok")
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
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
                let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                    .appending(path: "openapi.yaml")
                let expected = try String(contentsOf: file, encoding: .utf8)
                #expect(response.text == expected)
            }
        }
    }
}
