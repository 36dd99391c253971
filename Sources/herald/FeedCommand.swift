import ArgumentParser
import Foundation
import HeraldCore
import HeraldStore

struct FeedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "feed",
        abstract:
            "Print the public feed of published advisories: the same document /feed.atom, /feed.rss or /feed.json serves."
    )

    @OptionGroup var db: DatabaseOptions
    @Argument(help: "atom, rss or json.") var format: String
    @Option(help: "Write to this file instead of standard output.") var output: String?

    func run() throws {
        guard ["atom", "rss", "json"].contains(format) else {
            throw Refusal.invalid(field: "format", rule: "'\(format)' must be atom, rss or json")
        }
        let context = try db.open()
        let items = try context.stores.published.published()
        let writer = FeedWriter(publicURL: context.settings.publicURL)
        let bytes: [UInt8] =
            switch format {
            case "atom": Array(writer.atom(items).utf8)
            case "rss": Array(writer.rss(items).utf8)
            default: writer.jsonFeed(items) + Array("\n".utf8)
            }
        if let output {
            guard FileManager.default.createFile(atPath: output, contents: Data(bytes)) else {
                throw Refusal.invalid(field: "output", rule: "cannot write '\(output)'")
            }
        } else {
            FileHandle.standardOutput.write(Data(bytes))
        }
    }
}
