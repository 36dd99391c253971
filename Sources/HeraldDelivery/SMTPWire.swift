import Foundation

/// One reply of an SMTP server (RFC 5321 4.2): its code and its text, lines joined.
struct SMTPReply: Equatable {
    var code: Int
    var text: String

    var isPositive: Bool { (200..<300).contains(code) }
}

/// What a relay said that is not SMTP: the connection cannot be trusted any further.
struct SMTPProtocolError: Error, Equatable {
    var reason: String
}

/// Turns the bytes a relay sends into whole replies: `ddd-text` lines continue one,
/// `ddd text` (or a bare `ddd`) ends it. Bounded, so a relay cannot make it grow without end.
struct SMTPReplyReader {
    /// The longest reply line taken (RFC 5321 4.5.3.1.5 allows 512 octets; relays exceed it).
    static let maxLine = 4096
    /// The most lines in one reply (an EHLO reply has a dozen).
    static let maxLines = 100

    private var partial: [UInt8] = []
    private var lines: [Substring] = []
    private var code = 0

    /// Takes the next bytes and returns the replies they complete, in order.
    mutating func read(_ bytes: UnsafeRawBufferPointer) throws(SMTPProtocolError) -> [SMTPReply] {
        var replies: [SMTPReply] = []
        var start = 0
        while start < bytes.count {
            guard let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) else {
                partial.append(contentsOf: bytes[start...])
                guard partial.count <= Self.maxLine else { throw SMTPProtocolError(reason: "a reply line too long") }
                return replies
            }
            partial.append(contentsOf: bytes[start..<newline])
            start = newline + 1
            if partial.last == UInt8(ascii: "\r") { partial.removeLast() }
            guard partial.count <= Self.maxLine else { throw SMTPProtocolError(reason: "a reply line too long") }
            defer { partial.removeAll(keepingCapacity: true) }
            if let reply = try line(partial) { replies.append(reply) }
        }
        return replies
    }

    /// One whole line: the reply it ends, or nil when more lines follow.
    private mutating func line(_ line: [UInt8]) throws(SMTPProtocolError) -> SMTPReply? {
        let digits = line.prefix(3)
        guard digits.count == 3, digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
            line.count == 3 || line[3] == UInt8(ascii: " ") || line[3] == UInt8(ascii: "-")
        else {
            throw SMTPProtocolError(reason: "not an SMTP reply: \(printable(line.prefix(60)))")
        }
        let lineCode = digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        guard lines.isEmpty || lineCode == code else {
            throw SMTPProtocolError(reason: "a reply whose lines have different codes (\(code), \(lineCode))")
        }
        code = lineCode
        let text = printable(line.dropFirst(4))
        lines.append(Substring(text))
        guard lines.count <= Self.maxLines else { throw SMTPProtocolError(reason: "a reply of too many lines") }
        guard line.count == 3 || line[3] == UInt8(ascii: " ") else { return nil }
        defer { lines.removeAll(keepingCapacity: true) }
        return SMTPReply(code: code, text: String(lines.joined(separator: " ").prefix(300)))
    }
}

/// A peer's words (a relay's reply, a receiver's answer) as they may go into an error record
/// or a log: control characters (a terminal's escape sequences among them) become spaces.
func printable(_ bytes: ArraySlice<UInt8>) -> String {
    String(decoding: bytes.map { $0 < 0x20 || $0 == 0x7F ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
}

/// The bytes a client sends, built in place in the connection's output buffer.
enum SMTPWire {
    /// Appends `message` as DATA's content (RFC 5321 4.5.2): every line ended by CRLF, a bare
    /// CR or LF made one (2.3.8 forbids them; relays that end lines there let a message end
    /// its DATA early and smuggle a second one), a dot at the start of a line doubled, then
    /// the end-of-data line. Herald's messages are CRLF already: that path is two `memchr`s a line.
    static func appendContent(_ message: [UInt8], to out: inout [UInt8]) {
        let cr = UInt8(ascii: "\r")
        let lf = UInt8(ascii: "\n")
        message.withUnsafeBufferPointer { bytes in
            guard let base = bytes.baseAddress else { return }
            let count = bytes.count
            var start = 0
            while start < count {
                if bytes[start] == UInt8(ascii: ".") { out.append(UInt8(ascii: ".")) }
                // The line ends at the first CR or LF.
                let newline =
                    memchr(base + start, Int32(lf), count - start).map {
                        UnsafeRawPointer(base).distance(to: UnsafeRawPointer($0))
                    } ?? count
                let end =
                    memchr(base + start, Int32(cr), newline - start).map {
                        UnsafeRawPointer(base).distance(to: UnsafeRawPointer($0))
                    } ?? newline
                out.append(contentsOf: bytes[start..<end])
                out.append(contentsOf: [cr, lf])
                start = end < count && bytes[end] == cr && end + 1 < count && bytes[end + 1] == lf ? end + 2 : end + 1
            }
        }
        out.append(contentsOf: ".\r\n".utf8)
    }

    /// Appends one command line. `argument` comes from a validated address; a line break or
    /// an angle bracket in it would be a second command, so it is refused here too.
    static func appendCommand(_ verb: String, _ argument: String = "", to out: inout [UInt8]) {
        out.append(contentsOf: verb.utf8)
        out.append(contentsOf: argument.utf8)
        out.append(contentsOf: [13, 10])
    }

    /// Whether `address` can stand between `<` and `>` in MAIL FROM or RCPT TO.
    static func isSafeAddress(_ address: String) -> Bool {
        !address.isEmpty && address.utf8.count <= 320
            && address.utf8.allSatisfy { $0 > 32 && $0 < 127 && $0 != UInt8(ascii: "<") && $0 != UInt8(ascii: ">") }
    }
}
