import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The built `herald serve` as a child process on a database a test prepared: HTTP on a free
/// port of 127.0.0.1, links to https://herald.test, private targets allowed (the receivers are
/// local), its log in a file. Stopped with SIGTERM, as an operator would.
public final class HeraldServe: @unchecked Sendable {
    /// The port it listens on.
    public let port: Int
    /// The file its standard output and error go to.
    public let log: URL
    private let process = Process()

    /// Its URL, without a trailing slash.
    public var base: String { "http://127.0.0.1:\(port)" }

    /// Starts `herald serve --database DATABASE` with `environment` added to this process's own
    /// (less any HERALD_* variable) and waits (up to 15 s) until /healthz answers 200.
    public init(database: String, environment: [String: String] = [:]) async throws {
        port = freePort()
        log = URL(fileURLWithPath: database).deletingLastPathComponent().appending(
            path: "serve-\(UUID().uuidString.prefix(8)).log")
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("HERALD_") }
        env.merge([
            "HERALD_LISTEN": "127.0.0.1:\(port)", "HERALD_PUBLIC_URL": "https://herald.test",
            "HERALD_MAIL_FROM": "herald@herald.test",
            "HERALD_ALLOW_PRIVATE_TARGETS": "1", "HERALD_LOG_LEVEL": "notice",
        ]) { _, new in new }
        env.merge(environment) { _, new in new }
        process.executableURL = heraldBinary
        process.arguments = ["serve", "--database", database]
        process.environment = env
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let output = try FileHandle(forWritingTo: log)
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try? output.close()
        let up = await eventually(timeout: .seconds(15)) { process.isRunning && healthStatusBlocking() == 200 }
        guard up else {
            stop()
            throw ServeError.didNotStart(log: logText)
        }
    }

    /// What `herald serve` wrote to standard output and error so far.
    public var logText: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    /// Whether the process is still running: it has not exited or been stopped.
    public var isRunning: Bool { process.isRunning }

    /// GET `path`: the status and body, or nil when nothing answered within `timeout` seconds.
    public func get(_ path: String, timeout: TimeInterval = 5) async -> (status: Int, body: String)? {
        var request = URLRequest(url: URL(string: base + path)!, timeoutInterval: timeout)
        request.cachePolicy = .reloadIgnoringLocalCacheData
        guard let (data, response) = try? await URLSession.shared.data(for: request),
            let http = response as? HTTPURLResponse
        else { return nil }
        return (http.statusCode, String(decoding: data, as: UTF8.self))
    }

    /// /healthz's status, or nil when it did not answer.
    public func health() async -> Int? { await get("/healthz")?.status }

    private func healthStatusBlocking() -> Int? {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var status: Int?
        var request = URLRequest(url: URL(string: base + "/healthz")!, timeoutInterval: 2)
        request.cachePolicy = .reloadIgnoringLocalCacheData
        URLSession.shared.dataTask(with: request) { _, response, _ in
            status = (response as? HTTPURLResponse)?.statusCode
            done.signal()
        }.resume()
        done.wait()
        return status
    }

    /// SIGTERM, then waits; returns the exit status (0 when it stopped gracefully).
    @discardableResult
    public func stop() -> Int32 {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return process.terminationReason == .exit ? process.terminationStatus : 128 + process.terminationStatus
    }

    deinit { stop() }
}

/// Why `herald serve`, or a certificate for it, could not be set up.
public enum ServeError: Error, CustomStringConvertible {
    case didNotStart(log: String)

    /// What went wrong, with the output that shows why.
    public var description: String {
        switch self {
        case let .didNotStart(log): return "herald serve did not become healthy; its log:\n\(log)"
        }
    }
}

/// A TCP port on 127.0.0.1 that was free a moment ago (the kernel's pick).
public func freePort() -> Int {
    guard let (descriptor, port) = boundLoopbackSocket(listening: false) else { return 0 }
    close(descriptor)
    return port
}

/// A socket bound to a port on 127.0.0.1 the kernel picks, listening when asked, and that port.
private func boundLoopbackSocket(listening: Bool) -> (Int32, Int)? {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(descriptor, $0, length) == 0 && (!listening || listen(descriptor, 16) == 0)
                && getsockname(descriptor, $0, &length) == 0
        }
    }
    guard bound else {
        close(descriptor)
        return nil
    }
    return (descriptor, Int(UInt16(bigEndian: address.sin_port)))
}

