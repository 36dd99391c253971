import Foundation

/// A separate sqlite3 process inside `BEGIN IMMEDIATE`: the database's write lock is taken
/// when `init` returns (it waits for sqlite3 to answer after BEGIN, no sleeping).
public final class WriteLockHolder {
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private var released = false

    /// Starts sqlite3 on `database` and returns once it holds the write lock.
    public init(database: String) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["sqlite3", database]
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        input.fileHandleForWriting.write(Data("BEGIN IMMEDIATE;\nSELECT 'lock-held';\n".utf8))
        var seen = ""
        while !seen.contains("lock-held") {
            let chunk = output.fileHandleForReading.availableData  // blocks until sqlite3 writes or exits
            if chunk.isEmpty { throw WriteLockError(description: "sqlite3 exited before taking the lock: \(seen)") }
            seen += String(decoding: chunk, as: UTF8.self)
            if seen.contains("Error") || seen.contains("error") {
                throw WriteLockError(description: "sqlite3 could not take the lock: \(seen)")
            }
        }
    }

    /// Rolls back, ends sqlite3 and waits for it.
    public func release() {
        guard !released else { return }
        released = true
        if process.isRunning { input.fileHandleForWriting.write(Data("ROLLBACK;\n".utf8)) }
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    deinit { release() }
}

/// sqlite3 could not take the lock.
public struct WriteLockError: Error, CustomStringConvertible {
    /// What went wrong, with what sqlite3 said.
    public let description: String
}
