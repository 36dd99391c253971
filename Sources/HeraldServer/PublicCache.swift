import Crypto
import Foundation
import HeraldCore
import HeraldStore
import Hummingbird

/// A rendered public document with what conditional requests need.
struct PublicDocument: Sendable {
    /// The bytes, in the buffer every response shares (copy-on-write: serving copies nothing).
    let buffer: ByteBuffer
    let contentType: String
    /// A strong validator: a hash of the bytes, so it reveals nothing but the bytes do.
    let etag: String
    let lastModified: Date
    /// The headers of a 200 answer, security headers included, built once: a feed under load
    /// is answered tens of thousands of times a second from the same document.
    let headers: HTTPFields

    /// `language`: the language of a page, said in Content-Language; pages vary by Accept-Language.
    init(body: [UInt8], contentType: String, lastModified: Date, language: Language? = nil) {
        buffer = ByteBuffer(bytes: body)
        self.contentType = contentType
        self.lastModified = lastModified
        etag = "\"" + SHA256.hash(data: body).prefix(12).map { String(format: "%02x", $0) }.joined() + "\""
        // Public pages may be cached, but revalidated every time: a publication shows at once.
        var headers: HTTPFields = [
            .contentType: contentType, .eTag: etag, .lastModified: EmailMessage.httpDate(lastModified),
            .cacheControl: "public, no-cache", .contentLength: String(body.count),
        ]
        if let language {
            headers[.contentLanguage] = language.rawValue
            headers[.vary] = "Accept-Language"
        }
        SecurityHeaders.apply(to: &headers)
        self.headers = headers
    }

    /// Whether the client's copy is current (If-None-Match first, as RFC 9110 says).
    func isCurrent(ifNoneMatch: String?, ifModifiedSince: String?) -> Bool {
        if let match = ifNoneMatch {
            return match.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.contains {
                $0 == etag || $0 == "*"
            }
        }
        if let since = ifModifiedSince, let date = EmailMessage.parseHTTPDate(since) {
            return floor(lastModified.timeIntervalSince1970) <= date.timeIntervalSince1970
        }
        return false
    }

    /// The headers of a 304 answer.
    var notModifiedHeaders: HTTPFields {
        var headers = headers
        headers[.contentLength] = nil
        return headers
    }
}

/// The public documents that are cached, by path: the one route table of the router (which
/// renders them) and of the event-loop handler (which serves them fresh), so both agree on
/// which path is which document.
indirect enum PublicDocumentRoute: Equatable, Sendable {
    case index, providers
    /// `feed.atom`, `feed.rss`, `feed.json`.
    case feed(String)
    case advisory(publicID: String)
    case osv(publicID: String)
    /// The detached OpenPGP signature of a feed or an OSV document (`….asc`).
    case signature(PublicDocumentRoute)

    /// The router's patterns for these documents.
    static let patterns = [
        "/", "/providers", "/feed.atom", "/feed.rss", "/feed.json", "/feed.atom.asc", "/feed.rss.asc",
        "/feed.json.asc", "/advisories/:id",
    ]

    /// The document at `path`, or nil for anything but a plain public path: ids with anything
    /// the router might decode or normalise are no document.
    init?(path: String) {
        if path.hasSuffix(".asc") {
            guard let base = PublicDocumentRoute(path: String(path.dropLast(4))) else { return nil }
            switch base {
            case .feed, .osv: self = .signature(base)
            default: return nil
            }
            return
        }
        switch path {
        case "/": self = .index
        case "/providers": self = .providers
        case "/feed.atom", "/feed.rss", "/feed.json": self = .feed(String(path.dropFirst()))
        default:
            let prefix = "/advisories/"
            guard path.hasPrefix(prefix) else { return nil }
            let id = path.dropFirst(prefix.count)
            guard !id.isEmpty,
                id.utf8.allSatisfy({
                    $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_")
                        || (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0)
                })
            else { return nil }
            self =
                id.hasSuffix(".osv.json")
                ? .osv(publicID: String(id.dropLast(".osv.json".count))) : .advisory(publicID: String(id))
        }
    }

    /// Its address, as the route table writes it (the language switch links there).
    var path: String {
        switch self {
        case .index: "/"
        case .providers: "/providers"
        case .feed(let file): "/" + file
        case .advisory(let publicID): "/advisories/" + publicID
        case .osv(let publicID): "/advisories/" + publicID + ".osv.json"
        case .signature(let base): base.path + ".asc"
        }
    }

    /// Whether it is an HTML page, written in the reader's language.
    var isPage: Bool {
        switch self {
        case .index, .providers, .advisory: true
        case .feed, .osv, .signature: false
        }
    }

    /// The name it is cached under: a page once per language, and apart when the reader chose
    /// the language (its links then keep `?lang=`).
    func key(language: Language, chosen: Bool) -> String {
        let name =
            switch self {
            case .index: "index"
            case .providers: "providers"
            case .feed(let file): file
            case .advisory(let publicID): "advisory:" + publicID
            case .osv(let publicID): "osv:" + publicID
            case .signature(let base): "signature:" + base.key(language: language, chosen: chosen)
            }
        return isPage ? name + ":" + language.rawValue + (chosen ? "!" : "") : name
    }
}

