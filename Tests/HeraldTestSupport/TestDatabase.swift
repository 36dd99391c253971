import Foundation
import HeraldCore
import HeraldStore

/// A fresh, migrated SQLite file in its own temporary folder, with stores on a clock:
/// a manual one by default, or the system's for tests against real servers.
// Unchecked: a test uses its database from one task at a time, also inside HummingbirdTesting closures.
public final class TestDatabase: @unchecked Sendable {
    public let directory: URL
    public let path: String
    public let database: Database
    public let clock: any Clock
    public let actor = "test:alice"
    public var settings = OutboxSettings(publicURL: "https://herald.test", mailFrom: "herald@herald.test")

    /// The manual clock, when the database was made with one.
    public var manualClock: ManualClock { clock as! ManualClock }

    public init(clock: any Clock = ManualClock(Date(timeIntervalSince1970: 1_795_000_000))) throws {
        self.clock = clock
        directory = FileManager.default.temporaryDirectory.appending(path: "herald-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        path = directory.appending(path: "herald.sqlite").path
        database = try Database(path: path)
        try Migrator().migrate(database, now: clock.now)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    public var projects: ProjectStore { ProjectStore(database: database, clock: clock) }
    public var providers: ProviderStore { ProviderStore(database: database, clock: clock) }
    public var channels: ChannelStore { ChannelStore(database: database, clock: clock) }
    public var advisories: AdvisoryStore { AdvisoryStore(database: database, clock: clock, settings: settings) }
    public var outbox: OutboxStore { OutboxStore(database: database, clock: clock, settings: settings) }
    public var tokens: TokenStore { TokenStore(database: database, clock: clock) }
    public var audit: AuditLog { AuditLog(database: database) }

    /// Rows in `table`.
    public func count(_ table: String) throws -> Int64 {
        try database.first("SELECT count(*) FROM \(table)") { $0.int(0) } ?? -1
    }

    /// Row counts of every table that holds user data: the "nothing written" check.
    public func snapshot() throws -> [String: Int64] {
        var counts: [String: Int64] = [:]
        for table in [
            "projects", "providers", "provider_contacts", "provider_webhooks", "subscriptions", "channels",
            "advisories", "advisory_cves", "advisory_revisions", "audit", "tokens", "notices", "deliveries", "payloads",
            "link_tokens",
        ] {
            counts[table] = try count(table)
        }
        return counts
    }

    @discardableResult
    public func addProject(_ slug: String = "demo") throws -> Project {
        try projects.add(NewProject(slug: slug, name: "Demo", timezone: "Europe/Amsterdam"), actor: actor)
    }
}
