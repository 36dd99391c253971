import Crypto
import Foundation
import HeraldCore
import HeraldStore

/// How one attempt went, as a transport sees it; the worker turns it into an outcome.
public enum SendResult: Sendable, Equatable {
    case delivered
    /// Worth another try, after at least `retryAfter` seconds if the receiver said so.
    case failed(String, retryAfter: TimeInterval?)
    /// Will fail however often it is tried.
    case permanent(String)
    /// Never attempted (the service is stopping): the delivery goes back as it was.
    case notAttempted
    /// The endpoint is gone (HTTP 410): stop sending to it.
    case gone(String)
}

/// Sends one claimed delivery.
public protocol Transport: Sendable {
    func send(_ delivery: ClaimedDelivery) async -> SendResult
    /// Starts sending and calls `completion` when done, on any thread. The workers use this;
    /// the default runs `send` in a task, libcurl's transports call back from the engine.
    func start(_ delivery: ClaimedDelivery, completion: @escaping @Sendable (SendResult) -> Void)
    /// Where delivered messages went, for the record (no credentials).
    var destination: String { get }
    /// Stopping: sends started but still waiting for a connection end as `.notAttempted`.
    func stopWaiting()
}

extension Transport {
    /// Runs `send` in a task and hands its result to `completion`.
    public func start(_ delivery: ClaimedDelivery, completion: @escaping @Sendable (SendResult) -> Void) {
        Task { completion(await send(delivery)) }
    }

    /// Does nothing: a transport that does not queue sends has none waiting.
    public func stopWaiting() {}
}

/// E-mail through an SMTP server, by libcurl: one message per recipient, connections reused.
public struct SMTPTransport: Transport {
    let engine: CurlEngine
    let url: String
    let from: String

    /// `url` is `smtp://[user:pass@]host[:port]` (STARTTLS: required when there are
    /// credentials, used when offered otherwise) or `smtps://…`.
    public init(engine: CurlEngine, url: String, from: String) {
        self.engine = engine
        self.url = url
        self.from = from
        let components = URLComponents(string: url)
        requireTLS = components?.user != nil
        destination =
            components.map { components in
                var components = components
                components.user = nil
                components.password = nil
                return components.string ?? "smtp"
            } ?? "smtp"
    }

    /// STARTTLS is required when there are credentials, so they never cross in the clear.
    private let requireTLS: Bool
    /// The SMTP URL without its credentials.
    public let destination: String

    /// Sends the message to its one recipient and waits for the relay's answer.
    public func send(_ delivery: ClaimedDelivery) async -> SendResult {
        Self.classify(await engine.perform(request(delivery), lane: delivery.host))
    }

    /// Queues the message on the engine; `completion` runs on the engine's thread.
    public func start(_ delivery: ClaimedDelivery, completion: @escaping @Sendable (SendResult) -> Void) {
        engine.submit(request(delivery), lane: delivery.host) { completion(Self.classify($0)) }
    }

    private func request(_ delivery: ClaimedDelivery) -> CurlRequest {
        .smtp(url: url, from: from, to: delivery.recipient, message: delivery.payload, requireTLS: requireTLS)
    }

    /// Ends the sends still waiting for a connection to the relay as `.notAttempted`.
    public func stopWaiting() { engine.dropWaiting() }

    /// Meets the relay as a send would (connect, STARTTLS, EHLO, AUTH) and says NOOP: nil when
    /// it is ready, else the error naming the step that failed. Blocks its thread.
    public func check() -> String? {
        switch Self.classify(CurlEngine.checkSMTP(url: url, requireTLS: requireTLS, settings: engine.settings)) {
        case .delivered: return nil
        case let .failed(error, _), let .permanent(error), let .gone(error): return error
        case .notAttempted: return "not attempted"
        }
    }

    static func classify(_ result: CurlResult) -> SendResult {
        if result.wasNotStarted { return .notAttempted }
        if result.code == 0 { return .delivered }
        let stage = Self.stage(of: result)
        // The server's reply code belongs to a command; to a failed connection or handshake it
        // would only be the greeting's 220, which says nothing.
        let command = !["connect", "TLS", "timeout", "connection"].contains(stage)
        let error =
            "SMTP \(stage)\(command && result.responseCode > 0 ? " \(result.responseCode)" : ""): \(result.error)"
        // A 5xx reply to a command is permanent (the mailbox does not exist, the message is refused).
        if command && (500..<600).contains(result.responseCode) { return .permanent(error) }
        return .failed(error, retryAfter: nil)
    }

