import Foundation
import HeraldTestSupport
import Testing

/// A fresh folder with a database path, and `herald` run as a user runs it.
final class CLIHarness {
    let directory: URL
    let database: String

    init() throws {
        directory = FileManager.default.temporaryDirectory.appending(path: "herald-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        database = directory.appending(path: "herald.sqlite").path
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    struct Result {
        var status: Int32
        var out: String
        var err: String
    }

    /// Runs `herald ARGS --database DB` (unless `withDatabase` is false).
    @discardableResult
    func herald(_ arguments: String..., withDatabase: Bool = true, input: String? = nil) throws -> Result {
        try run(arguments, withDatabase: withDatabase, input: input)
    }

    /// `herald` with an argument array.
    func run(_ arguments: [String], withDatabase: Bool = true, input: String? = nil) throws -> Result {
        try execute(Self.binary, arguments + (withDatabase ? ["--database", database] : []), input: input)
    }

    /// Runs `sqlite3 DB SQL` and returns its output, trimmed.
    func sql(_ query: String) throws -> String {
        try execute(URL(fileURLWithPath: "/usr/bin/sqlite3"), [database, query]).out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The hex SHA-256 of `text`, by coreutils' sha256sum.
    func sha256(_ text: String) throws -> String {
        String(try execute(URL(fileURLWithPath: "/usr/bin/sha256sum"), [], input: text).out.prefix(64))
    }

    func count(_ table: String) throws -> Int { Int(try sql("SELECT count(*) FROM \(table)")) ?? -1 }

    func write(_ name: String, _ text: String) throws -> String {
        let path = directory.appending(path: name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private func execute(_ executable: URL, _ arguments: [String], input: String? = nil) throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = directory
        let out = Pipe(), err = Pipe(), stdin = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = stdin
        try process.run()
        if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
        try stdin.fileHandleForWriting.close()
        // Read both pipes concurrently with the process so neither fills up.
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, out: String(decoding: outData, as: UTF8.self), err: String(decoding: errData, as: UTF8.self))
    }

    /// The built `herald` (see HeraldTestSupport).
    static var binary: URL { heraldBinary }

    /// An instant `seconds` from now in RFC 3339.
    static func instant(_ seconds: TimeInterval) -> String {
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: Date().addingTimeInterval(seconds))
    }
}
