import Foundation
import HeraldCore
import HeraldServer
import HeraldStore
import HeraldTestSupport
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

/// Issue 11 from the HTTP side: what each role may see, what the public subscription API
/// accepts, and where metrics may be read.
@Suite struct TrustAPITests {
    static let secret = WebhookSecret.make(key: Array(repeating: 9, count: 32))

    /// Channels and a provider with credentials, and a publication so deliveries exist.
    func withCredentials(_ fixture: ServerFixture) throws -> Advisory {
        let db = fixture.db
        _ = try db.channels.add(
            NewChannel(projectSlug: "demo", kind: .webhook, target: "https://hooks.example/in", secret: Self.secret),
            actor: db.actor)
        _ = try db.channels.add(
            NewChannel(
                projectSlug: "demo", kind: .slack, target: "https://hooks.slack.com/services/T0/B0/SECRETPART",
                secret: nil),
            actor: db.actor)
        _ = try db.channels.add(
            NewChannel(
                projectSlug: "demo", kind: .matrix, target: "https://matrix.example/_matrix/client/v3/rooms/!r:example",
                secret: "syt_matrix_access_token"), actor: db.actor)
        _ = try db.providers.add(
            NewProvider(
                organization: "Partner", emails: ["a@partner.example"],
                webhooks: [("https://partner.example/hook", .discord)],
                projects: ["demo"]), status: .active, actor: db.actor)
        let advisory = try db.advisories.create(
            project: "demo", content: AdvisoryContent(title: "Overflow"),
            schedule: Schedule(embargo: db.clock.now + 3600, earlyNotice: db.clock.now + 0.05), actor: db.actor)
        Thread.sleep(forTimeInterval: 0.1)
        #expect(try db.advisories.fireDue().map(\.kind) == [.earlyNotice])
        return try db.advisories.publishNow(advisory.id, notes: try ChangeNotes(reason: "x"), actor: db.actor)
    }

    @Test func noRoleSeesACredentialInAListingAndOnlyAnAdminRevealsThem() async throws {
        let fixture = try ServerFixture()
        let advisory = try withCredentials(fixture)
        let credentials = [Self.secret, "SECRETPART", "syt_matrix_access_token", "partner.example/hook"]
        try await fixture.app().test(.router) { client in
            for token in [fixture.auditor, fixture.releaseManager, fixture.admin] {
                for path in [
                    "/api/v1/channels", "/api/v1/providers", "/api/v1/deliveries", "/api/v1/advisories/\(advisory.id)",
                    "/api/v1/advisories/\(advisory.id)/deliveries", "/api/v1/audit",
                ] {
                    try await client.execute(uri: path, method: .get, headers: bearer(token)) { response in
                        #expect(response.status == .ok, "\(path)")
                        for credential in credentials {
                            #expect(!response.text.contains(credential), "\(path) shows \(credential)")
                        }
                    }
                }
                try await client.execute(uri: "/api/v1/channels", method: .get, headers: bearer(token)) { response in
                    #expect(response.text.contains("whsec_…"), "a fingerprint stands in for the secret")
                }
            }
            for token in [fixture.auditor, fixture.releaseManager] {
                try await client.execute(uri: "/api/v1/channels?reveal=true", method: .get, headers: bearer(token)) {
                    response in
                    #expect(response.status == .forbidden)
                    #expect(!response.text.contains(Self.secret))
                }
            }
            let audited = try fixture.db.count("audit")
            try await client.execute(uri: "/api/v1/channels?reveal=true", method: .get, headers: bearer(fixture.admin))
            { response in
                #expect(response.status == .ok)
                #expect(response.text.contains(Self.secret) && response.text.contains("SECRETPART"))
            }
            #expect(try fixture.db.count("audit") == audited + 1)
            #expect(try fixture.db.audit.list(limit: 1).first?.action == "secrets.reveal")
        }
    }

