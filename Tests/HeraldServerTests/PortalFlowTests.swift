import Foundation
import HeraldCore
import HeraldServer
import HeraldStore
import HeraldTestSupport
import Hummingbird
import HummingbirdTesting
import Testing

/// The provider portal through its pages: sign-in by a mailed single-use link, the notices a
/// participant may read, an answer, the organisation's language, sign-out; and what it refuses.
@Suite(.serialized) struct PortalFlowTests {
    let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]

    @Test func aContactSignsInByMailReadsItsNoticeAnswersAndSignsOut() async throws {
        let fixture = try ServerFixture(background: true)
        let db = fixture.db
        let acme = try db.providers.add(
            try NewProvider(organization: "Acme Hosting", emails: ["cert@acme.example"], projects: ["demo"]),
            status: .active, actor: db.actor)
        // Another participant, whose private statement Acme never sees.
        let other = try db.providers.add(
            try NewProvider(organization: "Other", emails: ["sec@other.example"], projects: ["demo"]),
            status: .active, actor: db.actor)
        let advisory = try db.advisories.create(
            project: "demo",
            content: AdvisoryContent(
                title: "Heap overflow", summary: "A crafted request overflows.", body: "Upgrade to **1.4.3**."),
            schedule: Schedule(embargo: Date() + 7 * 86_400, earlyNotice: Date() + 0.1), actor: db.actor)
        try await fixture.app().test(.router) { client in
            #expect(await eventually { fixture.mails().contains { $0.contains("Heap overflow") } })

            // 1. The form, with its CSRF cookie; the same answer for a known and an unknown address.
            var csrf = ""
            try await client.execute(uri: "/portal", method: .get) { response in
                #expect(response.status == .ok)
                let cookie = try #require(response.headers[.setCookie])
                csrf = String(cookie.split(separator: ";")[0].split(separator: "=")[1])
            }
            let sentBefore = try db.count("deliveries")
            var pages: [String] = []
            for address in ["cert@acme.example", "nobody@nowhere.example"] {
                try await client.execute(
                    uri: "/portal/sign-in-link", method: .post,
                    headers: form.merging([.cookie: "herald_portal_csrf=\(csrf)"]),
                    body: ByteBuffer(string: "csrf=\(csrf)&email=\(address)")
                ) { response in
                    #expect(response.status == .ok)
                    pages.append(response.text.replacingOccurrences(of: address, with: "ADDRESS"))
                }
            }
            #expect(pages[0] == pages[1], "the page tells no one who is on the list")
            #expect(try db.count("deliveries") == sentBefore + 1, "one link, to the known address only")
            #expect(try db.count("portal_sign_ins") == 2, "both requests counted")
            // Without the form's cookie: refused, nothing sent.
            try await client.execute(
                uri: "/portal/sign-in-link", method: .post, headers: form,
                body: ByteBuffer(string: "csrf=\(csrf)&email=cert@acme.example")
            ) { response in #expect(response.status == .forbidden) }

            // 2. The link: a GET shows a button; the POST signs in once.
            #expect(await eventually { signInLink(fixture) != nil })
            let link = try #require(signInLink(fixture)).replacingOccurrences(of: "https://herald.test", with: "")
            try await client.execute(uri: link, method: .get) { response in
                #expect(response.status == .ok && response.text.contains("<form method=\"post\""))
            }
            var session = ""
            try await client.execute(uri: link, method: .post) { response in
                #expect(response.status == .seeOther)
                let cookie = try #require(response.headers[.setCookie])
                #expect(
                    cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/portal")
                )
                session = String(cookie.split(separator: ";")[0].split(separator: "=")[1])
            }
            try await client.execute(uri: link, method: .post) { response in #expect(response.status == .notFound) }
            let signedIn: HTTPFields = [.cookie: "herald_portal=\(session)"]

            // 3. Home lists the advisory; its page shows the text under embargo and the form.
            try await client.execute(uri: "/portal", method: .get, headers: signedIn) { response in
                #expect(response.text.contains("Acme Hosting") && response.text.contains("Heap overflow"))
                #expect(response.headers[.cacheControl] == "no-store")
            }
            let page = "/portal/advisories/\(advisory.id)"
            var sessionCSRF = ""
            try await client.execute(uri: page, method: .get, headers: signedIn) { response in
                #expect(response.status == .ok)
                #expect(response.text.contains("<strong>1.4.3</strong>"), "the body, rendered")
                #expect(response.text.contains("Under embargo"))
                #expect(response.text.contains("TLP:AMBER+STRICT · no deployment before the release"), "the terms")
                let match = try #require(response.text.firstMatch(of: /name="csrf" value="([A-Za-z0-9_-]+)"/))
                sessionCSRF = String(match.1)
            }
            // An answer without the session's CSRF token is refused; with it, recorded.
            try await client.execute(
                uri: "\(page)/answer", method: .post, headers: form.merging(signedIn),
                body: ByteBuffer(string: "status=ready")
            ) { response in #expect(response.status == .forbidden) }
            try await client.execute(
                uri: "\(page)/answer", method: .post, headers: form.merging(signedIn),
                body: ByteBuffer(string: "csrf=\(sessionCSRF)&status=ready&statement=Patched+everywhere&shareable=yes")
            ) { response in
                #expect(response.status == .seeOther, "\(response.text)")
            }
            let readiness = try db.stores.participation.readiness(advisory.id)
            #expect(readiness.participants.first { $0.providerID == acme.id }?.status == .ready)
            #expect(try db.audit.list(limit: 3).contains { $0.actor == "portal:cert@acme.example" })

            // The JSON API: the same, with the session as a bearer token (never the cookie).
            let bearer: HTTPFields = [.authorization: "Bearer \(session)", .contentType: "application/json"]
            try await client.execute(uri: "/api/v1/portal/advisories", method: .get, headers: signedIn) { response in
                #expect(response.status == .unauthorized, "the cookie is not enough")
            }
            try await client.execute(uri: "/api/v1/portal/advisories", method: .get, headers: bearer) { response in
                let list = try #require(response.json as? [[String: Any]])
                #expect(
                    list.first?["title"] as? String == "Heap overflow"
                        && list.first?["reading"] as? String == "embargoed")
                #expect(list.first?["status"] as? String == "ready")
            }
            try await client.execute(
                uri: "/api/v1/portal/advisories/\(advisory.id)/answer", method: .post, headers: bearer,
                body: ByteBuffer(string: #"{"status":"affected","statement":"Two hosts left"}"#)
            ) { response in
                #expect(response.status == .ok, "\(response.text)")
                #expect(response.object["status"] as? String == "affected")
                #expect((response.object["terms"] as? [String: Any])?["tlp"] as? String == "TLP:AMBER+STRICT")
            }
            try await client.execute(
                uri: "/api/v1/portal/advisories/\(advisory.id)/answer", method: .post, headers: bearer,
                body: ByteBuffer(string: #"{"status":"needs-more-time"}"#)
            ) { response in
                #expect(response.status == .unprocessableContent, "a proposal is needed")
                #expect(response.headers[.contentType]?.hasPrefix("application/problem+json") == true)
            }

            // 4. Excluded: the advisory is gone from its portal.
            _ = try db.stores.participation.exclude(advisory.id, provider: acme.id, reason: "test", actor: db.actor)
            try await client.execute(uri: page, method: .get, headers: signedIn) { response in
                #expect(response.status == .notFound)
                #expect(!response.text.contains("Heap overflow"))
            }
            _ = try db.stores.participation.invite(advisory.id, provider: acme.id, actor: db.actor)

            // Another participant's statement: unseen while private, seen once it is shared.
            for (statement, shareable) in [("PRIVATE-OTHER", false), ("SHARED-OTHER", true)] {
                try db.stores.participation.record(
                    try ProviderAnswer(
                        status: .affected, proposedInstant: nil, statement: statement, shareable: shareable,
                        release: nil, now: Date()),
                    advisory: advisory.id, provider: other.id, at: Date(), by: "test")
                try await client.execute(uri: page, method: .get, headers: signedIn) { response in
                    #expect(!response.text.contains("PRIVATE-OTHER"))
                    #expect(response.text.contains("SHARED-OTHER") == shareable, "\(statement)")
                }
            }

            // 5. Its language; then sign out, and the cookie opens nothing.
            try await client.execute(
                uri: "/portal/organisation", method: .post, headers: form.merging(signedIn),
                body: ByteBuffer(string: "csrf=\(sessionCSRF)&do=language&language=nl")
            ) { response in
                #expect(response.status == .ok && response.text.contains("Saved."), "\(response.text)")
            }
            #expect(try db.providerRecords.get(acme.id).language == .dutch)
            try await client.execute(
                uri: "/portal/sign-out", method: .post, headers: form.merging(signedIn),
                body: ByteBuffer(string: "csrf=\(sessionCSRF)")
            ) { response in #expect(response.status == .ok) }
            try await client.execute(uri: "/portal", method: .get, headers: signedIn) { response in
                #expect(!response.text.contains("Acme Hosting"), "signed out: the sign-in form again")
            }
        }
    }

    /// Signs `address` in through its mailed link; returns the session cookie and its CSRF token.
    func signIn(
        _ address: String, _ client: some TestClientProtocol, _ fixture: ServerFixture, organization: String? = nil
    ) async throws -> (cookie: HTTPFields, csrf: String) {
        var csrf = ""
        try await client.execute(uri: "/portal", method: .get) { response in
            csrf = String(try #require(response.headers[.setCookie]).split(separator: ";")[0].split(separator: "=")[1])
        }
        let before = Set(fixture.mails())
        try await client.execute(
            uri: "/portal/sign-in-link", method: .post, headers: form.merging([.cookie: "herald_portal_csrf=\(csrf)"]),
            body: ByteBuffer(string: "csrf=\(csrf)&email=\(address)")
        ) { response in #expect(response.status == .ok) }
        // The new sign-in mail (of the organisation asked for: an address of two gets one for each).
        let arrived = {
            fixture.mails().first {
                !before.contains($0) && $0.contains("/portal/sign-in?token=")
                    && (organization == nil || $0.contains(organization!))
            }
        }
        #expect(await eventually { arrived() != nil })
        let mail = try #require(arrived())
        let text = unfoldQuotedPrintable(mail)
        let link = try #require(text.firstMatch(of: /\/portal\/sign-in\?token=[A-Za-z0-9_-]+/)).0
        var session = ""
        try await client.execute(uri: String(link), method: .post) { response in
            #expect(response.status == .seeOther)
            session = String(
                try #require(response.headers[.setCookie]).split(separator: ";")[0].split(separator: "=")[1])
        }
        let cookie: HTTPFields = [.cookie: "herald_portal=\(session)"]
        var token = ""
        try await client.execute(uri: "/portal", method: .get, headers: cookie) { response in
            token = String(try #require(response.text.firstMatch(of: /name="csrf" value="([A-Za-z0-9_-]+)"/)).1)
        }
        return (cookie, token)
    }

    @Test func noOneTakesAnotherOrganisationsAddressAndSessionsEndWithTheProvider() async throws {
        let fixture = try ServerFixture(background: true)
        let db = fixture.db
        let alpha = try db.providers.add(
            try NewProvider(organization: "Alpha", emails: ["a@alpha.example"], projects: ["demo"]), status: .active,
            actor: db.actor)
        let beta = try db.providers.add(
            try NewProvider(organization: "Beta", emails: ["b@beta.example"], projects: ["demo"]), status: .active,
            actor: db.actor)
        try await fixture.app().test(.router) { client in
            let (cookie, csrf) = try await signIn("a@alpha.example", client, fixture)
            // Alpha adds Beta's address: only a confirmation link goes out; nothing is added.
            try await client.execute(
                uri: "/portal/organisation", method: .post, headers: form.merging(cookie),
                body: ByteBuffer(string: "csrf=\(csrf)&do=add-email&email=b@beta.example")
            ) { response in
                #expect(response.status == .ok && response.text.contains("confirmation link"), "\(response.text)")
            }
            #expect(try db.providerRecords.get(alpha.id).emails == ["a@alpha.example"])
            // Beta's contact still signs in to Beta, and only to Beta.
            let beta1 = try await signIn("b@beta.example", client, fixture, organization: "Beta")
            try await client.execute(uri: "/portal", method: .get, headers: beta1.cookie) { response in
                #expect(response.text.contains("<h1>Beta</h1>"), "\(response.text)")
            }
            // The confirmation link adds the address (a page with a button, then the POST).
            let confirmation = {
                fixture.mails().last { unfoldQuotedPrintable($0).contains("/portal/confirm-address?token=") }
            }
            #expect(await eventually { confirmation() != nil })
            let mail = unfoldQuotedPrintable(try #require(confirmation()))
            #expect(mail.contains("To: b@beta.example"), "to the address itself only")
            let confirm = String(try #require(mail.firstMatch(of: /\/portal\/confirm-address\?token=[A-Za-z0-9_-]+/)).0)
            try await client.execute(uri: confirm, method: .get) { response in #expect(response.status == .ok) }
            #expect(try db.providerRecords.get(alpha.id).emails == ["a@alpha.example"], "a GET adds nothing")
            try await client.execute(uri: confirm, method: .post) { response in #expect(response.status == .ok) }
            #expect(try db.providerRecords.get(alpha.id).emails == ["a@alpha.example", "b@beta.example"])
            // An address of two organisations gets a link for each.
            let before = fixture.mails().count
            try await client.execute(uri: "/portal", method: .get) { _ in }
            _ = try await signIn("b@beta.example", client, fixture, organization: "Alpha")
            #expect(
                fixture.mails().dropFirst(before).filter { $0.contains("sign-in link") || $0.contains("Sign in") }.count
                    >= 2)

            // A form on another site cannot sign anyone in.
            try await client.execute(
                uri: "/portal/sign-in?token=\(String(repeating: "x", count: 43))", method: .post,
                headers: [.init("Sec-Fetch-Site")!: "cross-site"]
            ) { response in #expect(response.status == .forbidden) }

            // A webhook added through the portal shows its secret once; removed by its place in the list.
            try await client.execute(
                uri: "/portal/organisation", method: .post, headers: form.merging(cookie),
                body: ByteBuffer(string: "csrf=\(csrf)&do=add-webhook&url=https://hooks.alpha.example/herald")
            ) { response in #expect(response.status == .ok && response.text.contains("whsec_"), "\(response.text)") }
            #expect(try db.providerRecords.get(alpha.id).webhooks.count == 1)
            try await client.execute(
                uri: "/portal/organisation", method: .post, headers: form.merging(cookie),
                body: ByteBuffer(string: "csrf=\(csrf)&do=remove-webhook&position=0")
            ) { response in #expect(response.status == .ok) }
            #expect(try db.providerRecords.get(alpha.id).webhooks.isEmpty)

            // Suspended: its sessions end at once, and approving it again does not revive them.
            _ = try db.providers.transition(beta.id, .suspend, reason: "audit", actor: db.actor)
            _ = try db.providers.transition(beta.id, .approve, actor: db.actor)
            try await client.execute(uri: "/portal", method: .get, headers: beta1.cookie) { response in
                #expect(!response.text.contains("<h1>Beta</h1>"))
            }

            // Alpha leaves: without the confirmation box nothing happens; with it, it is removed.
            try await client.execute(
                uri: "/portal/leave", method: .post, headers: form.merging(cookie),
                body: ByteBuffer(string: "csrf=\(csrf)")
            ) { response in #expect(response.status == .forbidden) }
            #expect(try db.providerRecords.get(alpha.id).status == .active)
            try await client.execute(
                uri: "/portal/leave", method: .post, headers: form.merging(cookie),
                body: ByteBuffer(string: "csrf=\(csrf)&confirm=yes")
            ) { response in #expect(response.status == .ok && response.text.contains("left")) }
            #expect(try db.providerRecords.get(alpha.id).status == .removed)
            try await client.execute(uri: "/portal", method: .get, headers: cookie) { response in
                #expect(!response.text.contains("<h1>Alpha</h1>"))
            }
        }
    }

    func signInLink(_ fixture: ServerFixture) -> String? {
        for mail in fixture.mails().reversed() {
            let text = unfoldQuotedPrintable(mail)
            if let range = text.range(
                of: #"https://herald\.test/portal/sign-in\?token=[A-Za-z0-9_-]+"#, options: .regularExpression)
            {
                return String(text[range])
            }
        }
        return nil
    }
}

extension HTTPFields {
    func merging(_ other: HTTPFields) -> HTTPFields {
        var fields = self
        for field in other { fields.append(field) }
        return fields
    }
}
