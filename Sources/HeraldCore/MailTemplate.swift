/// One message for every recipient of a fan-out in one language, rendered once: what differs
/// per recipient (its address, its Message-ID, its link tokens) are slots, filled at send time.
/// A 100,000-recipient notice is then one template and 100,000 small rows, not 100,000
/// rendered messages written inside the transaction that schedules it.
///
/// `filled` gives exactly the bytes `EmailMessage.rendered` gives for the recipient's own
/// values: the address and the Message-ID are each alone on a header line, rendered as that
/// line would be; a token slot is as long as a token and of the same characters, so the
/// quoted-printable body breaks its lines in the same places around it.
public struct MailTemplate: Sendable {
    /// Stand-in recipient while rendering.
    public static let recipientSlot = "recipient.slot@herald.invalid"
    /// Stand-in Message-ID while rendering.
    public static let messageIDSlot = "message-id.slot@herald.invalid"
    /// Stand-ins for link tokens, by index: 43 characters of base64url, as long as a token.
    public static let tokenSlots = [
        "HeraldTemplateSlot0-acknowledge-xxxxxxxxxxx", "HeraldTemplateSlot1-unsubscribe-xxxxxxxxxxx",
    ]
    /// The length of a link token (base64url of 32 bytes, unpadded).
    public static let tokenLength = 43

    /// The message rendered with the stand-ins.
    public let bytes: [UInt8]
    /// Where the To and Message-ID lines are (without their CRLF).
    private let recipientLine: Range<Int>?
    private let messageIDLine: Range<Int>?
    /// For each token slot, each place it appears: the offsets of its 43 characters, which
    /// a quoted-printable soft line break ("=" CRLF) may separate.
    private let tokenPlaces: [[[Int]]]

    /// A template from a message rendered with the stand-ins (`EmailMessage.rendered` of a
    /// message to `recipientSlot`, with `messageIDSlot` and token slots in its links).
    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        let headerEnd = Self.find(Array("\r\n\r\n".utf8), in: bytes, from: 0) ?? bytes.count
        func line(containing slot: String) -> Range<Int>? {
            guard let at = Self.find(Array(slot.utf8), in: bytes, from: 0), at < headerEnd else { return nil }
            let start = (bytes[..<at].lastIndex(of: 10)).map { $0 + 1 } ?? 0
            let end = Self.find([13, 10], in: bytes, from: at) ?? bytes.count
            return start..<end
        }
        recipientLine = line(containing: Self.recipientSlot)
        messageIDLine = line(containing: Self.messageIDSlot)
        tokenPlaces = Self.tokenSlots.map { Self.places(of: Array($0.utf8), in: bytes) }
    }

    /// The message for one recipient. `tokens` fill the token slots in order; each must be a
    /// 43-character token of base64url (anything else leaves its slot's stand-in).
    public func filled(recipient: String, messageID: String, tokens: [String]) -> [UInt8] {
        var output = bytes
        for (index, token) in tokens.enumerated() where index < tokenPlaces.count {
            let characters = Array(token.utf8)
            guard characters.count == Self.tokenLength, characters.allSatisfy(Self.isTokenCharacter) else { continue }
            for place in tokenPlaces[index] {
                for (offset, character) in zip(place, characters) { output[offset] = character }
            }
        }
        // The header lines last, the later one first, so the earlier range still holds.
        var lines: [(Range<Int>, String)] = []
        if let range = recipientLine {
            lines.append((range, EmailMessage.fold("To: " + EmailMessage.singleLine(recipient))))
        }
        if let range = messageIDLine {
            lines.append((range, EmailMessage.fold("Message-ID: <" + EmailMessage.singleLine(messageID) + ">")))
        }
        for (range, line) in lines.sorted(by: { $0.0.lowerBound > $1.0.lowerBound }) {
            output.replaceSubrange(range, with: Array(line.utf8))
        }
        return output
    }

    static func isTokenCharacter(_ byte: UInt8) -> Bool {
        (65...90).contains(byte) || (97...122).contains(byte) || (48...57).contains(byte) || byte == 45 || byte == 95
    }

    /// Each place `slot` appears in `bytes`, soft line breaks allowed between its characters.
    private static func places(of slot: [UInt8], in bytes: [UInt8]) -> [[Int]] {
        var found: [[Int]] = []
        var start = 0
        while start < bytes.count {
            guard let first = bytes[start...].firstIndex(of: slot[0]) else { break }
            var offsets: [Int] = []
            var at = first
            while offsets.count < slot.count && at < bytes.count {
                if bytes[at] == slot[offsets.count] {
                    offsets.append(at)
                    at += 1
                } else if bytes[at] == 61 && at + 2 < bytes.count && bytes[at + 1] == 13 && bytes[at + 2] == 10 {
                    at += 3  // "=" CRLF: a soft line break inside the slot
                } else {
                    break
                }
            }
            if offsets.count == slot.count {
                found.append(offsets)
                start = at
            } else {
                start = first + 1
            }
        }
        return found
    }

    private static func find(_ needle: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty, bytes.count >= needle.count else { return nil }
        var index = start
        while index <= bytes.count - needle.count {
            guard let first = bytes[index...(bytes.count - needle.count)].firstIndex(of: needle[0]) else { return nil }
            if bytes[first..<(first + needle.count)].elementsEqual(needle) { return first }
            index = first + 1
        }
        return nil
    }
}
