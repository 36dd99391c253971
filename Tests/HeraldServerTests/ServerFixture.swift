import Foundation
import HeraldCore
import HeraldDelivery
import HeraldServer
import HeraldStore
import HeraldTestSupport
import Hummingbird
import HummingbirdTesting
import Logging

/// A database with a project, a token of each role, and the application built over it.
/// With `background`, the scheduler and a worker writing mail into a Maildir run too.
struct ServerFixture: Sendable {
    let db: TestDatabase
    let admin: String
    let releaseManager: String
    let auditor: String
    let maildir: URL
    var configuration: ServerConfiguration

    init(background: Bool = false, postsPerMinute: Int = 1000) throws {
        db = try TestDatabase(clock: SystemClock())
        try db.addProject()
        admin = try db.tokens.create(name: "admin", role: .admin, actor: db.actor).token
        releaseManager = try db.tokens.create(name: "rm", role: .releaseManager, actor: db.actor).token
        auditor = try db.tokens.create(name: "auditor", role: .auditor, actor: db.actor).token
        maildir = db.directory.appending(path: "mail")
        var worker = WorkerSettings()
        worker.idlePoll = .milliseconds(100)
        let delivery =
            background
            ? DeliveryServices(
                mail: try MaildirTransport(directory: maildir),
                webhooks: WebhookTransport(engine: CurlEngine(), allowPrivateTargets: true), worker: worker)
            : nil
        configuration = ServerConfiguration(
            databasePath: db.path, port: 0, outbox: db.settings, delivery: delivery,
            publicPostsPerMinute: postsPerMinute)
    }

    func app() throws -> some ApplicationProtocol {
        var logger = Logger(label: "herald-test")
        logger.logLevel = .warning
        return try buildApplication(configuration, logger: logger)
    }

    /// Mail written to the Maildir so far, as text.
    func mails() -> [String] {
        let directory = maildir.appending(path: "new")
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted()
        return names.compactMap { try? String(contentsOf: directory.appending(path: $0), encoding: .utf8) }
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }
    var json: Any? { try? JSONSerialization.jsonObject(with: Data(buffer: body)) }
    var object: [String: Any] { json as? [String: Any] ?? [:] }
}

func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)", .contentType: "application/json"] }
func jsonBody(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

/// Decodes quoted-printable soft breaks and `=3D` so links can be read out of a mail.
func unfoldQuotedPrintable(_ text: String) -> String {
    text.replacingOccurrences(of: "=\r\n", with: "").replacingOccurrences(of: "=3D", with: "=")
}

extension ServerFixture {
    /// An advisory of project demo, published now.
    func published(_ title: String, body: String = "", severity: Severity? = nil) throws -> Advisory {
        let advisory = try db.advisories.create(
            project: "demo", content: AdvisoryContent(title: title, body: body, severity: severity),
            schedule: Schedule(embargo: Date() + 60), actor: db.actor)
        return try db.advisories.publishNow(advisory.id, notes: try ChangeNotes(reason: "x"), actor: db.actor)
    }
}
