import Crypto
import Foundation

/// The OpenPGP Web Key Directory (draft-koch-openpgp-webkey-service): where a domain publishes
/// the key of each of its addresses, under the z-base-32 SHA-1 of the lower-cased local part.
public enum WebKeyDirectory {
    /// The hashed local part: z-base-32 of SHA-1 of the local part, lower-cased (32 characters).
    public static func hash(localPart: String) -> String {
        zBase32(Array(Insecure.SHA1.hash(data: Array(localPart.lowercased().utf8))))
    }

    /// The two places a key for `address` is looked up, in the order the draft gives: the
    /// advanced method (an `openpgpkey.` subdomain), then the direct one.
    public static func urls(for address: String) -> [String]? {
        guard let at = address.lastIndex(of: "@") else { return nil }
        let local = String(address[..<at])
        let domain = address[address.index(after: at)...].lowercased()
        guard !local.isEmpty, !domain.isEmpty else { return nil }
        let hash = hash(localPart: local)
        let query =
            "?l="
            + (local.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "-._~")))
                ?? "")
        return [
            "https://openpgpkey.\(domain)/.well-known/openpgpkey/\(domain)/hu/\(hash)\(query)",
            "https://\(domain)/.well-known/openpgpkey/hu/\(hash)\(query)",
        ]
    }

    /// Whether `text` can be a hashed local part: 32 characters of z-base-32.
    public static func isHash(_ text: String) -> Bool {
        text.utf8.count == 32 && text.allSatisfy { zBase32Alphabet.contains($0) }
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

    static let zBase32Alphabet = Array("ybndrfg8ejkmcpqxot1uwisza345h769")

    /// z-base-32 (RFC 6189 §5.1.6) of `bytes`.
    public static func zBase32(_ bytes: [UInt8]) -> String {
        let alphabet = zBase32Alphabet
        var output = ""
        var buffer = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | Int(byte)
            bits += 8
            while bits >= 5 {
                output.append(alphabet[(buffer >> (bits - 5)) & 31])
                bits -= 5
            }
        }
        if bits > 0 { output.append(alphabet[(buffer << (5 - bits)) & 31]) }
        return output
    }
}
