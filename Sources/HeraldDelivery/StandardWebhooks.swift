import Crypto
import Foundation
import HeraldCore
import HeraldStore

/// Standard Webhooks signatures (standardwebhooks.com): HMAC-SHA256 over `id.timestamp.body`
/// with the secret's key bytes, sent as `v1,<base64>`.
public enum StandardWebhooks {
    /// The header value, or nil if `secret` is not `whsec_` + base64.
    public static func signature(secret: String, id: String, timestamp: Int, body: [UInt8]) -> String? {
        signed(secret: secret, id: id, timestamp: timestamp, body: body, lead: "")
    }

    /// The whole `webhook-signature` header line, or nil if `secret` is not `whsec_` + base64.
    static func signatureHeader(secret: String, id: String, timestamp: Int, body: [UInt8]) -> String? {
        signed(secret: secret, id: id, timestamp: timestamp, body: body, lead: "webhook-signature: ")
    }

    /// `lead` and the signature, made in one string with the key, the signed prefix and the MAC
    /// on the stack: a webhook is signed per send, and Foundation's base64 `Data` and the
    /// strings between them cost `serve` more than the hashing (5 % of its CPU against 4 %, in a
    /// 10,000-webhook fan-out with 2 KB bodies).
    private static func signed(secret: String, id: String, timestamp: Int, body: [UInt8], lead: StaticString)
        -> String?
    {
        var secret = secret
        var id = id
        return secret.withUTF8 { secret -> String? in
            guard secret.starts(with: "whsec_".utf8) else { return nil }
            return withKey(base64: UnsafeBufferPointer(rebasing: secret[6...])) { key in
                id.withUTF8 { id in
                    // `id.timestamp.`: at most 20 digits and a sign.
                    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: id.count + 23) { prefix in
                        UnsafeMutableRawBufferPointer(prefix).copyMemory(from: UnsafeRawBufferPointer(id))
                        var used = id.count
                        func append(_ byte: UInt8) {
                            prefix[used] = byte
                            used += 1
                        }
                        append(UInt8(ascii: "."))
                        for digit in String(timestamp).utf8 { append(digit) }
                        append(UInt8(ascii: "."))
                        let mac = hmacSHA256(key: key) { inner in
                            inner.update(
                                bufferPointer: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: prefix[..<used])))
                            body.withUnsafeBytes { inner.update(bufferPointer: $0) }
                        }
                        return mac.withUnsafeBytes { Base64.string(lead: lead, "v1,", encoding: $0) }
                    }
                }
            }
        }
    }

    /// Gives `use` the bytes `base64` spells, decoded on the stack; one not spelt canonically
    /// is Foundation's to decide, as before. Nil when it is not base64.
    private static func withKey<Result>(base64: UnsafeBufferPointer<UInt8>, _ use: (UnsafeRawBufferPointer) -> Result)
        -> Result?
    {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: base64.count / 4 * 3) { buffer in
            if let length = Base64.decodeCanonical(base64, into: buffer) {
                return use(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: buffer[..<length])))
            }
            return Data(base64Encoded: String(decoding: base64, as: UTF8.self)).map { $0.withUnsafeBytes(use) }
        }
    }

    /// HMAC (RFC 2104) over SHA-256, fed raw buffers: swift-crypto's `HMAC` takes its key and
    /// data through generic collections, which cost more than the hashing for a 2 KB webhook.
    static func hmacSHA256(key: [UInt8], parts: [UnsafeRawBufferPointer]) -> [UInt8] {
        key.withUnsafeBytes { key in
            Array(hmacSHA256(key: key) { inner in for part in parts { inner.update(bufferPointer: part) } })
        }
    }

    private static func hmacSHA256(key: UnsafeRawBufferPointer, message: (inout SHA256) -> Void) -> SHA256.Digest {
        let blockSize = 64
        // A key longer than a block is hashed first (RFC 2104), once for both pads.
        guard key.count <= blockSize else {
            return SHA256.hash(data: key).withUnsafeBytes { hmacSHA256(key: $0, message: message) }
        }
        // The pads are made in place, one block on the stack.
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: blockSize) { block in
            func pad(_ value: UInt8) -> UnsafeRawBufferPointer {
                block.initialize(repeating: value)
                for (index, byte) in key.enumerated() { block[index] ^= byte }
                return UnsafeRawBufferPointer(block)
            }
            var inner = SHA256()
            inner.update(bufferPointer: pad(0x36))
            message(&inner)
            var outer = SHA256()
            outer.update(bufferPointer: pad(0x5c))
            inner.finalize().withUnsafeBytes { outer.update(bufferPointer: $0) }
            return outer.finalize()
        }
    }
}

