import ArgumentParser
import Foundation
import HeraldApp
import HeraldCore
import HeraldDelivery
import HeraldOpenPGP
import HeraldStore

/// `herald provider key …`: a provider's OpenPGP keys, one per contact address.
struct ProviderKeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key",
        abstract: "A provider's OpenPGP keys: private notices to its addresses are encrypted to them.",
        subcommands: [Add.self, Fetch.self, List.self, Remove.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a public key (checked: it encrypts, is not expired or revoked, names the address).")
        @OptionGroup var db: DatabaseOptions
        @Argument(help: "The provider's id.") var id: Int64
        @Argument(help: "The public key, armored or binary ('-': standard input).") var file: String
        @Option(help: "The contact address it is for (default: each of the provider's addresses the key names).")
        var email: String?
        @OptionGroup var output: OutputOptions

        func run() throws {
            let bytes = try readBytes(file, field: "file", max: OpenPGPKey.maxArmoredBytes)
            let context = try db.open()
            let added = try context.stores.keys(LibRNP()).addProviderKey(
                bytes, provider: id, email: email, actor: context.actor)
            if output.json { return try Output.json(added) }
            for key in added {
                print(
                    "provider \(id): \(key.email) now has key \(key.key.fingerprint) (\(ProviderKeyCommand.expiry(key.key)))"
                )
            }
        }
    }

    struct Fetch: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fetch keys from each address's Web Key Directory (checked as 'add' checks them).",
            discussion: """
                Asks https://openpgpkey.DOMAIN/.well-known/openpgpkey/DOMAIN/hu/… first, then \
                https://DOMAIN/.well-known/openpgpkey/hu/…, as the WKD draft describes. Hosts that resolve \
                to loopback or private addresses are refused, as for webhooks. Exits 1 when no key was added.
                """)
        @OptionGroup var db: DatabaseOptions
        @Argument(help: "The provider's id.") var id: Int64
        @Option(help: "Only this contact address (default: each of the provider's addresses).") var email: String?
        @Option(help: "CA certificates (PEM) to verify the key servers with instead of the system's.")
        var caFile: String?
        @Flag(
            help: "Allow hosts that resolve to loopback or private addresses (default: $HERALD_ALLOW_PRIVATE_TARGETS).")
        var allowPrivateTargets = false
        @OptionGroup var output: OutputOptions

        func run() throws {
            if let caFile, !FileManager.default.isReadableFile(atPath: caFile) {
                throw Refusal.invalid(field: "ca-file", rule: "cannot read \(Validate.quoted(caFile))")
            }
            let env = ProcessInfo.processInfo.environment["HERALD_ALLOW_PRIVATE_TARGETS"] ?? ""
            let allowPrivate = allowPrivateTargets || ["1", "true", "yes", "on"].contains(env.lowercased())
            let context = try db.open()
            let fetched = try context.stores.keys(LibRNP()).fetchProviderKeys(
                provider: id, email: email,
                directory: KeyDirectoryClient(allowPrivateTargets: allowPrivate, caFile: caFile), actor: context.actor)
            if output.json {
                try Output.json(fetched.map(FetchRow.init))
            } else {
                for result in fetched {
                    if let stored = result.stored {
                        print(
                            "provider \(id): \(result.email) now has key \(stored.key.fingerprint) (\(ProviderKeyCommand.expiry(stored.key))), from \(result.url ?? "")"
                        )
                    } else {
                        print("provider \(id): \(result.email): \(result.problem ?? "no key")")
                    }
                }
            }
            if !fetched.contains(where: { $0.stored != nil }) { throw ExitCode(1) }
        }

        /// One address's result as `--json` lists it.
        struct FetchRow: Encodable {
            let email: String
            let url: String?
            let fingerprint: String?
            let expires: Date?
            let problem: String?

            init(_ result: KeyFetch) {
                email = result.email
                url = result.url
                fingerprint = result.stored?.key.fingerprint
                expires = result.stored?.key.expires
                problem = result.problem
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a provider's keys.")
        @OptionGroup var db: DatabaseOptions
        @Argument(help: "The provider's id.") var id: Int64
        @OptionGroup var output: OutputOptions

        func run() throws {
            let context = try db.open()
            let keys = try context.stores.keys(LibRNP()).providerKeys(of: id)
            if output.json { return try Output.json(keys) }
            Output.table(
                ["EMAIL", "FINGERPRINT", "ALGORITHM", "EXPIRES", "ADDED BY"],
                keys.map {
                    [$0.email, $0.key.fingerprint, $0.key.algorithm, ProviderKeyCommand.expiry($0.key), $0.addedBy]
                },
                empty:
                    "provider \(id) has no keys: its private notices go in plain text (or not at all where a project requires encryption)"
            )
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a key (by fingerprint or 16-digit key ID).")
        @OptionGroup var db: DatabaseOptions
        @Argument(help: "The provider's id.") var id: Int64
        @Argument(help: "The key's fingerprint or key ID.") var keyID: String

        func run() throws {
            let context = try db.open()
            let addresses = try context.stores.keys(LibRNP()).removeProviderKey(
                provider: id, keyID: keyID, actor: context.actor)
            print("provider \(id): key \(keyID) removed from \(addresses.joined(separator: ", "))")
        }
    }

    static func expiry(_ key: OpenPGPKey) -> String {
        key.expires.map { "expires \(Instant.rfc3339($0))" } ?? "does not expire"
    }
}

/// `herald project key …`: the project's OpenPGP key, which signs its mail and documents.
struct ProjectKeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key",
        abstract:
            "The project's OpenPGP key: signs its notices; its secret is kept encrypted under HERALD_KEY_ENCRYPTION_KEY.",
        subcommands: [Generate.self, Import.self, Export.self])

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a new key (Ed25519, with a Curve25519 subkey for encryption to the project).")
        @OptionGroup var db: DatabaseOptions
        @Argument(help: "The project's slug.") var slug: String
        @Option(help: "Its user ID's address (default: the project's contact, else the sender address).")
        var email: String?
        @Flag(help: "Replace the key the project has (audited).") var replace = false

        func run() throws {
            let vault = try KeyVault.fromEnvironment()
            let context = try db.open()
            let project = try context.projects.require(slug)
            let address = try Address.email(email ?? project.contact ?? context.settings.mailFrom, field: "email")
            let key = try context.stores.keys(LibRNP()).generateProjectKey(
                slug, userID: "\(project.name) <\(address)>", vault: vault, replace: replace, actor: context.actor)
            print("project \(slug): signing key \(key.fingerprint) for \(project.name) <\(address)>")
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Use an existing secret key (exported without a passphrase, e.g. gpg --export-secret-keys).")
        @OptionGroup var db: DatabaseOptions
        @Argument(help: "The project's slug.") var slug: String
        @Argument(help: "The secret key, armored or binary ('-': standard input).") var file: String
        @Flag(help: "Replace the key the project has (audited).") var replace = false

        func run() throws {
            let vault = try KeyVault.fromEnvironment()
            let bytes = try readBytes(file, field: "file", max: OpenPGPKey.maxArmoredBytes)
            let context = try db.open()
            let key = try context.stores.keys(LibRNP()).importProjectKey(
                bytes, slug, vault: vault, replace: replace, actor: context.actor)
            print("project \(slug): signing key \(key.fingerprint)")
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the public key, armored (never the secret).")
        @OptionGroup var db: DatabaseOptions
        @Argument(help: "The project's slug.") var slug: String

        func run() throws {
            let context = try db.open()
            print(try context.stores.keys(LibRNP()).projectPublicKey(slug).publicKey, terminator: "")
        }
    }
}

/// Reads a file of at most `max` bytes named on the command line (`-`: standard input).
func readBytes(_ path: String, field: String, max: Int) throws -> [UInt8] {
    let handle = path == "-" ? FileHandle.standardInput : FileHandle(forReadingAtPath: path)
    guard let handle else { throw Refusal.invalid(field: field, rule: "cannot read '\(path)'") }
    // One byte past the bound tells a file that is too big without reading all of it.
    let data = try handle.read(upToCount: max + 1) ?? Data()
    guard data.count <= max else {
        throw Refusal.invalid(field: field, rule: "'\(path)' is larger than \(max / 1024) KiB")
    }
    return Array(data)
}

extension ProjectKeyCommand {
    /// The policy in words, for the CLI's confirmations.
    static func said(_ policy: EncryptionPolicy) -> String {
        switch policy {
        case .off: "go in plain text"
        case .whenAvailable: "are encrypted to each contact that has a key, plain text to the others"
        case .required:
            "are encrypted; a contact without a key is only told that a private advisory waits in the portal"
        }
    }
}
