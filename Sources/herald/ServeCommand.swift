import ArgumentParser
import Dispatch
import Foundation
import HeraldCore
import HeraldDelivery
import HeraldOpenPGP
import HeraldServer
import HeraldStore
import HeraldTemplates
import Logging
import Metrics
import Prometheus

/// Where messages link to and who they are from: HERALD_PUBLIC_URL and HERALD_MAIL_FROM, for
/// every command that renders messages (publish, reschedule, cancel …), not only `serve`.
struct MessageOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Base URL for links in messages and feeds (default: $HERALD_PUBLIC_URL or http://127.0.0.1:8080).",
            valueName: "url"))
    var publicURL: String?
    @Option(
        help: ArgumentHelp(
            "From address of every message (default: $HERALD_MAIL_FROM or herald@localhost.localdomain).",
            valueName: "address"))
    var mailFrom: String?
    @Option(
        help: ArgumentHelp(
            "A directory of templates that replace Herald's wording, file by file; checked at start (default: $HERALD_TEMPLATES).",
            valueName: "dir"))
    var templates: String?

    /// The settings from flags and environment, the templates among them loaded and checked:
    /// a broken template stops `serve` here, before anything starts.
    func settings() throws -> OutboxSettings {
        var settings = try messageSettings(publicURL: publicURL, mailFrom: mailFrom)
        if let directory = explicit()[.templates] { settings.wording = try loadTemplates(directory) }
        return settings
    }

    /// What the flags or the environment set explicitly (not the defaults): `serve` records it.
    func explicit() -> [Setting: String] {
        let env = ProcessInfo.processInfo.environment
        var values: [Setting: String] = [:]
        if let url = publicURL ?? env["HERALD_PUBLIC_URL"] { values[.publicURL] = url }
        if let from = mailFrom ?? env["HERALD_MAIL_FROM"] { values[.mailFrom] = from }
        if let directory = templates ?? env["HERALD_TEMPLATES"] {
            values[.templates] =
                directory == Setting.builtInTemplates
                ? directory : URL(fileURLWithPath: directory).standardizedFileURL.path
        }
        return values
    }
}

/// The message settings from flags, else the environment, else the defaults.
func messageSettings(publicURL: String? = nil, mailFrom: String? = nil) throws -> OutboxSettings {
    let env = ProcessInfo.processInfo.environment
    let url = try Address.webURL(
        publicURL ?? env["HERALD_PUBLIC_URL"] ?? OutboxSettings.defaultPublicURL, field: "public-url")
    let from = try Address.email(
        mailFrom ?? env["HERALD_MAIL_FROM"] ?? OutboxSettings.defaultMailFrom, field: "mail-from")
    return OutboxSettings(publicURL: url, mailFrom: from)
}

/// What this process renders with, one rule for `serve` and every command: the stored settings
/// over `fallback`, and the templates `serve` recorded, else `directory` (HERALD_TEMPLATES).
func renderingSettings(stored: [Setting: String], fallback: OutboxSettings, templates directory: String?) throws
    -> OutboxSettings
{
    var settings = SettingsStore.outboxSettings(stored, fallback: fallback)
    settings.wording = try loadTemplates(stored[.templates] ?? directory)
    return settings
}

