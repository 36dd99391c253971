import Foundation
import HeraldCore
import HeraldDelivery
import HeraldStore
import HeraldTestSupport
import Testing

@Suite(.serialized) struct SMTPDeliveryTests {
    @Test func everyEarlyNoticeReachesARealSMTPServerOncePerRecipient() async throws {
        let db = try TestDatabase(clock: SystemClock())
        let sink = try SMTPSink(in: db.directory)
        defer { sink.server.stop() }
        try db.addProject()
        _ = try db.providers.add(NewProvider(organization: "Acme Hosting", emails: ["sec@acme.example", "noc@acme.example"], projects: ["demo"]),
                                 status: .active, actor: db.actor)
        _ = try db.providers.add(NewProvider(organization: "Gemeente Ærø", emails: ["cert@aero.example"], projects: ["demo"]),
                                 status: .active, actor: db.actor)
        _ = try db.providers.add(NewProvider(organization: "Pending Inc", emails: ["wait@pending.example"], projects: ["demo"]),
                                 status: .pendingApproval, actor: db.actor)
        let title = "Heap overflow in the Überparser — \(String(repeating: "long words ", count: 12))"
        let advisory = try db.advisories.create(project: "demo", content: AdvisoryContent(title: title, summary: "Überflow details", cves: ["CVE-2026-4242"], severity: .high),
                                                schedule: Schedule(embargo: db.clock.now + 86_400, earlyNotice: db.clock.now + 0.2), actor: db.actor)

        let engine = CurlEngine()
        defer { engine.shutdown() }
        let delivered = try await runService(db, mail: SMTPTransport(engine: engine, url: sink.url, from: "herald@herald.test"),
                                             webhooks: WebhookTransport(engine: engine, allowPrivateTargets: true)) {
            try db.deliveries("delivered") == 3
        }
        #expect(delivered)

        let mails = try sink.parsed()
        #expect(mails.count == 3)
        // One message per recipient, each addressed to that recipient alone.
        #expect(Set(mails.compactMap(\.envelope_to)) == ["sec@acme.example", "noc@acme.example", "cert@aero.example"])
        for mail in mails {
            #expect(mail.defects.isEmpty, "defects in \(mail.file): \(mail.defects)")
            #expect(mail.long_lines.isEmpty)
            #expect(mail.headers["to"] == mail.envelope_to)
            #expect(mail.headers["cc"] == nil && mail.headers["bcc"] == nil)
            #expect(mail.headers["subject"]?.contains("Überparser") == true)
            #expect(mail.headers["subject"]?.hasPrefix("[EMBARGOED]") == true, "subject: \(mail.headers["subject"] ?? "none")")
            #expect(mail.headers["list-id"]?.contains("demo.early-notice.herald.test") == true)
            #expect(mail.headers["list-unsubscribe"]?.contains("https://herald.test/unsubscribe?token=") == true)
            #expect(mail.headers["list-unsubscribe-post"] == "List-Unsubscribe=One-Click")
            #expect(mail.headers["message-id"]?.hasSuffix("@herald.test>") == true)
            #expect(mail.headers["date"] != nil)
            #expect(mail.body.contains("https://herald.test/ack?token="))
            #expect(mail.body.contains("CVE-2026-4242"))
            #expect(mail.body.contains("Überflow details"))
        }
        #expect(Set(mails.compactMap { $0.headers["message-id"] }).count == 3)
        // The record says where each went.
        let records = try db.outbox.list(advisory: advisory.id)
        #expect(records.allSatisfy { $0.state == "delivered" && $0.deliveredVia == sink.url && $0.notice == "early-notice" && $0.revision == 1 })
    }

    @Test func aTitleWithLineBreaksAddsNoHeader() async throws {
        let db = try TestDatabase(clock: SystemClock())
        let sink = try SMTPSink(in: db.directory)
        defer { sink.server.stop() }
        try db.addProject()
        try db.database.run("INSERT INTO channels (project_id, kind, target, created_at) VALUES (1, 'email', 'announce@lists.example', 0)")
        let advisory = try db.advisories.create(project: "demo", content: AdvisoryContent(title: "Placeholder"), schedule: Schedule(), actor: db.actor)
        // Validation refuses such a title; a row edited by hand must still not inject headers.
        try db.database.run("UPDATE advisories SET title = ? WHERE id = ?", .text("Evil\r\nBcc: attacker@evil.example\r\nX-Injected: yes"), .integer(advisory.id))
        _ = try db.advisories.publishNow(advisory.id, reason: "test", actor: db.actor)

        let engine = CurlEngine()
        defer { engine.shutdown() }
        let delivered = try await runService(db, mail: SMTPTransport(engine: engine, url: sink.url, from: "herald@herald.test"),
                                             webhooks: WebhookTransport(engine: engine, allowPrivateTargets: true)) {
            try db.deliveries("delivered") == 1
        }
        #expect(delivered)
        let mails = try sink.parsed()
        #expect(mails.count == 1)
        #expect(mails.first?.envelope_to == "announce@lists.example")
        #expect(mails.first?.header_names.contains("bcc") == false)
        #expect(mails.first?.header_names.contains("x-injected") == false)
        #expect(mails.first?.defects.isEmpty == true)
        #expect(mails.first?.headers["subject"]?.contains("Evil") == true)
    }

    @Test func temporaryRefusalsAreRetriedAndPermanentOnesDie() async throws {
        let db = try TestDatabase(clock: SystemClock())
        let tempfail = try SMTPSink(in: db.directory, rejectFirst: 1, rejectCode: 451)
        defer { tempfail.server.stop() }
        try db.addProject()
        try db.addProviders(2)
        _ = try db.advisories.create(project: "demo", content: AdvisoryContent(title: "T"), schedule: Schedule(embargo: db.clock.now + 3600, earlyNotice: db.clock.now + 0.2), actor: db.actor)
        let engine = CurlEngine()
        defer { engine.shutdown() }
        let delivered = try await runService(db, mail: SMTPTransport(engine: engine, url: tempfail.url, from: "herald@herald.test"),
                                             webhooks: WebhookTransport(engine: engine, allowPrivateTargets: true)) {
            try db.deliveries("delivered") == 2
        }
        #expect(delivered)
        let attempts = try db.database.query("SELECT attempts FROM deliveries ORDER BY attempts") { $0.int(0) }
        #expect(attempts == [1, 2])

        // A 550 is final: the delivery is dead at once, with the reply kept.
        let db2 = try TestDatabase(clock: SystemClock())
        let permfail = try SMTPSink(in: db2.directory, rejectFirst: 1, rejectCode: 550)
        defer { permfail.server.stop() }
        try db2.addProject()
        try db2.addProviders(1)
        _ = try db2.advisories.create(project: "demo", content: AdvisoryContent(title: "T"), schedule: Schedule(embargo: db2.clock.now + 3600, earlyNotice: db2.clock.now + 0.2), actor: db2.actor)
        let died = try await runService(db2, mail: SMTPTransport(engine: engine, url: permfail.url, from: "herald@herald.test"),
                                        webhooks: WebhookTransport(engine: engine, allowPrivateTargets: true)) {
            try db2.deliveries("dead") == 1
        }
        #expect(died)
        let error = try db2.database.first("SELECT last_error FROM deliveries") { $0.text(0) }
        #expect(error?.contains("550") == true)
    }
}
