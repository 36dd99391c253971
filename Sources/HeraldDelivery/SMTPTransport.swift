import Crypto
import Foundation
import HeraldCore
import HeraldStore

/// E-mail through an SMTP relay: one message per recipient, over `SMTPClient`'s connections.
public struct SMTPTransport: Transport {
    let engine: CurlEngine
    let url: String
    let from: String
    let client: SMTPClient

    /// `url` is `smtp://[user:pass@]host[:port]` (STARTTLS: required when there are
    /// credentials, used when offered otherwise) or `smtps://…`.
    public init(engine: CurlEngine, url: String, from: String) {
        self.engine = engine
        self.url = url
        self.from = from
        let components = URLComponents(string: url)
        // A URL Foundation cannot read may still carry credentials libcurl reads: require TLS.
        requireTLS = components == nil || components?.user != nil
        client = SMTPClient(url: url, requireTLS: requireTLS, from: from, settings: engine.settings)
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
        await withCheckedContinuation { continuation in start(delivery) { continuation.resume(returning: $0) } }
    }

    /// Queues the message on the client; `completion` runs on the client's thread.
    public func start(_ delivery: ClaimedDelivery, completion: @escaping @Sendable (SendResult) -> Void) {
        client.submit(to: delivery.recipient, message: delivery.payload, completion: completion)
    }

    /// Ends the sends still waiting for a connection to the relay as `.notAttempted`.
    public func stopWaiting() { client.dropWaiting() }

    /// Meets the relay as a send would (connect, STARTTLS, EHLO, AUTH) and says NOOP: nil when
    /// it is ready, else the error naming the step that failed. Blocks its thread.
    public func check() -> String? {
        switch Self.classify(CurlEngine.checkSMTP(url: url, requireTLS: requireTLS, settings: engine.settings)) {
        case .delivered: return nil
        case let .failed(error, _), let .permanent(error), let .gone(error): return error
        case .notAttempted: return "not attempted"
        }
    }

    /// A failure to meet the relay (connect, STARTTLS, EHLO, AUTH), from libcurl's code and
    /// words. It is the relay's or its configuration's, never the recipient's: worth another
    /// try once it is fixed, whatever the reply code. Refusals of MAIL, RCPT and DATA are
    /// `SMTPClient.refused`.
    static func classify(_ result: CurlResult) -> SendResult {
        if result.code == 0 { return .delivered }
        let stage = Self.stage(of: result)
        // The server's reply code belongs to a command; to a failed connection or handshake it
        // would only be the greeting's 220, which says nothing.
        let command = ["EHLO", "AUTH", "reply"].contains(stage)
        let error =
            "SMTP \(stage)\(command && result.responseCode > 0 ? " \(result.responseCode)" : ""): \(result.error)"
        return .failed(error, retryAfter: nil)
    }

    /// Which step of meeting the relay failed, from libcurl's code and message: connect, TLS,
    /// EHLO, AUTH, a reply libcurl could not use, or the connection itself.
    static func stage(of result: CurlResult) -> String {
        let message = result.error
        switch result.code {
        case 6, 7: return "connect"
        case 35, 51, 53, 54, 58, 59, 60, 64, 66, 77, 80, 82, 83, 90, 91, 98: return "TLS"
        case 67: return "AUTH"
        case 9: return "EHLO"  // "Remote access denied": the relay refused the session
        case 8: return message.contains("EHLO") || message.contains("HELO") ? "EHLO" : "reply"
        case 28: return result.responseCode == 0 ? "connect" : "timeout"  // no greeting yet: it never connected
        default: return "connection"
        }
    }
}
