import Foundation
import HeraldApp
import HeraldCore
import HeraldStore
import HeraldTemplates
import Hummingbird

/// What every route works through, built once by `buildApplication`: the connection pool, the
/// process's clock and its settings. A handler asks for the stores of one request with `run`.
public struct AppServices: Sendable {
    let pool: DatabasePool
    /// The clock: the system's in `serve`, a manual one in tests.
    public let clock: any Clock
    /// What messages and pages render with.
    public let settings: OutboxSettings
    /// Reads the keys providers upload and signs public documents; nil where the process has
    /// no OpenPGP library (keys are refused, nothing is signed).
    let pgp: (any OpenPGP)?
    /// Opens the projects' signing keys; nil: public documents are not signed.
    let vault: (any SecretVault)?

    init(
        pool: DatabasePool, clock: any Clock, settings: OutboxSettings, pgp: (any OpenPGP)? = nil,
        vault: (any SecretVault)? = nil
    ) {
        self.pool = pool
        self.clock = clock
        self.settings = settings
        self.pgp = pgp
        self.vault = vault
    }

    /// The OpenPGP library, or a refusal where the process has none.
    func openPGP() throws -> any OpenPGP {
        guard let pgp else { throw Refusal.invalid(field: "key", rule: "this service reads no OpenPGP keys") }
        return pgp
    }

    /// The templates of pages (and messages), with any overrides.
    var templates: Templates { settings.wording as? Templates ?? .standard }

    /// The pages for `request`, in the language it chose with `?lang=`, else the one its
    /// Accept-Language prefers, else the deployment's default.
    /// `path` is the page's own address up to `lang=` (`/providers?`), from the route, never
    /// from the request: a page may be cached and served to everyone, so nothing of one
    /// request's address may end up in it.
    func pages(for request: Request, at path: String) -> Pages {
        let chosen = request.uri.queryParameters.get("lang").flatMap { Language(rawValue: String($0)) }
        let language =
            chosen ?? Language.negotiate(request.headers[.acceptLanguage], fallback: settings.defaultLanguage)
        return Pages(templates: templates, language: language, chosen: chosen != nil, path: path)
    }

    /// The instant of a request, read once: everything it writes carries the same one.
    var now: Date { clock.now }

    /// Runs `body` with the stores over a pooled connection, their clock fixed at `instant`
    /// (default: now), so one request's writes share one instant.
    func run<T: Sendable>(at instant: Date? = nil, _ body: @escaping @Sendable (Stores) throws -> T) async throws -> T {
        let clock = FixedClock(instant ?? self.clock.now)
        let settings = self.settings
        return try await pool.run { db in try body(Stores(database: db, clock: clock, settings: settings)) }
    }
}
