import Foundation
import Testing

@testable import HeraldDelivery

/// Answers classified as the receiver meant them, and SMTP errors that name the step that failed.
@Suite struct ClassificationTests {
    func http(_ status: Int, body: String = "", retryAfter: TimeInterval? = nil) -> SendResult {
        WebhookTransport.classify(
            CurlResult(code: 0, error: "", responseCode: status, retryAfter: retryAfter, responseSnippet: body))
    }

    @Test func aRefusedRequestIsFinalAtOnceAndATemporaryOneIsRetried() {
        // A chat service's 400 used to be retried for two days.
        for status in [400, 401, 403, 404, 413, 422] {
            guard case let .permanent(error) = http(status, body: "invalid_blocks") else {
                Issue.record("HTTP \(status) should be final")
                continue
            }
            #expect(
                error.hasPrefix("HTTP \(status)") && error.contains("invalid_blocks"),
                "the answer's first bytes are kept: \(error)")
        }
        for status in [408, 425, 429, 500, 502, 503] {
            guard case .failed = http(status) else {
                Issue.record("HTTP \(status) should be retried")
                continue
            }
        }
        #expect(http(429, retryAfter: 30) == .failed("HTTP 429", retryAfter: 30))
        #expect(http(204) == .delivered)
        #expect(http(410) == .gone("HTTP 410 Gone"))
    }

    @Test func smtpErrorsNameTheStepThatFailed() {
        func smtp(_ code: Int32, _ message: String, reply: Int) -> SendResult {
            SMTPTransport.classify(
                CurlResult(code: code, error: message, responseCode: reply, retryAfter: nil, responseSnippet: ""))
        }
        // A TLS failure used to read "SMTP 220: …", the greeting's code.
        #expect(
            smtp(60, "SSL certificate problem: unable to get local issuer certificate", reply: 220)
                == .failed("SMTP TLS: SSL certificate problem: unable to get local issuer certificate", retryAfter: nil)
        )
        #expect(
            smtp(7, "Failed to connect to relay port 587", reply: 0)
                == .failed("SMTP connect: Failed to connect to relay port 587", retryAfter: nil))
        #expect(
            smtp(67, "Login denied", reply: 535) == .failed("SMTP AUTH 535: Login denied", retryAfter: nil)
                || smtp(67, "Login denied", reply: 535)
                    == .permanent("SMTP AUTH 535: Login denied")
        )
        #expect(smtp(55, "MAIL failed: 550", reply: 550) == .permanent("SMTP MAIL FROM 550: MAIL failed: 550"))
        #expect(smtp(55, "RCPT failed: 550", reply: 550) == .permanent("SMTP RCPT TO 550: RCPT failed: 550"))
        #expect(
            smtp(55, "RCPT failed: 451", reply: 451) == .failed("SMTP RCPT TO 451: RCPT failed: 451", retryAfter: nil))
    }

    @Test func aRelayRefusingTheMessageAfterItsTextIsFinal() {
        // libcurl says "weird server reply" (8) when the relay answers 554 after the final dot.
        let refused = SMTPTransport.classify(
            CurlResult(code: 8, error: "Weird server reply", responseCode: 554, retryAfter: nil, responseSnippet: ""))
        #expect(refused == .permanent("SMTP DATA 554: Weird server reply"))
        let denied = SMTPTransport.classify(
            CurlResult(
                code: 9, error: "Remote access denied: 550", responseCode: 550, retryAfter: nil, responseSnippet: ""))
        #expect(denied == .permanent("SMTP EHLO 550: Remote access denied: 550"))
    }
}
