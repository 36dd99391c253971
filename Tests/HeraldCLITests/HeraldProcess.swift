import Foundation
import HeraldTestSupport
import Testing

/// What a finished process left behind.
struct ProcessOutput: CustomStringConvertible {
    /// The exit status (or the signal number when `exitedNormally` is false).
    let status: Int32
    /// False when the process was killed by a signal: a crash, never an acceptable refusal.
    let exitedNormally: Bool
    let stdout: String
    let stderr: String

    /// Standard error's non-empty lines.
    var stderrLines: [Substring] { stderr.split(separator: "\n", omittingEmptySubsequences: true) }

    var description: String {
        "exit \(status)\(exitedNormally ? "" : " (killed by a signal)")\n--- stdout:\n\(stdout)--- stderr:\n\(stderr)"
    }
}

/// Why a helper could not do its job (as opposed to an assertion about herald failing).
struct HarnessError: Error, CustomStringConvertible {
    let description: String
}

/// Running the built `herald` and the command-line tools the tests read its results with.
enum HeraldProcess {
    /// The built `herald` (HeraldTestSupport's lookup: $HERALD_BIN, or beside the test executable).
    static func binary() throws -> URL {
        let binary = heraldBinary
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw HarnessError(
                description:
                    "the herald binary was not found at \(binary.path); build it with `swift build --build-tests` or point HERALD_BIN at it"
            )
        }
        return binary
    }

    /// Runs `executable` (a path, or a name looked up in PATH) in `directory` and waits for it.
    /// Output goes to files, not pipes, so a chatty process can never block on a full pipe.
    /// The environment is this process's, without any HERALD_* variable, plus `environment`.
    static func run(
        _ executable: String, _ arguments: [String], in directory: URL, stdin: String? = nil,
        environment: [String: String] = [:]
    ) throws -> ProcessOutput {
        let process = Process()
        if executable.hasPrefix("/") {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [executable] + arguments
        }
        process.currentDirectoryURL = directory
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("HERALD_") }
        env.merge(environment) { _, new in new }
        process.environment = env

        let scratch = directory.appending(path: ".process-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appending(path: "stdout")
        let errURL = scratch.appending(path: "stderr")
        let inURL = scratch.appending(path: "stdin")
        try Data().write(to: outURL)
        try Data().write(to: errURL)
        try Data((stdin ?? "").utf8).write(to: inURL)
        let out = try FileHandle(forWritingTo: outURL)
        let err = try FileHandle(forWritingTo: errURL)
        let input = try FileHandle(forReadingFrom: inURL)
        defer {
            try? out.close()
            try? err.close()
            try? input.close()
        }
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        process.waitUntilExit()
        return ProcessOutput(
            status: process.terminationStatus, exitedNormally: process.terminationReason == .exit,
            stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
            stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }

    /// `date` as RFC 3339 in UTC, to the second.
    static func rfc3339(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }

    /// An RFC 3339 instant `days` from now.
    static func instant(daysFromNow days: Double) -> String {
        rfc3339(Date().addingTimeInterval(days * 86_400))
    }
}

/// One test's world: a fresh temporary directory holding its own database file, removed afterwards.
final class Sandbox {
    let directory: URL
    /// The database file every `herald` call gets as `--database`.
    let database: String

