import Foundation
import Testing

@testable import HeraldCore

/// A template filled for one recipient is byte for byte the message rendered for it.
struct MailTemplateTests {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

    static func token<G: RandomNumberGenerator>(_ generator: inout G) -> String {
        String((0..<MailTemplate.tokenLength).map { _ in alphabet.randomElement(using: &generator)! })
    }

    /// A message as the fan-out renders it, with its links at `ack` and `unsubscribe`.
    static func message(to: String, messageID: String, ack: String, unsubscribe: String, body: String) -> EmailMessage {
        let url = "https://herald.example/ack?token=\(ack)"
        let text =
            body + "\n\nAcknowledge: \(url)\nReady: " + NoticeWriter.answerURL(ackURL: url, status: .ready)
            + "\nNot affected: " + NoticeWriter.answerURL(ackURL: url, status: .notAffected)
        return EmailMessage(
            from: "security@project.example", fromName: "Project – Security", to: to,
            subject: "Héap overflow [CVE-2026-1]",
            text: text, messageID: messageID, date: Date(timeIntervalSince1970: 1_800_000_000),
            extraHeaders: [
                ("List-Id", "Project early notice <project.early-notice.herald.example>"),
                ("List-Unsubscribe", "<https://herald.example/unsubscribe?token=\(unsubscribe)>"),
            ])
    }

    @Test func filledIsWhatRenderingForTheRecipientGives() {
        var generator = SystemRandomNumberGenerator()
        // Bodies of every length shift the links across quoted-printable line breaks.
        let words = "Een aanvaller kan één buffer overschrijven — æøå. "
        for length in stride(from: 0, through: 400, by: 7) {
            let body = String(repeating: words, count: 10).prefix(length)
            let template = MailTemplate(
                Array(
                    Self.message(
                        to: MailTemplate.recipientSlot, messageID: MailTemplate.messageIDSlot,
                        ack: MailTemplate.tokenSlots[0], unsubscribe: MailTemplate.tokenSlots[1], body: String(body)
                    ).rendered.utf8))
            let recipient = "contact\(length)@" + String(repeating: "sub.", count: length % 9) + "org.example"
            let (ack, unsubscribe) = (Self.token(&generator), Self.token(&generator))
            let messageID = "herald.0123456789abcdef.\(length)@herald.example"
            let expected = Self.message(
                to: recipient, messageID: messageID, ack: ack, unsubscribe: unsubscribe, body: String(body)
            ).rendered
            let filled = template.filled(recipient: recipient, messageID: messageID, tokens: [ack, unsubscribe])
            #expect(String(decoding: filled, as: UTF8.self) == expected, "body length \(length)")
        }
    }

    @Test func aSlotSplitByASoftLineBreakIsStillFilled() {
        // 60 characters before the link put its token across the 76-octet line end.
        let text = String(repeating: "x", count: 60) + MailTemplate.tokenSlots[0] + " end"
        let encoded = EmailMessage.quotedPrintable(text)
        #expect(encoded.contains("=\r\n"))
        let template = MailTemplate(Array(encoded.utf8))
        let token = String(repeating: "Q", count: MailTemplate.tokenLength)
        let filled = String(
            decoding: template.filled(recipient: "a@b.example", messageID: "m", tokens: [token]), as: UTF8.self)
        #expect(filled == EmailMessage.quotedPrintable(String(repeating: "x", count: 60) + token + " end"))
    }

    @Test func aValueThatIsNoTokenLeavesTheSlotAndAddsNothing() {
        let template = MailTemplate(
            Array("To: \(MailTemplate.recipientSlot)\r\n\r\nlink \(MailTemplate.tokenSlots[0])".utf8))
        let filled = String(
            decoding: template.filled(
                recipient: "a@b.example\r\nBcc: x@evil.example", messageID: "m", tokens: ["<script>"]),
            as: UTF8.self)
        // A line break in the address cannot add a header; a value that is no token fills nothing.
        #expect(filled == "To: a@b.example  Bcc: x@evil.example\r\n\r\nlink \(MailTemplate.tokenSlots[0])")
    }
}
