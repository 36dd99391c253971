import Foundation
import HeraldApp
import HeraldCore

/// The stores over one connection, with the clock and the settings the composition root chose
/// once: how the CLI and every controller reach the database. No command or route handler
/// constructs a store or a clock of its own.
public struct Stores {
    /// The one connection every store uses.
    public let database: Database
    /// The clock every store reads the time from.
    public let clock: any Clock
    /// Public URL, sender and wording for the stores that fan out or mail.
    public let settings: OutboxSettings
    /// Where the outbox hands the public channels' rows it leases as it writes them (`DeliveryHandoff`).
    public let handoff: DeliveryHandoff?

    /// Stores over `database`, with the composition root's clock and settings.
    public init(database: Database, clock: any Clock, settings: OutboxSettings, handoff: DeliveryHandoff? = nil) {
        self.database = database
        self.clock = clock
        self.settings = settings
        self.handoff = handoff
    }

    /// Providers' and projects' OpenPGP keys as stored.
    public var keyRecords: KeyStore { KeyStore(database: database) }
    /// Providers' and projects' OpenPGP keys, read and made by `pgp`.
    public func keys(_ pgp: any OpenPGP) -> OpenPGPKeys {
        OpenPGPKeys(
            work: database, records: keyRecords, roster: providerRecords, projects: projects,
            pgp: pgp, audit: audit, clock: clock)
    }
    /// Projects: add, list, look up.
    public var projects: ProjectStore { ProjectStore(database: database, clock: clock) }
    /// The early-notice list as release managers keep it: add, import, sync, approve, edit.
    public var providers: ProviderAdministration {
        ProviderAdministration(
            work: database, providers: providerRecords, projects: projects, briefing: outbox, mail: outbox,
            audit: audit, fingerprints: RedactedFingerprints(), clock: clock)
    }
    /// Providers as stored: lists, look-alikes, the rows behind the use cases.
    public var providerRecords: ProviderStore { ProviderStore(database: database, clock: clock) }
    /// Sending again what failed.
    public var retries: DeliveryRetries { DeliveryRetries(work: database, queue: outbox, audit: audit, clock: clock) }
    /// Public announcement channels.
    public var channels: ChannelStore { ChannelStore(database: database, clock: clock) }
    /// The advisory use cases: create, reschedule, revise, publish, cancel, fire what is due.
    public var advisories: Advisories {
        Advisories(
            work: database, repository: advisoryRecords, projects: projects, outbox: outbox, audit: audit,
            ids: SecureRandomIDs(), clock: clock)
    }
    /// Advisories as stored: lists, history, the detail view.
    public var advisoryRecords: AdvisoryStore { AdvisoryStore(database: database, clock: clock, settings: settings) }
    /// The outbox of deliveries.
    public var outbox: OutboxStore {
        OutboxStore(database: database, clock: clock, settings: settings, handoff: handoff)
    }
    /// Alerts to release managers.
    public var alerts: AlertStore { AlertStore(database: database, clock: clock, settings: settings) }
    /// Provider self-service: subscribe, confirm, unsubscribe, acknowledge.
    public var subscriptions: Subscriptions {
        Subscriptions(
            work: database, roster: providerRecords, projects: projects, links: outbox, mail: outbox,
            notices: acknowledgements, answers: participation, managers: outbox, audit: audit, clock: clock,
            publicURL: settings.publicURL)
    }
    /// The provider portal: sign-in, sessions, what a provider reads and answers.
    public var portal: Portal {
        Portal(
            work: database, access: portalRecords, records: portalRecords, roster: providerRecords,
            administration: providers, mail: outbox, answers: participation, notices: acknowledgements,
            managers: outbox, audit: audit, fingerprints: RedactedFingerprints(), clock: clock,
            publicURL: settings.publicURL)
    }
    /// The release managers' console: accounts, sign-in, sessions.
    public var console: Console {
        Console(
            work: database, accounts: consoleRecords, access: consoleRecords, codes: TOTPCodes(), mail: outbox,
            audit: audit, clock: clock, publicURL: settings.publicURL)
    }
    /// The console's rows.
    public var consoleRecords: ConsoleStore { ConsoleStore(database: database) }
    /// The portal's rows.
    public var portalRecords: PortalStore { PortalStore(database: database, clock: clock, settings: settings) }
    /// What public pages and feeds may read.
    public var published: PublicStore { PublicStore(database: database, clock: clock) }
    /// API tokens, stored only as hashes.
    public var tokens: TokenStore { TokenStore(database: database, clock: clock) }
    /// The deployment's settings (`settings` is taken by the outbox settings).
    public var settingsStore: SettingsStore { SettingsStore(database: database, clock: clock) }
    /// Providers' acknowledgements of notices.
    public var acknowledgements: AcknowledgementStore { AcknowledgementStore(database: database, clock: clock) }
    /// Who takes part in each advisory: invitations, exclusions, the readiness table.
    public var participation: ParticipationStore {
        ParticipationStore(database: database, clock: clock, settings: settings)
    }
    /// The append-only audit log.
    public var audit: AuditLog { AuditLog(database: database) }
}
