import Crypto
import Foundation
import HeraldCore

/// The OpenPGP Web Key Directory (draft-koch-openpgp-webkey-service): where a domain publishes
/// the key of each of its addresses, under the z-base-32 SHA-1 of the lower-cased local part.
public enum WebKeyDirectory {
    /// The hashed local part: z-base-32 of SHA-1 of the local part, lower-cased (32 characters).
    public static func hash(localPart: String) -> String {
        Base32.encode(Array(Insecure.SHA1.hash(data: Array(localPart.lowercased().utf8))), alphabet: Base32.zBase32)
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