/// The templates in `directory` over the built-in ones (`built-in` or nil: those alone), each
/// checked: a broken or unknown one is refused with its file and line before any work.
func loadTemplates(_ directory: String?) throws -> Templates {
    guard let directory, directory != Setting.builtInTemplates else { return .standard }
    return try Templates.load(directory: directory)
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Run the hub: the HTTP service, the scheduler that fires notices at their instants, and the delivery workers.",
        discussion: """
            Migrates the database first. E-mail goes to the SMTP server of --smtp-url, or, when it is unset, \
            into the Maildir --maildir, so a fresh machine works and `mutt -f var/mail` reads what was sent. \
            SIGINT or SIGTERM stops it gracefully: sends in flight finish and are recorded.
            """
    )

    @OptionGroup var db: DatabaseOptions
    @OptionGroup var messages: MessageOptions
    @Option(help: ArgumentHelp("HTTP address (default: $HERALD_LISTEN or 127.0.0.1:8080).", valueName: "host:port"))
    var listen: String?
    @Option(
        help: ArgumentHelp(
            "smtp://user:pass@host:587 (STARTTLS) or smtps://… (default: $HERALD_SMTP_URL; unset: the Maildir).",
            valueName: "url"))
    var smtpURL: String?
    @Option(
        help: ArgumentHelp(
            "Maildir for e-mail when no SMTP server is set (default: $HERALD_MAILDIR or ./var/mail).", valueName: "path"
        ))
    var maildir: String?
    @Option(
        help: ArgumentHelp(
            "trace, debug, info, notice, warning, error (default: $HERALD_LOG_LEVEL or info).", valueName: "level"))
    var logLevel: String?
    @Flag(
        help:
            "Allow webhook URLs that resolve to loopback or private addresses (default: $HERALD_ALLOW_PRIVATE_TARGETS)."
    )
    var allowPrivateTargets = false
    @Option(
        help: ArgumentHelp(
            "Seconds one send may take, connecting included (default: $HERALD_SEND_TIMEOUT or 30).",
            valueName: "seconds"))
    var sendTimeout: Double?
    @Option(
        help: ArgumentHelp(
            "CA certificates (PEM) to verify the SMTP relay with, for a relay with the organisation's own CA (default: $HERALD_SMTP_CA_FILE).",
            valueName: "path"))
    var smtpCAFile: String?
    @Option(
        help: ArgumentHelp(
            "A bearer token that may read /metrics besides API tokens (default: $HERALD_METRICS_TOKEN).",
            valueName: "token"))
    var metricsToken: String?
    @Option(
        help: ArgumentHelp(
            "Serve /metrics without a token on this address of its own, e.g. an internal interface (default: $HERALD_METRICS_LISTEN).",
            valueName: "host:port"))
    var metricsListen: String?

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        let levelName = logLevel ?? env["HERALD_LOG_LEVEL"] ?? "info"
        guard let level = Logger.Level(rawValue: levelName.lowercased()) else {
            throw Refusal.invalid(
                field: "log-level", rule: "'\(levelName)' must be one of trace, debug, info, notice, warning, error")
        }
        let timeout =
            try sendTimeout ?? env["HERALD_SEND_TIMEOUT"].map {
                guard let seconds = Double($0) else {
                    throw Refusal.invalid(field: "send-timeout", rule: "'\($0)' is not a number of seconds")
                }
                return seconds
            } ?? 30
        guard timeout > 0, timeout <= 600 else {
            throw Refusal.invalid(field: "send-timeout", rule: "must be between 0 and 600 seconds")
        }
        let requested = try messages.settings()  // validated before anything starts
        let allowPrivate =
            allowPrivateTargets
            || ["1", "true", "yes", "on"].contains((env["HERALD_ALLOW_PRIVATE_TARGETS"] ?? "").lowercased())
        let smtp = smtpURL ?? env["HERALD_SMTP_URL"]
        if let smtp,
            !(smtp.hasPrefix("smtp://") || smtp.hasPrefix("smtps://")) || URLComponents(string: smtp)?.host == nil
        {
            throw Refusal.invalid(
                field: "smtp-url",
                rule: "must be smtp://[user:pass@]host[:port] or smtps://… (got '\(Self.withoutCredentials(smtp))')")
        }
        let caFile = smtpCAFile ?? env["HERALD_SMTP_CA_FILE"]
        if let caFile, !FileManager.default.isReadableFile(atPath: caFile) {
            throw Refusal.invalid(
                field: "smtp-ca-file",
                rule: "cannot read \(Validate.quoted(caFile)); give a PEM file of the relay's CA certificates")
        }
        if caFile != nil && smtp == nil {
            throw Refusal.invalid(
                field: "smtp-ca-file", rule: "goes with --smtp-url (mail goes to the Maildir without one)")
        }
        let metricsToken = metricsToken ?? env["HERALD_METRICS_TOKEN"]
        if let metricsToken, metricsToken.count < 16 {
            throw Refusal.invalid(
                field: "metrics-token", rule: "must be at least 16 characters (try: openssl rand -hex 16)")
        }
        let metricsListener = try (metricsListen ?? env["HERALD_METRICS_LISTEN"]).map {
            try Self.hostPort($0, field: "metrics-listen")
        }

        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "herald")

        let database = try Database(path: db.path)
        try Migrator().migrate(database)
        // What serve is told by flag or environment is recorded, so every other process (a
        // `publish --now` from a shell without that environment) renders the same messages.
        let clock = SystemClock()  // the one clock of this process: every route, the scheduler, the workers
        let stored = SettingsStore(database: database, clock: clock)
        for (setting, value) in messages.explicit().sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            try stored.set(setting, to: value, actor: "serve")
        }
        let storedValues = try stored.all()
        let settings = try renderingSettings(stored: storedValues, fallback: requested, templates: nil)
        // One `serve` per database: it lets this process treat every lease it finds as orphaned.
        let lockPath = db.path + ".serve-lock"
        let lockFile = open(lockPath, O_CREAT | O_RDWR, 0o600)
        guard lockFile >= 0, flock(lockFile, LOCK_EX | LOCK_NB) == 0 else {
            throw ServeError.alreadyRunning(lockPath)
        }
        defer { close(lockFile) }
        let released = try Stores(database: database, clock: clock, settings: settings).outbox.releaseAllLeases()
        if released > 0 {
            logger.warning(
                "a previous run stopped mid-send; its deliveries go out again", metadata: ["deliveries": "\(released)"])
        }

        let engine = CurlEngine(
            settings: CurlSettings(connectTimeout: min(10, timeout), totalTimeout: timeout, smtpCAFile: caFile))
        var worker = WorkerSettings()
        worker.sendTimeout = timeout
        defer { engine.shutdown() }
        var mail: any Transport
        var smtpCheck: (@Sendable () -> String?)?
        if let smtp {
            let transport = SMTPTransport(engine: engine, url: smtp, from: settings.mailFrom)
            smtpCheck = { transport.check() }
            mail = transport
        } else {
            let directory = maildir ?? env["HERALD_MAILDIR"] ?? "./var/mail"
            mail = try MaildirTransport(directory: URL(fileURLWithPath: directory))
        }
        // Private notices go encrypted where providers have keys, signed by their project's
        // key; every project key must open with the vault's key before anything is sent.
        let vault = try env[KeyVault.environmentName].flatMap { $0.isEmpty ? nil : try KeyVault(secret: $0) }
        let keys = KeyStore(database: database)
        for project in try ProjectStore(database: database, clock: clock).list() {
            guard let key = try keys.projectKey(of: project.id) else { continue }
            guard let vault else {
                throw Refusal.invalid(
                    field: KeyVault.environmentName,
                    rule: "is not set, and project \(project.slug) has a signing key sealed under it")
            }
            _ = try vault.open(key.sealedSecret)
        }
        mail = SealingTransport(mail, pgp: LibRNP(), vault: vault)
        let (host, port) = try Self.hostPort(listen ?? env["HERALD_LISTEN"] ?? "127.0.0.1:8080", field: "listen")
        // Said in one line before anything starts, rather than as a socket error after the
        // "serving" line.
        try Self.requireFree(host: host, port: port, field: "listen")
        if let metricsListener {
            try Self.requireFree(host: metricsListener.host, port: metricsListener.port, field: "metrics-listen")
        }

        // The composition root bootstraps metrics once; /metrics reads the same registry.
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        DeliveryMetrics.prepare()
        var configuration = ServerConfiguration(
            databasePath: db.path, host: host, port: port, outbox: settings,
            delivery: DeliveryServices(
                mail: mail, webhooks: WebhookTransport(engine: engine, allowPrivateTargets: allowPrivate),
                worker: worker),
            metrics: registry)
        configuration.metricsToken = metricsToken
        configuration.smtpCheck = smtpCheck
        configuration.openPGP = LibRNP()
        configuration.keyVault = vault
        configuration.securityContact = storedValues[.securityContact]
        configuration.policyURL = storedValues[.policyURL]
        configuration.preferredLanguages = storedValues[.preferredLanguages]
        configuration.metricsListener = metricsListener
        // RFC 8058: mail providers ignore one-click unsubscribe links that are not https.
        if !settings.publicURL.lowercased().hasPrefix("https://"), !Self.isLoopback(settings.publicURL) {
            logger.warning(
                "the public URL is not https: mail providers ignore one-click unsubscribe (RFC 8058) over http; set HERALD_PUBLIC_URL=https://…",
                metadata: ["public_url": "\(settings.publicURL)"])
        }
        logger.info(
            "herald serving",
            metadata: [
                "database": "\(db.path)", "listen": "\(host):\(port)", "mail": "\(mail.destination)",
                "curl": "\(CurlEngine.version)", "public_url": "\(settings.publicURL)",
                "private_targets": "\(allowPrivate ? "allowed" : "refused")",
            ])
        // SIGTERM and SIGINT stop the HTTP server and let sends in flight finish.
        try await buildApplication(configuration, clock: clock, logger: logger).runService()
        logger.info("stopped")
    }
}

