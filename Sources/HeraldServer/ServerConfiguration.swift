import Foundation
import HeraldApp
import HeraldDelivery
import HeraldStore
import Logging
import Prometheus

/// Everything `buildApplication` needs; the CLI fills it from flags and the environment.
public struct ServerConfiguration: Sendable {
    /// The SQLite database file, shared by HTTP, the scheduler and the workers.
    public var databasePath: String
    /// The address HTTP listens on.
    public var host: String
    /// The port HTTP listens on.
    public var port: Int
    /// Where links point and who mail is from.
    public var outbox: OutboxSettings
    /// The scheduler and delivery workers to run beside HTTP; nil runs HTTP alone (tests).
    public var delivery: DeliveryServices?
    /// Where `/metrics` reads from; the CLI bootstraps swift-metrics with the same registry.
    public var metrics: PrometheusCollectorRegistry
    /// Public POST routes allow this many requests per client address per minute.
    public var publicPostsPerMinute: Int
    /// `HERALD_METRICS_TOKEN`: a bearer token that may read `/metrics` (API tokens may too).
    public var metricsToken: String?
    /// `HERALD_METRICS_LISTEN`: an address of its own where `/metrics` needs no token.
    public var metricsListener: (host: String, port: Int)?
    /// A connection that sends no complete request head (or no part of a body) for this long
    /// is closed: slow clients cannot hold connections open (slowloris).
    public var readTimeout: Duration = .seconds(15)
    /// A request must be read whole (head and body) within this long of its head.
    public var requestDeadline: Duration = .seconds(30)
    /// security.txt's Contact (an address or an https URL; the sender when nil) and Policy (the
    /// public URL when nil), from `herald settings`.
    public var securityContact: String?
    /// security.txt's Policy: see `securityContact`.
    public var policyURL: String?
    /// security.txt's Preferred-Languages (`en` when nil).
    public var preferredLanguages: String?
    /// Checks the SMTP relay once at start (nil: no relay, mail goes to a Maildir); the result
    /// is logged and /healthz shows it. It blocks, so it runs off the concurrency pool.
    public var smtpCheck: (@Sendable () -> String?)?
    /// The OpenPGP library that reads the keys providers upload in the portal and signs the
    /// public documents.
    public var openPGP: (any OpenPGP)?
    /// Opens the projects' signing keys (`HERALD_KEY_ENCRYPTION_KEY`); nil: documents go unsigned.
    public var keyVault: (any SecretVault)?

    /// Defaults to HTTP alone on 127.0.0.1:8080; the optional fields are set afterwards.
    public init(
        databasePath: String, host: String = "127.0.0.1", port: Int = 8080, outbox: OutboxSettings,
        delivery: DeliveryServices? = nil, metrics: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
        publicPostsPerMinute: Int = 30
    ) {
        self.databasePath = databasePath
        self.host = host
        self.port = port
        self.outbox = outbox
        self.delivery = delivery
        self.metrics = metrics
        self.publicPostsPerMinute = publicPostsPerMinute
    }
}

/// The transports and tunables of the background services.
public struct DeliveryServices: Sendable {
    /// Sends e-mail: SMTP, or a Maildir when there is no relay.
    public var mail: any Transport
    /// Sends to chat services and generic webhooks.
    public var webhooks: any Transport
    /// Tunables of the delivery workers.
    public var worker: WorkerSettings
    /// How often the scheduler looks for what is due when nothing rings it: the CLI's changes,
    /// made in another process, are seen within it.
    public var schedulerPoll: Duration = .seconds(1)

    /// Creates the services with the default worker settings unless given.
    public init(mail: any Transport, webhooks: any Transport, worker: WorkerSettings = WorkerSettings()) {
        self.mail = mail
        self.webhooks = webhooks
        self.worker = worker
    }
}
