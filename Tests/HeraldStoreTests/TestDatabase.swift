import Foundation
import HeraldCore
import HeraldStore

/// A fresh, migrated SQLite file in its own temporary folder, with stores on a manual clock.
final class TestDatabase {
    let directory: URL
    let path: String
    let database: Database
    let clock = ManualClock(Date(timeIntervalSince1970: 1_795_000_000))
    let actor = "test:alice"

    init() throws {
        directory = FileManager.default.temporaryDirectory.appending(path: "herald-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        path = directory.appending(path: "herald.sqlite").path
        database = try Database(path: path)
        try Migrator().migrate(database, now: clock.now)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    var projects: ProjectStore { ProjectStore(database: database, clock: clock) }
    var providers: ProviderStore { ProviderStore(database: database, clock: clock) }
    var channels: ChannelStore { ChannelStore(database: database, clock: clock) }
    var advisories: AdvisoryStore { AdvisoryStore(database: database, clock: clock) }
    var tokens: TokenStore { TokenStore(database: database, clock: clock) }
    var audit: AuditLog { AuditLog(database: database) }

    /// Rows in `table`.
    func count(_ table: String) throws -> Int64 {
        try database.first("SELECT count(*) FROM \(table)") { $0.int(0) } ?? -1
    }

    /// Row counts of every table that holds user data: the "nothing written" check.
    func snapshot() throws -> [String: Int64] {
        var counts: [String: Int64] = [:]
        for table in ["projects", "providers", "provider_contacts", "provider_webhooks", "subscriptions", "channels",
                      "advisories", "advisory_cves", "advisory_revisions", "audit", "tokens"] {
            counts[table] = try count(table)
        }
        return counts
    }

    @discardableResult
    func addProject(_ slug: String = "demo") throws -> Project {
        try projects.add(NewProject(slug: slug, name: "Demo", timezone: "Europe/Amsterdam"), actor: actor)
    }
}
