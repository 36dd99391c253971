import Foundation
import HeraldCore
import HeraldServer
import HeraldStore
import HeraldTestSupport
import Hummingbird
import HummingbirdTesting
import Testing

@Suite(.serialized) struct SubscriptionFlowTests {
    /// The link with `path` from the newest mail in the Maildir that contains it.
    func link(_ path: String, in fixture: ServerFixture) -> String? {
        for mail in fixture.mails().reversed() {
            let text = unfoldQuotedPrintable(mail)
            if let range = text.range(
                of: NSRegularExpression.escapedPattern(for: path + "?token=") + "[A-Za-z0-9_-]+",
                options: .regularExpression)
            {
                return String(text[range])
            }
        }
        return nil
    }

    /// What a request queues goes at once: the pool rings the delivery worker after a request
    /// changed rows. With the worker's idle look a minute apart, the confirmation mail would
    /// otherwise wait for it.
    @Test func aRequestsMailGoesWithoutWaitingForTheWorkersNextLook() async throws {
        var slow = try ServerFixture(background: true)
        slow.configuration.delivery?.worker.idlePoll = .seconds(60)
        let fixture = slow
        try await fixture.app().test(.router) { client in
            // The worker has started and gone idle.
            try await Task.sleep(for: .milliseconds(500))
            try await client.execute(
                uri: "/api/v1/subscriptions", method: .post, headers: [.contentType: "application/json"],
                body: jsonBody(#"{"organization":"Snel BV","email":"cert@snel.example","projects":["demo"]}"#)
            ) { response in
                #expect(response.status == .accepted)
            }
            #expect(
                await eventually(timeout: .seconds(5)) { fixture.mails().contains { $0.contains("cert@snel.example") } }
            )
        }
    }

    /// What a request makes due goes at once: the pool rings the scheduler too. An early notice
    /// due "now" is the scheduler's to send, and so is the rest of a notice larger than one
    /// share; with the scheduler's look a minute apart, both would wait for it.
    @Test func anEarlyNoticeMadeDueByARequestGoesToEveryoneWithoutWaitingForTheScheduler() async throws {
        var slow = try ServerFixture(background: true)
        slow.configuration.delivery?.schedulerPoll = .seconds(60)
        slow.configuration.outbox.providersPerTransaction = 2
        let fixture = slow
        for i in 0..<5 {
            try fixture.db.providers.add(
                NewProvider(organization: "Org \(i)", emails: ["sec@org\(i).example"], projects: ["demo"]),
                status: .active, actor: fixture.db.actor)
        }
        try await fixture.app().test(.router) { client in
            // The scheduler has made its first pass and gone to sleep.
            try await Task.sleep(for: .milliseconds(500))
            let embargo = Instant.rfc3339(Date().addingTimeInterval(86_400))
            try await client.execute(
                uri: "/api/v1/advisories", method: .post,
                headers: [.authorization: "Bearer \(fixture.releaseManager)", .contentType: "application/json"],
                body: jsonBody(#"{"project":"demo","title":"Overflow","embargo":"\#(embargo)","early_notice":"now"}"#)
            ) { response in
                #expect(response.status == .created, "\(response.text)")
            }
            #expect(
                await eventually(timeout: .seconds(5)) {
                    (0..<5).allSatisfy { i in fixture.mails().contains { $0.contains("sec@org\(i).example") } }
                }, "\(fixture.mails().count) mails")
        }
    }