    /// Which step of the conversation failed, from libcurl's code and message: connect, TLS,
    /// EHLO, AUTH, MAIL FROM, RCPT TO, DATA, or the connection itself.
    static func stage(of result: CurlResult) -> String {
        let message = result.error
        if message.hasPrefix("MAIL failed") { return "MAIL FROM" }
        if message.hasPrefix("RCPT failed") || message.contains("RCPT") { return "RCPT TO" }
        if message.hasPrefix("DATA failed") || message.contains("DATA") { return "DATA" }
        switch result.code {
        case 6, 7: return "connect"
        case 35, 51, 53, 54, 58, 59, 60, 64, 66, 77, 80, 82, 83, 90, 91, 98: return "TLS"
        case 67: return "AUTH"
        case 9: return "EHLO"  // "Remote access denied": the relay refused the session
        // libcurl's "weird reply" after the message was sent is the relay refusing it (a 5xx
        // after the final dot); before that, the greeting or EHLO went wrong.
        case 8:
            return message.contains("EHLO") || message.contains("HELO")
                ? "EHLO" : result.responseCode >= 400 ? "DATA" : "reply"
        case 28: return result.responseCode == 0 ? "connect" : "timeout"  // no greeting yet: it never connected
        default: return "connection"
        }
    }
}

/// E-mail into a Maildir (`tmp/` then renamed into `new/`), the default when no SMTP server
/// is configured, so a fresh machine works and `mutt -f` reads what was sent.
public struct MaildirTransport: Transport {
    let directory: URL
    private let queue = DispatchQueue(label: "herald-maildir")

    /// Creates `directory` with its `tmp`, `new` and `cur` folders when missing.
    public init(directory: URL) throws {
        self.directory = directory
        for folder in ["tmp", "new", "cur"] {
            try FileManager.default.createDirectory(
                at: directory.appending(path: folder), withIntermediateDirectories: true)
        }
    }

    /// `maildir:` and the directory's path.
    public var destination: String { "maildir:" + directory.path }

    /// Writes the message into `tmp/`, syncs it and moves it into `new/`, off the Swift pool.
    public func send(_ delivery: ClaimedDelivery) async -> SendResult {
        // File writes and fsync block: they run on a queue of their own, not the Swift pool.
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: write(delivery)) }
        }
    }

    private func write(_ delivery: ClaimedDelivery) -> SendResult {
        // Unique per delivery and attempt, as Maildir asks: time, id, attempt, host.
        let name =
            "\(Int(Date().timeIntervalSince1970)).H\(delivery.id)_\(delivery.attempts).\(ProcessInfo.processInfo.hostName)"
        let temporary = directory.appending(path: "tmp/\(name)").path
        let final = directory.appending(path: "new/\(name)").path
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else {
            return .failed("cannot create \(temporary): \(String(cString: strerror(errno)))", retryAfter: nil)
        }
        let written = delivery.payload.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd)
        close(fd)
        guard written == delivery.payload.count, synced == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            return .failed("cannot write \(temporary): \(reason)", retryAfter: nil)
        }
        guard rename(temporary, final) == 0 else {
            unlink(temporary)
            return .failed(
                "cannot move the message into \(final): \(String(cString: strerror(errno)))", retryAfter: nil)
        }
        return .delivered
    }
}

/// Chat and generic webhooks over HTTP(S), by libcurl.
public struct WebhookTransport: Transport {
    let engine: CurlEngine
    let allowPrivateTargets: Bool

    /// Creates a transport on `engine`; `allowPrivateTargets` lets URLs reach loopback and private addresses.
    public init(engine: CurlEngine, allowPrivateTargets: Bool) {
        self.engine = engine
        self.allowPrivateTargets = allowPrivateTargets
    }

    /// Only `webhook`: each delivery has a URL of its own, which may carry a credential.
    public var destination: String { "webhook" }

    /// Posts the payload (Matrix: puts the message) and waits for the receiver's answer.
    public func send(_ delivery: ClaimedDelivery) async -> SendResult {
        Self.classify(await engine.perform(request(delivery), lane: delivery.host))
    }

    /// Queues the request on the engine; `completion` runs on the engine's thread.
    public func start(_ delivery: ClaimedDelivery, completion: @escaping @Sendable (SendResult) -> Void) {
        engine.submit(request(delivery), lane: delivery.host) { completion(Self.classify($0)) }
    }

