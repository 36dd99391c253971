import Crypto
import Foundation
import HeraldCore
import HeraldStore

/// Chat and generic webhooks over HTTP(S), by `CurlEngine`.
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
        Self.classify(await engine.perform(request(delivery)))
    }

    /// Queues the request on the engine; `completion` runs on the engine's thread.
    public func start(_ delivery: ClaimedDelivery, completion: @escaping @Sendable (SendResult) -> Void) {
        engine.submit(request(delivery)) { completion(Self.classify($0)) }
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
                let signature = StandardWebhooks.signatureHeader(
                    secret: secret, id: delivery.messageID, timestamp: timestamp, body: delivery.payload)
            {
                headers.append(signature)
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

    /// Connects to the endpoints' hosts ahead of their sends, with the check of private
    /// addresses their sends get.
    public func connectAhead(to recipients: [String]) {
        engine.connectAhead(to: recipients, refusePrivate: !allowPrivateTargets)
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
        // A URL HTTP/1.1 cannot carry, or a header that would split: the same on every try.
        if result.isUnsendable { return .permanent("refused before sending: \(result.error)") }
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
