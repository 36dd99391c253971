import Foundation
import HeraldTemplates
import Testing

@testable import HeraldCore

@Suite struct EmailMessageTests {
    let date = Date(timeIntervalSince1970: 1_796_140_800)  // Tue, 01 Dec 2026 16:00:00 +0000

    func message(
        subject: String, text: String = "Hello", to: String = "sec@acme.example", extra: [(String, String)] = []
    ) -> String {
        EmailMessage(
            from: "herald@herald.test", fromName: "Herald", to: to, subject: subject, text: text,
            messageID: "herald.1.abc@herald.test", date: date, extraHeaders: extra.map { (name: $0.0, value: $0.1) }
        ).rendered
    }

    func headers(_ rendered: String) -> [String] {
        let head = rendered.components(separatedBy: "\r\n\r\n")[0]
        return head.components(separatedBy: "\r\n").filter { !$0.hasPrefix(" ") }.map {
            String($0.prefix { $0 != ":" })
        }
    }

    @Test func headersAreTheExpectedOnes() {
        let rendered = message(subject: "Plain subject")
        #expect(
            headers(rendered) == [
                "Date", "From", "To", "Subject", "Message-ID", "MIME-Version", "Content-Type",
                "Content-Transfer-Encoding", "Auto-Submitted",
            ])
        #expect(rendered.contains("Date: Tue, 01 Dec 2026 16:00:00 +0000\r\n"))
        #expect(rendered.contains("From: \"Herald\" <herald@herald.test>\r\n"))
        #expect(rendered.contains("Message-ID: <herald.1.abc@herald.test>\r\n"))
    }

    @Test(arguments: [
        "Evil\r\nBcc: x@evil.example", "Evil\nBcc: x@evil.example", "Evil\rBcc: x@evil.example",
        "Ünïcode\r\nBcc: x@evil.example",
    ])
    func noFieldCanAddAHeader(subject: String) {
        let rendered = message(
            subject: subject, to: "a@b.example\r\nCc: c@evil.example", extra: [("List-Id", "x\r\nX-Evil: 1")])
        let names = headers(rendered)
        #expect(!names.contains("Bcc") && !names.contains("Cc") && !names.contains("X-Evil"))
    }

    @Test func nonASCIISubjectsAreEncodedWordsThatDecodeBack() throws {
        let subject = "Überlauf in der Zeichenkette — \(String(repeating: "ä", count: 60))"
        let rendered = message(subject: subject)
        let lines = rendered.components(separatedBy: "\r\n\r\n")[0].components(separatedBy: "\r\n")
        #expect(lines.allSatisfy { $0.utf8.count <= 78 })
        #expect(lines.allSatisfy { $0.unicodeScalars.allSatisfy { $0.isASCII } })
        let start = try #require(lines.firstIndex { $0.hasPrefix("Subject:") })
        var words: [String] = []
        for line in lines[start...] {
            guard line.hasPrefix("Subject:") || line.hasPrefix(" ") else { break }
            words += line.split(separator: " ").filter { $0.hasPrefix("=?UTF-8?B?") }.map(String.init)
        }
        let decoded = words.map { word in
            String(decoding: Data(base64Encoded: String(word.dropFirst(10).dropLast(2)))!, as: UTF8.self)
        }.joined()
        #expect(decoded == subject)
    }

    @Test func bodyIsQuotedPrintableWithShortLines() {
        let text = String(repeating: "ø", count: 700) + "\n= sign and trailing space \nend"
        let rendered = message(subject: "s", text: text)
        let body = rendered.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
        #expect(body.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 76 })
        #expect(body.contains("=3D sign"))
        #expect(body.contains("space=20"))
        #expect(body.unicodeScalars.allSatisfy { $0.isASCII })
    }
}

