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
        // The settings and templates `serve` recorded, read once: this process renders as `serve` would.
        let settings = try renderingSettings(
            stored: try SettingsStore(database: database, clock: clock).all(), fallback: fallback,
            templates: ProcessInfo.processInfo.environment["HERALD_TEMPLATES"])
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
