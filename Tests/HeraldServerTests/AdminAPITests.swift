import Foundation
import HeraldCore
import HeraldServer
import HeraldStore
import HeraldTestSupport
import Hummingbird
import HummingbirdTesting
import Testing

@Suite struct AdminAPITests {
    /// Every admin route with the least role it needs and a body that would be accepted.
    static let routes: [(method: HTTPRequest.Method, path: String, role: TokenRole, body: String?)] = [
        (.get, "/api/v1/projects", .auditor, nil),
        (.post, "/api/v1/projects", .admin, #"{"slug":"other","name":"Other"}"#),
        (.get, "/api/v1/providers", .auditor, nil),
        (
            .post, "/api/v1/providers", .admin,
            #"{"organization":"Acme","emails":["sec@acme.example"],"projects":["demo"]}"#
        ),
        (.patch, "/api/v1/providers/1", .admin, #"{"listed":true}"#),
        (.post, "/api/v1/providers/1/approve", .admin, nil),
        (.post, "/api/v1/providers/1/suspend", .admin, nil),
        (.post, "/api/v1/providers/1/remove", .admin, nil),
        (.get, "/api/v1/channels", .auditor, nil),
        (.post, "/api/v1/channels", .admin, #"{"project":"demo","kind":"email","target":"announce@lists.example"}"#),
        (.post, "/api/v1/channels/1/test", .admin, nil),
        (.delete, "/api/v1/channels/1", .admin, nil),
        (.get, "/api/v1/advisories", .auditor, nil),
        (.post, "/api/v1/advisories", .releaseManager, #"{"project":"demo","title":"Overflow"}"#),
        (.get, "/api/v1/advisories/1", .auditor, nil),
        (.get, "/api/v1/advisories/1/deliveries", .auditor, nil),
        (.get, "/api/v1/advisories/1/readiness", .auditor, nil),
        (.post, "/api/v1/advisories/1/participants/1/invite", .releaseManager, nil),
        (.post, "/api/v1/advisories/1/participants/1/exclude", .releaseManager, #"{"reason":"x"}"#),
        (.post, "/api/v1/advisories/1/reschedule", .releaseManager, nil),
        (.post, "/api/v1/advisories/1/revise", .releaseManager, nil),
        (.post, "/api/v1/advisories/1/publish", .releaseManager, nil),
        (.post, "/api/v1/advisories/1/cancel", .releaseManager, nil),
        (.get, "/api/v1/deliveries", .auditor, nil),
        (.post, "/api/v1/deliveries/1/retry", .releaseManager, nil),
        (.get, "/api/v1/audit", .auditor, nil),
        (.get, "/api/v1/tokens", .admin, nil),
        (.post, "/api/v1/tokens", .admin, #"{"name":"ci","role":"auditor"}"#),
        (.delete, "/api/v1/tokens/ci", .admin, nil),
    ]

    @Test func everyAdminRouteNeedsAToken() async throws {
        let fixture = try ServerFixture()
        try await fixture.app().test(.router) { client in
            for route in Self.routes {
                for headers: HTTPFields in [
                    [:], [.authorization: "Bearer hrld_forged"], [.authorization: "Basic YTpi"],
                    [.authorization: "Bearer "],
                ] {
                    try await client.execute(
                        uri: route.path, method: route.method, headers: headers, body: route.body.map(jsonBody)
                    ) { response in
                        #expect(response.status == .unauthorized, "\(route.method) \(route.path) with \(headers)")
                        #expect(response.headers[.contentType] == "application/problem+json")
                        #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
                    }
                }
            }
        }
        #expect(try fixture.db.count("projects") == 1)
    }

    @Test func aRevokedTokenStopsWorking() async throws {
        let fixture = try ServerFixture()
        _ = try fixture.db.tokens.revoke(name: "auditor", actor: fixture.db.actor)
        try await fixture.app().test(.router) { client in
            try await client.execute(uri: "/api/v1/projects", method: .get, headers: bearer(fixture.auditor)) {
                response in
                #expect(response.status == .unauthorized)
            }
        }
    }

    @Test func aRoleBelowTheRouteIsForbiddenAndChangesNothing() async throws {
        let fixture = try ServerFixture()
        let before = try fixture.db.snapshot()
        let weaker: [TokenRole: [String]] = [
            .admin: [fixture.releaseManager, fixture.auditor], .releaseManager: [fixture.auditor], .auditor: [],
        ]
        try await fixture.app().test(.router) { client in
            for route in Self.routes {
                for token in weaker[route.role]! {
                    try await client.execute(
                        uri: route.path, method: route.method, headers: bearer(token), body: route.body.map(jsonBody)
                    ) { response in
                        #expect(response.status == .forbidden, "\(route.method) \(route.path)")
                        #expect(response.headers[.contentType] == "application/problem+json")
                        #expect((response.object["detail"] as? String)?.contains(route.role.rawValue) == true)
                    }
                }
            }
        }
        #expect(try fixture.db.snapshot() == before)
    }

    @Test func invalidInputGetsAProblemAndWritesNothing() async throws {
        let fixture = try ServerFixture()
        let cases: [(String, String, HTTPResponse.Status, String?)] = [
            ("/api/v1/projects", #"{"slug":"Bad Slug","name":"x"}"#, .unprocessableContent, "slug"),
            ("/api/v1/projects", #"{"slug":"demo","name":"Again"}"#, .conflict, "slug"),
            (
                "/api/v1/projects", #"{"slug":"ok","name":"x","timezone":"Mars/Base"}"#, .unprocessableContent,
                "timezone"
            ),
            ("/api/v1/projects", "not json", .badRequest, nil),
            ("/api/v1/advisories/1/participants/1/exclude", #"{"reason":""}"#, .unprocessableContent, "reason"),
            ("/api/v1/projects", #"{"slug":5}"#, .badRequest, nil),
            (
                "/api/v1/providers", #"{"organization":"A","emails":["nope"],"projects":["demo"]}"#,
                .unprocessableContent, "email"
            ),
            (
                "/api/v1/providers", #"{"organization":"A","emails":["a@a.example"],"projects":["ghost"]}"#,
                .unprocessableContent, "project"
            ),
            ("/api/v1/channels", #"{"project":"demo","kind":"fax","target":"x"}"#, .unprocessableContent, "kind"),
            (
                "/api/v1/advisories", #"{"project":"demo","title":"T","embargo":"2020-01-01T00:00:00Z"}"#,
                .unprocessableContent, "embargo"
            ),
            (
                "/api/v1/advisories", #"{"project":"demo","title":"T","embargo":"2027-03-28 02:30 Europe/Amsterdam"}"#,
                .unprocessableContent, "embargo"
            ),
            ("/api/v1/advisories", #"{"project":"demo","title":"T","cves":["CVE-1"]}"#, .unprocessableContent, "cve"),
            (
                "/api/v1/advisories", #"{"project":"demo","title":"","severity":"huge"}"#, .unprocessableContent,
                "severity"
            ),
            ("/api/v1/advisories/999/cancel", #"{"reason":"x"}"#, .notFound, nil),
            ("/api/v1/tokens", #"{"name":"x","role":"god"}"#, .unprocessableContent, "role"),
        ]
        let before = try fixture.db.snapshot()
        try await fixture.app().test(.router) { client in
            for (path, body, status, field) in cases {
                try await client.execute(uri: path, method: .post, headers: bearer(fixture.admin), body: jsonBody(body))
                { response in
                    #expect(response.status == status, "\(path) \(body): \(response.text)")
                    #expect(response.headers[.contentType] == "application/problem+json")
                    #expect(response.object["status"] as? Int == Int(status.code))
                    if let field { #expect(response.object["field"] as? String == field, "\(body): \(response.text)") }
                }
            }
            // Oversized bodies are refused before they are read whole.
            let huge = ByteBuffer(repeating: UInt8(ascii: "a"), count: 2 * 1024 * 1024)
            try await client.execute(uri: "/api/v1/projects", method: .post, headers: bearer(fixture.admin), body: huge)
            { response in
                #expect(response.status == .contentTooLarge)
            }
        }
        #expect(try fixture.db.snapshot() == before)
    }

    @Test func aReleaseManagerRunsAnAdvisoryThroughItsLife() async throws {
        let fixture = try ServerFixture()
        _ = try fixture.db.providers.add(
            NewProvider(organization: "Acme", emails: ["sec@acme.example"], projects: ["demo"]), status: .active,
            actor: fixture.db.actor)
        let embargo = Instant.rfc3339(Date().addingTimeInterval(3 * 86_400))
        try await fixture.app().test(.router) { client in
            let id = try await client.execute(
                uri: "/api/v1/advisories", method: .post, headers: bearer(fixture.releaseManager),
                body: jsonBody(
                    #"{"project":"demo","title":"Overflow","cves":["CVE-2026-1111"],"severity":"high","embargo":"\#(embargo)","early_notice":"now"}"#
                )
            ) { response in
                #expect(response.status == .created, "\(response.text)")
                #expect(response.object["state"] as? String == "scheduled")
                return response.object["id"] as? Int ?? 0
            }
            try await client.execute(
                uri: "/api/v1/advisories/\(id)/reschedule", method: .post, headers: bearer(fixture.releaseManager),
                body: jsonBody(
                    #"{"embargo":"\#(Instant.rfc3339(Date().addingTimeInterval(4 * 86_400)))","reason":"distros"}"#)
            ) { response in
                #expect(response.status == .ok, "\(response.text)")
                #expect(response.object["revision"] as? Int == 2)
            }
            try await client.execute(
                uri: "/api/v1/advisories/\(id)/publish", method: .post, headers: bearer(fixture.releaseManager),
                body: jsonBody("{}")
            ) { response in
                #expect(response.status == .unprocessableContent)  // a reason is required
            }
            try await client.execute(
                uri: "/api/v1/advisories/\(id)/publish", method: .post, headers: bearer(fixture.releaseManager),
                body: jsonBody(#"{"reason":"exploited"}"#)
            ) { response in
                #expect(response.object["state"] as? String == "published")
            }
            try await client.execute(
                uri: "/api/v1/advisories/\(id)/cancel", method: .post, headers: bearer(fixture.releaseManager),
                body: jsonBody(#"{"reason":"too late"}"#)
            ) { response in
                #expect(response.status == .conflict)
            }
            try await client.execute(uri: "/api/v1/advisories/\(id)", method: .get, headers: bearer(fixture.auditor)) {
                response in
                let audit = (response.object["audit"] as? [[String: Any]])?.compactMap { $0["action"] as? String }
                #expect(audit == ["advisory.publish", "advisory.reschedule", "advisory.create"])
                #expect((response.object["audit"] as? [[String: Any]])?.first?["actor"] as? String == "token:rm")
                #expect((response.object["revisions"] as? [Any])?.count == 2)
            }
        }
    }
}
