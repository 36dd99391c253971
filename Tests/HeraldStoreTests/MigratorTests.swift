import CSQLite
import Foundation
import HeraldTestSupport
import Testing

@testable import HeraldStore

@Suite struct MigratorTests {
    func freshDatabase() throws -> (Database, URL) {
        let directory = FileManager.default.temporaryDirectory.appending(path: "herald-migrate-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return (try Database(path: directory.appending(path: "db.sqlite").path), directory)
    }

    @Test func embeddedMigrationsAreNumberedAndCarryTheSQL() throws {
        let migrations = try Migrator.embedded
        #expect(migrations.first?.version == 1)
        #expect(migrations.first?.name == "initial")
        #expect(migrations.first?.sql.contains("CREATE TABLE advisories") == true)
        // The embedded text is the file's text, byte for byte.
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
            .appending(path: "Migrations/0001_initial.sql")
        #expect(try String(contentsOf: file, encoding: .utf8) == migrations.first?.sql)
    }

    @Test func freshDatabaseGetsEveryMigrationAndARerunIsANoOp() throws {
        let (database, directory) = try freshDatabase()
        defer { try? FileManager.default.removeItem(at: directory) }
        let migrator = try Migrator()
        #expect(try migrator.migrate(database).count == migrator.migrations.count)
        #expect(try migrator.migrate(database).isEmpty)
        let recorded = try migrator.appliedChecksums(database)
        #expect(recorded.count == migrator.migrations.count)
        #expect(recorded[1] == migrator.migrations[0].checksum)
        let tables = try database.query("SELECT name FROM sqlite_master WHERE type = 'table'") { $0.text(0) }
        #expect(
            Set(tables).isSuperset(of: ["projects", "providers", "advisories", "audit", "tokens", "schema_migrations"]))
    }

    @Test func bodiesMoveOutOfDeliveriesIntact() throws {
        let (database, directory) = try freshDatabase()
        defer { try? FileManager.default.removeItem(at: directory) }
        let all = try Migrator()
        // A database as Herald left it before 0004: the body inline in its delivery.
        _ = try Migrator(migrations: all.migrations.filter { $0.version < 4 }).migrate(database)
        try database.execute(
            """
            INSERT INTO projects (id, slug, name, timezone, max_embargo_days, created_at) VALUES (1, 'demo', 'Demo', 'UTC', 14, 0);
            INSERT INTO notices (id, advisory_id, kind, revision, recipients, created_at) VALUES (7, NULL, 'channel-test', 0, 1, 0);
            INSERT INTO deliveries (id, notice_id, transport, format, recipient, host, message_id, payload, state, next_attempt_at, created_at)
                VALUES (42, 7, 'webhook', 'slack', 'https://chat.example/h', 'chat.example', 'msg_1', X'7B2274657874227D', 'retrying', 5, 1);
            """)
        _ = try all.migrate(database)
        let row = try database.first(
            """
            SELECT d.state, d.next_attempt_at, hex(p.body) FROM deliveries d JOIN payloads p ON p.id = d.payload_id WHERE d.id = 42
            """
        ) { [$0.text(0), String($0.int(1)), $0.text(2)] }
        #expect(row == ["retrying", "5", "7B2274657874227D"])
        let problems = try database.query("PRAGMA foreign_key_check") { $0.text(0) }
        #expect(problems.isEmpty)
    }

    /// 0023 drops the deliveries' checks of their notice and payload (never failing, half of
    /// writing a row) and keeps every row, index and the provider's key.
    @Test func deliveriesLoseTheirNoticeAndPayloadChecksAndNothingElse() throws {
        let (database, directory) = try freshDatabase()
        defer { try? FileManager.default.removeItem(at: directory) }
        let all = try Migrator()
        _ = try Migrator(migrations: all.migrations.filter { $0.version < 23 }).migrate(database)
        try database.execute(
            """
            INSERT INTO providers (id, organization, status, created_at, updated_at) VALUES (3, 'Acme', 'active', 0, 0);
            INSERT INTO notices (id, advisory_id, kind, revision, recipients, created_at) VALUES (7, NULL, 'channel-test', 0, 1, 0);
            INSERT INTO payloads (id, body) VALUES (1, X'7B7D');
            INSERT INTO deliveries (id, notice_id, provider_id, transport, format, recipient, host, message_id, payload_id, state,
                                    next_attempt_at, created_at)
                VALUES (42, 7, 3, 'email', 'email', 'ops@acme.example', 'mail', 'm1', 1, 'pending', 5, 1);
            """)
        let before = try database.query("SELECT * FROM deliveries") { row in (0..<18).map { row[$0] } }
        _ = try all.migrate(database)
        #expect(try database.query("SELECT * FROM deliveries") { row in (0..<18).map { row[$0] } } == before)
        let parents = try database.query("SELECT \"table\" FROM pragma_foreign_key_list('deliveries')") { $0.text(0) }
        #expect(parents == ["providers"])
        let indexes = try database.query(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'deliveries' ORDER BY name"
        ) { $0.text(0) }
        #expect(indexes == ["deliveries_host_due", "deliveries_notice", "deliveries_provider"])
        #expect(try database.query("PRAGMA foreign_key_check") { $0.text(0) }.isEmpty)
    }

