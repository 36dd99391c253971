import ArgumentParser
import Foundation
import HeraldCore
import HeraldStore

struct ProjectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "project",
        abstract: "Projects whose releases Herald coordinates.",
        subcommands: [Add.self, List.self]
    )

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a project.")
        @OptionGroup var db: DatabaseOptions
        @Argument(help: "Short name for commands and URLs: lowercase letters, digits, hyphens.") var slug: String
        @Option(help: "Display name.") var name: String
        @Option(help: "IANA zone in which instants are shown.") var timezone = "UTC"
        @Option(help: "Longest embargo, counted from the early notice.") var maxEmbargoDays = NewProject.defaultMaxEmbargoDays
        @OptionGroup var output: OutputOptions

        func run() throws {
            let project = try NewProject(slug: slug, name: name, timezone: timezone, maxEmbargoDays: maxEmbargoDays)
            let context = try db.open()
            let added = try context.projects.add(project, actor: context.actor)
            if output.json { return try Output.json(added) }
            print("added project \(added.slug) (\(added.name)), times in \(added.timezone), embargoes of at most \(added.maxEmbargoDays) days")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List projects.")
        @OptionGroup var db: DatabaseOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let projects = try db.open().projects.list()
            if output.json { return try Output.json(projects) }
            Output.table(["SLUG", "NAME", "TIMEZONE", "MAX EMBARGO"], projects.map {
                [$0.slug, $0.name, $0.timezone, "\($0.maxEmbargoDays) days"]
            }, empty: "No projects. Add one with: herald project add SLUG --name NAME --timezone Europe/Amsterdam")
        }
    }
}
