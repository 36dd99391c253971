import ArgumentParser
import Foundation
import HeraldCore
import HeraldStore

/// `herald settings`: what every process renders with, kept in the database.
struct SettingsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "settings",
        abstract:
            "The deployment's settings, kept in the database: every process renders messages and pages with them.",
        discussion: """
            Keys: \(Setting.allCases.map(\.rawValue).joined(separator: ", ")). `herald serve` records the public URL and sender \
            it is given by flag or environment (HERALD_PUBLIC_URL, HERALD_MAIL_FROM), so a command run from another shell renders the same.
            """,
        subcommands: [Show.self, SetValue.self]
    )

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show every setting and where its value comes from.")
        @OptionGroup var db: DatabaseOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let context = try db.open()
            let stored = try context.stores.settingsStore.all()
            if output.json {
                return try Output.json(Dictionary(uniqueKeysWithValues: stored.map { ($0.key.rawValue, $0.value) }))
            }
            let effective: [Setting: String] = [
                .publicURL: context.settings.publicURL, .mailFrom: context.settings.mailFrom,
                .mailFromName: context.settings.mailFromName,
                .defaultLanguage: context.settings.defaultLanguage.rawValue,
                .templates: ProcessInfo.processInfo.environment["HERALD_TEMPLATES"] ?? Setting.builtInTemplates,
            ]
            Output.table(
                ["KEY", "VALUE", "FROM"],
                Setting.allCases.map { setting in
                    let value = stored[setting] ?? effective[setting]
                    return [
                        setting.rawValue, value ?? "-",
                        stored[setting] != nil
                            ? "stored" : value != nil ? "not stored (default or environment)" : "unset",
                    ]
                }, empty: "")
        }
    }

    struct SetValue: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set", abstract: "Set one setting (audited).")
        @OptionGroup var db: DatabaseOptions
        @Argument(help: "The key.") var key: String
        @Argument(help: "The value.") var value: String

        func run() throws {
            let setting = try Setting.parse(key)
            let value = try setting.validate(value)
            // A template directory is checked before it is recorded: every process would refuse a broken one.
            if setting == .templates { _ = try loadTemplates(value) }
            let context = try db.open()
            try context.stores.settingsStore.set(setting, to: value, actor: context.actor)
            print("\(setting.rawValue) = \(value)")
            // serve reads the settings when it starts; commands read them each time.
            print("a running herald serve uses it after a restart")
        }
    }
}