    @Test func anExistingDatabaseUpgradesThroughTheTrustMigrations() throws {
        let (database, directory) = try freshDatabase()
        defer { try? FileManager.default.removeItem(at: directory) }
        let all = try Migrator()
        // A database as Herald left it at 0004: a secret in a delivery, a webhook's whole URL as
        // where it went, a 410's URL in the audit log, an acknowledgement of a notice.
        _ = try Migrator(migrations: all.migrations.filter { $0.version <= 4 }).migrate(database)
        try database.execute(
            """
            INSERT INTO projects (id, slug, name, timezone, max_embargo_days, created_at) VALUES (1, 'demo', 'Demo', 'UTC', 14, 0);
            INSERT INTO providers (id, organization, status, created_at, updated_at) VALUES (3, 'Acme', 'active', 0, 0);
            INSERT INTO notices (id, advisory_id, kind, revision, recipients, created_at) VALUES (7, NULL, 'channel-test', 0, 1, 0);
            INSERT INTO payloads (id, body) VALUES (1, X'7B7D');
            INSERT INTO deliveries (id, notice_id, transport, format, recipient, host, message_id, payload_id, secret, state, next_attempt_at,
                                    delivered_via, created_at)
                VALUES (42, 7, 'webhook', 'slack', 'https://hooks.slack.com/services/T0/B0/SECRET', 'hooks.slack.com', 'msg_herald_7_c1', 1,
                        'whsec_old', 'delivered', 5, 'https://hooks.slack.com/services/T0/B0/SECRET', 1);
            INSERT INTO acknowledgements (provider_id, notice_id, acknowledged_at) VALUES (3, 7, 9);
            INSERT INTO audit (at, actor, action, subject_type, subject_id, details)
                VALUES (1, 'delivery', 'endpoint.disable', 'delivery', 42, '{"url":"https://hooks.slack.com/services/T0/B0/SECRET"}');
            """)
        #expect(try all.migrate(database).map(\.version) == Array(5...all.migrations.count))
        let dump =
            try database.query("SELECT delivered_via FROM deliveries") { $0.text(0) }
            + database.query("SELECT details FROM audit") { $0.text(0) }
        #expect(!dump.contains { $0.contains("SECRET") }, "\(dump)")
        #expect(
            !(try database.query("SELECT name FROM pragma_table_info('deliveries')") { $0.text(0) }).contains("secret"))
        // The rebuilt notices keep their rows and everything that refers to them.
        #expect(try database.first("SELECT length(key) FROM notices WHERE id = 7") { $0.int(0) } == 16)
        #expect(
            try database.first("SELECT count(*) FROM acknowledgements a JOIN notices n ON n.id = a.notice_id") {
                $0.int(0)
            } == 1)
        #expect(try database.query("PRAGMA foreign_key_check") { $0.text(0) }.isEmpty)
        #expect(try database.first("PRAGMA foreign_keys") { $0.int(0) } == 1, "foreign keys are on again")
        try database.run(
            "INSERT INTO notices (advisory_id, kind, revision, recipients, created_at) VALUES (NULL, 'contact-left', 0, 1, 0)"
        )
    }

    @Test func aTamperedMigrationIsRefused() throws {
        let (database, directory) = try freshDatabase()
        defer { try? FileManager.default.removeItem(at: directory) }
        let original = [Migration(version: 1, name: "one", sql: "CREATE TABLE a (x INTEGER);")]
        try Migrator(migrations: original).migrate(database)
        let tampered = [
            Migration(version: 1, name: "one", sql: "CREATE TABLE a (x INTEGER, y TEXT);"),
            Migration(version: 2, name: "two", sql: "CREATE TABLE b (x INTEGER);"),
        ]
        #expect(throws: MigrationError.changedAfterApplied(version: 1, name: "one")) {
            try Migrator(migrations: tampered).migrate(database)
        }
        // Nothing after the tampered step ran.
        #expect(try database.query("SELECT name FROM sqlite_master WHERE name = 'b'") { $0.text(0) }.isEmpty)
    }

    @Test func aDatabaseFromANewerHeraldIsRefused() throws {
        let (database, directory) = try freshDatabase()
        defer { try? FileManager.default.removeItem(at: directory) }
        let two = [
            Migration(version: 1, name: "one", sql: "CREATE TABLE a (x);"),
            Migration(version: 2, name: "two", sql: "CREATE TABLE b (x);"),
        ]
        try Migrator(migrations: two).migrate(database)
        #expect(throws: MigrationError.databaseIsNewer(version: 2, known: 1)) {
            try Migrator(migrations: [two[0]]).migrate(database)
        }
    }

    @Test func aFailingMigrationLeavesTheLastWholeStep() throws {
        let (database, directory) = try freshDatabase()
        defer { try? FileManager.default.removeItem(at: directory) }
        let steps = [
            Migration(version: 1, name: "one", sql: "CREATE TABLE a (x);"),
            Migration(version: 2, name: "two", sql: "CREATE TABLE b (x); CREATE TABLE oops (;"),
        ]
        #expect(throws: SQLiteError.self) { try Migrator(migrations: steps).migrate(database) }
        let migrator = try Migrator(migrations: steps)
        #expect(try migrator.appliedChecksums(database).keys.sorted() == [1])
        #expect(try database.query("SELECT name FROM sqlite_master WHERE name = 'b'") { $0.text(0) }.isEmpty)
    }

    @Test func gapsAndBadNamesAreRefused() {
        #expect(throws: MigrationError.gap(expected: 2, found: 3)) {
            try Migrator(migrations: [
                Migration(version: 1, name: "a", sql: ""), Migration(version: 3, name: "c", sql: ""),
            ])
        }
        #expect(throws: MigrationError.badFileName("1_initial.sql")) { try Migration(file: "1_initial.sql", sql: "") }
    }
}

