import Foundation
import HeraldTestSupport
import Testing

/// `herald migrate`, databases that do not exist yet, and databases herald cannot use.
@Suite struct DatabaseCommandTests {
    @Test func migrateAppliesTheInitialSchemaThenSaysUpToDate() throws {
        let sandbox = try Sandbox(migrated: false)
        #expect(!FileManager.default.fileExists(atPath: sandbox.database))

        let first = try sandbox.herald("migrate")
        #expect(first.status == 0, "\(first)")
        #expect(first.stdout.contains("applied 0001_initial"), "\(first)")
        #expect(!first.stdout.contains("up to date"), "\(first)")
        #expect(FileManager.default.fileExists(atPath: sandbox.database))
        let applied = try sandbox.rows("SELECT version FROM schema_migrations ORDER BY version").compactMap {
            $0["version"] as? Int
        }
        #expect(applied.first == 1, "\(applied)")
        #expect(applied == Array(1...applied.count), "migrations recorded without gaps: \(applied)")
        let tables = try sandbox.sqlite(
            "SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name)")
        for table in [
            "projects", "providers", "provider_contacts", "channels", "advisories", "advisory_revisions", "audit",
            "tokens",
        ] {
            #expect(tables.split(separator: ",").contains(Substring(table)), "table \(table) in \(tables)")
        }

        let second = try sandbox.herald("migrate")
        #expect(second.status == 0, "\(second)")
        #expect(second.stdout.contains("up to date"), "\(second)")
        #expect(!second.stdout.contains("applied"), "\(second)")
        #expect(try sandbox.count("schema_migrations") == applied.count)
    }

    @Test func aCommandRefusesADatabaseThatDoesNotExist() throws {
        // A relative path typed in the wrong folder used to create an empty database there and
        // answer "No advisories" with exit 0.
        let sandbox = try Sandbox(migrated: false)
        for arguments in [["advisory", "list"], ["project", "add", "demo", "--name", "Demo"]] {
            let result = try sandbox.herald(arguments: arguments + ["--database", "herald.sqlite"], database: false)
            #expect(result.status == 1, "\(arguments): \(result)")
            #expect(result.stderrLines.count == 1, "\(result)")
            let absolute = sandbox.directory.appending(path: "herald.sqlite").standardizedFileURL.path
            #expect(
                result.stderr.contains("no database at ") && result.stderr.contains("herald.sqlite")
                    && result.stderr.contains("herald migrate"), "\(result)")
            #expect(
                result.stderr.contains(absolute.split(separator: "/").suffix(2).joined(separator: "/")),
                "names the absolute path: \(result)")
            #expect(!FileManager.default.fileExists(atPath: sandbox.database), "nothing is created")
        }
        // migrate creates it; then the same command works.
        #expect(try sandbox.herald("migrate").status == 0)
        #expect(try sandbox.herald("advisory", "list").stdout.contains("No advisories"))
    }

    @Test func theDatabaseComesFromHeraldDatabaseWhenNoFlagIsGiven() throws {
        let sandbox = try Sandbox(migrated: false)
        let path = sandbox.directory.appending(path: "from-env.sqlite").path
        #expect(try sandbox.herald("migrate", environment: ["HERALD_DATABASE": path], database: false).status == 0)
        let added = try sandbox.herald(
            "project", "add", "demo", "--name", "Demo", environment: ["HERALD_DATABASE": path], database: false)
        #expect(added.status == 0, "\(added)")
        #expect(FileManager.default.fileExists(atPath: path))
        #expect(!FileManager.default.fileExists(atPath: sandbox.database))
        #expect(try sandbox.sqlite("SELECT slug FROM projects", file: path) == "demo")
    }

    @Test func aWriteAgainstALockedDatabaseFailsWithAClearMessage() throws {
        let sandbox = try Sandbox()
        try sandbox.succeed("migrate")
        let holder = try sandbox.holdWriteLock()
        defer { holder.release() }

        let start = ContinuousClock.now
        let locked = try sandbox.herald("project", "add", "demo", "--name", "Demo")
        let waited = ContinuousClock.now - start
        holder.release()

        #expect(locked.exitedNormally, "herald crashed: \(locked)")
        #expect(locked.status != 0, "\(locked)")
        #expect(locked.status == 1, "a locked database is not the user's input error: \(locked)")
        #expect(locked.stderr.contains("locked"), "\(locked)")
        #expect(locked.stderr.contains(sandbox.database), "the message names the file: \(locked)")
        #expect(locked.stderrLines.count == 1, "\(locked)")
        #expect(waited >= .seconds(4), "herald waits its busy timeout before giving up (waited \(waited))")
        #expect(try sandbox.count("projects") == 0)

        // Once the lock is gone the same command works.
        #expect(try sandbox.herald("project", "add", "demo", "--name", "Demo").status == 0)
        #expect(try sandbox.count("projects") == 1)
    }

    @Test func aFileThatIsNotADatabaseIsRefusedClearly() throws {
        let sandbox = try Sandbox(migrated: false)
        var text = ""
        for i in 0..<300 { text += "line \(i): \(UUID().uuidString) plain notes, not SQLite\n" }
        let original = Data(text.utf8)
        try original.write(to: URL(fileURLWithPath: sandbox.database))

        for arguments in [["project", "list"], ["migrate"], ["project", "add", "demo", "--name", "Demo"]] {
            let result = try sandbox.herald(arguments: arguments)
            #expect(result.exitedNormally, "\(arguments): crashed: \(result)")
            #expect(result.status == 1, "\(arguments): \(result)")
            #expect(result.stderr.contains("is not a SQLite database"), "\(arguments): \(result)")
            #expect(result.stderrLines.count == 1, "\(arguments): \(result)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: sandbox.database)) == original, "the file is left untouched")
    }

    @Test func aDatabaseInAMissingDirectoryIsRefusedClearly() throws {
        let sandbox = try Sandbox()
        let path = sandbox.directory.appending(path: "no/such/dir/herald.sqlite").path
        let result = try sandbox.herald("project", "list", "--database", path, database: false)
        #expect(result.exitedNormally, "crashed: \(result)")
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.contains("no database at") && result.stderr.contains(path), "\(result)")
        let migrate = try sandbox.herald("migrate", "--database", path, database: false)
        #expect(
            migrate.status == 1 && migrate.stderr.contains("cannot open") && migrate.stderr.contains(path), "\(migrate)"
        )
        #expect(
            !FileManager.default.fileExists(atPath: sandbox.directory.appending(path: "no").path),
            "no directories are made")
    }
}