    @Test func theSubscriptionAPITakesSmallJSONOnly() async throws {
        let fixture = try ServerFixture()
        let valid = #"{"organization":"Acme","email":"sec@acme.example","projects":["demo"]}"#
        try await fixture.app().test(.router) { client in
            // text/plain is what a page elsewhere can post without asking (a "simple" request).
            for type in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"] {
                try await client.execute(
                    uri: "/api/v1/subscriptions", method: .post, headers: [.contentType: type], body: jsonBody(valid)
                ) { response in
                    #expect(response.status == .unsupportedMediaType, "\(type)")
                    #expect(response.headers[.contentType] == "application/problem+json")
                }
            }
            try await client.execute(uri: "/api/v1/subscriptions", method: .post, headers: [:], body: jsonBody(valid)) {
                response in
                #expect(response.status == .unsupportedMediaType)
            }
            #expect(try fixture.db.count("providers") == 0)
            // The body that starved the instant: 100,000 projects. Refused by its size, unparsed.
            let projects = (0..<100_000).map { "\"p\($0)\"" }.joined(separator: ",")
            let hostile = #"{"organization":"Acme","email":"sec@acme.example","projects":[\#(projects)]}"#
            let started = ContinuousClock.now
            try await client.execute(
                uri: "/api/v1/subscriptions", method: .post, headers: [.contentType: "application/json"],
                body: jsonBody(hostile)
            ) { response in
                #expect(response.status == .contentTooLarge)
            }
            #expect(ContinuousClock.now - started < .milliseconds(500))
            try await client.execute(
                uri: "/api/v1/subscriptions", method: .post, headers: [.contentType: "application/json; charset=utf-8"],
                body: jsonBody(valid)
            ) { response in
                #expect(response.status == .accepted)
            }
            #expect(try fixture.db.count("providers") == 1)
        }
    }

    @Test func metricsNeedATokenOrTheirOwnListener() async throws {
        var configured = try ServerFixture()
        configured.configuration.metricsToken = "scrape-token-0123456789"
        let fixture = configured
        try await fixture.app().test(.router) { client in
            let cases: [(HTTPFields, HTTPResponse.Status)] = [
                ([:], .unauthorized), ([.authorization: "Bearer scrape-token-wrong"], .unauthorized),
                ([.authorization: "Bearer scrape-token-0123456789"], .ok),
                ([.authorization: "Bearer \(fixture.auditor)"], .ok),
            ]
            for (headers, status) in cases {
                try await client.execute(uri: "/metrics", method: .get, headers: headers) { response in
                    #expect(response.status == status, "\(headers)")
                    #expect(response.text.contains("herald_outbox_depth") == (status == .ok))
                }
            }
        }
    }

    @Test func anAdminEditsAProviderAndSeesNewSecretsOnce() async throws {
        let fixture = try ServerFixture()
        let provider = try fixture.db.providers.add(
            NewProvider(organization: "Acme", emails: ["a@acme.example"], projects: ["demo"]),
            status: .active, actor: fixture.db.actor)
        try await fixture.app().test(.router) { client in
            let body =
                #"{"add_emails":["b@acme.example"],"add_webhooks":[{"url":"https://acme.example/hook"}],"listed":true,"reason":"new contact"}"#
            try await client.execute(
                uri: "/api/v1/providers/\(provider.id)", method: .patch, headers: bearer(fixture.admin),
                body: jsonBody(body)
            ) { response in
                #expect(response.status == .ok, "\(response.text)")
                let secrets = response.object["new_secrets"] as? [String: String]
                #expect(secrets?["https://acme.example/hook"]?.hasPrefix("whsec_") == true, "\(response.text)")
                let edited = response.object["provider"] as? [String: Any]
                #expect((edited?["emails"] as? [String]) == ["a@acme.example", "b@acme.example"])
                let hooks = edited?["webhooks"] as? [[String: Any]]
                #expect(
                    (hooks?.first?["url"] as? String)?.hasPrefix("https://acme.example/…") == true,
                    "the provider part shows the URL by fingerprint")
            }
            try await client.execute(
                uri: "/api/v1/providers/\(provider.id)", method: .patch, headers: bearer(fixture.admin),
                body: jsonBody(#"{"remove_emails":["a@acme.example","b@acme.example"]}"#)
            ) { response in
                #expect(response.status == .unprocessableContent)
                #expect(response.object["field"] as? String == "remove-email")
            }
        }
        #expect(try fixture.db.providerRecords.get(provider.id).emails == ["a@acme.example", "b@acme.example"])
        #expect(try fixture.db.audit.list(limit: 1).first?.action == "provider.edit")
    }
}