    private func request(_ delivery: ClaimedDelivery) -> CurlRequest {
        var headers = ["Content-Type: application/json", "webhook-id: \(delivery.messageID)"]
        var method = "POST"
        var url = delivery.recipient
        switch delivery.format ?? .webhook {
        case .webhook:
            // Signed at send time: receivers reject old timestamps, and a retry may be hours later.
            let timestamp = Int(Date().timeIntervalSince1970)
            headers.append("webhook-timestamp: \(timestamp)")
            if let secret = delivery.secret,
                let signature = StandardWebhooks.signature(
                    secret: secret, id: delivery.messageID, timestamp: timestamp, body: delivery.payload)
            {
                headers.append("webhook-signature: \(signature)")
            }
        case .matrix:
            // The client-server API: PUT with the message id as transaction id, so a resend is a no-op.
            method = "PUT"
            url +=
                "/send/m.room.message/"
                + (delivery.messageID.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed)
                    ?? delivery.messageID)
            if let token = delivery.secret { headers.append("Authorization: Bearer \(token)") }
        case .slack, .mattermost, .discord, .teams:
            break
        }
        return .http(
            method: method, url: url, headers: headers, body: delivery.payload, refusePrivate: !allowPrivateTargets)
    }

    /// Ends the sends still waiting for a connection to an endpoint as `.notAttempted`.
    public func stopWaiting() { engine.dropWaiting() }

    /// 2xx delivered; 410 gone; a private target, and a 4xx that says the request itself is
    /// wrong (400, 401, 403, 404, 413, 422 …), permanent at once, since sending it again for
    /// two days changes nothing; 408, 425, 429, 5xx and network errors worth a retry.
    static func classify(_ result: CurlResult) -> SendResult {
        if result.wasNotStarted { return .notAttempted }
        if result.refusedPrivateTarget {
            return .permanent(
                "refused: the URL resolves to a loopback or private address (HERALD_ALLOW_PRIVATE_TARGETS allows it)")
        }
        guard result.code == 0 else { return .failed(result.error, retryAfter: nil) }
        let snippet = result.responseSnippet.isEmpty ? "" : ": " + result.responseSnippet.prefix(200)
        switch result.responseCode {
        case 200..<300: return .delivered
        case 410: return .gone("HTTP 410 Gone\(snippet)")
        case 300..<400:
            return .failed("HTTP \(result.responseCode): redirects are not followed\(snippet)", retryAfter: nil)
        case 408, 425, 429: return .failed("HTTP \(result.responseCode)\(snippet)", retryAfter: result.retryAfter)
        case 400..<500:
            return .permanent("HTTP \(result.responseCode) (final: the receiver refuses the request itself)\(snippet)")
        default: return .failed("HTTP \(result.responseCode)\(snippet)", retryAfter: result.retryAfter)
        }
    }
}

/// Standard Webhooks signatures (standardwebhooks.com): HMAC-SHA256 over `id.timestamp.body`
/// with the secret's key bytes, sent as `v1,<base64>`.
public enum StandardWebhooks {
    /// The header value, or nil if `secret` is not `whsec_` + base64.
    public static func signature(secret: String, id: String, timestamp: Int, body: [UInt8]) -> String? {
        guard secret.hasPrefix("whsec_"), let key = Data(base64Encoded: String(secret.dropFirst(6))) else { return nil }
        let prefix = Array("\(id).\(timestamp).".utf8)
        let mac = prefix.withUnsafeBytes { prefix in
            body.withUnsafeBytes { body in hmacSHA256(key: Array(key), parts: [prefix, body]) }
        }
        return "v1," + Data(mac).base64EncodedString()
    }

    /// HMAC (RFC 2104) over SHA-256, fed raw buffers: swift-crypto's `HMAC` takes its key and
    /// data through generic collections, which cost more than the hashing for a 2 KB webhook.
    static func hmacSHA256(key: [UInt8], parts: [UnsafeRawBufferPointer]) -> [UInt8] {
        let blockSize = 64
        var block = key.count > blockSize ? Array(SHA256.hash(data: key)) : key
        block += repeatElement(0, count: blockSize - block.count)
        var inner = SHA256()
        withPad(block, 0x36) { inner.update(bufferPointer: $0) }
        for part in parts { inner.update(bufferPointer: part) }
        var outer = SHA256()
        withPad(block, 0x5c) { outer.update(bufferPointer: $0) }
        inner.finalize().withUnsafeBytes { outer.update(bufferPointer: $0) }
        return outer.finalize().withUnsafeBytes { Array($0) }
    }

    private static func withPad(_ block: [UInt8], _ pad: UInt8, _ body: (UnsafeRawBufferPointer) -> Void) {
        block.map { $0 ^ pad }.withUnsafeBytes(body)
    }
}