/// `--help` and mistyped command lines.
@Suite struct HelpTests {
    @Test func topLevelHelpListsTheSubcommands() throws {
        let sandbox = try Sandbox(migrated: false)
        let help = try sandbox.herald("--help", database: false)
        #expect(help.status == 0, "\(help)")
        for command in [
            "serve", "migrate", "token", "project", "provider", "channel", "advisory", "deliveries", "feed",
        ] {
            #expect(help.stdout.contains("  \(command) "), "help mentions \(command): \(help)")
        }
        #expect(help.stdout.contains("--database") || help.stdout.contains("HERALD_DATABASE"), "\(help)")
        #expect(!FileManager.default.fileExists(atPath: sandbox.database), "help touches no database")
    }

    @Test func versionNamesTheReleaseAndTheSchema() throws {
        let sandbox = try Sandbox(migrated: false)
        let version = try sandbox.herald("--version", database: false)
        #expect(version.status == 0, "\(version)")
        #expect(version.stdout.hasPrefix("herald ") && version.stdout.contains("(schema "), "\(version)")
        #expect(!FileManager.default.fileExists(atPath: sandbox.database))
    }

    @Test func advisoryCreateHelpListsItsFlags() throws {
        let sandbox = try Sandbox()
        let help = try sandbox.herald("advisory", "create", "--help", database: false)
        #expect(help.status == 0, "\(help)")
        for flag in [
            "--project", "--title", "--summary", "--body-file", "--cve", "--severity", "--cvss", "--affected",
            "--fixed",
            "--embargo", "--early-notice", "--pre-announce", "--database", "--json",
        ] {
            #expect(help.stdout.contains(flag), "help mentions \(flag): \(help)")
        }
    }

