import Foundation
import HeraldCore

/// The stores over one connection, with the clock and the settings the composition root chose
/// once: how the CLI and every controller reach the database. No command or route handler
/// constructs a store or a clock of its own.
public struct Stores {
    public let database: Database
    public let clock: any Clock
    public let settings: OutboxSettings

    public init(database: Database, clock: any Clock, settings: OutboxSettings) {
        self.database = database
        self.clock = clock
        self.settings = settings
    }

    public var projects: ProjectStore { ProjectStore(database: database, clock: clock) }
    public var providers: ProviderStore { ProviderStore(database: database, clock: clock) }
    public var channels: ChannelStore { ChannelStore(database: database, clock: clock) }
    public var advisories: AdvisoryStore { AdvisoryStore(database: database, clock: clock, settings: settings) }
    public var outbox: OutboxStore { OutboxStore(database: database, clock: clock, settings: settings) }
    public var alerts: AlertStore { AlertStore(database: database, clock: clock, settings: settings) }
    public var subscriptions: SubscriptionStore {
        SubscriptionStore(database: database, clock: clock, settings: settings)
    }
    public var published: PublicStore { PublicStore(database: database, clock: clock) }
    public var tokens: TokenStore { TokenStore(database: database, clock: clock) }
    public var settingsStore: SettingsStore { SettingsStore(database: database, clock: clock) }
    public var acknowledgements: AcknowledgementStore { AcknowledgementStore(database: database, clock: clock) }
    public var audit: AuditLog { AuditLog(database: database) }
}
