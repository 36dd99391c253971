import Foundation
import HeraldCore
import HeraldDelivery
import HeraldStore
import Hummingbird
import HummingbirdCore
import Logging
import ServiceLifecycle

/// Builds the HTTP application with, when `configuration.delivery` is set, the scheduler and
/// the delivery workers as services of the same group: SIGTERM or SIGINT stops the server,
/// lets sends in flight finish, and records them. The composition root of the service: the
/// pool, the clock and the settings are chosen here once, and every route works through them.
public func buildApplication(
    _ configuration: ServerConfiguration, clock: any Clock = SystemClock(),
    logger: Logger
) throws -> some ApplicationProtocol {
    // The workers' bell is rung by the scheduler after a fan-out; both by the pool after a
    // request changed rows (what it queued goes now; what it made due, or a notice it started
    // whose rest is written a share at a time, is the scheduler's to write now).
    let doorbell = Doorbell()
    let schedulerBell = SchedulerBell()
    let app = AppServices(
        pool: try DatabasePool(
            path: configuration.databasePath,
            onWrite: { [delivers = configuration.delivery != nil] in
                guard delivers else { return }
                doorbell.ring()
                schedulerBell.ring()
            }),
        clock: clock, settings: configuration.outbox, pgp: configuration.openPGP, vault: configuration.keyVault)
    let cache = PublicCache(app: app)
    let health = HealthState(expectsScheduler: configuration.delivery != nil)
    let router = Router(context: HeraldContext.self)
    router.add(middleware: ProblemMiddleware())
    PublicController(app: app, cache: cache, configuration: configuration, health: health).addRoutes(to: router)
    SubscriptionController(app: app, limiter: RateLimiter(perMinute: configuration.publicPostsPerMinute)).addRoutes(
        to: router)
    PortalController(app: app, limiter: RateLimiter(perMinute: configuration.publicPostsPerMinute)).addRoutes(
        to: router)
    PortalAPIController(app: app, limiter: RateLimiter(perMinute: configuration.publicPostsPerMinute)).addRoutes(
        to: router)
    ConsoleController(app: app, limiter: RateLimiter(perMinute: configuration.publicPostsPerMinute)).addRoutes(
        to: router)
    AdminController(app: app).addRoutes(to: router.group("api/v1").add(middleware: BearerAuthMiddleware(app: app)))

    var services: [any Service] = []
    if let delivery = configuration.delivery {
        var scheduler = Scheduler(
            databasePath: configuration.databasePath, clock: clock, outbox: configuration.outbox, doorbell: doorbell,
            logger: logger, poll: delivery.schedulerPoll, bell: schedulerBell)
        scheduler.webhooks = delivery.webhooks
        // A publication's endpoints go to the worker as their rows are written, not claimed after.
        let handoff = DeliveryHandoff(ring: { doorbell.ring() })
        scheduler.handoff = handoff
        scheduler.onLoop = { fired in
            health.schedulerBeat()
            if fired.contains(where: { $0.kind == .publication || $0.kind == .preAnnouncement }) { cache.invalidate() }
        }
        let worker = OutboxWorker(
            databasePath: configuration.databasePath, clock: clock, mail: delivery.mail, webhooks: delivery.webhooks,
            settings: delivery.worker, doorbell: doorbell, logger: logger, handoff: handoff)
        let configured = scheduler
        services.append(BackgroundService(name: "scheduler") { try await configured.run() })
        services.append(BackgroundService(name: "delivery") { try await worker.run() })
    }
    if let check = configuration.smtpCheck {
        services.append(
            BackgroundService(name: "smtp-check") {
                let problem = await withCheckedContinuation { continuation in
                    DispatchQueue.global().async { continuation.resume(returning: check()) }
                }
                health.smtpChecked(problem)
                if let problem {
                    logger.error(
                        "SMTP relay check failed; mail waits and is retried until the relay is fixed",
                        metadata: ["error": "\(problem)"])
                } else {
                    logger.info("SMTP relay ready (connected, TLS and login as configured, NOOP answered)")
                }
                // Stay until the service group stops, like the other services.
                while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
            })
    }
    if let listener = configuration.metricsListener {
        services.append(
            MetricsEndpoint(app: app, registry: configuration.metrics).listener(
                host: listener.host, port: listener.port, logger: logger))
    }
    // Fresh cached public documents are answered on the event loop, before the router. The
    // read timeout comes first, so it sees every request, those answered from the cache too.
    let readTimeout = configuration.readTimeout
    let requestDeadline = configuration.requestDeadline
    return Application(
        responder: HeadAsGetResponder(inner: router.buildResponder()),
        server: .http1(
            // CachedDocumentHandler puts RawDocumentHandler first; that one keeps the idle timeout.
            configuration: .init(additionalChannelHandlers: [
                RequestDeadlineHandler(deadline: .seconds(Int64(requestDeadline.components.seconds))),
                CachedDocumentHandler(
                    cache: cache, serverName: "Herald", defaultLanguage: app.settings.defaultLanguage,
                    idleTimeout: readTimeout),
            ])),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "Herald"),
        services: services, logger: logger)
}

/// A loop that runs until graceful shutdown, then is cancelled and allowed to finish.
struct BackgroundService: Service {
    let name: String
    let body: @Sendable () async throws -> Void

    func run() async throws {
        try await cancelWhenGracefulShutdown { try await body() }
    }
}
