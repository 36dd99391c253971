/// PGP/MIME (RFC 3156) around a message Herald rendered (`EmailMessage.rendered`, CRLF): the
/// part that is encrypted, and the message that carries it.
///
/// The part encrypted is the body with its content headers and, as protected headers
/// (`protected-headers="v1"`), the real Subject, From, To, Date and Message-ID. Outside stay
/// only headers that say nothing of the advisory: the addresses, the date, the Message-ID,
/// the list headers, and a neutral Subject the caller gives ("[Open Zaak] Private security notice").
public enum PGPMIME {
    /// The headers copied into the encrypted part, so that a reader shows the real ones.
    static let protectedHeaders: Set<String> = ["subject", "from", "to", "date", "message-id"]
    /// The headers that describe the body, which move into the encrypted part.
    static let contentHeaders: Set<String> = ["content-type", "content-transfer-encoding"]

    /// The MIME entity to encrypt, from a whole rendered message.
    public static func innerPart(of message: [UInt8]) -> [UInt8] {
        let (headers, body) = split(message)
        var lines: [[UInt8]] = []
        for (name, line) in headers where contentHeaders.contains(name) {
            if name == "content-type" {
                lines.append(line + Array("; protected-headers=\"v1\"".utf8))
            } else {
                lines.append(line)
            }
        }
        for (name, line) in headers where protectedHeaders.contains(name) { lines.append(line) }
        return joined(lines) + [13, 10, 13, 10] + body
    }

    /// The message as sent: its outer headers, the neutral subject, and the two parts
    /// RFC 3156 §4 names: the version, then the armored OpenPGP message.
    public static func encrypted(
        _ message: [UInt8], armored: [UInt8], outerSubject: String, boundary: String
    ) -> [UInt8] {
        let (headers, _) = split(message)
        var lines: [[UInt8]] = []
        for (name, line) in headers where !contentHeaders.contains(name) && name != "mime-version" {
            lines.append(
                name == "subject"
                    ? Array(EmailMessage.fold("Subject: " + EmailMessage.encodedWords(outerSubject)).utf8) : line)
        }
        lines.append(Array("MIME-Version: 1.0".utf8))
        lines.append(
            Array(
                "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\";\r\n boundary=\"\(boundary)\""
                    .utf8))
        var armor = armored
        // The armored text with CRLF line ends, as mail wants them.
        armor = crlf(armor)
        if armor.last != 10 { armor += [13, 10] }
        let body =
            "This is an OpenPGP/MIME encrypted message (RFC 3156).\r\n"
            + "--\(boundary)\r\n"
            + "Content-Type: application/pgp-encrypted\r\n"
            + "Content-Description: PGP/MIME version identification\r\n\r\n"
            + "Version: 1\r\n\r\n"
            + "--\(boundary)\r\n"
            + "Content-Type: application/octet-stream; name=\"encrypted.asc\"\r\n"
            + "Content-Description: OpenPGP encrypted message\r\n"
            + "Content-Disposition: inline; filename=\"encrypted.asc\"\r\n\r\n"
        return joined(lines) + [13, 10, 13, 10] + Array(body.utf8) + armor + Array("\r\n--\(boundary)--\r\n".utf8)
    }

    /// The entity a signed message signs: its content headers and the body, as sent.
    public static func signedEntity(of message: [UInt8]) -> [UInt8] {
        let (headers, body) = split(message)
        return joined(headers.filter { contentHeaders.contains($0.0) }.map(\.1)) + [13, 10, 13, 10] + body
    }

    /// A signed message (RFC 3156 §5): the outer headers as they were, the entity `signedEntity`
    /// gave, and the armored detached signature of exactly those bytes.
    public static func signed(_ message: [UInt8], signature: [UInt8], boundary: String) -> [UInt8] {
        let (headers, _) = split(message)
        var lines = headers.filter { !contentHeaders.contains($0.0) && $0.0 != "mime-version" }.map(\.1)
        lines.append(Array("MIME-Version: 1.0".utf8))
        lines.append(
            Array(
                "Content-Type: multipart/signed; micalg=pgp-sha256;\r\n protocol=\"application/pgp-signature\"; boundary=\"\(boundary)\""
                    .utf8))
        var armor = crlf(signature)
        if armor.last != 10 { armor += [13, 10] }
        // The CRLF before each boundary belongs to the boundary, not to the signed entity.
        return joined(lines) + [13, 10, 13, 10]
            + Array("This is an OpenPGP/MIME signed message (RFC 3156).\r\n--\(boundary)\r\n".utf8)
            + signedEntity(of: message)
            + Array(
                ("\r\n--\(boundary)\r\n" + "Content-Type: application/pgp-signature; name=\"signature.asc\"\r\n"
                    + "Content-Description: OpenPGP digital signature\r\n"
                    + "Content-Disposition: attachment; filename=\"signature.asc\"\r\n\r\n").utf8)
            + armor + Array("\r\n--\(boundary)--\r\n".utf8)
    }

    /// The header fields (lower-cased name, whole field with its folds) and the body.
    static func split(_ message: [UInt8]) -> (headers: [(String, [UInt8])], body: [UInt8]) {
        var headers: [(String, [UInt8])] = []
        var index = 0
        while index < message.count {
            var end = index
            while end + 1 < message.count && !(message[end] == 13 && message[end + 1] == 10) { end += 1 }
            if end + 1 >= message.count { end = message.count }
            if end == index { return (headers, Array(message[min(message.count, index + 2)...])) }
            let line = Array(message[index..<end])
            if line.first == 32 || line.first == 9, !headers.isEmpty {
                headers[headers.count - 1].1 += [13, 10] + line
            } else {
                let name =
                    line.firstIndex(of: 58).map { String(decoding: line[..<$0], as: UTF8.self).lowercased() } ?? ""
                headers.append((name, line))
            }
            index = end + 2
        }
        return (headers, [])
    }

    private static func joined(_ lines: [[UInt8]]) -> [UInt8] {
        var output: [UInt8] = []
        for (index, line) in lines.enumerated() {
            if index > 0 { output += [13, 10] }
            output += line
        }
        return output
    }

    /// LF line ends made CRLF (an armor from the library may use either).
    static func crlf(_ bytes: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count + bytes.count / 60)
        var previous: UInt8 = 0
        for byte in bytes {
            if byte == 10 && previous != 13 { output.append(13) }
            output.append(byte)
            previous = byte
        }
        return output
    }
}
