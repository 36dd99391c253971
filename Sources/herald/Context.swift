import ArgumentParser
import Foundation
import HeraldApp
import HeraldCore
import HeraldStore

/// `--database`, shared by every command; falls back to HERALD_DATABASE.
struct DatabaseOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp("SQLite file (default: $HERALD_DATABASE or ./herald.sqlite).", valueName: "path"))
    var database: String?

    var path: String { database ?? ProcessInfo.processInfo.environment["HERALD_DATABASE"] ?? "./herald.sqlite" }

    /// Opens the database, migrated to this binary's schema, with the stores over it. A file
    /// that does not exist is refused: a relative path typed in the wrong folder would
    /// otherwise create an empty database there and answer "No advisories".
    /// Messages render with the settings stored in the database (`herald settings`), which
    /// `serve` records from its flags and environment: a command renders what `serve` would.
    func open() throws -> Context {
        let fallback = try messageSettings()
        guard FileManager.default.fileExists(atPath: path) else { throw MissingDatabase(path: path) }
        let database = try Database(path: path)
        try Migrator().migrate(database)
        // One instant for the whole command: everything it writes carries the same one.
        let clock = FixedClock(SystemClock().now)
        let store = SettingsStore(database: database, clock: clock)
        var settings = try store.outboxSettings(fallback: fallback)
        // The templates `serve` recorded, so this process words messages as `serve` would.
        settings.wording = try loadTemplates(
            try store.all()[.templates] ?? ProcessInfo.processInfo.environment["HERALD_TEMPLATES"])
        return Context(stores: Stores(database: database, clock: clock, settings: settings))
    }
}

/// A command other than `migrate` and `serve` was pointed at a file that does not exist.
struct MissingDatabase: Error, CustomStringConvertible {
    let path: String

    var description: String {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        return
            "no database at \(absolute); create it with: herald migrate --database \(absolute) (herald serve creates it too)"
    }
}

/// `--json` for listings.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print JSON instead of a table.")
    var json = false
}

/// What a command works with: the stores over one connection at the command's instant, and the
/// actor for the audit log. Built once, by `DatabaseOptions.open`.
struct Context {
    let stores: Stores

    var database: Database { stores.database }
    var settings: OutboxSettings { stores.settings }
    var clock: any Clock { stores.clock }

    /// The audit log's "who": the operating-system user running the command.
    var actor: String {
        let env = ProcessInfo.processInfo.environment
        let account = getpwuid(geteuid()).map { String(cString: $0.pointee.pw_name) }
        return "cli:" + (env["USER"] ?? env["LOGNAME"] ?? account ?? "uid\(geteuid())")
    }

    var projects: ProjectStore { stores.projects }
    var providers: ProviderStore { stores.providers }
    var channels: ChannelStore { stores.channels }
    var advisories: Advisories { stores.advisories }
    var advisoryRecords: AdvisoryStore { stores.advisoryRecords }
    var outbox: OutboxStore { stores.outbox }
    var tokens: TokenStore { stores.tokens }
    var audit: AuditLog { stores.audit }

    /// Parses an instant flag; `now` is accepted where `allowNow` says so.
    func instant(_ text: String?, field: String, allowNow: Bool = false) throws -> Date? {
        guard let text else { return nil }
        if allowNow && text.trimmingCharacters(in: .whitespaces).lowercased() == "now" { return clock.now }
        return try Instant.parse(text, field: field)
    }
}

/// Reads a file named on the command line (`-` is standard input), refusing with the flag's name.
func readInput(_ path: String, field: String) throws -> String {
    let data: Data?
    if path == "-" {
        data = FileHandle.standardInput.readDataToEndOfFile()
    } else {
        data = FileManager.default.contents(atPath: path)
    }
    guard let data else { throw Refusal.invalid(field: field, rule: "cannot read '\(path)'") }
    guard let text = String(data: data, encoding: .utf8) else {
        throw Refusal.invalid(field: field, rule: "'\(path)' is not UTF-8 text")
    }
    return text
}

/// Parses an enumeration flag with a message that lists the choices.
func choice<T: RawRepresentable & CaseIterable>(_ value: String?, field: String, as type: T.Type = T.self) throws -> T?
where T.RawValue == String {
    guard let value else { return nil }
    guard let parsed = T(rawValue: value.lowercased()) else {
        throw Refusal.invalid(
            field: field, rule: "'\(value)' must be one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    return parsed
}