    @Test func subscribeConfirmApproveAcknowledgeAndLeaveThroughTheMaildir() async throws {
        let fixture = try ServerFixture(background: true)
        let db = fixture.db
        try await fixture.app().test(.router) { client in
            // 1. Subscribe through the public API.
            try await client.execute(
                uri: "/api/v1/subscriptions", method: .post, headers: [.contentType: "application/json"],
                body: jsonBody(
                    #"{"organization":"Gemeente Voorbeeld","email":"cert@voorbeeld.example","projects":["demo"],"listed":true}"#
                )
            ) { response in
                #expect(response.status == .accepted)
            }
            #expect(await eventually { link("https://herald.test/subscriptions/confirm", in: fixture) != nil })
            let confirm = try #require(link("https://herald.test/subscriptions/confirm", in: fixture))
                .replacingOccurrences(of: "https://herald.test", with: "")
            #expect(
                try db.providerRecords.list(status: .pendingConfirmation).map(\.organization) == ["Gemeente Voorbeeld"])

            // 2. The link shows a button; the POST confirms; the link works once.
            try await client.execute(uri: confirm, method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.text.contains("<form method=\"post\""))
            }
            #expect(try db.providerRecords.list(status: .pendingConfirmation).count == 1)  // GET changed nothing
            try await client.execute(uri: confirm, method: .post) { response in #expect(response.status == .ok) }
            try await client.execute(uri: confirm, method: .post) { response in #expect(response.status == .notFound) }
            let provider = try #require(try db.providerRecords.list(status: .pendingApproval).first)

            // 3. A release manager approves over the API; a welcome mail goes out.
            try await client.execute(
                uri: "/api/v1/providers/\(provider.id)/approve", method: .post, headers: bearer(fixture.admin)
            ) { response in
                #expect(response.object["status"] as? String == "active", "\(response.text)")
            }
            #expect(await eventually { fixture.mails().contains { $0.contains("now receives early notice") } })

            // 4. An early notice with an acknowledgement link; acknowledging is recorded once.
            let advisory = try db.advisories.create(
                project: "demo", content: AdvisoryContent(title: "Overflow"),
                schedule: Schedule(embargo: Date() + 3600, earlyNotice: Date() + 0.1), actor: db.actor)
            #expect(await eventually { link("https://herald.test/ack", in: fixture) != nil })
            let ack = try #require(link("https://herald.test/ack", in: fixture)).replacingOccurrences(
                of: "https://herald.test", with: "")
            // The page says, in plain words, who acknowledges what.
            try await client.execute(uri: ack, method: .get) { response in
                #expect(
                    response.text.contains(
                        "Acknowledge that Gemeente Voorbeeld (cert@voorbeeld.example) received the early notice for &#39;Overflow&#39;, revision 1."
                    ),
                    "\(response.text)")
            }
            try await client.execute(uri: ack, method: .post) { response in
                #expect(response.status == .ok)
                #expect(
                    response.text.contains(
                        "Gemeente Voorbeeld (cert@voorbeeld.example) acknowledged the early notice for &#39;Overflow&#39;, revision 1."
                    ), "\(response.text)")
            }
            try await client.execute(uri: ack, method: .post) { response in #expect(response.status == .ok) }
            let acks = try AcknowledgementStore(database: db.database, clock: db.clock).list(advisory: advisory.id)
            #expect(acks.map(\.organization) == ["Gemeente Voorbeeld"])
            #expect(acks.first?.revision == 1)

            // 5. Listed organisations appear on the members page.
            try await client.execute(uri: "/providers", method: .get) { response in
                #expect(response.text.contains("Gemeente Voorbeeld"))
            }

            // 6. One-click unsubscribe (RFC 8058) from the List-Unsubscribe header.
            let unsubscribe = try #require(link("https://herald.test/unsubscribe", in: fixture)).replacingOccurrences(
                of: "https://herald.test", with: "")
            try await client.execute(
                uri: unsubscribe, method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: jsonBody("List-Unsubscribe=One-Click")
            ) { response in
                #expect(response.status == .ok)
            }
            #expect(try db.providerRecords.get(provider.id).status == .removed)
            // The audit log has every step with its actor.
            let actions = try db.audit.list(subjectType: "provider", subjectID: provider.id).map(\.action)
            #expect(actions == ["provider.remove", "provider.approve", "provider.confirm", "provider.add"])
        }
    }

    @Test func theSubscribeFormNeedsItsCSRFCookieAndValidInput() async throws {
        let fixture = try ServerFixture()
        try await fixture.app().test(.router) { client in
            let (cookie, csrf) = try await client.execute(uri: "/subscribe", method: .get) { response in
                let cookie = response.headers[.setCookie] ?? ""
                let value = String(cookie.dropFirst("herald_csrf=".count).prefix { $0 != ";" })
                #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"))
                #expect(response.text.contains("value=\"\(value)\""))
                return (value, value)
            }
            // As a browser sends it: the optional webhook field empty, the listing box ticked.
            let form =
                "csrf=\(csrf)&organization=Acme+Hosting&email=sec%40acme.example&webhook=&projects=demo&listed=yes"
            let headers: HTTPFields = [
                .contentType: "application/x-www-form-urlencoded", .cookie: "herald_csrf=\(cookie)",
            ]
            // Without the cookie (a cross-site post): refused, nothing written.
            try await client.execute(
                uri: "/subscribe", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: jsonBody(form)
            ) { response in
                #expect(response.status == .forbidden)
            }
            try await client.execute(
                uri: "/subscribe", method: .post, headers: headers,
                body: jsonBody("csrf=\(csrf)&organization=&email=x&projects=demo")
            ) { response in
                #expect(response.status == .unprocessableContent)
                #expect(response.text.contains("organization"))
            }
            #expect(try fixture.db.count("providers") == 0)
            try await client.execute(uri: "/subscribe", method: .post, headers: headers, body: jsonBody(form)) {
                response in
                #expect(response.status == .ok)
                #expect(response.text.contains("Check your mail"))
            }
            let subscribed = try fixture.db.providerRecords.list(status: .pendingConfirmation)
            #expect(subscribed.map(\.organization) == ["Acme Hosting"])
            #expect(subscribed.first?.webhooks.isEmpty == true && subscribed.first?.listed == true)
            // Subscribing again answers the same and does the same: a request and a confirmation
            // mail, so the form tells no one who is a member.
            try await client.execute(uri: "/subscribe", method: .post, headers: headers, body: jsonBody(form)) {
                response in
                #expect(response.text.contains("Check your mail"))
            }
            #expect(try fixture.db.count("providers") == 2)
        }
    }

    @Test func publicPostsAreRateLimitedPerAddress() async throws {
        let fixture = try ServerFixture(postsPerMinute: 3)
        try await fixture.app().test(.router) { client in
            var statuses: [HTTPResponse.Status] = []
            for i in 0..<5 {
                statuses.append(
                    try await client.execute(
                        uri: "/api/v1/subscriptions", method: .post, headers: [.contentType: "application/json"],
                        body: jsonBody(#"{"organization":"Org \#(i)","email":"a\#(i)@x.example","projects":["demo"]}"#)
                    ) { $0.status })
            }
            #expect(statuses == [.accepted, .accepted, .accepted, .tooManyRequests, .tooManyRequests])
        }
    }

    @Test func badLinksGetTheSamePageAndChangeNothing() async throws {
        let fixture = try ServerFixture()
        let before = try fixture.db.snapshot()
        try await fixture.app().test(.router) { client in
            var pages: Set<String> = []
            for path in ["/ack", "/unsubscribe", "/subscriptions/confirm"] {
                for token in [
                    "", "short", String(repeating: "a", count: 43), String(repeating: "x", count: 5000), "%00%0d%0a",
                ] {
                    for method in [HTTPRequest.Method.get, .post] {
                        try await client.execute(uri: "\(path)?token=\(token)", method: method) { response in
                            #expect(response.status == .notFound, "\(method) \(path)")
                            pages.insert(path + response.text)
                        }
                    }
                }
            }
            #expect(pages.count == 3)  // one page per route, whatever the token
            #expect(pages.allSatisfy { $0.contains("This link is not valid, was used already, or has expired.") })
        }
        #expect(try fixture.db.snapshot() == before)
    }

    @Test func lineBreaksInAnySubscriberFieldAreRefusedAndWriteNothing() async throws {
        let fixture = try ServerFixture()
        let before = try fixture.db.snapshot()
        let breaks = ["\r\n", "\n", "\r", "\u{0}", "\u{2028}", "\u{2029}", "\u{0085}"]
        let tried = try await fixture.app().test(.router) { client in
            var tried = 0
            for text in breaks {
                let evil = "x\(text)Bcc: evil@attacker.example"
                let bodies: [[String: Any]] = [
                    ["organization": "Org" + evil, "email": "a@b.example", "projects": ["demo"]],
                    ["organization": "Org", "email": "a@b.example" + evil, "projects": ["demo"]],
                    ["organization": "Org", "email": "a@b.example", "projects": ["demo" + evil]],
                    [
                        "organization": "Org", "email": "a@b.example", "projects": ["demo"],
                        "webhook": "https://hooks.example/" + evil,
                    ],
                ]
                for body in bodies {
                    tried += 1
                    let data = try JSONSerialization.data(withJSONObject: body)
                    try await client.execute(
                        uri: "/api/v1/subscriptions", method: .post, headers: [.contentType: "application/json"],
                        body: ByteBuffer(bytes: data)
                    ) { response in
                        #expect(
                            [.badRequest, .unprocessableContent].contains(response.status),
                            "\(body): \(response.status) \(response.text)")
                        #expect(response.headers[.contentType] == "application/problem+json")
                    }
                }
            }
            return tried
        }
        #expect(tried == 28)
        #expect(try fixture.db.snapshot() == before)
        #expect(fixture.mails().isEmpty)
    }
}