@Suite struct NoticeWriterTests {
    let project = Project(
        id: 1, slug: "demo", name: "Demo", timezone: "Europe/Amsterdam", maxEmbargoDays: 14, createdAt: Date())
    var advisory: Advisory {
        let content = try! AdvisoryContent(
            title: "Secret title", summary: "Secret summary", body: "Secret body", cves: ["CVE-2026-1234"],
            severity: .high, cvss: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", affected: "1.0", fixed: "1.1")
        return Advisory(
            id: 7, publicID: "demo-2026-abc123", projectSlug: "demo", state: .scheduled, revision: 2, content: content,
            schedule: Schedule(embargo: Date(timeIntervalSince1970: 1_796_140_800)), createdAt: Date(),
            updatedAt: Date())
    }

    func everything(_ c: NoticeContent) -> String { c.headline + c.plainText }

    @Test func publicNoticesBeforeReleaseSayNothingOfTheIssue() {
        let writer = NoticeWriter(project: project, publicURL: "https://herald.test/", wording: Templates.standard)
        for kind in [NoticeKind.preAnnouncement, .cancellation, .earlyNotice, .revision] {
            let text = everything(writer.content(kind, advisory: advisory, audience: .publicChannel))
            for secret in ["Secret", "CVE-2026", "demo-2026-abc123", "CVSS", "1.1"] {
                #expect(!text.contains(secret), "\(kind) to a public channel contains \(secret)")
            }
        }
        let pre = everything(writer.content(.preAnnouncement, advisory: advisory, audience: .publicChannel))
        #expect(pre.contains("2026-12-01 17:00:00 +01:00"))
        #expect(pre.contains("high"))
    }

    @Test func providersGetTheDetailsWithTheEmbargoAndTheirAckLink() {
        let writer = NoticeWriter(project: project, publicURL: "https://herald.test", wording: Templates.standard)
        let early = writer.content(
            .earlyNotice, advisory: advisory, audience: .provider(organization: "Acme"),
            ackURL: "https://herald.test/ack?token=T")
        let text = everything(early)
        #expect(early.embargoed)
        #expect(early.headline == "[EMBARGOED] Demo: Secret title")
        for detail in [
            "Secret summary", "Secret body", "CVE-2026-1234", "Revision:", "2026-12-01 17:00:00 +01:00",
            "https://herald.test/ack?token=T", "Do not share",
        ] {
            #expect(text.contains(detail), "missing \(detail)")
        }
        let notes = try! ChangeNotes(
            reason: "Dimpact needs a day", toProviders: "new date", publicNote: "Clarified the fix")
        let revision = writer.content(
            .revision, advisory: advisory, audience: .provider(organization: "Acme"), notes: notes)
        #expect(revision.intro.contains("revision 2") && revision.intro.contains("new date"))
        // Each note reaches its own audience only; the reason reaches none.
        #expect(!everything(revision).contains("Dimpact") && !everything(revision).contains("Clarified"))
        for kind in [NoticeKind.publication, .cancellation, .preAnnouncement] {
            let text = everything(writer.content(kind, advisory: advisory, audience: .publicChannel, notes: notes))
            #expect(!text.contains("Dimpact") && !text.contains("new date"), "\(kind) to the public")
        }
        let published = writer.content(.publication, advisory: advisory, audience: .publicChannel)
        #expect(published.link?.url == "https://herald.test/advisories/demo-2026-abc123")
    }

    @Test func chatPayloadsAreValidJSONInTheirShapes() throws {
        let writer = NoticeWriter(project: project, publicURL: "https://herald.test", wording: Templates.standard)
        let content = writer.content(.publication, advisory: advisory, audience: .publicChannel)
        func json(_ kind: WebhookKind) throws -> [String: Any] {
            let bytes = ChatPayload.render(
                content, as: kind, event: "herald.publication", project: "demo", advisoryID: "demo-2026-abc123",
                revision: 2, at: Date(timeIntervalSince1970: 0))
            return try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        }
        let slack = try json(.slack)
        let discord = try json(.discord)
        let teams = try json(.teams)
        let matrix = try json(.matrix)
        let mattermost = try json(.mattermost)
        #expect((slack["blocks"] as? [[String: Any]])?.first?["type"] as? String == "header")
        #expect(
            ((discord["embeds"] as? [[String: Any]])?.first?["url"]) as? String
                == "https://herald.test/advisories/demo-2026-abc123")
        #expect(
            (teams["attachments"] as? [[String: Any]])?.first?["contentType"] as? String
                == "application/vnd.microsoft.card.adaptive")
        #expect(matrix["msgtype"] as? String == "m.text")
        #expect((mattermost["text"] as? String)?.hasPrefix("#### Demo security advisory") == true)
        let generic = try json(.webhook)
        #expect(generic["type"] as? String == "herald.publication")
        #expect((generic["data"] as? [String: Any])?["advisory"] as? String == "demo-2026-abc123")
        // The same notice renders to the same bytes (stable ids, stable signatures).
        #expect(
            ChatPayload.render(
                content, as: .webhook, event: "e", project: "demo", advisoryID: nil, revision: 2,
                at: Date(timeIntervalSince1970: 0))
                == ChatPayload.render(
                    content, as: .webhook, event: "e", project: "demo", advisoryID: nil, revision: 2,
                    at: Date(timeIntervalSince1970: 0)))
    }

    @Test func slackTextIsEscaped() {
        #expect(ChatPayload.slackEscape("<!channel> & <https://x|y>") == "&lt;!channel&gt; &amp; &lt;https://x|y&gt;")
    }

    @Test func aRevisionSaysWhatChangedAndAnEarlyPublicationSaysSo() throws {
        let writer = NoticeWriter(project: project, publicURL: "https://herald.test", wording: Templates.standard)
        var revised = advisory
        revised.schedule.embargo = advisory.schedule.embargo! + 86_400
        revised.content.title = "Worse title"
        revised.content.cves.append("CVE-2026-9999")
        let text = everything(
            writer.content(.revision, advisory: revised, audience: .provider(organization: "Acme"), previous: advisory))
        #expect(
            text.contains(
                "The release moves from 2026-12-01 17:00:00 +01:00 to 2026-12-02 17:00:00 +01:00 (Europe/Amsterdam)."),
            "\(text)")
        #expect(text.contains("Changed: title, CVE."), "\(text)")

        var early = advisory
        early.state = .published
        early.publishedAt = advisory.schedule.embargo! - 7200
        let nowPublic = writer.content(
            .publication, advisory: early, audience: .provider(organization: "Acme"),
            notes: try ChangeNotes(reason: "leak", toProviders: "Patch today."))
        #expect(
            nowPublic.intro.hasPrefix("The embargo was lifted early:")
                && nowPublic.intro.contains("2026-12-01 15:00:00 +01:00"), "\(nowPublic.intro)")
        #expect(nowPublic.intro.contains("Patch today.") && !nowPublic.intro.contains("leak"))
        let announcement = writer.content(.publication, advisory: early, audience: .publicChannel)
        #expect(
            announcement.intro.hasPrefix("Demo has published a security advisory: Secret title."),
            "\(announcement.intro)")
    }
}

