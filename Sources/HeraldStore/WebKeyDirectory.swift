import Crypto
import Foundation
import HeraldCore

/// The OpenPGP Web Key Directory (draft-koch-openpgp-webkey-service): where a domain publishes
/// the key of each of its addresses, under the z-base-32 SHA-1 of the lower-cased local part.
public enum WebKeyDirectory {
    /// The hashed local part: z-base-32 of SHA-1 of the local part, lower-cased (32 characters).
    public static func hash(localPart: String) -> String {
        // Lower-cased as GnuPG does, ASCII letters only.
        let lowered = localPart.utf8.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }
        return Base32.encode(Array(Insecure.SHA1.hash(data: lowered)), alphabet: Base32.zBase32)
    }

    /// Whether `text` can be a hashed local part: 32 characters of z-base-32.
    public static func isHash(_ text: String) -> Bool {
        text.utf8.count == 32 && text.utf8.allSatisfy { Base32.zBase32.contains($0) }
    }

    /// The domain a request's Host names: lower-cased, without its port or a trailing dot;
    /// nil for an address literal (no domain has keys there).
    public static func domain(ofHost host: String) -> String? {
        guard !host.hasPrefix("[") else { return nil }
        var name = host.split(separator: ":", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        if name.hasSuffix(".") { name.removeLast() }
        guard !name.isEmpty, name.utf8.count <= 253 else { return nil }
        return name.lowercased()
    }
}

extension WebKeyDirectory {
    /// Where a client looks up `email`'s key, in the order the draft gives: the advanced
    /// method (the domain's `openpgpkey` subdomain), then the direct method (the domain
    /// itself). Nil for a text that is no address.
    public static func lookupURLs(for email: String) -> [String]? {
        // Only what Herald stores as an address: a host name of letters, digits and hyphens,
        // so nothing in the domain can end the URL's host part.
        guard let address = try? Address.email(email, field: "email"), let at = address.lastIndex(of: "@") else {
            return nil
        }
        let localPart = String(address[..<at])
        let domain = String(address[address.index(after: at)...])
        let hashed = hash(localPart: localPart)
        // The local part as given, for servers that keep keys by address rather than by hash;
        // every byte but RFC 3986's unreserved ASCII percent-encoded.
        let query = localPart.utf8.map { byte in
            isUnreserved(byte) ? String(UnicodeScalar(byte)) : String(format: "%%%02X", byte)
        }.joined()
        return [
            "https://openpgpkey.\(domain)/.well-known/openpgpkey/\(domain)/hu/\(hashed)?l=\(query)",
            "https://\(domain)/.well-known/openpgpkey/hu/\(hashed)?l=\(query)",
        ]
    }
}

private func isUnreserved(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
        UInt8(ascii: "0")...UInt8(ascii: "9"),
        UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
        return true
    default: return false
    }
}
