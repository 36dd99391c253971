import Foundation

/// Standard Webhooks signing secrets: `whsec_` and base64 of 24 to 64 random bytes.
public enum WebhookSecret {
    /// Accepts `whsec_` followed by base64 of 24–64 bytes.
    public static func validate(_ secret: String) throws(Refusal) {
        guard secret.hasPrefix("whsec_"), let key = Data(base64Encoded: String(secret.dropFirst(6))),
            (24...64).contains(key.count)
        else {
            throw .invalid(
                field: "secret",
                rule: "must be whsec_ followed by base64 of 24 to 64 bytes (leave it out and Herald makes one)")
        }
    }

    /// The secret for `key` bytes.
    public static func make(key: [UInt8]) -> String { "whsec_" + Data(key).base64EncodedString() }
}
