import Foundation
import HeraldCore
import HeraldStore
import Hummingbird
import Prometheus

/// The public surface: pages, feeds, OSV, security.txt, health, metrics and the API description.
/// Every route reads through `PublicStore`, which returns published data only.
struct PublicController: Sendable {
    let pool: DatabasePool
    let cache: PublicCache
    let configuration: ServerConfiguration
    let health: HealthState

    var publicURL: String { configuration.outbox.publicURL }

    func addRoutes(to router: Router<HeraldContext>) {
        router.get("/") { request, _ in try await page(request, key: DocumentKey.index) { db in
            let store = PublicStore(database: db, clock: SystemClock())
            let published = try store.published()
            return Self.html(Pages.index(published: published, upcoming: try store.upcoming(), publicURL: publicURL),
                             lastModified: published.map(\.updated).max())
        } }
        router.get("/style.css") { request, _ in serve(Self.stylesheet, request) }
        router.get("/providers") { request, _ in try await page(request, key: DocumentKey.providers) { db in
            Self.html(Pages.providers(try PublicStore(database: db, clock: SystemClock()).listedOrganizations(), publicURL: publicURL), lastModified: nil)
        } }
        router.get("/advisories/:id") { request, context in
            let id = context.parameters.get("id") ?? ""
            if id.hasSuffix(".osv.json") {
                let publicID = String(id.dropLast(".osv.json".count))
                return try await page(request, key: DocumentKey.osv(publicID)) { db in
                    guard let found = try PublicStore(database: db, clock: SystemClock()).published(publicID: publicID) else { return nil }
                    return PublicDocument(body: FeedWriter(publicURL: publicURL).osv(found.advisory), contentType: "application/json",
                                          lastModified: found.advisory.updated)
                }
            }
            return try await page(request, key: DocumentKey.advisory(id)) { db in
                guard let found = try PublicStore(database: db, clock: SystemClock()).published(publicID: id) else { return nil }
                return Self.html(Pages.advisory(found.advisory, revisions: found.revisions, publicURL: publicURL), lastModified: found.advisory.updated)
            }
        }
        for (path, type) in [("feed.atom", "application/atom+xml; charset=utf-8"), ("feed.rss", "application/rss+xml; charset=utf-8"),
                             ("feed.json", "application/feed+json")] {
            router.get(RouterPath(path)) { request, _ in try await page(request, key: DocumentKey.feed(path)) { db in
                let items = try PublicStore(database: db, clock: SystemClock()).published()
                let writer = FeedWriter(publicURL: publicURL)
                let body: [UInt8] = switch path {
                case "feed.atom": Array(writer.atom(items).utf8)
                case "feed.rss": Array(writer.rss(items).utf8)
                default: writer.jsonFeed(items)
                }
                return PublicDocument(body: body, contentType: type, lastModified: items.map(\.updated).max() ?? Date(timeIntervalSince1970: 0))
            } }
        }
        router.get("/.well-known/security.txt") { request, _ in
            // RFC 9116: Contact and Expires are required; Expires less than a year ahead.
            let expires = Instant.rfc3339(Date().addingTimeInterval(180 * 86_400).roundedToDay)
            let contact = configuration.securityContact.map { $0.contains("://") ? $0 : "mailto:" + $0 } ?? "mailto:\(configuration.outbox.mailFrom)"
            let text = """
                Contact: \(contact)
                Expires: \(expires)
                Policy: \(configuration.policyURL ?? publicURL + "/")
                Canonical: \(publicURL)/.well-known/security.txt
                Preferred-Languages: en

                """
            return serve(PublicDocument(body: Array(text.utf8), contentType: "text/plain; charset=utf-8", lastModified: Date().roundedToDay), request)
        }
        router.get("/openapi.yaml") { request, _ in serve(Self.openAPI, request) }
        router.get("/healthz") { _, _ in
            let database = (try? await pool.run { db in try db.first("SELECT 1") { $0.int(0) } }) == 1
            let scheduler = health.schedulerAlive
            let ok = database && scheduler
            // The relay's start-up check, not the last send: whether sends succeed would change as
            // private notices go out, and this route is public.
            let body = "{\"database\":\"\(database ? "ok" : "unreachable")\",\"scheduler\":\"\(scheduler ? "ok" : "stopped")\",\"smtp\":\"\(health.smtp)\",\"status\":\"\(ok ? "ok" : "failing")\"}"
            return Response(status: ok ? .ok : .serviceUnavailable, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                            body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        // Metrics count private activity (early notices, the outbox), so they are not public:
        // they need a token (any role's, or HERALD_METRICS_TOKEN), or a listener of their own.
        router.get("/metrics") { request, _ in
            try await MetricsEndpoint(pool: pool, registry: configuration.metrics).authorize(request, token: configuration.metricsToken)
            return try await MetricsEndpoint(pool: pool, registry: configuration.metrics).response()
        }
    }

    // Fixed documents: rendered and hashed once, not per request.
    static let stylesheet = PublicDocument(body: Array(Pages.stylesheet.utf8), contentType: "text/css; charset=utf-8",
                                           lastModified: Date(timeIntervalSince1970: 0))
    static let openAPI = PublicDocument(body: Array(OpenAPI.document.utf8), contentType: "application/yaml",
                                        lastModified: Date(timeIntervalSince1970: 0))

    static func html(_ text: String, lastModified: Date?) -> PublicDocument {
        PublicDocument(body: Array(text.utf8), contentType: "text/html; charset=utf-8", lastModified: lastModified ?? Date(timeIntervalSince1970: 0))
    }

    /// A cached document, or the same 404 page whether the thing does not exist or is not public yet.
    private func page(_ request: Request, key: String, render: @escaping @Sendable (Database) throws -> PublicDocument?) async throws -> Response {
        guard let document = try await cache.document(key, pool: pool, render: render) else {
            return Response(status: .notFound, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-cache"],
                            body: .init(byteBuffer: ByteBuffer(string: Pages.notFound(publicURL: publicURL))))
        }
        return serve(document, request)
    }

    /// The document, or 304 when the client's copy is current (If-None-Match first, as RFC 9110 says).
    private func serve(_ document: PublicDocument, _ request: Request) -> Response {
        if document.isCurrent(ifNoneMatch: request.headers[.ifNoneMatch], ifModifiedSince: request.headers[.ifModifiedSince]) {
            return Response(status: .notModified, headers: document.notModifiedHeaders)
        }
        return Response(status: .ok, headers: document.headers, body: .init(byteBuffer: document.buffer))
    }
}

/// Whether the background services are alive, for /healthz.
final class HealthState: @unchecked Sendable {
    private let lock = NSLock()
    private var beat: ContinuousClock.Instant?
    private let expectsScheduler: Bool

    init(expectsScheduler: Bool) { self.expectsScheduler = expectsScheduler }

    func schedulerBeat() { lock.withLock { beat = .now } }

    // Guarded by `lock`: "unchecked" (no relay, or not yet), "ok", "failing".
    private var smtpState = "unchecked"
    func smtpChecked(_ problem: String?) { lock.withLock { smtpState = problem == nil ? "ok" : "failing" } }
    var smtp: String { lock.withLock { smtpState } }

    /// Alive when the scheduler looped within the last 5 s (or when none runs here, as in tests).
    var schedulerAlive: Bool {
        guard expectsScheduler else { return true }
        return lock.withLock { beat.map { ContinuousClock.now - $0 < .seconds(5) } ?? false }
    }
}

extension Date {
    var roundedToDay: Date { Date(timeIntervalSince1970: (timeIntervalSince1970 / 86_400).rounded(.down) * 86_400) }
}