/// A port on 127.0.0.1 that listens and never accepts: connections to it complete (the
/// kernel's backlog) and hear nothing, as from a host that hangs. Closed when released.
public final class SilentListener {
    /// The port it holds.
    public let port: Int
    private let socketDescriptor: Int32

    /// Binds and listens on a port the kernel picks; throws when it cannot.
    public init() throws {
        guard let (descriptor, port) = boundLoopbackSocket(listening: true) else {
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EADDRNOTAVAIL)
        }
        socketDescriptor = descriptor
        self.port = port
    }

    deinit { close(socketDescriptor) }
}

/// A self-signed certificate for 127.0.0.1 and localhost, made by openssl in `directory`:
/// valid in every respect but that no trusted authority signed it.
public func selfSignedCertificate(in directory: URL) throws -> (certificate: String, key: String) {
    let certificate = directory.appending(path: "cert.pem").path
    let key = directory.appending(path: "key.pem").path
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [
        "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate, "-days", "2",
        "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
    ]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw ServeError.didNotStart(log: "openssl req -x509 failed (status \(process.terminationStatus))")
    }
    return (certificate, key)
}

/// An organisation's own certificate authority and a certificate it signed for 127.0.0.1 and
/// localhost, made by openssl in `directory`: trusted only by whom is given `authority`.
public func certificateFromOwnAuthority(in directory: URL) throws -> (
    authority: String, certificate: String, key: String
) {
    let path = { (name: String) in directory.appending(path: name).path }
    let steps: [[String]] = [
        [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", path("ca.key"), "-out", path("ca.pem"), "-days",
            "2", "-subj", "/CN=Herald Test Internal CA",
        ],
        [
            "req", "-newkey", "rsa:2048", "-nodes", "-keyout", path("relay.key"), "-out", path("relay.csr"), "-subj",
            "/CN=localhost",
        ],
        [
            "x509", "-req", "-in", path("relay.csr"), "-CA", path("ca.pem"), "-CAkey", path("ca.key"),
            "-CAcreateserial", "-out", path("relay.pem"),
            "-days", "2", "-extfile", path("san.ext"),
        ],
    ]
    try "subjectAltName=IP:127.0.0.1,DNS:localhost\n".write(toFile: path("san.ext"), atomically: true, encoding: .utf8)
    for step in steps {
        let (status, output) = try runTool("openssl", step)
        guard status == 0 else { throw ServeError.didNotStart(log: "openssl \(step[0]) failed: \(output)") }
    }
    return (path("ca.pem"), path("relay.pem"), path("relay.key"))
}

/// Runs a command-line tool (looked up in PATH) and returns its exit status and output.
public func runTool(_ name: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [name] + arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// A port on 127.0.0.1 whose connections a test accepts, reads and answers by hand: to see
/// what a client does on the wire, connection by connection. Closes them all when released.
public final class HandAnsweredListener {
    /// The port it listens on.
    public let port: Int
    private let socketDescriptor: Int32
    private var accepted: [Int32] = []

    /// Binds and listens on a port the kernel picks; throws when it cannot.
    public init() throws {
        guard let (descriptor, port) = boundLoopbackSocket(listening: true) else {
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EADDRNOTAVAIL)
        }
        socketDescriptor = descriptor
        self.port = port
    }

    deinit {
        for descriptor in accepted { close(descriptor) }
        close(socketDescriptor)
    }

    /// The next connection made to it, or nil when none comes within `seconds`.
    public func accept(within seconds: Double) -> Int32? {
        guard Self.readable(socketDescriptor, within: seconds) else { return nil }
        let descriptor = Glibc.accept(socketDescriptor, nil, nil)
        guard descriptor >= 0 else { return nil }
        accepted.append(descriptor)
        return descriptor
    }

    /// What the connection's peer sent within `seconds`: empty when nothing came, nil when the
    /// peer closed it.
    public func read(_ descriptor: Int32, within seconds: Double) -> [UInt8]? {
        guard Self.readable(descriptor, within: seconds) else { return [] }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = recv(descriptor, &buffer, buffer.count, 0)
        return count > 0 ? Array(buffer[..<count]) : nil
    }

    /// Writes `text` whole on the connection.
    public func write(_ descriptor: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return }
            written += count
        }
    }

    private static func readable(_ descriptor: Int32, within seconds: Double) -> Bool {
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, Int32(seconds * 1000)) == 1
    }
}
