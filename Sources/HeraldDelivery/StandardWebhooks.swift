import Crypto
import Foundation
import HeraldCore
import HeraldStore

/// Standard Webhooks signatures (standardwebhooks.com): HMAC-SHA256 over `id.timestamp.body`
/// with the secret's key bytes, sent as `v1,<base64>`.
public enum StandardWebhooks {
    /// The header value, or nil if `secret` is not `whsec_` + base64.
    public static func signature(secret: String, id: String, timestamp: Int, body: [UInt8]) -> String? {
        guard secret.hasPrefix("whsec_"), let key = Data(base64Encoded: String(secret.dropFirst(6))) else { return nil }
        var prefix = "\(id).\(timestamp)."
        let mac = prefix.withUTF8 { prefix in
            body.withUnsafeBytes { body in
                key.withUnsafeBytes { key in hmacSHA256(key: key, parts: [UnsafeRawBufferPointer(prefix), body]) }
            }
        }
        return "v1," + Data(mac).base64EncodedString()
    }

    /// HMAC (RFC 2104) over SHA-256, fed raw buffers: swift-crypto's `HMAC` takes its key and
    /// data through generic collections, which cost more than the hashing for a 2 KB webhook.
    static func hmacSHA256(key: [UInt8], parts: [UnsafeRawBufferPointer]) -> [UInt8] {
        key.withUnsafeBytes { hmacSHA256(key: $0, parts: parts) }
    }

    static func hmacSHA256(key: UnsafeRawBufferPointer, parts: [UnsafeRawBufferPointer]) -> [UInt8] {
        let blockSize = 64
        // A key longer than a block is hashed first (RFC 2104), once for both pads.
        guard key.count <= blockSize else {
            return SHA256.hash(data: key).withUnsafeBytes { hmacSHA256(key: $0, parts: parts) }
        }
        // The pads are made in place, one block on the stack: a webhook is signed per send.
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: blockSize) { block in
            func pad(_ value: UInt8) -> UnsafeRawBufferPointer {
                block.initialize(repeating: value)
                for (index, byte) in key.enumerated() { block[index] ^= byte }
                return UnsafeRawBufferPointer(block)
            }
            var inner = SHA256()
            inner.update(bufferPointer: pad(0x36))
            for part in parts { inner.update(bufferPointer: part) }
            var outer = SHA256()
            outer.update(bufferPointer: pad(0x5c))
            inner.finalize().withUnsafeBytes { outer.update(bufferPointer: $0) }
            return outer.finalize().withUnsafeBytes { Array($0) }
        }
    }
}
