import Crypto
import Foundation
import HeraldCore

/// Random tokens and secrets. The generator is the system's CSPRNG (getrandom on Linux).
public enum Secrets {
    /// `count` random bytes, eight at a time (one call to the system generator per eight).
    public static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count + 8)
        while bytes.count < count {
            withUnsafeBytes(of: generator.next() as UInt64) { bytes.append(contentsOf: $0) }
        }
        return Array(bytes.prefix(count))
    }

    /// A bearer or link token: `prefix` and base64url (RFC 4648 §5, unpadded) of 32 random bytes.
    public static func token(prefix: String) -> String {
        prefix + base64URL(randomBytes(32))
    }

    private static let base64URLAlphabet = Array(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Unpadded base64url, by hand: fan-outs make two tokens per recipient.
    static func base64URL(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            let value = chunk.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (16 - 8 * $1.offset) }
            for position in 0...chunk.count {
                out.append(base64URLAlphabet[Int((value >> (18 - 6 * position)) & 63)])
            }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes of unpadded base64url; nil when a character is not of its alphabet or the
    /// text is not the canonical spelling of its bytes.
    static func fromBase64URL(_ text: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count * 3 / 4)
        var buffer: UInt32 = 0
        var bits = 0
        for character in text.utf8 {
            guard let value = base64URLAlphabet.firstIndex(of: character) else { return nil }
            buffer = buffer << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                bytes.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
            }
        }
        // The unused low bits of the last character must be zero: one value, one spelling, so a
        // token used up (stored by its hash) cannot come back spelt another way.
        guard buffer & ((1 << UInt32(bits)) - 1) == 0 else { return nil }
        return bytes
    }

    /// The SHA-256 of a token: what is stored instead of the token.
    public static func hash(_ token: String) -> [UInt8] { Array(SHA256.hash(data: Data(token.utf8))) }

    /// A new Standard Webhooks signing secret.
    public static func webhookSecret() -> String { WebhookSecret.make(key: randomBytes(32)) }

    /// A notice's random key, 64 bits in hex: message ids are made from it.
    public static func noticeKey() -> String { randomBytes(8).hex }

    /// A short fingerprint of a secret for listings (`whsec_…a1b2`): four hex digits of its
    /// SHA-256, enough to tell two secrets apart and nothing about either.
    public static func fingerprint(_ secret: String) -> String {
        SHA256.hash(data: Data(secret.utf8)).prefix(2).hex
    }

    /// Lowercase letters and digits without look-alikes, for ids people read aloud.
    public static func readableID(length: Int) -> String {
        let alphabet = Array("abcdefghjkmnpqrstuvwxyz23456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
    }
}