/// Rendered feeds and pages, kept until something public changes. It holds only what public
/// routes render, which is only published data, so it cannot leak; whether it is current is
/// checked against the database's public fingerprint at most every `recheck`.
final class PublicCache: @unchecked Sendable {
    // All guarded by `lock`.
    private let lock = NSLock()
    private var fingerprint = ""
    private var checkedAt = ContinuousClock.now - .seconds(3600)
    private var documents: [String: PublicDocument] = [:]
    /// The one check against the database in flight: under a flood, every request that finds
    /// the cache stale waits for it instead of querying on its own (32 readers each asking
    /// kept the pool's connections busy and a new publication waiting behind them).
    private var check: (task: Task<String, Error>, generation: Int)?
    /// Counts invalidations: a check that began before one says nothing about what came after.
    private var generation = 0
    private let recheck: Duration
    private let app: AppServices

    init(app: AppServices, recheck: Duration = .milliseconds(100)) {
        self.app = app
        self.recheck = recheck
    }

    /// The document under `key`, rendered by `render` when missing or stale.
    func document(_ key: String, render: @escaping @Sendable (Stores) throws -> PublicDocument?) async throws
        -> PublicDocument?
    {
        let (cached, fresh) = lock.withLock { (documents[key], ContinuousClock.now - checkedAt < recheck) }
        if let cached, fresh { return cached }
        let current = try await currentFingerprint()
        if let kept = lock.withLock({ fingerprint == current ? documents[key] : nil }) { return kept }
        return try await app.run { [self] stores in
            // Rendered from the database as it is now: kept only if nothing public changed since the check.
            guard let document = try render(stores) else { return nil }
            let now = try stores.published.fingerprint()
            lock.withLock { if fingerprint == current && now == current { documents[key] = document } }
            return document
        }
    }

    /// The database's public fingerprint, by the check in flight or a new one; a changed one
    /// empties the cache.
    private func currentFingerprint() async throws -> String {
        let (task, started) = lock.withLock { () -> (Task<String, Error>, Int) in
            if let check, check.generation == generation { return (check.task, check.generation) }
            let task = Task { try await app.run { try $0.published.fingerprint() } }
            check = (task, generation)
            return (task, generation)
        }
        defer { lock.withLock { if check?.task == task { check = nil } } }
        let current = try await task.value
        lock.withLock {
            guard started == generation else { return }
            if current != fingerprint {
                fingerprint = current
                documents.removeAll()
            }
            checkedAt = .now
        }
        return current
    }

    /// The document under `key` when it was checked against the database within `recheck`;
    /// nil otherwise. Never waits, so the event loop can answer with it.
    /// Past half its age a check starts meanwhile, so a steadily read cache stays fresh and
    /// its readers are answered here rather than each going to the database when it expires.
    func freshDocument(_ key: String) -> PublicDocument? {
        let (document, checkAhead) = lock.withLock { () -> (PublicDocument?, Bool) in
            let age = ContinuousClock.now - checkedAt
            guard age < recheck, let document = documents[key] else { return (nil, false) }
            return (document, age >= recheck / 2 && check == nil)
        }
        if checkAhead { Task { _ = try? await currentFingerprint() } }
        return document
    }

    /// Forgets everything (the scheduler in this process published something).
    func invalidate() {
        lock.withLock {
            checkedAt = .now - .seconds(3600)
            generation += 1
        }
    }
}
