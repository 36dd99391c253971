import Foundation

/// The shapes of addresses Herald sends to.
public enum Address {
    /// A mailbox `local@domain` as people write them for role addresses (`security@example.org`).
    /// Deliberately stricter than RFC 5321: no quoted local parts, no comments, no IP literals,
    /// nothing that could break out of a header. The domain is lowercased.
    public static func email(_ value: String, field: String) throws(Refusal) -> String {
        guard value.utf8.count <= 320 else {
            throw .invalid(
                field: field, rule: "an e-mail address has at most 254 characters (got \(value.utf8.count) bytes)")
        }
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        let parts = trimmed.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, trimmed.utf8.count <= 254, isLocalPart(parts[0]), isHostName(parts[1]) else {
            throw .invalid(
                field: field, rule: "\(Validate.quoted(trimmed)) is not an e-mail address like security@example.org")
        }
        return "\(parts[0])@\(parts[1].lowercased())"
    }

    // Hand-written rather than Regex: imports validate tens of thousands of addresses.
    private static let atext = Set(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+/=?^_`{|}~-".utf8)

    /// Dot-separated runs of RFC 5322 atext, at most 64 octets.
    static func isLocalPart(_ local: Substring) -> Bool {
        let bytes = local.utf8
        guard !bytes.isEmpty, bytes.count <= 64 else { return false }
        return local.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { atom in
            !atom.isEmpty && atom.utf8.allSatisfy { atext.contains($0) }
        }
    }

    /// Two or more LDH labels of 1–63 octets, not starting or ending with a hyphen; the last starts with a letter.
    static func isHostName(_ host: Substring) -> Bool {
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, host.utf8.count <= 253 else { return false }
        for label in labels {
            let bytes = Array(label.utf8)
            guard (1...63).contains(bytes.count), bytes.first != UInt8(ascii: "-"), bytes.last != UInt8(ascii: "-"),
                bytes.allSatisfy({ isAlphanumeric($0) || $0 == UInt8(ascii: "-") })
            else { return false }
        }
        return labels.last!.utf8.first.map {
            isAlphanumeric($0) && !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
        } ?? false
    }

    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    /// An absolute `http`/`https` URL with a host and no credentials or fragment.
    /// Whether the host may be private is the transport's decision (it resolves names).
    public static func webURL(_ value: String, field: String) throws(Refusal) -> String {
        guard value.utf8.count <= 2100 else {
            throw .invalid(field: field, rule: "a URL has at most 2000 characters (got \(value.utf8.count) bytes)")
        }
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        guard trimmed.count <= 2000,
            !trimmed.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F }),
            let components = URLComponents(string: trimmed),
            let scheme = components.scheme?.lowercased(), scheme == "https" || scheme == "http",
            let host = components.host, !host.isEmpty,
            components.user == nil, components.password == nil, components.fragment == nil
        else {
            throw .invalid(
                field: field,
                rule: "\(Validate.quoted(trimmed)) is not an http(s) URL with a host (no user:password@, no #fragment)")
        }
        return trimmed
    }
}