/// Standard base64 (RFC 4648 §4, padded), by hand on raw bytes for the per-send signature.
enum Base64 {
    private static let alphabet: [UInt8] = Array(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// The value of each byte as a base64 digit, 0xFF for any other byte.
    private static let values: [UInt8] = {
        var values = [UInt8](repeating: 0xFF, count: 256)
        for (value, digit) in alphabet.enumerated() { values[Int(digit)] = UInt8(value) }
        return values
    }()

    /// Decodes `text` into `output` (at least `text.count / 4 * 3` bytes) and returns how many
    /// bytes it wrote; nil unless `text` is the one canonical spelling of its bytes: whole
    /// groups of four, `=` only as the padding of the last, its unused bits zero.
    static func decodeCanonical(_ text: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableBufferPointer<UInt8>)
        -> Int?
    {
        guard text.count % 4 == 0 else { return nil }
        var written = 0
        var index = 0
        while index < text.count {
            let padding = index + 4 == text.count ? (text[index + 3] == UInt8(ascii: "=") ? 1 : 0) : 0
            let doublePadding = padding == 1 && text[index + 2] == UInt8(ascii: "=")
            let digits = 4 - padding - (doublePadding ? 1 : 0)
            var group: UInt32 = 0
            for offset in 0..<digits {
                let value = values[Int(text[index + offset])]
                guard value != 0xFF else { return nil }
                group |= UInt32(value) << (18 - 6 * offset)
            }
            let bytes = digits - 1
            // Bits below the last byte that a digit carries must be zero: one spelling per value.
            guard group & ((1 << (24 - 8 * bytes)) - 1) == 0 else { return nil }
            for byte in 0..<bytes {
                output[written] = UInt8(truncatingIfNeeded: group >> (16 - 8 * byte))
                written += 1
            }
            index += 4
        }
        return written
    }

    /// `lead`, `marker` and the padded base64 of `bytes`, as one string made in place.
    static func string(lead: StaticString, _ marker: StaticString, encoding bytes: UnsafeRawBufferPointer) -> String {
        let encodedCount = (bytes.count + 2) / 3 * 4
        return String(unsafeUninitializedCapacity: lead.utf8CodeUnitCount + marker.utf8CodeUnitCount + encodedCount) {
            output in
            var written = 0
            func write(_ text: StaticString) {
                UnsafeMutableRawBufferPointer(UnsafeMutableBufferPointer(rebasing: output[written...])).copyMemory(
                    from: UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
                written += text.utf8CodeUnitCount
            }
            write(lead)
            write(marker)
            var index = 0
            while index < bytes.count {
                let count = min(3, bytes.count - index)
                var group = UInt32(bytes[index]) << 16
                if count > 1 { group |= UInt32(bytes[index + 1]) << 8 }
                if count > 2 { group |= UInt32(bytes[index + 2]) }
                for digit in 0..<4 {
                    output[written + digit] =
                        digit <= count ? alphabet[Int(group >> (18 - 6 * digit) & 63)] : UInt8(ascii: "=")
                }
                written += 4
                index += 3
            }
            return written
        }
    }
}