    @Test func anUnknownSubcommandOrFlagExitsTwo() throws {
        let sandbox = try Sandbox()
        let unknown = try sandbox.herald("frobnicate", database: false)
        #expect(unknown.status == 2, "\(unknown)")
        #expect(!unknown.stderr.isEmpty)
        let badFlag = try sandbox.herald("project", "list", "--colour")
        #expect(badFlag.status == 2, "\(badFlag)")
        #expect(badFlag.stderr.contains("--colour"), "\(badFlag)")
        let missing = try sandbox.herald("token", "create", "--name", "ci")
        #expect(missing.status == 2, "\(missing)")
        #expect(missing.stderr.contains("--role"), "\(missing)")
    }
}

/// `herald serve` refusing what it cannot do, in one line.
@Suite struct ServeCommandTests {
    @Test func aPortInUseIsOneClearLineAndExitOne() throws {
        let sandbox = try Sandbox()
        // Something else holds the port.
        let holder = try SilentListener()
        let port = holder.port
        let result = try sandbox.herald(
            "serve", "--listen", "127.0.0.1:\(port)", "--maildir", sandbox.directory.appending(path: "mail").path)
        #expect(result.status == 1, "\(result)")
        #expect(result.stderrLines.count == 1, "one line: \(result)")
        #expect(
            result.stderr.contains("cannot listen on 127.0.0.1:\(port)") && result.stderr.contains("in use"),
            "\(result)")
        #expect(!result.stdout.contains("serving") && !result.stderr.contains("serving"), "\(result)")
    }

    @Test func aPublicURLThatIsNotHTTPSIsWarnedAboutLoopbackExcepted() throws {
        // RFC 8058: mail providers ignore one-click unsubscribe over http.
        let sandbox = try Sandbox()
        func serveFor(_ url: String) throws -> ProcessOutput {
            try HeraldProcess.run(
                "timeout",
                [
                    "-s", "TERM", "3", try HeraldProcess.binary().path, "serve", "--database", sandbox.database,
                    "--listen", "127.0.0.1:0", "--maildir", sandbox.directory.appending(path: "mail").path,
                    "--public-url", url,
                ],
                in: sandbox.directory)
        }
        #expect(try serveFor("http://herald.example.org").stderr.contains("the public URL is not https"))
        #expect(try !serveFor("http://127.0.0.1:8080").stderr.contains("not https"))
        #expect(try !serveFor("https://herald.example.org").stderr.contains("not https"))
    }

    @Test func serveRecordsItsPublicURLSoEveryCommandRendersTheSame() throws {
        // publish --now from a shell without serve's environment used to link to 127.0.0.1.
        let sandbox = try Sandbox()
        _ = try HeraldProcess.run(
            "timeout",
            [
                "-s", "TERM", "3", try HeraldProcess.binary().path, "serve", "--database", sandbox.database,
                "--listen", "127.0.0.1:0", "--maildir", sandbox.directory.appending(path: "mail").path,
            ],
            in: sandbox.directory,
            environment: [
                "HERALD_PUBLIC_URL": "https://herald.example.org", "HERALD_MAIL_FROM": "security@example.org",
            ])
        let shown = try #require(
            try sandbox.json(try sandbox.succeed("settings", "show", "--json").stdout) as? [String: String])
        #expect(
            shown["public-url"] == "https://herald.example.org" && shown["mail-from"] == "security@example.org",
            "\(shown)")
        try sandbox.succeed("project", "add", "demo", "--name", "Demo")
        try sandbox.succeed(
            "channel", "add", "--project", "demo", "--kind", "email", "--target", "announce@lists.example")
        try sandbox.succeed(
            "advisory", "create", "--project", "demo", "--title", "Overflow", "--embargo",
            HeraldProcess.instant(daysFromNow: 2))
        try sandbox.succeed("advisory", "publish", "1", "--now", "--reason", "leak")  // this shell has neither variable
        let mail = try sandbox.sqlite("SELECT body FROM payloads")
        #expect(
            mail.contains("https://herald.example.org/advisories/")
                && mail.contains("From: \"Herald\" <security@example.org>")
                && !mail.contains("127.0.0.1"), "\(mail)")
        // Set by hand too, checked, audited.
        try sandbox.succeed("settings", "set", "security-contact", "https://example.org/security")
        try sandbox.refuse(["settings", "set", "public-url", "not a url"], naming: "public-url")
        try sandbox.refuse(["settings", "set", "colour", "blue"], naming: "key")
        #expect(try sandbox.auditActions().filter { $0 == "settings.set" }.count == 3)
    }
}
