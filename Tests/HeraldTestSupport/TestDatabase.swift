import Foundation
import HeraldApp
import HeraldCore
import HeraldStore

/// A fresh, migrated SQLite file in its own temporary folder, with stores on a clock:
/// a manual one by default, or the system's for tests against real servers.
// Unchecked: a test uses its database from one task at a time, also inside HummingbirdTesting closures.
/// One per test: its folder is deleted when the value goes.
public final class TestDatabase: @unchecked Sendable {
    /// The temporary folder, removed with the value.
    public let directory: URL
    /// The SQLite file.
    public let path: String
    /// The open, migrated database.
    public let database: Database
    /// The clock every store here reads.
    public let clock: any Clock
    /// The actor the helpers write into the audit log.
    public let actor = "test:alice"
    /// What the advisory and outbox stores are given; a change applies to stores taken after it.
    public var settings = OutboxSettings(publicURL: "https://herald.test", mailFrom: "herald@herald.test")
    /// Where the stores taken after it is set hand the channel rows they lease as they write them.
    public var handoff: DeliveryHandoff?

    /// The manual clock, when the database was made with one.
    public var manualClock: ManualClock { clock as! ManualClock }

    /// Creates and migrates the database; the default clock stands at 2026-11-18 11:06:40 UTC.
    public init(clock: any Clock = ManualClock(Date(timeIntervalSince1970: 1_795_000_000))) throws {
        self.clock = clock
        directory = FileManager.default.temporaryDirectory.appending(path: "herald-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        path = directory.appending(path: "herald.sqlite").path
        database = try Database(path: path)
        try Migrator().migrate(database, now: clock.now)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    /// A new project store on this database and clock.
    public var projects: ProjectStore { ProjectStore(database: database, clock: clock) }
    /// The release managers' provider use cases on this database, clock and `settings`.
    public var providers: ProviderAdministration { stores.providers }
    /// Providers as stored: lists and look-alikes.
    public var providerRecords: ProviderStore { stores.providerRecords }
    /// A new channel store on this database and clock.
    public var channels: ChannelStore { ChannelStore(database: database, clock: clock) }
    /// A new advisory store on this database, clock and `settings`.
    public var advisories: Advisories { stores.advisories }
    /// Advisories as stored: lists and history.
    public var advisoryRecords: AdvisoryStore { stores.advisoryRecords }
    /// Every store over this database, as the CLI and the server get them.
    public var stores: Stores { Stores(database: database, clock: clock, settings: settings, handoff: handoff) }
    /// A new outbox store on this database, clock and `settings`.
    public var outbox: OutboxStore {
        OutboxStore(database: database, clock: clock, settings: settings, handoff: handoff)
    }
    /// A new token store on this database and clock.
    public var tokens: TokenStore { TokenStore(database: database, clock: clock) }
    /// The audit log of this database.
    public var audit: AuditLog { AuditLog(database: database) }

    /// The messages of the deliveries `sql` selects (their ids first), as they are sent: a
    /// fan-out's template filled in for each.
    public func sentMessages(_ sql: String, _ values: SQLValue...) throws -> [String] {
        try database.query(sql, values) { $0.int(0) }.map { id in
            String(decoding: try outbox.message(ofDelivery: id) ?? [], as: UTF8.self)
        }
    }

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

    /// Adds a project named Demo in Europe/Amsterdam, as `actor`.
    @discardableResult
    public func addProject(_ slug: String = "demo") throws -> Project {
        try projects.add(NewProject(slug: slug, name: "Demo", timezone: "Europe/Amsterdam"), actor: actor)
    }
}
