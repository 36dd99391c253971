import Foundation
import HeraldApp
import HeraldCore
import HeraldStore
import Hummingbird
import Prometheus

/// The public surface: pages, feeds, OSV, security.txt, health, metrics and the API description.
/// Every route reads through `PublicStore`, which returns published data only.
struct PublicController: Sendable {
    let app: AppServices
    let cache: PublicCache
    let configuration: ServerConfiguration
    let health: HealthState

    var publicURL: String { app.settings.publicURL }

    func addRoutes(to router: Router<HeraldContext>) {
        router.get("/style.css") { request, _ in serve(Self.stylesheet, request) }
        // Browsers ask for an icon on every site; an empty answer rather than a 404 in their consoles.
        router.get("/favicon.ico") { _, _ in
            Response(status: .noContent, headers: [.cacheControl: "public, max-age=86400"])
        }
        for pattern in PublicDocumentRoute.patterns {
            router.get(RouterPath(pattern)) { request, _ in
                guard let route = PublicDocumentRoute(path: request.uri.path) else {
                    return notFound(app.pages(for: request, at: "/?"))
                }
                let pages = app.pages(for: request, at: route.path + "?")
                return try await page(
                    request, key: route.key(language: pages.language, chosen: pages.chosen), pages: pages
                ) { stores in
                    try render(route, stores, pages: pages)
                }
            }
        }
        // The projects' public keys: at a stable address, and by the Web Key Directory's direct
        // method for the addresses of their user IDs, when this host is that address's domain.
        router.get("/openpgp/:file") { request, context in
            let file = context.parameters.get("file") ?? ""
            guard file.hasSuffix(".asc"), let key = try await projectKey(slug: String(file.dropLast(4))) else {
                return notFound(app.pages(for: request, at: "/?"))
            }
            return serve(
                PublicDocument(
                    body: Array(key.publicKey.utf8), contentType: "application/pgp-keys", lastModified: key.createdAt),
                request)
        }
        router.get("/.well-known/openpgpkey/policy") { request, _ in
            guard try await !app.run({ stores in try stores.keyRecords.publicProjectKeys() }).isEmpty else {
                return notFound(app.pages(for: request, at: "/?"))
            }
            return serve(Self.emptyPolicy, request)
        }
        router.get("/.well-known/openpgpkey/hu/:hash") { request, context in
            let hash = context.parameters.get("hash") ?? ""
            // Checked before any work: a hashed local part is 32 characters of z-base-32.
            guard let pgp = app.pgp, WebKeyDirectory.isHash(hash),
                let host = WebKeyDirectory.domain(ofHost: request.head.authority ?? ""),
                let key = try await app.run({ stores in
                    try stores.keyRecords.publicProjectKeys().first { _, key in
                        key.addresses.contains {
                            guard let at = $0.lastIndex(of: "@") else { return false }
                            return $0[$0.index(after: at)...] == host
                                && WebKeyDirectory.hash(localPart: String($0[..<at])) == hash
                        }
                    }?.key
                })
            else { return notFound(app.pages(for: request, at: "/?")) }
            return serve(
                PublicDocument(
                    body: try pgp.binary(Array(key.publicKey.utf8)), contentType: "application/octet-stream",
                    lastModified: key.createdAt), request)
        }
        router.get("/.well-known/security.txt") { request, _ in
            // RFC 9116: Contact and Expires are required; Expires less than a year ahead.
            let expires = Instant.rfc3339(app.now.addingTimeInterval(180 * 86_400).roundedToDay)
            let contact =
                configuration.securityContact.map { $0.contains("://") ? $0 : "mailto:" + $0 }
                ?? "mailto:\(app.settings.mailFrom)"
            let text = """
                Contact: \(contact)
                Expires: \(expires)
                Policy: \(configuration.policyURL ?? publicURL + "/")
                Canonical: \(publicURL)/.well-known/security.txt
                Preferred-Languages: \(configuration.preferredLanguages ?? "en")

                """
                // Only a key the release managers hold the secret of (one they imported) is
                // offered for encryption; a key Herald made only signs.
                + (try await app.run { stores in try stores.keyRecords.publicProjectKeys() }).filter(\.key.canEncrypt)
                .map { "Encryption: \(publicURL)/openpgp/\($0.slug).asc\n" }.joined()
            return serve(
                PublicDocument(
                    body: Array(text.utf8), contentType: "text/plain; charset=utf-8", lastModified: app.now.roundedToDay
                ), request)
        }
        router.get("/openapi.yaml") { request, _ in serve(Self.openAPI, request) }
        router.get("/healthz") { _, _ in
            let database = (try? await app.run { stores in try stores.database.first("SELECT 1") { $0.int(0) } }) == 1
            let scheduler = health.schedulerAlive
            let ok = database && scheduler
            // The relay's start-up check, not the last send: whether sends succeed would change as
            // private notices go out, and this route is public.
            let body =
                "{\"database\":\"\(database ? "ok" : "unreachable")\",\"scheduler\":\"\(scheduler ? "ok" : "stopped")\",\"smtp\":\"\(health.smtp)\",\"status\":\"\(ok ? "ok" : "failing")\"}"
            return Response(
                status: ok ? .ok : .serviceUnavailable,
                headers: [.contentType: "application/json", .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        // Metrics count private activity (early notices, the outbox), so they are not public:
        // they need a token (any role's, or HERALD_METRICS_TOKEN), or a listener of their own.
        router.get("/metrics") { request, _ in
            let metrics = MetricsEndpoint(app: app, registry: configuration.metrics)
            try await metrics.authorize(request, token: configuration.metricsToken)
            return try await metrics.response()
        }
    }

    /// A cached document, rendered from published data only; nil when there is no such public thing.
    private func render(_ route: PublicDocumentRoute, _ stores: Stores, pages: Pages) throws -> PublicDocument? {
        let store = stores.published
        switch route {
        case .index:
            let published = try store.published()
            return Self.html(
                pages.index(published: published, upcoming: try store.upcoming()), pages: pages,
                lastModified: published.map(\.updated).max())
        case .providers:
            return Self.html(pages.providers(try store.listedOrganizations()), pages: pages, lastModified: nil)
        case .advisory(let publicID):
            guard let found = try store.published(publicID: publicID) else { return nil }
            return Self.html(
                pages.advisory(found.advisory, revisions: found.revisions), pages: pages,
                lastModified: found.advisory.updated)
        case .osv(let publicID):
            guard let found = try store.published(publicID: publicID) else { return nil }
            return PublicDocument(
                body: FeedWriter(publicURL: publicURL).osv(found.advisory), contentType: "application/json",
                lastModified: found.advisory.updated)
        case .feed(let file):
            let items = try store.published()
            let writer = FeedWriter(publicURL: publicURL)
            let (body, type): ([UInt8], String) =
                switch file {
                case "feed.atom": (Array(writer.atom(items).utf8), "application/atom+xml; charset=utf-8")
                case "feed.rss": (Array(writer.rss(items).utf8), "application/rss+xml; charset=utf-8")
                default: (writer.jsonFeed(items), "application/feed+json")
                }
            return PublicDocument(
                body: body, contentType: type,
                lastModified: items.map(\.updated).max() ?? Date(timeIntervalSince1970: 0))
        case .signature(let base):
            // Signed by the advisory's project, or, for a feed, by every project with a key.
            guard let pgp = app.pgp, let vault = app.vault, let document = try render(base, stores, pages: pages)
            else { return nil }
            var keys = try stores.keyRecords.publicProjectKeys()
            if case .osv(let publicID) = base, let found = try stores.published.published(publicID: publicID) {
                keys = keys.filter { $0.slug == found.advisory.advisory.projectSlug }
            }
            // A key that no longer signs (expired, or sealed under another vault key) is left
            // out rather than failing the others' signatures.
            let bytes = Array(document.buffer.readableBytesView)
            let signers = keys.compactMap { entry -> OpenPGPKeyMaterial? in
                guard let secret = try? vault.open(entry.key.sealedSecret) else { return nil }
                let signer = OpenPGPKeyMaterial(fingerprint: entry.key.fingerprint, bytes: secret)
                return (try? pgp.detachedSignature(of: bytes, by: [signer])) == nil ? nil : signer
            }
            guard !signers.isEmpty else { return nil }
            return PublicDocument(
                body: try pgp.detachedSignature(of: bytes, by: signers), contentType: "application/pgp-signature",
                lastModified: document.lastModified)
        }
    }

    /// The project's key, when it has one.
    private func projectKey(slug: String) async throws -> ProjectKey? {
        try await app.run { stores in try stores.keyRecords.publicProjectKeys().first { $0.slug == slug }?.key }
    }

    /// The Web Key Directory's policy file: its presence says the directory is served here.
    static let emptyPolicy = PublicDocument(
        body: [], contentType: "text/plain; charset=utf-8", lastModified: Date(timeIntervalSince1970: 0))

    // Fixed documents: rendered and hashed once, not per request.
    static let stylesheet = PublicDocument(
        body: Array(Pages.stylesheet.utf8), contentType: "text/css; charset=utf-8",
        lastModified: Date(timeIntervalSince1970: 0))
    static let openAPI = PublicDocument(
        body: Array(OpenAPI.document.utf8), contentType: "application/yaml",
        lastModified: Date(timeIntervalSince1970: 0))

    static func html(_ text: String, pages: Pages, lastModified: Date?) -> PublicDocument {
        PublicDocument(
            body: Array(text.utf8), contentType: "text/html; charset=utf-8",
            lastModified: lastModified ?? Date(timeIntervalSince1970: 0),
            language: pages.language)
    }

    /// A cached document, or the same 404 page whether the thing does not exist or is not public yet.
    private func page(
        _ request: Request, key: String, pages: Pages,
        render: @escaping @Sendable (Stores) throws -> PublicDocument?
    ) async throws -> Response {
        guard let document = try await cache.document(key, render: render) else { return notFound(pages) }
        return serve(document, request)
    }

    /// The same 404 page for what does not exist and what is not public yet.
    private func notFound(_ pages: Pages) -> Response {
        Response(
            status: .notFound,
            headers: [
                .contentType: "text/html; charset=utf-8", .cacheControl: "no-cache",
                .contentLanguage: pages.language.rawValue, .vary: "Accept-Language",
            ],
            body: .init(byteBuffer: ByteBuffer(string: pages.notFound())))
    }

    /// The document, or 304 when the client's copy is current (If-None-Match first, as RFC 9110 says).
    private func serve(_ document: PublicDocument, _ request: Request) -> Response {
        if document.isCurrent(
            ifNoneMatch: request.headers[.ifNoneMatch], ifModifiedSince: request.headers[.ifModifiedSince])
        {
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
