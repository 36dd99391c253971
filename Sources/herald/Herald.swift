import ArgumentParser
import Foundation
import HeraldCore
import HeraldStore
import HeraldTemplates

/// The `herald` command: the release manager's tool and the composition root.
struct Herald: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "herald",
        abstract:
            "Coordinated-release notification hub: early notice to service providers, embargoed releases, announcements everywhere at once.",
        discussion: """
            Every command works on one SQLite file (--database, or HERALD_DATABASE, default ./herald.sqlite). \
            `herald migrate` and `herald serve` create it; the other commands refuse a file that does not exist. \
            Listings print tables; --json prints JSON for scripts.
            Instants are RFC 3339 with an offset (2026-12-01T16:00:00Z) or a local time with an IANA zone \
            ("2026-12-01 17:00 Europe/Amsterdam").
            Bad input is refused with one line naming the field and the rule, exit code 2, and nothing written.
            """,
        version: heraldVersion,
        subcommands: [
            Serve.self, Migrate.self, TokenCommand.self, ProjectCommand.self, ProviderCommand.self, ChannelCommand.self,
            AdvisoryCommand.self, DeliveriesCommand.self, AuditCommand.self, SettingsCommand.self,
            TemplatesCommand.self, FeedCommand.self, AccountCommand.self, CVSSCommand.self,
        ]
    )
}

/// `herald --version`: the release, and the schema version this binary migrates to.
let heraldVersion = "herald 0.4.0 (schema \((try? Migrator().migrations.count) ?? 0))"

@main
enum Main {
    static func main() async {
        var command: any ParsableCommand
        do {
            command = try Herald.parseAsRoot()
        } catch {
            // Help and --version exit 0; a mistyped command line is bad input: exit 2.
            if Herald.exitCode(for: error) == .success { Herald.exit(withError: error) }
            printError(Herald.fullMessage(for: error))
            exit(2)
        }
        do {
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
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
        // `--help` reaches here as an error that asks to print help and exit 0.
        if Herald.exitCode(for: error) == .success { Herald.exit(withError: error) }
        switch error {
        case let refusal as Refusal:
            printError("herald: \(refusal)")
            exit(2)
        case let refusals as LineRefusals:
            printError("herald: \(refusals)")
            exit(2)
        case let problems as TemplateProblems:
            printError(
                "herald: templates refused (fix them, or export the built-in ones with `herald templates export DIR`):\n"
                    + problems.description)
            exit(2)
        case is ValidationError:
            printError(Herald.fullMessage(for: error))
            exit(2)
        case let exit as ExitCode:
            Herald.exit(withError: exit)
        default:
            printError("herald: \(error)")
            exit(1)
        }
    }
}

/// Writes a line to standard error.
func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
