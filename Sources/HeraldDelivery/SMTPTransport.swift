import Crypto
import Foundation
import HeraldCore
import HeraldStore

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
