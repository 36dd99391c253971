import Foundation
import HeraldTestSupport
import Testing

@Suite struct TemplatesCommandTests {
    /// `herald serve` for a moment with `environment`, as an operator starts it; its result.
    func serveBriefly(_ sandbox: Sandbox, environment: [String: String]) throws -> ProcessOutput {
        try HeraldProcess.run(
            "timeout",
            [
                "-s", "TERM", "3", try HeraldProcess.binary().path, "serve", "--database", sandbox.database,
                "--listen", "127.0.0.1:0", "--maildir", sandbox.directory.appending(path: "mail").path,
            ],
            in: sandbox.directory, environment: environment)
    }

    @Test func anOverrideGivenToServeWordsTheMessagesOfEveryCommand() throws {
        let sandbox = try Sandbox()
        let templates = sandbox.directory.appending(path: "templates")
        let exported = try sandbox.herald("templates", "export", templates.path, database: false)
        // Every built-in template: as many as the repository's Templates folder holds.
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appending(path: "Templates")
        let builtIn = try FileManager.default.subpathsOfDirectory(atPath: repository.path).filter {
            $0.hasSuffix(".mustache")
        }.count
        #expect(builtIn > 60)
        #expect(exported.status == 0 && exported.stdout.contains("wrote \(builtIn) templates"), "\(exported)")
        // Keep one file, reworded; delete the rest, as the export's advice says.
        let dutch = templates.appending(path: "messages/nl/publication.mustache")
        var text = try String(contentsOf: dutch, encoding: .utf8)
        text = text.replacingOccurrences(
            of: "Beveiligingsadvies van {{project}}: {{title}}", with: "Openbaar gemaakt: {{project}} — {{title}}")
        try FileManager.default.removeItem(at: templates)
        try FileManager.default.createDirectory(
            at: dutch.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: dutch)
        let checked = try sandbox.herald("templates", "check", templates.path, database: false)
        #expect(checked.status == 0 && checked.stdout.contains("1 template in"), "\(checked)")

        // serve is given the directory; the shell that publishes is not.
        let served = try serveBriefly(sandbox, environment: ["HERALD_TEMPLATES": templates.path])
        #expect(served.status == 124, "serve ran until timeout stopped it: \(served)")
        try sandbox.succeed("project", "add", "demo", "--name", "Demo", "--language", "nl")
        try sandbox.succeed("channel", "add", "--project", "demo", "--kind", "email", "--target", "lijst@lists.example")
        try sandbox.succeed(
            "advisory", "create", "--project", "demo", "--title", "Overflow", "--embargo",
            HeraldProcess.instant(daysFromNow: 2))
        try sandbox.succeed("advisory", "publish", "1", "--now", "--reason", "leak")
        let mail = DecodedMail(try sandbox.sqlite("SELECT body FROM payloads"))
        #expect(mail.subject == "Openbaar gemaakt: Demo — Overflow", "\(mail.headers)")
        #expect(mail.text.hasPrefix("Demo heeft een beveiligingsadvies gepubliceerd: Overflow."), "\(mail.text)")
        // The preview says the same, in any language asked for.
        #expect(
            try sandbox.succeed("advisory", "preview", "1", "--as", "public", "--format", "slack").stdout.contains(
                "Openbaar gemaakt: Demo"))
        #expect(
            try sandbox.succeed("advisory", "preview", "1", "--as", "public", "--format", "slack", "--language", "da")
                .stdout
                .contains("Sikkerhedsmeddelelse fra Demo: Overflow"))
        let shown = try #require(
            try sandbox.json(try sandbox.succeed("settings", "show", "--json").stdout) as? [String: String])
        #expect(shown["templates"] == templates.standardizedFileURL.path, "\(shown)")
    }

    @Test func aBrokenTemplateStopsServeAtStartWithItsFileAndLine() throws {
        let sandbox = try Sandbox()
        let templates = sandbox.directory.appending(path: "templates")
        let welcome = templates.appending(path: "messages/nl/welcome.mustache")
        try FileManager.default.createDirectory(
            at: welcome.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(
            "Welkom.\n== subject ==\n{{organization}} ontvangt nu meldingen\n== intro ==\nWelkom, {{organisatie}}.\n== footer ==\n"
                .utf8
        ).write(to: welcome)

        let served = try serveBriefly(sandbox, environment: ["HERALD_TEMPLATES": templates.path])
        #expect(served.status == 2, "serve must refuse at start, not run: \(served)")
        #expect(served.stderr.contains("messages/nl/welcome.mustache:5:9: unknown field {{organisatie}}"), "\(served)")
        #expect(try sandbox.count("settings", where: "key = 'templates'") == 0)

        let checked = try sandbox.herald("templates", "check", templates.path, database: false)
        #expect(checked.status == 2 && checked.stderr.contains("messages/nl/welcome.mustache:5:9:"), "\(checked)")
        let set = try sandbox.herald("settings", "set", "templates", templates.path)
        #expect(set.status == 2 && set.stderr.contains("messages/nl/welcome.mustache:5:9:"), "\(set)")
        try sandbox.refuse(["settings", "set", "templates", "relative/dir"], naming: "templates")
        #expect(try sandbox.count("settings", where: "key = 'templates'") == 0)
        // Export never replaces a file that is there.
        let again = try sandbox.herald("templates", "export", templates.path, database: false)
        #expect(again.status == 2 && again.stderr.contains("exists already"), "\(again)")
    }
}