extension Serve {
    /// `host:port` (IPv6 in brackets), refused with the flag's name.
    static func hostPort(_ address: String, field: String) throws -> (host: String, port: Int) {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
            (0...65_535).contains(port), colon != address.startIndex
        else {
            throw Refusal.invalid(
                field: field, rule: "\(Validate.quoted(address)) must be host:port, like 127.0.0.1:8080")
        }
        return (String(address[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]")), port)
    }

    /// Whether a URL's host is this machine (a local trial, where http is fine).
    static func isLoopback(_ url: String) -> Bool {
        guard let host = URLComponents(string: url)?.host?.lowercased() else { return false }
        return host == "localhost" || host.hasPrefix("127.") || host == "::1" || host == "[::1]"
    }

    /// Throws when `host:port` cannot be listened on (in use, or not an address of this machine).
    static func requireFree(host: String, port: Int, field: String) throws {
        guard port != 0 else { return }
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else {
            throw ServeError.cannotListen(
                field: field, address: "\(host):\(port)", why: "the host name does not resolve")
        }
        defer { freeaddrinfo(list) }
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry?.pointee {
            entry = info.ai_next
            let socket = Glibc.socket(info.ai_family, info.ai_socktype, info.ai_protocol)
            guard socket >= 0 else { continue }
            defer { close(socket) }
            var on: Int32 = 1
            setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
            if bind(socket, info.ai_addr, info.ai_addrlen) != 0 {
                let why =
                    errno == EADDRINUSE
                    ? "the port is in use (another herald serve, or another program)" : String(cString: strerror(errno))
                throw ServeError.cannotListen(field: field, address: "\(host):\(port)", why: why)
            }
        }
    }

    /// A URL as an error may repeat it: whatever stands before the last `@` (the user and
    /// password) replaced by `…`, keeping a `scheme://` when there is one, even when the URL
    /// does not parse or has no scheme at all.
    static func withoutCredentials(_ url: String) -> String {
        guard let at = url.lastIndex(of: "@") else { return url }
        let scheme = url[..<at].range(of: "://").map { String(url[..<$0.upperBound]) } ?? ""
        return scheme + "…" + String(url[at...])
    }
}

enum ServeError: Error, CustomStringConvertible {
    case alreadyRunning(String)
    case cannotListen(field: String, address: String, why: String)

    var description: String {
        switch self {
        case let .cannotListen(field, address, why):
            return "cannot listen on \(address) (--\(field)): \(why)"
        case let .alreadyRunning(lock):
            return "another herald serve is running on this database (it holds \(lock)); stop it first"
        }
    }
}
