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
        let prefix = Array("\(id).\(timestamp).".utf8)
        let mac = prefix.withUnsafeBytes { prefix in
            body.withUnsafeBytes { body in hmacSHA256(key: Array(key), parts: [prefix, body]) }
        }
        return "v1," + Data(mac).base64EncodedString()
    }

    /// HMAC (RFC 2104) over SHA-256, fed raw buffers: swift-crypto's `HMAC` takes its key and
    /// data through generic collections, which cost more than the hashing for a 2 KB webhook.
    static func hmacSHA256(key: [UInt8], parts: [UnsafeRawBufferPointer]) -> [UInt8] {
        let blockSize = 64
        var block = key.count > blockSize ? Array(SHA256.hash(data: key)) : key
        block += repeatElement(0, count: blockSize - block.count)
        var inner = SHA256()
        withPad(block, 0x36) { inner.update(bufferPointer: $0) }
        for part in parts { inner.update(bufferPointer: part) }
        var outer = SHA256()
        withPad(block, 0x5c) { outer.update(bufferPointer: $0) }
        inner.finalize().withUnsafeBytes { outer.update(bufferPointer: $0) }
        return outer.finalize().withUnsafeBytes { Array($0) }
    }

    private static func withPad(_ block: [UInt8], _ pad: UInt8, _ body: (UnsafeRawBufferPointer) -> Void) {
        block.map { $0 ^ pad }.withUnsafeBytes(body)
    }
}
