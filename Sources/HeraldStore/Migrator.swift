import Crypto
import Foundation

/// One schema step, from `Migrations/NNNN_name.sql`.
public struct Migration: Equatable, Sendable {
    /// The `NNNN` of the file name: the order migrations run in, from 1 without gaps.
    public let version: Int
    /// The rest of the file name, for messages and the record of applied migrations.
    public let name: String
    /// The statements to run, in one transaction.
    public let sql: String

    /// Hex SHA-256 of the SQL: an applied migration whose text changed is refused.
    public var checksum: String { SHA256.hash(data: Data(sql.utf8)).hex }

    /// A migration that rebuilds a table others refer to starts with `-- herald: rebuilds tables`:
    /// it runs with foreign keys off (dropping the old table must not touch the rows that
    /// refer to it), and every reference is checked before it commits.
    public var rebuildsTables: Bool { sql.hasPrefix("-- herald: rebuilds tables") }

    /// Reads the version and name from a file name like `0001_initial.sql`.
    public init(file: String, sql: String) throws {
        guard let match = file.wholeMatch(of: /(\d{4})_([a-z0-9_]+)\.sql/), let version = Int(match.1), version > 0
        else {
            throw MigrationError.badFileName(file)
        }
        self.init(version: version, name: String(match.2), sql: sql)
    }

    /// A migration from its parts, as the file name would give them.
    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }
}

/// Why the schema could not be brought up to date.
public enum MigrationError: Error, Equatable, CustomStringConvertible {
    case badFileName(String)
    case brokenReferences(version: Int, rows: [String])
    case gap(expected: Int, found: Int)
    case changedAfterApplied(version: Int, name: String)
    case databaseIsNewer(version: Int, known: Int)

    /// What went wrong and what to do about it, for the operator.
    public var description: String {
        switch self {
        case let .badFileName(file):
            return "migration file '\(file)' must be named NNNN_name.sql"
        case let .gap(expected, found):
            return "migrations must be numbered 1, 2, 3… without gaps: expected \(expected), found \(found)"
        case let .changedAfterApplied(version, name):
            return
                "migration \(version) (\(name)) was changed after it was applied to this database; restore its original text and add a new migration instead"
        case let .brokenReferences(version, rows):
            return
                "migration \(version) would leave \(rows.count) rows referring to nothing (\(rows.prefix(3).joined(separator: ", "))); nothing was changed"
        case let .databaseIsNewer(version, known):
            return "the database has migration \(version) but this herald knows only up to \(known); run a newer herald"
        }
    }
}

/// Applies migrations in order, each in its own transaction with its record, so a failure
/// leaves the database at the last whole step.
public struct Migrator: Sendable {
    /// The migrations compiled into this binary.
    public static var embedded: [Migration] {
        get throws { try embeddedMigrations.map { try Migration(file: $0.file, sql: $0.text) } }
    }

    /// Every known migration, in version order.
    public let migrations: [Migration]

    /// Checks that `migrations` are numbered 1…n.
    public init(migrations: [Migration]) throws {
        let sorted = migrations.sorted { $0.version < $1.version }
        for (index, migration) in sorted.enumerated() where migration.version != index + 1 {
            throw MigrationError.gap(expected: index + 1, found: migration.version)
        }
        self.migrations = sorted
    }

    /// The migrator for this binary's own migrations.
    public init() throws { try self.init(migrations: Migrator.embedded) }

    /// Brings `database` up to date; returns the migrations it applied (none when current).
    @discardableResult
    public func migrate(_ database: Database, now: Date = Date()) throws -> [Migration] {
        try database.execute(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at INTEGER NOT NULL)
            """)
        var applied: [Migration] = []
        for migration in migrations {
            // Outside any transaction, where the pragma takes effect (SQLite's twelve steps).
            if migration.rebuildsTables { try database.execute("PRAGMA foreign_keys = OFF") }
            defer { if migration.rebuildsTables { try? database.execute("PRAGMA foreign_keys = ON") } }
            // Checked inside the transaction, so two processes migrating at once apply each step once.
            let didApply = try database.write { () throws -> Bool in
                let recorded = try appliedChecksums(database)
                if let newest = recorded.keys.max(), newest > migrations.count {
                    throw MigrationError.databaseIsNewer(version: newest, known: migrations.count)
                }
                if let checksum = recorded[migration.version] {
                    guard checksum == migration.checksum else {
                        throw MigrationError.changedAfterApplied(version: migration.version, name: migration.name)
                    }
                    return false
                }
                try database.execute(migration.sql)
                if migration.rebuildsTables {
                    let broken = try database.query("PRAGMA foreign_key_check") {
                        "\($0.text(0)) row \($0.int(1)) → \($0.text(2))"
                    }
                    guard broken.isEmpty else {
                        throw MigrationError.brokenReferences(version: migration.version, rows: broken)
                    }
                }
                try database.run(
                    "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)",
                    .int(migration.version), .text(migration.name), .text(migration.checksum), .date(now))
                return true
            }
            if didApply { applied.append(migration) }
        }
        return applied
    }

    /// The versions recorded in `database` with their checksums.
    public func appliedChecksums(_ database: Database) throws -> [Int: String] {
        let rows = try database.query("SELECT version, checksum FROM schema_migrations") {
            (Int($0.int(0)), $0.text(1))
        }
        return Dictionary(uniqueKeysWithValues: rows)
    }
}

extension Sequence where Element == UInt8 {
    /// Lowercase hexadecimal.
    var hex: String { map { String(format: "%02x", $0) }.joined() }
}
