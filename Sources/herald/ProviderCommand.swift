import ArgumentParser
import Foundation
import HeraldCore
import HeraldStore

struct ProviderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "provider",
        abstract: "The early-notice list: service providers who get private notice before a release.",
        discussion:
            "Status: pending-confirmation (subscribed, address not confirmed) → pending-approval → active → suspended; removed.",
        subcommands: [
            Add.self, List.self, Edit.self, Approve.self, Suspend.self, Remove.self, Import.self,
            ProviderKeyCommand.self,
        ]
    )

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a provider (pending approval, or active with --approve).")
        @OptionGroup var db: DatabaseOptions
        @Option(help: "The organisation's name.") var organization: String
        @Option(help: "A role address that receives notices; repeat for more.") var email: [String] = []
        @Option(help: "A webhook URL that receives notices; repeat for more.") var webhook: [String] = []
        @Option(
            help: "Payload kind of the webhooks: slack, mattermost, discord, teams, matrix or webhook (signed JSON).")
        var webhookKind = "webhook"
        @Option(help: "A project slug it gets notices for; repeat for more.") var project: [String] = []
        @Flag(help: "Make it active at once.") var approve = false
        @Flag(help: "List the organisation on the public members page.") var listed = false
        @Option(help: "The language of its messages: en, nl or da.") var language = "en"
        @OptionGroup var output: OutputOptions

        func run() throws {
            let kind = try choice(webhookKind, field: "webhook-kind", as: WebhookKind.self)!
            let provider = try NewProvider(
                organization: organization, emails: email, webhooks: webhook.map { ($0, kind) },
                projects: project, listed: listed, language: try Language.parse(language))
            let context = try db.open()
            let added = try context.providers.add(
                provider, status: approve ? .active : .pendingApproval, actor: context.actor)
            if output.json { return try Output.json(added) }
            print("added provider \(added.id) (\(added.organization)), \(added.status.rawValue)")
            for hook in added.webhooks where hook.secret != nil {
                print(
                    "signing secret for \(hook.url): \(hook.secret!)  (give it to the provider to verify webhook-signature)"
                )
            }
            if added.status == .pendingApproval { print("approve it with: herald provider approve \(added.id)") }
        }
    }

    struct Edit: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a provider: name, addresses, webhooks, projects, listing.",
            discussion:
                "--replace-webhook OLD=NEW keeps the webhook's secret and sends again what failed to OLD. Audited as one change."
        )
        @OptionGroup var db: DatabaseOptions
        @Argument(help: "The provider's id.") var id: Int64
        @Option(help: "A new name.") var organization: String?
        @Option(help: "An address to add; repeat for more.") var addEmail: [String] = []
        @Option(help: "An address to remove; repeat for more.") var removeEmail: [String] = []
        @Option(help: "A webhook URL to add; repeat for more.") var addWebhook: [String] = []
        @Option(help: "Payload kind of added webhooks: slack, mattermost, discord, teams, matrix or webhook.")
        var webhookKind = "webhook"
        @Option(help: "A webhook URL to remove; repeat for more.") var removeWebhook: [String] = []
        @Option(help: "OLD=NEW: a broken webhook URL and its replacement.") var replaceWebhook: String?
        @Option(help: "A project slug to follow; repeat for more.") var addProject: [String] = []
        @Option(help: "A project slug to stop following; repeat for more.") var removeProject: [String] = []
        @Option(help: "yes or no: list the organisation on the public members page.") var listed: String?
        @Option(help: "The language of its messages: en, nl or da.") var language: String?
        @Option(help: "Why, for the audit log.") var reason = ""
        @OptionGroup var output: OutputOptions

        func run() throws {
            let kind = try choice(webhookKind, field: "webhook-kind", as: WebhookKind.self)!
            let replace = try replaceWebhook.map { text -> (from: String, to: String) in
                let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2 else {
                    throw Refusal.invalid(field: "replace-webhook", rule: "write it as OLD=NEW")
                }
                return (parts[0], parts[1])
            }
            let listing = try listed.map { value -> Bool in
                switch value.lowercased() {
                case "yes", "true": return true
                case "no", "false": return false
                default: throw Refusal.invalid(field: "listed", rule: "must be yes or no")
                }
            }
            let change = try ProviderEdit(
                organization: organization, addEmails: addEmail, removeEmails: removeEmail,
                addWebhooks: addWebhook.map { ($0, kind) }, removeWebhooks: removeWebhook, replaceWebhook: replace,
                addProjects: addProject, removeProjects: removeProject, listed: listing,
                language: try language.map(Language.parse))
            let reason = try Validate.reason(reason, required: false)
            let context = try db.open()
            let (edited, secrets) = try context.providers.edit(
                id, change, actor: context.actor, reason: reason)
            if output.json { return try Output.json(edited.redacted) }
            print(
                "edited provider \(edited.id) (\(edited.organization)): \(edited.emails.count) address\(edited.emails.count == 1 ? "" : "es"), "
                    + "\(edited.webhooks.count) webhook\(edited.webhooks.count == 1 ? "" : "s"), projects \(edited.projects.joined(separator: ", "))"
            )
            for (url, secret) in secrets.sorted(by: { $0.key < $1.key }) {
                print("signing secret for \(url): \(secret)  (give it to the provider to verify webhook-signature)")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List providers (all but removed ones, unless --status says).")
        @OptionGroup var db: DatabaseOptions
        @Option(help: "pending-confirmation, pending-approval, active, suspended or removed.") var status: String?
        @Option(help: "Only those that follow this project.") var project: String?
        @Flag(help: "Show webhook URLs and secrets whole (audited); listings show them by fingerprint.") var reveal =
            false
        @OptionGroup var output: OutputOptions

        func run() throws {
            let status = try choice(status, field: "status", as: ProviderStatus.self)
            let context = try db.open()
            if let project { _ = try context.projects.require(project) }
            let providers = try context.providerRecords.list(status: status, revealedTo: reveal ? context.actor : nil)
                .filter { provider in project.map { provider.projects.contains($0) } ?? true }
            if output.json { return try Output.json(providers) }
            Output.table(
                ["ID", "ORGANIZATION", "STATUS", "PROJECTS", "CONTACTS"],
                providers.map {
                    [
                        String($0.id), $0.organization,
                        $0.status.rawValue
                            + ($0.looksLike.map { " (looks like: \($0.joined(separator: ", ")))" } ?? ""),
                        $0.projects.joined(separator: ","),
                        ($0.emails + $0.webhooks.map { "\($0.kind.rawValue):\($0.url)" }).joined(separator: ", "),
                    ]
                },
                empty: status == nil
                    ? "No providers. Add one with herald provider add, or import a list with herald provider import FILE.csv"
                    : "No \(status!.rawValue) providers.")
            // Who left by themselves lately: a release manager should notice before the next notice.
            let since = context.clock.now.addingTimeInterval(-7 * 86_400)
            let left = try context.audit.list(subjectType: "provider", actor: "subscriber", since: since, limit: 100)
                .filter { $0.action == "provider.contact-remove" || $0.action == "provider.remove" }
            if !left.isEmpty {
                print("\nLeft by themselves in the last 7 days:")
                for entry in left {
                    let who =
                        entry.details["email"].map { "address \($0) of provider \(entry.subjectID ?? 0)" }
                        ?? "provider \(entry.subjectID ?? 0)"
                    print(
                        "  \(Instant.utc(entry.at))  \(who) (\(entry.action == "provider.remove" ? "the organisation left" : "one-click unsubscribe"))"
                    )
                }
            }
        }
    }

    struct Approve: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Approve a provider: it receives early notices from now on.")
        @OptionGroup var db: DatabaseOptions
        @Argument(help: "The provider's id.") var id: Int64
        @Option(help: "Why, for the audit log.") var reason = ""
        @Flag(help: "Approve although the name looks like another provider's (after checking it is not an impostor).")
        var despiteLookAlike = false
        func run() throws { try change(db, id, .approve, reason, despiteLookAlike: despiteLookAlike) }
    }

    struct Suspend: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Suspend a provider: it receives nothing until approved again.")
        @OptionGroup var db: DatabaseOptions
        @Argument(help: "The provider's id.") var id: Int64
        @Option(help: "Why, for the audit log.") var reason = ""
        func run() throws { try change(db, id, .suspend, reason) }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a provider from the list; its delivery record stays.")
        @OptionGroup var db: DatabaseOptions
        @Argument(help: "The provider's id.") var id: Int64
        @Option(help: "Why, for the audit log.") var reason = ""
        func run() throws { try change(db, id, .remove, reason) }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import an early-notice list from CSV, all or nothing; imported providers are active.",
            discussion: """
                Columns are found by their header, in any order: organization, email and project, and optionally \
                webhook, listed (yes/no) and language (en, nl, da); comma- or semicolon-separated, as a spreadsheet \
                exports it. One row per contact; rows with the same organisation make one provider. Every bad line is \
                reported and nothing is imported unless all lines are good. With --sync the file is the list: members \
                not in it are removed and those that differ are changed to match; --dry-run says what would change.
                """
        )
        @OptionGroup var db: DatabaseOptions
        @Argument(help: "The CSV file (- for standard input).") var file: String
        @Flag(help: "Bring the list up to date with the file: add, change and remove members to match it.") var sync =
            false
        @Flag(help: "With --sync: say what would be added, changed and removed; write nothing.") var dryRun = false
        @OptionGroup var output: OutputOptions

        func run() throws {
            if dryRun && !sync {
                throw Refusal.invalid(
                    field: "dry-run", rule: "goes with --sync (a plain import adds every line, or nothing)")
            }
            let text = try readInput(file, field: "file")
            let context = try db.open()
            let list = try ProviderImport(csv: text, knownProjects: Set(try context.projects.list().map(\.slug)))
            guard sync else {
                let imported = try context.providers.importList(list, actor: context.actor)
                if output.json { return try Output.json(imported.map(\.redacted)) }
                print(
                    "imported \(imported.count) providers with \(imported.reduce(0) { $0 + $1.emails.count }) addresses, all active"
                )
                for provider in imported {
                    for hook in provider.webhooks {
                        if let secret = hook.secret {
                            print("signing secret for \(provider.organization), \(hook.url): \(secret)")
                        }
                    }
                }
                return
            }
            var report =
                dryRun
                ? try context.database.rehearse {
                    try context.providers.sync(list, actor: context.actor)
                }
                : try context.providers.sync(list, actor: context.actor)
            if dryRun { report.newSecrets = [] }  // made in the rehearsal, rolled back with it
            if output.json { return try Output.json(report) }
            let verb = dryRun ? "would " : ""
            for line in report.added { print("\(verb)add     \(line)") }
            for line in report.changed { print("\(verb)change  \(line)") }
            for line in report.removed { print("\(verb)remove  \(line)") }
            print(
                (dryRun ? "dry run, nothing written: would add" : "synced: added") + " \(report.added.count), "
                    + "\(dryRun ? "change" : "changed") \(report.changed.count), \(dryRun ? "remove" : "removed") \(report.removed.count)"
            )
            if !dryRun {
                for made in report.newSecrets {
                    print("signing secret for \(made.provider), \(made.url): \(made.secret)")
                }
            }
        }
    }
}

private func change(
    _ db: DatabaseOptions, _ id: Int64, _ action: ProviderAction, _ reason: String, despiteLookAlike: Bool = false
) throws {
    let reason = try Validate.reason(reason, required: false)
    let context = try db.open()
    let provider = try context.providers.transition(
        id, action, reason: reason, actor: context.actor,
        despiteLookAlike: despiteLookAlike)
    print("provider \(provider.id) (\(provider.organization)) is \(provider.status.rawValue)")
}
