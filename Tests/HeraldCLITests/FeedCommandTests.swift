import Foundation
import Testing

/// `herald feed atom|rss|json`: the same documents the public routes serve.
@Suite struct FeedCommandTests {
    @Test func feedPrintsPublishedAdvisoriesOnly() throws {
        let sandbox = try Sandbox()
        _ = try sandbox.succeed("project", "add", "demo", "--name", "Demo")
        _ = try sandbox.succeed(
            "advisory", "create", "--project", "demo", "--title", "Public overflow", "--embargo",
            HeraldProcess.instant(daysFromNow: 1))
        _ = try sandbox.succeed("advisory", "publish", "1", "--now", "--reason", "released")
        _ = try sandbox.succeed(
            "advisory", "create", "--project", "demo", "--title", "Embargoed overflow", "--embargo",
            HeraldProcess.instant(daysFromNow: 1))
        let atom = try sandbox.succeed("feed", "atom")
        #expect(
            atom.stdout.hasPrefix("<?xml") && atom.stdout.contains("Public overflow")
                && !atom.stdout.contains("Embargoed"))
        let output = try sandbox.write("placeholder", "")
        _ = try sandbox.succeed("feed", "json", "--output", output)
        let json = try String(contentsOfFile: output, encoding: .utf8)
        #expect(
            json.contains("https://jsonfeed.org/version/1.1") && json.contains("Public overflow")
                && !json.contains("Embargoed"))
        #expect(try sandbox.succeed("feed", "rss").stdout.contains("<rss version=\"2.0\""))
        #expect(try sandbox.herald("feed", "yaml").status == 2)
    }
}