@Suite struct DatabaseTests {
    @Test func connectionUsesWALAndForeignKeys() throws {
        let db = try TestDatabase()
        #expect(try db.database.first("PRAGMA journal_mode") { $0.text(0) } == "wal")
        #expect(try db.database.first("PRAGMA foreign_keys") { $0.int(0) } == 1)
        #expect {
            try db.database.run("INSERT INTO subscriptions (provider_id, project_id, created_at) VALUES (99, 99, 0)")
        } throws: { ($0 as? SQLiteError)?.kind == .foreignKeyViolation }
    }

    @Test func sixtyFourBitIntegersAndBlobsRoundTrip() throws {
        let db = try TestDatabase()
        try db.database.execute("CREATE TABLE t (i INTEGER, b BLOB)")
        let blob: [UInt8] = [0, 1, 0, 255, 0]  // NULs inside: the length must be the real one
        try db.database.run("INSERT INTO t VALUES (?, ?)", .integer(Int64.max - 1), .blob(blob))
        let row = try #require(try db.database.first("SELECT i, b FROM t") { ($0.int(0), $0.blob(1)) })
        #expect(row.0 == Int64.max - 1)
        #expect(row.1 == blob)
    }

    @Test func aFailedTransactionLeavesNothing() throws {
        let db = try TestDatabase()
        #expect(throws: SQLiteError.self) {
            try db.database.write {
                try db.database.run(
                    "INSERT INTO projects (slug, name, timezone, max_embargo_days, created_at) VALUES ('a', 'A', 'UTC', 14, 0)"
                )
                try db.database.run(
                    "INSERT INTO projects (slug, name, timezone, max_embargo_days, created_at) VALUES ('a', 'A', 'UTC', 14, 0)"
                )
            }
        }
        #expect(try db.count("projects") == 0)
    }

    @Test func whatATransactionHandsOnRunsOnlyOnceItCommitted() throws {
        let db = try TestDatabase()
        let other = try Database(path: db.path)
        var seen: [Int64] = []
        let insert =
            "INSERT INTO projects (slug, name, timezone, max_embargo_days, created_at) VALUES (?, 'A', 'UTC', 14, 0)"
        try db.database.write {
            try db.database.run(insert, .text("a"))
            db.database.afterCommit {
                // Committed and the lock given back: another connection sees the row, and may write.
                seen.append((try? other.first("SELECT count(*) FROM projects") { $0.int(0) }) ?? -1)
                try? other.write { try other.run(insert, .text("b")) }
            }
            #expect(seen.isEmpty)
        }
        #expect(seen == [1])
        #expect(try db.count("projects") == 2)
        // Rolled back, or rehearsed: never.
        struct Undone: Error {}
        #expect(throws: Undone.self) {
            try db.database.write {
                db.database.afterCommit { seen.append(-2) }
                throw Undone()
            }
        }
        try db.database.rehearse {
            try db.database.write { db.database.afterCommit { seen.append(-3) } }
            db.database.afterCommit { seen.append(-4) }
        }
        try db.database.write {}
        #expect(seen == [1])
    }

    @Test func aLockedDatabaseGivesAClearError() throws {
        let db = try TestDatabase()
        let other = try Database(path: db.path, busyTimeout: .milliseconds(50))
        try db.database.execute("BEGIN IMMEDIATE")
        defer { try? db.database.execute("ROLLBACK") }
        #expect {
            try other.write { try other.run("DELETE FROM projects") }
        } throws: { error in
            guard let error = error as? SQLiteError else { return false }
            return error.kind == .busy && error.description.contains("locked by another process")
        }
    }

    /// Holds a write transaction to `path` on a thread of its own for `seconds`, inserting a
    /// project `slug` first; returns once it holds it, with what signals when it has ended.
    func holdingWrite(_ path: String, for seconds: Double, inserting slug: String? = nil) -> DispatchSemaphore {
        let holding = DispatchSemaphore(value: 0)
        let ended = DispatchSemaphore(value: 0)
        Thread {
            defer { ended.signal() }
            guard let connection = try? Database(path: path) else {
                holding.signal()
                return
            }
            try? connection.write {
                if let slug {
                    try connection.run(
                        "INSERT INTO projects (slug, name, timezone, max_embargo_days, created_at) VALUES (?, ?, 'UTC', 14, 0)",
                        .text(slug), .text(slug))
                }
                holding.signal()
                Thread.sleep(forTimeInterval: seconds)
            }
        }.start()
        holding.wait()
        return ended
    }

    @Test func twoWritersOfOneProcessTakeTurnsWithoutPolling() throws {
        let db = try TestDatabase()
        let before = try db.count("projects")
        // The same file by another name: the turn is the file's, not the string's.
        let parts = db.path.split(separator: "/", omittingEmptySubsequences: false)
        let otherName = (parts.dropLast() + [".", parts.last!]).joined(separator: "/")
        // The second begins while the first holds its transaction, and waits for it by the turn:
        // its busy handler, which sleeps a millisecond a try, never runs.
        let firstEnded = holdingWrite(db.path, for: 0.1, inserting: "one")
        let waiting = ContinuousClock.now
        let second = try Database(path: otherName)
        try second.write {
            try second.run(
                "INSERT INTO projects (slug, name, timezone, max_embargo_days, created_at) VALUES ('two', 'Two', 'UTC', 14, 0)"
            )
        }
        let waited = ContinuousClock.now - waiting
        firstEnded.wait()
        #expect(second.busySleeps == 0)
        #expect(waited >= .milliseconds(50))
        #expect(try db.count("projects") == before + 2)
        // A turn kept past the busy timeout is a busy database, as SQLite says it.
        let keeperEnded = holdingWrite(db.path, for: 0.4)
        let impatient = try Database(path: db.path, busyTimeout: .milliseconds(50))
        let started = ContinuousClock.now
        #expect {
            try impatient.write { try impatient.run("DELETE FROM projects") }
        } throws: { ($0 as? SQLiteError)?.kind == .busy }
        #expect(ContinuousClock.now - started < .milliseconds(300))
        keeperEnded.wait()
        #expect(try db.count("projects") == before + 2)
    }

    @Test func aFileThatIsNotADatabaseIsNamedAsSuch() throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "herald-notdb-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appending(path: "notes.txt").path
        try String(repeating: "these are not the pages you are looking for\n", count: 100).write(
            toFile: path, atomically: true, encoding: .utf8)
        #expect {
            _ = try Database(path: path)
        } throws: { ($0 as? SQLiteError)?.kind == .notADatabase && "\($0)".contains("is not a SQLite database") }
    }

    @Test func aMissingDirectoryCannotBeOpened() {
        #expect {
            _ = try Database(path: "/nonexistent-\(UUID().uuidString)/herald.sqlite")
        } throws: { ($0 as? SQLiteError)?.kind == .cannotOpen }
    }
}
