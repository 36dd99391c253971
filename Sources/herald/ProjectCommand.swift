import ArgumentParser
import Foundation
import HeraldCore
import HeraldStore

struct ProjectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "project",
        abstract: "Projects whose releases Herald coordinates.",
        subcommands: [Add.self, List.self, Settings.self, ProjectKeyCommand.self]
    )

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a project.")
        @OptionGroup var db: DatabaseOptions
        @Argument(help: "Short name for commands and URLs: lowercase letters, digits, hyphens.") var slug: String
        @Option(help: "Display name.") var name: String
        @Option(help: "IANA zone in which instants are shown.") var timezone = "UTC"
        @Option(help: "Longest embargo, counted from the early notice.") var maxEmbargoDays = NewProject
            .defaultMaxEmbargoDays
        @Option(help: "The release managers' address: alerts about failing private notices go there.") var contact:
            String?
        @Option(
            help:
                "The language of its public messages and alerts: en, nl or da (default: the default-language setting).")
        var language: String?
        @Option(
            help:
                "Private notices to providers' keys: off, when-available (default) or required (no key: only a pointer to the portal)."
        ) var encryption: String?
        @OptionGroup var output: OutputOptions

        func run() throws {
            let policy = try choice(encryption, field: "encryption", as: EncryptionPolicy.self)
            let project = try NewProject(slug: slug, name: name, timezone: timezone, maxEmbargoDays: maxEmbargoDays)
            let contact = try contact.map { try Address.email($0, field: "contact") }
            let language = try language.map(Language.parse)
            let context = try db.open()
            var added = try context.projects.add(project, actor: context.actor)
            if let contact {
                added = try context.projects.setContact(added.slug, contact: contact, actor: context.actor)
            }
            if let language {
                added = try context.projects.setLanguage(added.slug, language: language, actor: context.actor)
            }
            if let policy {
                added = try context.projects.setEncryption(added.slug, policy, actor: context.actor)
            }
            if output.json { return try Output.json(added) }
            print(
                "added project \(added.slug) (\(added.name)), times in \(added.timezone), embargoes of at most \(added.maxEmbargoDays) days"
            )
        }
    }

    struct Settings: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set", abstract: "Change a project's settings.")
        @OptionGroup var db: DatabaseOptions
        @Argument(help: "The project's slug.") var slug: String
        @Option(help: "The release managers' address for alerts about failing private notices ('none' to clear).")
        var contact: String?
        @Option(help: "OSV ecosystem of the packages: PyPI, npm, Maven, Go, crates.io, Packagist …") var ecosystem:
            String?
        @Option(help: "A package the project ships, as its ecosystem names it; repeat for more (replaces the list).")
        var package: [String] = []
        @Option(
            help:
                "The language of its public messages and alerts: en, nl or da ('default': the default-language setting)."
        ) var language: String?
        @Option(
            help:
                "Remind participants who have neither acknowledged nor answered this long after the early notice (48h, 2d; off)."
        ) var reminderAfter: String?
        @Option(help: "Send every participant a final private notice this long before the release (24h; off).")
        var finalNotice: String?
        @Option(help: "When the project releases, in its zone: \"Tue-Thu 14:00-17:00\" (off: any time).")
        var releaseWindow: String?
        @Option(help: "Default embargo terms: may the fix be deployed before the release? allowed or not-allowed.")
        var deployment: String?
        @Option(help: "Default embargo terms: is the patch itself under embargo? embargoed or public.")
        var patch: String?
        @Option(help: "Default embargo terms: the TLP label of private notices (AMBER+STRICT, AMBER, GREEN, RED).")
        var tlp: String?
        @Option(help: "The longest embargo, in days: 1 to 90, or up to 365 with --reason (audited).")
        var maxEmbargoDays: Int?
        @Option(help: "Why the limit goes above 90 days (a hardware-style embargo).") var reason: String?
        @Option(help: "Private notices to providers' keys: off, when-available or required.") var encryption: String?

        func run() throws {
            let chase = reminderAfter != nil || finalNotice != nil
            let window = try releaseWindow.map { $0.lowercased() == "off" ? nil : try ReleaseWindow($0) }
            let termsGiven = deployment != nil || patch != nil || tlp != nil
            guard
                contact != nil || ecosystem != nil || !package.isEmpty || language != nil || chase || window != nil
                    || termsGiven || maxEmbargoDays != nil || encryption != nil
            else {
                throw Refusal.invalid(
                    field: "set",
                    rule:
                        "say what to set (--contact ADDRESS, --language nl, --reminder-after 48h, --final-notice 24h, --release-window \"Tue-Thu 14:00-17:00\", or --ecosystem E --package NAME)"
                )
            }
            let policy = try choice(encryption, field: "encryption", as: EncryptionPolicy.self)
            let reminder = try reminderAfter.map { try Chasing.duration($0, field: "reminder-after", maxDays: 30) }
            let final = try finalNotice.map { try Chasing.duration($0, field: "final-notice", maxDays: 14) }
            let newLanguage = try language.map { $0.lowercased() == "default" ? nil : try Language.parse($0) }
            let address = try contact.map { $0.lowercased() == "none" ? nil : try Address.email($0, field: "contact") }
            if ecosystem != nil && package.isEmpty {
                throw Refusal.invalid(field: "package", rule: "name the packages of --ecosystem (--package NAME)")
            }
            if ecosystem == nil && !package.isEmpty {
                throw Refusal.invalid(
                    field: "ecosystem", rule: "say which ecosystem the packages are in (--ecosystem PyPI …)")
            }
            try Validate.count(package, field: "package", max: 50, noun: "packages")
            let packages =
                try ecosystem.map { ecosystem in try package.map { try Package(ecosystem: ecosystem, name: $0) } } ?? []
            let context = try db.open()
            var project = try context.projects.require(slug)
            if let address { project = try context.projects.setContact(slug, contact: address, actor: context.actor) }
            if !packages.isEmpty { project = try context.projects.setPackages(slug, packages, actor: context.actor) }
            if let newLanguage {
                project = try context.projects.setLanguage(slug, language: newLanguage, actor: context.actor)
            }
            if let maxEmbargoDays {
                project = try context.projects.setMaxEmbargo(
                    slug, days: maxEmbargoDays, reason: reason ?? "", actor: context.actor)
                print("project \(project.slug): embargoes of at most \(project.maxEmbargoDays) days")
            }
            if termsGiven {
                let terms = try project.terms.changed(deployment: deployment, patch: patch, tlp: tlp)
                project = try context.projects.setTerms(slug, terms, actor: context.actor)
                print(
                    "project \(project.slug): embargo terms \(context.settings.writer(for: project).terms(project.terms))"
                )
            }
            if let policy {
                project = try context.projects.setEncryption(slug, policy, actor: context.actor)
                print("project \(project.slug): private notices \(ProjectKeyCommand.said(project.encryption))")
            }
            if let window {
                project = try context.projects.setReleaseWindow(slug, window, actor: context.actor)
                print(
                    "project \(project.slug): releases \(project.releaseWindow.map { "\($0) (\(project.timezone))" } ?? "at any time")"
                )
            }
            if chase {
                var chasing = project.chasing
                if let reminder { chasing.reminderAfter = reminder }
                if let final { chasing.finalNotice = final }
                project = try context.projects.setChasing(slug, chasing, actor: context.actor)
                print(
                    "project \(project.slug): reminder \(Chasing.said(project.chasing.reminderAfter)) after the early notice, final notice \(Chasing.said(project.chasing.finalNotice)) before the release"
                )
            }
            if language != nil {
                print(
                    "project \(project.slug): public messages in \(project.language?.rawValue ?? "the default language (\(context.settings.defaultLanguage.rawValue))")"
                )
            }
            if contact != nil {
                print(
                    "project \(project.slug): alerts go to \(project.contact ?? "no address (advisory show lists them)")"
                )
            }
            if !packages.isEmpty {
                print(
                    "project \(project.slug) ships \(project.packages.map { "\($0.ecosystem)/\($0.name)" }.joined(separator: ", "))"
                )
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List projects.")
        @OptionGroup var db: DatabaseOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let projects = try db.open().projects.list()
            if output.json { return try Output.json(projects) }
            Output.table(
                [
                    "SLUG", "NAME", "TIMEZONE", "MAX EMBARGO", "CONTACT", "LANGUAGE", "REMINDER", "FINAL NOTICE",
                    "WINDOW",
                ],
                projects.map {
                    [
                        $0.slug, $0.name, $0.timezone, "\($0.maxEmbargoDays) days", $0.contact ?? "-",
                        $0.language?.rawValue ?? "default", Chasing.said($0.chasing.reminderAfter),
                        Chasing.said($0.chasing.finalNotice), $0.releaseWindow?.description ?? "any time",
                    ]
                }, empty: "No projects. Add one with: herald project add SLUG --name NAME --timezone Europe/Amsterdam")
        }
    }
}
