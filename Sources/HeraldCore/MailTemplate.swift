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
    /// The stand-ins of one template. They are made at random for each fan-out, so no text a
    /// release manager writes (a title, a body, a note) can contain one and be filled with the
    /// recipient's own links.
    public struct Slots: Equatable, Sendable {
        /// The stand-in address, alone on the To line.
        public let recipient: String
        /// The stand-in Message-ID, alone on its line.
        public let messageID: String
        /// The stand-ins for link tokens, by index: 43 characters of base64url, as long as a token.
        public let tokens: [String]

        /// Slots from random tokens (43 characters of base64url each): the first two name the
        /// recipient and the Message-ID, the rest stand for link tokens.
        public init(random: [String]) {
            recipient = "r" + (random.first ?? "") + "@slot.invalid"
            messageID = "m" + (random.dropFirst().first ?? "") + "@slot.invalid"
            tokens = Array(random.dropFirst(2))
        }

        init(recipient: String, messageID: String, tokens: [String]) {
            self.recipient = recipient
            self.messageID = messageID
            self.tokens = tokens
        }
    }

    /// The length of a link token (base64url of 32 bytes, unpadded).
    public static let tokenLength = 43
    /// The first line of a stored template names its slots; the message follows.
    static let storedPrefix = Array("Herald-Template-Slots:".utf8)

    /// The message rendered with the stand-ins.
    public let bytes: [UInt8]
    /// Its stand-ins.
    public let slots: Slots
    /// Where the To and Message-ID lines are (without their CRLF).
    private let recipientLine: Range<Int>?
    private let messageIDLine: Range<Int>?
    /// For each token slot, each place it appears: the offsets of its 43 characters, which
    /// a quoted-printable soft line break ("=" CRLF) may separate.
    private let tokenPlaces: [[[Int]]]

    /// The bytes to store: the slots on a first line, then `message`, rendered with them
    /// (`EmailMessage.rendered` of a message to `slots.recipient`, with `slots.messageID`, and
    /// the token slots in its links).
    public static func stored(_ message: [UInt8], slots: Slots) -> [UInt8] {
        storedPrefix + Array(([""] + [slots.recipient, slots.messageID] + slots.tokens).joined(separator: " ").utf8)
            + [13, 10] + message
    }

    /// A template as `stored` wrote it. Bytes without the slots line are a message with no slots.
    public init(stored: [UInt8]) {
        guard stored.starts(with: Self.storedPrefix), let end = Self.find([13, 10], in: stored, from: 0) else {
            self.init(message: stored, slots: Slots(recipient: "", messageID: "", tokens: []))
            return
        }
        let names = String(decoding: stored[Self.storedPrefix.count..<end], as: UTF8.self).split(separator: " ")
            .map(String.init)
        let slots =
            names.count >= 2
            ? Slots(recipient: names[0], messageID: names[1], tokens: Array(names.dropFirst(2)))
            : Slots(recipient: "", messageID: "", tokens: [])
        self.init(message: Array(stored[(end + 2)...]), slots: slots)
    }

    /// A template from a message rendered with `slots`.
    public init(message bytes: [UInt8], slots: Slots) {
        self.bytes = bytes
        self.slots = slots
        // The address and the Message-ID are looked for only as header lines of their own.
        let headerEnd = Self.find(Array("\r\n\r\n".utf8), in: bytes, from: 0) ?? bytes.count
        func line(_ name: String, _ slot: String, _ end: String = "") -> Range<Int>? {
            guard !slot.isEmpty else { return nil }
            let wanted = Array((name + ": " + slot + end).utf8)
            var start = 0
            while start < headerEnd {
                let end = Self.find([13, 10], in: bytes, from: start) ?? headerEnd
                if bytes[start..<end].elementsEqual(wanted) { return start..<end }
                start = end + 2
            }
            return nil
        }
        recipientLine = line("To", slots.recipient)
        messageIDLine = line("Message-ID", "<" + slots.messageID, ">")
        tokenPlaces = slots.tokens.map { slot in
            slot.utf8.count == Self.tokenLength ? Self.places(of: Array(slot.utf8), in: bytes) : []
        }
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
