import Foundation

/// An RFC 5322 message with one UTF-8 text/plain part. Every header value is stripped of
/// line breaks and non-ASCII values are RFC 2047 encoded words, so no field can add a header;
/// the body is quoted-printable, so no line exceeds 76 octets.
public struct EmailMessage: Equatable, Sendable {
    /// Sender address.
    public var from: String
    /// Sender display name.
    public var fromName: String
    /// Recipient address.
    public var to: String
    /// Subject line; non-ASCII is sent as encoded words.
    public var subject: String
    /// The body as plain text, with any line ends; sent quoted-printable with CRLF.
    public var text: String
    /// Without angle brackets: `herald.12.ab34@example.org`.
    public var messageID: String
    /// When it was written: the Date header.
    public var date: Date
    /// Further headers in order, e.g. List-Id, List-Unsubscribe.
    public var extraHeaders: [(name: String, value: String)]

    /// Creates a message value; nothing is encoded until `rendered`.
    public init(
        from: String, fromName: String, to: String, subject: String, text: String, messageID: String, date: Date,
        extraHeaders: [(name: String, value: String)] = []
    ) {
        self.from = from
        self.fromName = fromName
        self.to = to
        self.subject = subject
        self.text = text
        self.messageID = messageID
        self.date = date
        self.extraHeaders = extraHeaders
    }

    /// Equal when they render to the same text.
    public static func == (lhs: EmailMessage, rhs: EmailMessage) -> Bool { lhs.rendered == rhs.rendered }

