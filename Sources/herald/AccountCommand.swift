import ArgumentParser
import Foundation
import HeraldApp
import HeraldCore
import HeraldStore

struct AccountCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "account",
        abstract: "Accounts of the release managers' console (/console).",
        discussion:
            "An account signs in with a link mailed to its address, then a code from an authenticator app it enrols the first time. Roles as for tokens: admin, release-manager, auditor (sees, does nothing).",
        subcommands: [Add.self, List.self, Disable.self, Enable.self, ResetAuthenticator.self]
    )

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add an account.")
        @OptionGroup var db: DatabaseOptions
        @Option(help: "Where its sign-in links go.") var email: String
        @Option(help: "admin, release-manager or auditor.") var role: String

        func run() throws {
            let role = try choice(role, field: "role", as: TokenRole.self)!
            let context = try db.open()
            let account = try context.stores.console.addAccount(email: email, role: role, actor: context.actor)
            print(
                "account \(account.id): \(account.email) (\(account.role.rawValue)); it signs in at \(context.settings.publicURL)/console"
            )
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List accounts.")
        @OptionGroup var db: DatabaseOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let accounts = try db.open().stores.console.listAccounts()
            if output.json { return try Output.json(accounts) }
            Output.table(
                ["ID", "EMAIL", "ROLE", "AUTHENTICATOR", "CREATED", "DISABLED"],
                accounts.map {
                    [
                        String($0.id), $0.email, $0.role.rawValue, $0.enrolled ? "enrolled" : "not yet",
                        Instant.utc($0.createdAt), $0.disabledAt.map(Instant.utc) ?? "-",
                    ]
                }, empty: "No accounts. Add one with: herald account add --email E --role release-manager")
        }
    }

    struct Disable: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Disable an account: it signs in no more and its sessions end at once.")
        @OptionGroup var db: DatabaseOptions
        @Argument(help: "The account's id (herald account list).") var id: Int64
        @Option(help: "Why, for the audit log.") var reason: String

        func run() throws {
            try change(db, id, reason, said: "disabled") { try $0.disableAccount($1, reason: $2, actor: $3) }
        }
    }

    struct Enable: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable a disabled account again.")
        @OptionGroup var db: DatabaseOptions
        @Argument(help: "The account's id (herald account list).") var id: Int64
        @Option(help: "Why, for the audit log.") var reason: String

        func run() throws {
            try change(db, id, reason, said: "enabled") { try $0.enableAccount($1, reason: $2, actor: $3) }
        }
    }

    struct ResetAuthenticator: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reset-authenticator",
            abstract:
                "Forget an account's authenticator and recovery codes (lost, or exposed): its sessions end and its next sign-in enrols a new one."
        )
        @OptionGroup var db: DatabaseOptions
        @Argument(help: "The account's id (herald account list).") var id: Int64
        @Option(help: "Why, for the audit log.") var reason: String

        func run() throws {
            try change(db, id, reason, said: "authenticator forgotten; it enrols a new one at its next sign-in") {
                try $0.resetAuthenticator($1, reason: $2, actor: $3)
            }
        }
    }

    /// One audited change of an account: the reason checked, the change made as the CLI's
    /// actor, one line said.
    static func change(
        _ db: DatabaseOptions, _ id: Int64, _ reason: String, said: String,
        _ change: (Console, Int64, String, String) throws -> ConsoleAccount
    ) throws {
        let context = try db.open()
        let reason = try Validate.reason(reason, required: true)
        let account = try change(context.stores.console, id, reason, context.actor)
        print("account \(account.id) (\(account.email)): \(said)")
    }
}
