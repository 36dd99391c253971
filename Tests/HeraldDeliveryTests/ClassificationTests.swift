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
        // The relay's refusal of Herald itself is its configuration, not the recipient's
        // address: the mail waits for it to be fixed instead of dying (a 5xx used to kill it).
        #expect(smtp(67, "Login denied", reply: 535) == .failed("SMTP AUTH 535: Login denied", retryAfter: nil))
        #expect(
            smtp(9, "Remote access denied: 550", reply: 550)
                == .failed("SMTP EHLO 550: Remote access denied: 550", retryAfter: nil))
        // Refusals of a message's own commands are final for a 5xx.
        #expect(
            SMTPClient.refused("RCPT TO", SMTPReply(code: 550, text: "5.1.1 no such user"))
                == .permanent("SMTP RCPT TO 550: 5.1.1 no such user"))
        #expect(
            SMTPClient.refused("DATA", SMTPReply(code: 554, text: "5.7.1 spam"))
                == .permanent("SMTP DATA 554: 5.7.1 spam"))
        #expect(
            SMTPClient.refused("MAIL FROM", SMTPReply(code: 451, text: "4.3.0 later"))
                == .failed("SMTP MAIL FROM 451: 4.3.0 later", retryAfter: nil))
    }
}