    /// The message as sent: CRLF line ends.
    public var rendered: String {
        var lines: [String] = []
        func header(_ name: String, _ value: String) { lines.append(Self.fold(name + ": " + value)) }
        header("Date", Self.rfc5322Date(date))
        header("From", Self.mailbox(name: fromName, address: from))
        header("To", Self.singleLine(to))
        header("Subject", Self.encodedWords(subject))
        header("Message-ID", "<" + Self.singleLine(messageID) + ">")
        for (name, value) in extraHeaders {
            let cleanName = name.filter { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
            guard !cleanName.isEmpty else { continue }
            header(cleanName, Self.encodedWords(value))
        }
        header("MIME-Version", "1.0")
        header("Content-Type", "text/plain; charset=utf-8")
        header("Content-Transfer-Encoding", "quoted-printable")
        header("Auto-Submitted", "auto-generated")
        return lines.joined(separator: "\r\n") + "\r\n\r\n" + Self.quotedPrintable(text)
    }

    // MARK: - Header encoding

    /// The value on one line: CR, LF and other controls become spaces.
    static func singleLine(_ value: String) -> String {
        guard value.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) else { return value }
        return String(
            String.UnicodeScalarView(value.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : $0 }))
    }

    /// `value` as is when it is printable ASCII, else as RFC 2047 `=?UTF-8?B?…?=` words
    /// of at most 75 characters, split on character boundaries.
    static func encodedWords(_ value: String) -> String {
        let line = singleLine(value)
        let bytes = line.utf8
        if bytes.allSatisfy({ $0 < 0x80 })
            && !zip(bytes, bytes.dropFirst()).contains(where: { $0 == UInt8(ascii: "=") && $1 == UInt8(ascii: "?") })
        {
            return line
        }
        var words: [String] = []
        var chunk = ""
        for character in line {
            // 39 bytes of UTF-8 are 52 characters of base64: 64 with the wrapper, so even after
            // "Subject: " a word fits on its line.
            if chunk.utf8.count + String(character).utf8.count > 39 {
                words.append(chunk)
                chunk = ""
            }
            chunk.append(character)
        }
        if !chunk.isEmpty { words.append(chunk) }
        return words.map { "=?UTF-8?B?" + Data($0.utf8).base64EncodedString() + "?=" }.joined(separator: " ")
    }

    /// `"Name" <address>`, the name encoded when needed.
    static func mailbox(name: String, address: String) -> String {
        let cleanName = singleLine(name)
        let cleanAddress = singleLine(address)
        guard !cleanName.isEmpty else { return cleanAddress }
        if cleanName.utf8.allSatisfy({ $0 < 0x80 }) {
            guard cleanName.utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\"") }) else {
                return "\"\(cleanName)\" <\(cleanAddress)>"
            }
            let quoted = cleanName.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(
                of: "\"", with: "\\\"")
            return "\"\(quoted)\" <\(cleanAddress)>"
        }
        return encodedWords(cleanName) + " <\(cleanAddress)>"
    }

    /// Folds a header line longer than 78 characters at spaces (RFC 5322 §2.2.3).
    static func fold(_ line: String) -> String {
        guard line.utf8.count > 78 else { return line }
        var result: [String] = []
        var current = ""
        for word in line.split(separator: " ", omittingEmptySubsequences: false) {
            // Never break between "Name:" and the first word of its value.
            let isFirstValueWord = result.isEmpty && !current.contains(" ")
            if !current.isEmpty && !isFirstValueWord && current.utf8.count + 1 + word.utf8.count > 78 {
                result.append(current)
                current = " " + word
            } else {
                current += (current.isEmpty ? "" : " ") + word
            }
        }
        result.append(current)
        return result.joined(separator: "\r\n")
    }

    // MARK: - Body and date

    /// Quoted-printable (RFC 2045 §6.7) of the UTF-8 text with CRLF line ends. Works on bytes:
    /// a 100,000-recipient fan-out encodes every body once per recipient.
    static func quotedPrintable(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        let input = Array(text.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(input.count + input.count / 8)
        var length = 0
        var index = 0
        // Room for `width` more octets on this line, or a soft line break ("=" CRLF) first.
        func makeRoom(_ width: Int) {
            if length + width > 75 {
                output.append(61)
                output.append(13)
                output.append(10)
                length = 0
            }
            length += width
        }
        while index < input.count {
            let byte = input[index]
            if byte == 13 || byte == 10 {
                // CR, LF and CRLF all end a line.
                if byte == 13 && index + 1 < input.count && input[index + 1] == 10 { index += 1 }
                output.append(13)
                output.append(10)
                length = 0
            } else {
                let next = index + 1 < input.count ? input[index + 1] : 10
                let lineEnds = next == 13 || next == 10
                // "From " at a line's start is encoded: mbox delivery would turn it into ">From "
                // and break a signature over the text (RFC 3156 §3).
                let from =
                    length == 0 && byte == 70 && input.count >= index + 5
                    && input[index..<index + 5].elementsEqual("From ".utf8)
                if !from && ((byte >= 33 && byte <= 126 && byte != 61) || ((byte == 32 || byte == 9) && !lineEnds)) {
                    makeRoom(1)
                    output.append(byte)
                } else {
                    makeRoom(3)
                    output.append(61)
                    output.append(hex[Int(byte >> 4)])
                    output.append(hex[Int(byte & 15)])
                }
            }
            index += 1
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// The HTTP date (RFC 9110 IMF-fixdate): `Mon, 23 Nov 2026 12:59:15 GMT`.
    public static func httpDate(_ date: Date) -> String {
        String(rfc5322Date(date).dropLast(5)) + "GMT"
    }

    /// Reads an IMF-fixdate; nil for anything else.
    public static func parseHTTPDate(_ text: String) -> Date? {
        let parts = text.split(separator: " ")
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        guard parts.count == 6, parts[5] == "GMT", let day = Int(parts[1]),
            let month = months.firstIndex(of: String(parts[2])),
            let year = Int(parts[3])
        else { return nil }
        let clock = parts[4].split(separator: ":").compactMap { Int($0) }
        guard clock.count == 3, (1...31).contains(day) else { return nil }
        let days = Instant.daysFromCivil(year: year, month: month + 1, day: day)
        return Date(timeIntervalSince1970: Double(days * 86_400 + Int64(clock[0] * 3600 + clock[1] * 60 + clock[2])))
    }

    /// `Mon, 23 Nov 2026 12:59:15 +0000`.
    static func rfc5322Date(_ date: Date) -> String {
        let seconds = Int64(floor(date.timeIntervalSince1970))
        let (y, m, d, hh, mm, ss) = Instant.civil(fromEpochSeconds: seconds)
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][Int(((days % 7) + 7) % 7)]
        let month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][m - 1]
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : String(value) }
        let year = String(y)
        return
            "\(weekday), \(two(d)) \(month) \(String(repeating: "0", count: max(0, 4 - year.count)) + year) \(two(hh)):\(two(mm)):\(two(ss)) +0000"
    }
}
