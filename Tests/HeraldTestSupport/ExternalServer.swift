import Foundation

/// A real server the tests talk to, run as a child process from `Tests/Support`: it prints
/// `ready PORT` when it listens, and stops when its standard input closes or it is killed.
public final class ExternalServer: @unchecked Sendable {
    /// The port it listens on, as it said.
    public let port: Int
    private let process: Process
    private let input: Pipe

    /// Starts `Tests/Support/<script>` with python3 and waits (up to 15 s) until it listens.
    public init(script: String, arguments: [String]) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.supportDirectory.appending(path: script).path] + arguments
        input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        var line = Data()
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            let byte = output.fileHandleForReading.readData(ofLength: 1)
            if byte.isEmpty { break }
            if byte == Data("\n".utf8) { break }
            line.append(byte)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("ready "), let port = Int(text.dropFirst(6)) else {
            process.terminate()
            throw ExternalServerError.didNotStart(script: script, said: text)
        }
        self.port = port
    }

    /// Stops the server.
    public func stop() {
        try? input.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }

    deinit { stop() }

    /// `Tests/Support`, found from this source file.
    public static var supportDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appending(
            path: "Support")
    }
}

/// A test server that did not start.
public enum ExternalServerError: Error, CustomStringConvertible {
    case didNotStart(script: String, said: String)

    /// Which script, what it said, and the likely cause.
    public var description: String {
        switch self {
        case let .didNotStart(script, said):
            return "\(script) did not start (said '\(said)'); scripts/test installs its Python packages (aiosmtpd)"
        }
    }
}

/// The SMTP server of `smtp_server.py`, saving each message to `directory`.
public final class SMTPSink {
    /// Where each received message is saved, one `.eml` file each.
    public let directory: URL
    /// The running `smtp_server.py`.
    public let server: ExternalServer
    /// The SMTP URL to give Herald.
    public var url: String { "smtp://127.0.0.1:\(server.port)" }

    /// `port` 0 picks a free one; a fixed port lets a test start the server after Herald was told of it.
    /// With `tls` it offers and requires STARTTLS; with `auth` (`user:password`) it requires AUTH.
    /// It offers PIPELINING as real relays do; without, it refuses commands sent before their turn.
    /// `closeEvery` answers a connection's Nth MAIL with 421 and closes it; `stallAfter` stops answering
    /// MAIL after that many messages, `trickle` then sends a reply a byte at a time (see `smtp_server.py`).
    public init(
        in parent: URL, port: Int = 0, rejectFirst: Int = 0, rejectCode: Int = 451,
        tls: (certificate: String, key: String)? = nil,
        auth: String? = nil, pipelining: Bool = true, closeEvery: Int = 0, stallAfter: Int = 0,
        trickle: Bool = false
    ) throws {
        directory = parent.appending(path: "smtp-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var arguments = [
            "--port", String(port), "--dir", directory.path, "--reject-first", String(rejectFirst), "--reject-code",
            String(rejectCode),
        ]
        if let tls { arguments += ["--tls-cert", tls.certificate, "--tls-key", tls.key] }
        if let auth { arguments += ["--auth", auth] }
        if pipelining { arguments.append("--pipelining") }
        arguments += ["--close-every", String(closeEvery), "--stall-after", String(stallAfter)]
        if trickle { arguments.append("--trickle") }
        server = try ExternalServer(script: "smtp_server.py", arguments: arguments)
    }

    /// Messages received so far.
    public var count: Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasSuffix(".eml") }
            .count
    }

    /// Every received message as Python's email package (default policy) parsed it.
    public func parsed() throws -> [ParsedMail] {
        let output = try runPython(["check_mail.py", directory.path])
        return try JSONDecoder().decode([ParsedMail].self, from: output)
    }
}

/// One message as `check_mail.py` reports it.
public struct ParsedMail: Decodable, Sendable {
    /// The saved file's name.
    public var file: String
    /// The envelope recipient (RCPT TO), which may differ from the To header.
    public var envelope_to: String?
    /// Headers by lowercased name, decoded.
    public var headers: [String: String]
    /// Header names, lowercased, in order and with repeats, so they can be counted.
    public var header_names: [String]
    /// Python's names for what it found wrong; empty for a well-formed message.
    public var defects: [String]
    /// The body as decoded text.
    public var body: String
    /// Lengths of lines over RFC 5322's limit of 998 octets; empty when none.
    public var long_lines: [Int]
}

/// The HTTP receiver of `webhook_receiver.py`, logging every request to `log`.
public final class WebhookReceiver {
    /// The JSON Lines file it appends each request to.
    public let log: URL
    /// The running `webhook_receiver.py`.
    public let server: ExternalServer
    /// The receiver's URL; the path's first segment picks its answer (`/ok/`, `/flaky/`, `/gone/`, …).
    public var base: String { "\(scheme)://127.0.0.1:\(server.port)" }

    /// With `tls` (a certificate and its key, PEM files) it speaks HTTPS.
    public init(in parent: URL, secret: String = "", tls: (certificate: String, key: String)? = nil) throws {
        log = parent.appending(path: "webhooks-\(UUID().uuidString.prefix(8)).jsonl")
        let tlsArguments = tls.map { ["--tls-cert", $0.certificate, "--tls-key", $0.key] } ?? []
        server = try ExternalServer(
            script: "webhook_receiver.py", arguments: ["--log", log.path, "--secret", secret] + tlsArguments)
        scheme = tls == nil ? "http" : "https"
    }

    private let scheme: String

    /// Every request received so far.
    public func requests() throws -> [ReceivedRequest] {
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return try text.split(separator: "\n").map {
            try JSONDecoder().decode(ReceivedRequest.self, from: Data($0.utf8))
        }
    }
}

/// One request the receiver logged.
public struct ReceivedRequest: Decodable, Sendable {
    /// When it arrived, in seconds since 1970.
    public var time: Double
    /// The HTTP method.
    public var method: String
    /// The request path, query included.
    public var path: String
    /// Headers by lowercased name.
    public var headers: [String: String]
    /// The body as text (UTF-8, bad bytes replaced).
    public var body: String
    /// Whether the Standard Webhooks signature verified; nil when the receiver had no secret.
    public var verified: Bool?
    /// The sender's port: requests with the same came over one connection.
    public var peer: Int
    /// The protocol TLS agreed on (ALPN), nil without TLS or without agreement.
    public var alpn: String?
}

/// Runs `python3 Tests/Support/<arguments…>` and returns its standard output.
public func runPython(_ arguments: [String]) throws -> Data {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments =
        ["python3", ExternalServer.supportDirectory.appending(path: arguments[0]).path] + arguments.dropFirst()
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return data
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes; returns whether it held.
public func eventually(timeout: Duration = .seconds(10), _ condition: () throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try condition()
}

/// The built `herald` executable: $HERALD_BIN, or beside the running test bundle.
public var heraldBinary: URL {
    if let path = ProcessInfo.processInfo.environment["HERALD_BIN"] { return URL(fileURLWithPath: path) }
    var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    while directory.path != "/" {
        let candidate = directory.appending(path: "herald")
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), !isDirectory.boolValue,
            FileManager.default.isExecutableFile(atPath: candidate.path)
        {
            return candidate
        }
        directory = directory.deletingLastPathComponent()
    }
    return URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appending(path: ".build/debug/herald")
}