    /// With `migrated`, the database exists and is migrated (commands other than migrate and
    /// serve refuse a missing one); without, there is no file yet.
    init(migrated: Bool = true) throws {
        directory = FileManager.default.temporaryDirectory.appending(path: "herald-cli-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        database = directory.appending(path: "herald.sqlite").path
        guard migrated else { return }
        let result = try HeraldProcess.run(
            try HeraldProcess.binary().path, ["migrate", "--database", database], in: directory, stdin: nil,
            environment: [:])
        guard result.status == 0 else { throw HarnessError(description: "herald migrate failed: \(result)") }
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    /// `herald ARGUMENTS --database DB` (without `--database` when `database` is false).
    @discardableResult
    func herald(
        _ arguments: String..., stdin: String? = nil, environment: [String: String] = [:], database: Bool = true
    ) throws -> ProcessOutput {
        try herald(arguments: arguments, stdin: stdin, environment: environment, database: database)
    }

    @discardableResult
    func herald(arguments: [String], stdin: String? = nil, environment: [String: String] = [:], database: Bool = true)
        throws -> ProcessOutput
    {
        try HeraldProcess.run(
            try HeraldProcess.binary().path, arguments + (database ? ["--database", self.database] : []),
            in: directory, stdin: stdin, environment: environment)
    }

    /// Runs `herald` and requires exit 0; returns its output.
    @discardableResult
    func succeed(_ arguments: String..., stdin: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws
        -> ProcessOutput
    {
        let result = try herald(arguments: arguments, stdin: stdin)
        guard result.status == 0, result.exitedNormally else {
            Issue.record("herald \(arguments.joined(separator: " ")) failed: \(result)", sourceLocation: sourceLocation)
            throw HarnessError(description: "herald \(arguments.joined(separator: " ")) failed")
        }
        return result
    }

    /// Runs `herald` and expects bad input's answer: exit 2 and one line on stderr naming `field`.
    @discardableResult
    func refuse(_ arguments: [String], naming field: String, sourceLocation: SourceLocation = #_sourceLocation) throws
        -> ProcessOutput
    {
        let result = try herald(arguments: arguments)
        #expect(result.status == 2, "\(arguments): \(result)", sourceLocation: sourceLocation)
        #expect(result.stderrLines.count == 1, "one line: \(result)", sourceLocation: sourceLocation)
        #expect(result.stderr.contains(field), "names \(field): \(result)", sourceLocation: sourceLocation)
        return result
    }

    /// `sqlite3 DB SQL` on the test's database (or `file`), output trimmed; throws when sqlite3 fails.
    func sqlite(_ sql: String, file: String? = nil) throws -> String {
        let result = try HeraldProcess.run("sqlite3", [file ?? database, sql], in: directory)
        guard result.status == 0 else { throw HarnessError(description: "sqlite3 \(sql): \(result)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `sqlite3 -json DB SQL`, decoded: one dictionary per row (no rows: empty).
    func rows(_ sql: String) throws -> [[String: Any]] {
        let result = try HeraldProcess.run("sqlite3", ["-json", database, sql], in: directory)
        guard result.status == 0 else { throw HarnessError(description: "sqlite3 -json \(sql): \(result)") }
        let text = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.isEmpty { return [] }
        guard let rows = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]] else {
            throw HarnessError(description: "sqlite3 -json printed no array: \(text)")
        }
        return rows
    }

    /// Rows in `table` (matching `condition`).
    func count(_ table: String, where condition: String? = nil) throws -> Int {
        let text = try sqlite("SELECT count(*) FROM \(table)" + (condition.map { " WHERE \($0)" } ?? ""))
        guard let count = Int(text) else { throw HarnessError(description: "count(*) of \(table) printed '\(text)'") }
        return count
    }

    /// The audit log's actions, oldest first.
    func auditActions() throws -> [String] {
        try rows("SELECT action FROM audit ORDER BY id").compactMap { $0["action"] as? String }
    }

    /// Writes `contents` to a file in the sandbox and returns its path.
    @discardableResult
    func write(_ name: String, _ contents: String) throws -> String {
        let url = directory.appending(path: name)
        try Data(contents.utf8).write(to: url)
        return url.path
    }

    /// Lowercase hex SHA-256 of `text`, by coreutils' sha256sum.
    func sha256Hex(_ text: String) throws -> String {
        let result = try HeraldProcess.run("sha256sum", [], in: directory, stdin: text)
        guard result.status == 0, let hex = result.stdout.split(separator: " ").first, hex.count == 64 else {
            throw HarnessError(description: "sha256sum: \(result)")
        }
        return String(hex)
    }

    /// The bytes of the database and of its -wal and -shm files, whichever exist.
    func databaseFilesBytes() throws -> [String: Data] {
        var files: [String: Data] = [:]
        for suffix in ["", "-wal", "-shm", "-journal"] where FileManager.default.fileExists(atPath: database + suffix) {
            files[database + suffix] = try Data(contentsOf: URL(fileURLWithPath: database + suffix))
        }
        return files
    }

    /// Decodes `text` as JSON.
    func json(_ text: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(text.utf8))
    }

    /// Starts `sqlite3 DB` that runs `BEGIN IMMEDIATE` and keeps the write lock until `release()`.
    func holdWriteLock() throws -> WriteLockHolder {
        try WriteLockHolder(database: database)
    }
}
