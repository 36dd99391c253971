import Foundation
import Testing

@testable import HeraldCore

/// A template filled for one recipient is byte for byte the message rendered for it.
struct MailTemplateTests {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

    static func token<G: RandomNumberGenerator>(_ generator: inout G) -> String {
        String((0..<MailTemplate.tokenLength).map { _ in alphabet.randomElement(using: &generator)! })
    }

    static func slots() -> MailTemplate.Slots {
        var generator = SystemRandomNumberGenerator()
        return MailTemplate.Slots(random: (0..<4).map { _ in token(&generator) })
    }

    /// A message as the fan-out renders it, with its links at `ack` and `unsubscribe`.
    static func message(
        to: String, messageID: String, ack: String, unsubscribe: String, body: String, subject: String = "Héap overflow"
    ) -> EmailMessage {
        let url = "https://herald.example/ack?token=\(ack)"
        let text =
            body + "\n\nAcknowledge: \(url)\nReady: " + NoticeWriter.answerURL(ackURL: url, status: .ready)
            + "\nNot affected: " + NoticeWriter.answerURL(ackURL: url, status: .notAffected)
        return EmailMessage(
            from: "security@project.example", fromName: "Project – Security", to: to, subject: subject,
            text: text, messageID: messageID, date: Date(timeIntervalSince1970: 1_800_000_000),
            extraHeaders: [
                ("List-Id", "Project early notice <project.early-notice.herald.example>"),
                ("List-Unsubscribe", "<https://herald.example/unsubscribe?token=\(unsubscribe)>"),
            ])
    }

    static func template(_ slots: MailTemplate.Slots, body: String, subject: String = "Héap overflow") -> MailTemplate {
        let rendered = message(
            to: slots.recipient, messageID: slots.messageID, ack: slots.tokens[0], unsubscribe: slots.tokens[1],
            body: body, subject: subject
        ).rendered
        // Through the bytes as stored, as a claim reads them.
        return MailTemplate(stored: MailTemplate.stored(Array(rendered.utf8), slots: slots))
    }

    @Test func filledIsWhatRenderingForTheRecipientGives() {
        var generator = SystemRandomNumberGenerator()
        // Bodies of every length shift the links across quoted-printable line breaks.
        let words = "Een aanvaller kan één buffer overschrijven — æøå. "
        for length in stride(from: 0, through: 400, by: 7) {
            let body = String(String(repeating: words, count: 10).prefix(length))
            let template = Self.template(Self.slots(), body: body)
            let recipient = "contact\(length)@" + String(repeating: "sub.", count: length % 9) + "org.example"
            let (ack, unsubscribe) = (Self.token(&generator), Self.token(&generator))
            let messageID = "herald.0123456789abcdef.\(length)@herald.example"
            let expected = Self.message(
                to: recipient, messageID: messageID, ack: ack, unsubscribe: unsubscribe, body: body
            ).rendered
            let filled = template.filled(recipient: recipient, messageID: messageID, tokens: [ack, unsubscribe])
            #expect(String(decoding: filled, as: UTF8.self) == expected, "body length \(length)")
        }
    }

    @Test func textThatNamesSlotsOfAnotherTemplateIsLeftAsWritten() {
        // A release manager cannot know a fan-out's slots: the ones of another template, in the
        // subject and the body, stay words and get no recipient's link or header.
        let other = Self.slots()
        let hostile = "\(other.tokens[0]) \(other.tokens[1]) \(other.recipient) Message-ID: <\(other.messageID)>"
        let template = Self.template(Self.slots(), body: hostile, subject: hostile)
        let filled = String(
            decoding: template.filled(
                recipient: "a@b.example", messageID: "m@herald.example",
                tokens: [String(repeating: "A", count: 43), String(repeating: "B", count: 43)]),
            as: UTF8.self)
        let decoded = filled.replacingOccurrences(of: "=\r\n", with: "")
        #expect(decoded.contains(other.tokens[0]) && decoded.contains(other.tokens[1]))
        #expect(filled.components(separatedBy: "\r\nMessage-ID: ").count == 2)
        #expect(filled.contains("\r\nTo: a@b.example\r\n") && filled.contains("\r\nMessage-ID: <m@herald.example>\r\n"))
    }

    @Test func aSlotSplitByASoftLineBreakIsStillFilled() {
        let slots = Self.slots()
        // 60 characters before the link put its token across the 76-octet line end.
        let text = String(repeating: "x", count: 60) + slots.tokens[0] + " end"
        let encoded = EmailMessage.quotedPrintable(text)
        #expect(encoded.contains("=\r\n"))
        let template = MailTemplate(message: Array(encoded.utf8), slots: slots)
        let token = String(repeating: "Q", count: MailTemplate.tokenLength)
        let filled = String(
            decoding: template.filled(recipient: "a@b.example", messageID: "m", tokens: [token]), as: UTF8.self)
        #expect(filled == EmailMessage.quotedPrintable(String(repeating: "x", count: 60) + token + " end"))
    }

    @Test func aValueThatIsNoTokenLeavesTheSlotAndAddsNothing() {
        let slots = Self.slots()
        let template = MailTemplate(
            message: Array("To: \(slots.recipient)\r\n\r\nlink \(slots.tokens[0])".utf8), slots: slots)
        let filled = String(
            decoding: template.filled(
                recipient: "a@b.example\r\nBcc: x@evil.example", messageID: "m", tokens: ["<script>"]),
            as: UTF8.self)
        // A line break in the address cannot add a header; a value that is no token fills nothing.
        #expect(filled == "To: a@b.example  Bcc: x@evil.example\r\n\r\nlink \(slots.tokens[0])")
    }
}
