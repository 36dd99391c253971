import ArgumentParser
import Foundation
import HeraldCore
import HeraldTemplates

/// `herald templates`: the wording of every message, to start an override from and to check one.
struct TemplatesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "templates",
        abstract: "The wording of every message in English, Dutch and Danish, as Mustache templates.",
        discussion: """
            Herald carries its templates in the binary. A directory given to `serve` with --templates or HERALD_TEMPLATES \
            replaces them file by file (messages/LANG/NAME.mustache, as `export` writes them); serve checks every one at \
            start and records the directory, so every command words messages alike.
            """,
        subcommands: [Export.self, Check.self]
    )

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the built-in templates into a directory, to edit.")
        @Argument(help: "The directory (created when missing; no file in it is replaced).") var directory: String

        func run() throws {
            let written = try Templates.export(to: directory)
            print(
                "wrote \(written.count) templates into \(directory); edit any, delete the rest, then: herald templates check \(directory)"
            )
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a directory of templates as serve would at start.")
        @Argument(help: "The directory.") var directory: String

        func run() throws {
            let templates = try Templates.load(directory: directory)
            print(
                "\(templates.overridden.count) template\(templates.overridden.count == 1 ? "" : "s") in \(directory) checked: "
                    + (templates.overridden.isEmpty
                        ? "none found (files are messages/LANG/NAME.mustache)"
                        : templates.overridden.joined(separator: ", ")))
        }
    }
}
