import ArgumentParser
import Foundation
import HeraldCore
import HeraldStore

struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "API tokens for the HTTP API.",
        discussion:
            "Roles: admin (everything), release-manager (advisories and deliveries), auditor (read only). Only a token's SHA-256 is stored.",
        subcommands: [Create.self, List.self, Revoke.self]
    )

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a token and print it once.")
        @OptionGroup var db: DatabaseOptions
        @Option(help: "A name that says who or what uses it (ci, alice).") var name: String
        @Option(help: "admin, release-manager or auditor.") var role: String

        func run() throws {
            let role = try choice(role, field: "role", as: TokenRole.self)!
            let context = try db.open()
            let (record, token) = try context.tokens.create(name: name, role: role, actor: context.actor)
            print(token)
            printError(
                "token '\(record.name)' (\(record.role.rawValue)) created; it is shown only this once: keep it in a secret store."
            )
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (never the tokens themselves).")
        @OptionGroup var db: DatabaseOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let tokens = try db.open().tokens.list()
            if output.json { return try Output.json(tokens) }
            Output.table(
                ["ID", "NAME", "ROLE", "CREATED", "REVOKED"],
                tokens.map {
                    [
                        String($0.id), $0.name, $0.role.rawValue, Instant.utc($0.createdAt),
                        $0.revokedAt.map(Instant.utc) ?? "-",
                    ]
                }, empty: "No tokens. Create one with: herald token create --name NAME --role admin")
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke the live token with this name.")
        @OptionGroup var db: DatabaseOptions
        @Argument(help: "The token's name.") var name: String

        func run() throws {
            let context = try db.open()
            let record = try context.tokens.revoke(name: name, actor: context.actor)
            print("revoked token '\(record.name)'")
        }
    }
}