@Suite struct RetryPolicyTests {
    let now = Date(timeIntervalSince1970: 1_000_000)

    @Test func stepsGrowAndEndInDeath() {
        let policy = RetryPolicy.standard
        let waits = (1...8).map { policy.nextAttempt(after: $0, now: now, random: 0.5)!.timeIntervalSince(now) }
        #expect(waits == [5, 60, 300, 1800, 7200, 21_600, 43_200, 86_400])
        #expect(policy.nextAttempt(after: 9, now: now, random: 0.5) == nil)
    }

    @Test func jitterStaysWithinItsBand() {
        let policy = RetryPolicy.standard
        #expect(policy.nextAttempt(after: 2, now: now, random: 0)!.timeIntervalSince(now) == 48)
        #expect(abs(policy.nextAttempt(after: 2, now: now, random: 0.999_999)!.timeIntervalSince(now) - 72) < 0.001)
    }

    @Test func retryAfterIsHonouredWhenLongerUpToADay() {
        let policy = RetryPolicy.standard
        #expect(policy.nextAttempt(after: 1, now: now, retryAfter: 120, random: 0.5)!.timeIntervalSince(now) == 120)
        #expect(policy.nextAttempt(after: 3, now: now, retryAfter: 10, random: 0.5)!.timeIntervalSince(now) == 300)
        #expect(
            policy.nextAttempt(after: 1, now: now, retryAfter: 10 * 86_400, random: 0.5)!.timeIntervalSince(now)
                == 86_400)
    }

}
