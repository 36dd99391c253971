import Foundation
import HeraldCore
import HeraldServer
import HeraldStore
import HeraldTestSupport
import Hummingbird
import HummingbirdTesting
import Testing

/// A participant answers a private notice through the links in its mail: each link opens a
/// form (a GET changes nothing but "seen"), the POST records the answer, and "needs more time"
/// reaches the release managers' address at once.
@Suite(.serialized) struct AnswerFlowTests {
    @Test func aParticipantAnswersThroughTheLinkInItsMailAndTheReleaseManagersHearOfMoreTime() async throws {
        let fixture = try ServerFixture(background: true)
        let db = fixture.db
        try db.database.run("UPDATE projects SET contact = 'security@demo.example' WHERE slug = 'demo'")
        _ = try db.providers.add(
            try NewProvider(organization: "Gemeente Voorbeeld", emails: ["cert@voorbeeld.example"], projects: ["demo"]),
            status: .active, actor: db.actor)
        let release = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 / 60).rounded(.down) * 60 + 7 * 86_400)
        let advisory = try db.advisories.create(
            project: "demo", content: AdvisoryContent(title: "Overflow"),
            schedule: Schedule(embargo: release, earlyNotice: Date() + 0.1), actor: db.actor)
        try await fixture.app().test(.router) { client in
            #expect(await eventually { answerLink(in: fixture) != nil })
            let link = try #require(answerLink(in: fixture))
            let token = String(link.split(separator: "token=")[1].prefix { $0 != "&" })
            // The mail links to each answer straight away.
            let mail = unfoldQuotedPrintable(try #require(fixture.mails().last))
            for status in ["ready", "not-affected", "needs-more-time"] {
                #expect(mail.contains("/answer?token=\(token)&status=\(status)"), "\(status)")
            }
            #expect(try db.stores.participation.readiness(advisory.id).participants.first?.seenAt == nil)

            try await client.execute(uri: "/answer?token=\(token)&status=needs-more-time", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.text.contains(#"value="needs-more-time" checked"#), "\(response.text)")
                #expect(response.text.contains("Europe/Amsterdam"))
            }
            var readiness = try db.stores.participation.readiness(advisory.id)
            #expect(readiness.participants.first?.seenAt != nil)
            #expect(readiness.participants.first?.status == .unknown, "a GET answers nothing")

            // Too early a proposal: the form again, with the rule; nothing recorded.
            let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
            let tooEarly = local(release - 3600)
            try await client.execute(
                uri: "/answer?token=\(token)", method: .post, headers: form,
                body: ByteBuffer(string: "status=needs-more-time&proposed=\(tooEarly)&statement=")
            ) { response in
                #expect(response.status == .unprocessableContent)
                #expect(response.text.contains("proposed: must be after the release instant"), "\(response.text)")
                #expect(response.text.contains("<form method=\"post\""))
            }
            #expect(try db.count("responses") == 0)

            let proposed = release + 2 * 86_400
            try await client.execute(
                uri: "/answer?token=\(token)", method: .post, headers: form,
                body: ByteBuffer(
                    string:
                        "status=needs-more-time&proposed=\(local(proposed))&statement=Two+more+days%2C+please&shareable=yes"
                )
            ) { response in
                #expect(response.status == .ok, "\(response.text)")
                #expect(response.text.contains("Gemeente Voorbeeld (cert@voorbeeld.example) answered"))
            }
            readiness = try db.stores.participation.readiness(advisory.id)
            let participant = try #require(readiness.participants.first)
            #expect(participant.status == .needsMoreTime && participant.proposedInstant == proposed)
            #expect(participant.statement == "Two more days, please" && participant.shareable)
            #expect(participant.acknowledgedAt != nil, "an answer acknowledges the notice")
            #expect(readiness.totals.contains("1 needs more time (latest proposal "), "\(readiness.totals)")
            #expect(readiness.totals.contains("0 silent"), "\(readiness.totals)")
            #expect(
                await eventually {
                    fixture.mails().contains {
                        $0.contains("To: security@demo.example") && $0.contains("needs more time for advisory")
                    }
                })

            // A link that is no link gets the same page as any bad link, and records nothing.
            try await client.execute(
                uri: "/answer?token=\(String(repeating: "x", count: 43))", method: .post, headers: form,
                body: ByteBuffer(string: "status=ready")
            ) { response in
                #expect(response.status == .notFound)
            }
            #expect(try db.count("responses") == 1)
        }
    }

    /// The newest answer link in the Maildir.
    func answerLink(in fixture: ServerFixture) -> String? {
        for mail in fixture.mails().reversed() {
            let text = unfoldQuotedPrintable(mail)
            if let range = text.range(
                of: #"https://herald\.test/answer\?token=[A-Za-z0-9_-]+"#, options: .regularExpression)
            {
                return String(text[range])
            }
        }
        return nil
    }

    /// What a browser's datetime-local field sends: the wall-clock time in the project's zone.
    func local(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "Europe/Amsterdam")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm"
        return formatter.string(from: date)
    }
}
