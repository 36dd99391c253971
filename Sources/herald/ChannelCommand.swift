import ArgumentParser
import Foundation
import HeraldCore
import HeraldStore

struct ChannelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "channel",
        abstract:
            "Public channels: mailing lists and chat rooms that get pre-announcements and publications, never embargoed details.",
        subcommands: [Add.self, List.self, Test.self, Remove.self]
    )

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a public channel to a project.")
        @OptionGroup var db: DatabaseOptions
        @Option(help: "The project's slug.") var project: String
        @Option(help: "email, slack, mattermost, discord, teams, matrix or webhook.") var kind: String
        @Option(help: "The list's address (email) or the endpoint's URL.") var target: String
        @Option(help: "webhook: whsec_ signing secret (made for you when left out); matrix: the access token.")
        var secret: String?
        @Option(help: "The language of its messages: en, nl or da (default: the project's).") var language: String?
        @OptionGroup var output: OutputOptions

        func run() throws {
            let kind = try choice(kind, field: "kind", as: ChannelKind.self)!
            let channel = try NewChannel(
                projectSlug: project, kind: kind, target: target, secret: secret,
                language: try language.map(Language.parse))
            let context = try db.open()
            let added = try context.channels.add(channel, actor: context.actor)
            if output.json { return try Output.json(added) }
            print("added channel \(added.id): \(added.kind.rawValue) \(added.target) for \(added.projectSlug)")
            if added.kind == .webhook, let secret = added.secret, secret != self.secret {
                print("signing secret: \(secret)  (the receiver verifies webhook-signature with it)")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List channels.")
        @OptionGroup var db: DatabaseOptions
        @Option(help: "Only this project's channels.") var project: String?
        @Flag(help: "Show endpoint URLs and secrets whole (audited); listings show them by fingerprint.") var reveal =
            false
        @OptionGroup var output: OutputOptions

        func run() throws {
            let context = try db.open()
            let channels = try context.channels.list(project: project, revealedTo: reveal ? context.actor : nil)
            if output.json { return try Output.json(channels) }
            Output.table(
                ["ID", "PROJECT", "KIND", "TARGET"],
                channels.map {
                    [String($0.id), $0.projectSlug, $0.kind.rawValue, $0.target]
                },
                empty:
                    "No channels. Add one with: herald channel add --project SLUG --kind email --target announce@example.org"
            )
        }
    }

    struct Test: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Queue a test message to a channel; herald serve sends it.")
        @OptionGroup var db: DatabaseOptions
        @Argument(help: "The channel's id.") var id: Int64

        func run() throws {
            let context = try db.open()
            let delivery = try context.outbox.enqueueTest(channel: id, actor: context.actor)
            print("queued a test message to channel \(id) (delivery \(delivery)); see it with: herald deliveries list")
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a channel.")
        @OptionGroup var db: DatabaseOptions
        @Argument(help: "The channel's id.") var id: Int64

        func run() throws {
            let context = try db.open()
            try context.channels.remove(id, actor: context.actor)
            print("removed channel \(id)")
        }
    }
}
