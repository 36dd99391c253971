import Foundation
import Testing

/// `herald token create | list | revoke`: a token is printed once and stored only as its SHA-256.
@Suite struct TokenCommandTests {
    @Test func createPrintsTheTokenOnceAndStoresOnlyItsHash() throws {
        let sandbox = try Sandbox()
        let created = try sandbox.herald("token", "create", "--name", "ci", "--role", "admin")
        #expect(created.status == 0, "\(created)")
        let lines = created.stdout.split(separator: "\n")
        #expect(lines.count == 1, "stdout is the token and nothing else: \(created)")
        let token = String(lines.first ?? "")
        #expect(token.hasPrefix("hrld_"), "\(created)")
        #expect(token.count >= 30, "a token long enough to be unguessable: \(token)")
        #expect(!created.stderr.contains(token), "the token goes to stdout only")
        #expect(created.stderr.contains("only this once"), "\(created)")

        let stored = try sandbox.rows("SELECT name, role, lower(hex(hash)) AS hash, length(hash) AS bytes FROM tokens")
        #expect(stored.count == 1)
        #expect(stored.first?["name"] as? String == "ci")
        #expect(stored.first?["role"] as? String == "admin")
        #expect(stored.first?["bytes"] as? Int == 32)
        let expected = try sandbox.sha256Hex(token)
        #expect(stored.first?["hash"] as? String == expected, "tokens.hash is SHA-256(token)")

        // Nowhere in the database's files: not in the main file, not in the WAL.
        let files = try sandbox.databaseFilesBytes()
        #expect(!files.isEmpty)
        for (path, bytes) in files {
            #expect(bytes.range(of: Data(token.utf8)) == nil, "plaintext token found in \(path)")
            #expect(bytes.range(of: Data(token.dropFirst("hrld_".count).utf8)) == nil, "token body found in \(path)")
        }
        // Not in any text column either (belt and braces: columns the file scan may miss if compressed or split).
        let dump = try HeraldProcess.run("sqlite3", [sandbox.database, ".dump"], in: sandbox.directory)
        #expect(dump.status == 0)
        #expect(!dump.stdout.contains(token))

        let second = try sandbox.herald("token", "create", "--name", "alice", "--role", "auditor")
        #expect(second.status == 0, "\(second)")
        let otherToken = second.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(otherToken.hasPrefix("hrld_") && otherToken != token, "every token is new")

        let listed = try sandbox.herald("token", "list", "--json")
        #expect(listed.status == 0, "\(listed)")
        #expect(!listed.stdout.contains(token) && !listed.stdout.contains(otherToken), "token list never shows a token")
        #expect(!listed.stdout.contains(expected), "nor its hash")
        let entries = try #require(try sandbox.json(listed.stdout) as? [[String: Any]])
        #expect(Set(entries.compactMap { $0["name"] as? String }) == ["ci", "alice"])
        #expect(Set(entries.compactMap { $0["role"] as? String }) == ["admin", "auditor"])

        let table = try sandbox.herald("token", "list")
        #expect(table.status == 0)
        #expect(
            table.stdout.contains("ci") && table.stdout.contains("alice") && !table.stdout.contains("hrld_"), "\(table)"
        )
    }

    @Test func revokeMarksTheTokenAndIsAudited() throws {
        let sandbox = try Sandbox()
        try sandbox.succeed("token", "create", "--name", "ci", "--role", "release-manager")
        #expect(try sandbox.count("tokens", where: "revoked_at IS NULL") == 1)

        let revoked = try sandbox.herald("token", "revoke", "ci")
        #expect(revoked.status == 0, "\(revoked)")
        #expect(revoked.stdout.contains("revoked"), "\(revoked)")
        #expect(try sandbox.count("tokens", where: "revoked_at IS NOT NULL") == 1)
        #expect(try sandbox.count("tokens") == 1, "revoking keeps the row")

        let again = try sandbox.herald("token", "revoke", "ci")
        #expect(again.status == 2, "\(again)")
        #expect(again.stderr.contains("ci"), "\(again)")
        let unknown = try sandbox.herald("token", "revoke", "nobody")
        #expect(unknown.status == 2, "\(unknown)")

        let listed = try #require(
            try sandbox.json(try sandbox.herald("token", "list", "--json").stdout) as? [[String: Any]])
        #expect(listed.count == 1)
        #expect(listed.first?["revoked_at"] != nil, "list shows the revocation: \(listed)")

        // The name is free again once revoked.
        #expect(try sandbox.herald("token", "create", "--name", "ci", "--role", "admin").status == 0)
        #expect(try sandbox.auditActions() == ["token.create", "token.revoke", "token.create"])
    }

    @Test func aBadRoleExitsTwoAndWritesNoRow() throws {
        let sandbox = try Sandbox()
        try sandbox.succeed("migrate")
        for role in ["root", "", "Admins"] {
            let bad = try sandbox.herald("token", "create", "--name", "ci", "--role", role)
            #expect(bad.status == 2, "role '\(role)': \(bad)")
            #expect(bad.stdout.isEmpty, "no token printed: \(bad)")
            #expect(bad.stderr.contains("role"), "\(bad)")
            #expect(bad.stderrLines.count == 1, "\(bad)")
        }
        let message = try sandbox.herald("token", "create", "--name", "ci", "--role", "root").stderr
        for allowed in ["admin", "release-manager", "auditor"] {
            #expect(message.contains(allowed), "names the choices: \(message)")
        }
        #expect(try sandbox.count("tokens") == 0)
        #expect(try sandbox.count("audit") == 0)
    }
}
