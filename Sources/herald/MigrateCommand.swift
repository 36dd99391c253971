import ArgumentParser
import HeraldStore

struct Migrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create the database or bring its schema up to date.",
        discussion:
            "Other commands do this too before they start; run it on its own when upgrading, to see what changed."
    )

    @OptionGroup var db: DatabaseOptions

    func run() throws {
        let database = try Database(path: db.path)
        let migrator = try Migrator()
        let applied = try migrator.migrate(database)
        if applied.isEmpty {
            print("\(db.path) is up to date (schema version \(migrator.migrations.count)).")
        } else {
            for migration in applied { print("applied \(String(format: "%04d", migration.version))_\(migration.name)") }
            print("\(db.path) is at schema version \(migrator.migrations.count).")
        }
    }
}
