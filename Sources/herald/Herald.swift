import ArgumentParser
import Foundation
import HeraldCore
import HeraldStore

/// The `herald` command: the release manager's tool and the composition root.
struct Herald: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "herald",
        abstract: "Coordinated-release notification hub: early notice to service providers, embargoed releases, announcements everywhere at once.",
        discussion: """
            Every command works on one SQLite file (--database, or HERALD_DATABASE, default ./herald.sqlite), \
            which is created and migrated when missing. Listings print tables; --json prints JSON for scripts.
            Instants are RFC 3339 with an offset (2026-12-01T16:00:00Z) or a local time with an IANA zone \
            ("2026-12-01 17:00 Europe/Amsterdam").
            Bad input is refused with one line naming the field and the rule, exit code 2, and nothing written.
            """,
        subcommands: [Serve.self, Migrate.self, TokenCommand.self, ProjectCommand.self, ProviderCommand.self, ChannelCommand.self,
                      AdvisoryCommand.self, DeliveriesCommand.self, FeedCommand.self]
    )
}

@main
enum Main {
    static func main() async {
        do {
            var command = try Herald.parseAsRoot()
            if var command = command as? AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            fail(with: error)
        }
    }

    /// Exit code 2 and one line for anything the user can fix by changing the input; 1 for
    /// everything else (a locked or unreadable database, a tampered migration).
    static func fail(with error: Error) -> Never {
        switch error {
        case let refusal as Refusal:
            printError("herald: \(refusal)")
            exit(2)
        case let refusals as LineRefusals:
            printError("herald: \(refusals)")
            exit(2)
        case let error as SQLiteError:
            printError("herald: \(error)")
            exit(1)
        case let error as MigrationError:
            printError("herald: \(error)")
            exit(1)
        case let error as ServeError:
            printError("herald: \(error)")
            exit(1)
        default:
            if Herald.exitCode(for: error) == .validationFailure {
                printError(Herald.fullMessage(for: error))
                exit(2)
            }
            Herald.exit(withError: error)
        }
    }
}

/// Writes a line to standard error.
func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
