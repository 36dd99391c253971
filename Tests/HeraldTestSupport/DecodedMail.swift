import Foundation

/// A message as Herald stored it, read back as a reader's mail program would: headers unfolded
/// and RFC 2047 words decoded, the quoted-printable body decoded to text.
public struct DecodedMail {
    /// Every header in order, unfolded and decoded.
    public var headers: [(name: String, value: String)]
    /// The body decoded, with LF line ends.
    public var text: String

    /// The decoded Subject; empty when there is none.
    public var subject: String { self["Subject"] ?? "" }

    /// The value of the first header named `name`, regardless of case.
    public subscript(name: String) -> String? { headers.first { $0.name.lowercased() == name.lowercased() }?.value }

    /// Reads `raw`, a message as Herald rendered it.
    public init(_ raw: String) {
        let parts = raw.components(separatedBy: "\r\n\r\n")
        let head = parts[0].replacingOccurrences(of: "\r\n ", with: " ")
        headers = head.components(separatedBy: "\r\n").map { line in
            let name = String(line.prefix { $0 != ":" })
            return (name, Self.words(String(line.dropFirst(name.count + 1).drop { $0 == " " })))
        }
        text = Self.quotedPrintable(parts.dropFirst().joined(separator: "\r\n\r\n"))
    }

    /// `=?UTF-8?B?…?=` words, with the spaces between adjacent words dropped (RFC 2047 §6.2).
    static func words(_ value: String) -> String {
        guard value.contains("=?UTF-8?B?") else { return value }
        return value.split(separator: " ").map { word in
            guard word.hasPrefix("=?UTF-8?B?"), word.hasSuffix("?="),
                let data = Data(base64Encoded: String(word.dropFirst(10).dropLast(2)))
            else { return " " + word }
            return String(decoding: data, as: UTF8.self)
        }.joined().trimmingCharacters(in: .whitespaces)
    }

    static func quotedPrintable(_ body: String) -> String {
        let input = Array(body.replacingOccurrences(of: "=\r\n", with: "").utf8)
        var bytes: [UInt8] = []
        var index = 0
        while index < input.count {
            if input[index] == UInt8(ascii: "="), index + 2 < input.count,
                let byte = UInt8(String(decoding: input[index + 1...index + 2], as: UTF8.self), radix: 16)
            {
                bytes.append(byte)
                index += 3
            } else {
                bytes.append(input[index])
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
    }
}
