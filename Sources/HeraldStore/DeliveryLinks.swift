import Crypto
import Foundation
import HeraldApp
import HeraldCore

/// Link tokens derived from a delivery instead of stored: the delivery's id and an HMAC of it
/// under the database's link key (`link_keys`), 32 bytes in base64url, as long as a random token.
/// A fan-out then writes no token row per recipient; the message's links are made when it is sent.
struct DeliveryLinks {
    let key: SymmetricKey

    /// The database's key, made on first use (inside a write transaction).
    static func make(_ database: Database) throws -> DeliveryLinks {
        if let links = try existing(database) { return links }
        try database.run("INSERT OR IGNORE INTO link_keys (id, key) VALUES (1, ?)", .blob(Secrets.randomBytes(32)))
        guard let links = try existing(database) else { throw SQLiteError(code: 1, message: "no link key", path: "") }
        return links
    }

    /// The key when there is one: with none, no derived token was ever sent.
    static func existing(_ database: Database) throws -> DeliveryLinks? {
        try database.first("SELECT key FROM link_keys WHERE id = 1") {
            DeliveryLinks(key: SymmetricKey(data: $0.blob(0)))
        }
    }

    /// The token for `purpose` of delivery `id`.
    func token(_ purpose: LinkPurpose, delivery id: Int64) -> String {
        let idBytes = Self.bytes(of: id)
        return Secrets.base64URL(idBytes + mac(purpose, idBytes))
    }

    /// A fan-out template filled in for delivery `id`: its address, its Message-ID, its links
    /// (the slots of `MailTemplate.tokenSlots`: acknowledge, unsubscribe).
    func message(_ template: MailTemplate, delivery id: Int64, recipient: String, messageID: String) -> [UInt8] {
        template.filled(
            recipient: recipient, messageID: messageID,
            tokens: [token(.ack, delivery: id), token(.unsubscribe, delivery: id)])
    }

    /// The delivery a token was made for, when it is one of ours for `purpose`.
    func delivery(of token: String, purpose: LinkPurpose) -> Int64? {
        guard token.utf8.count == 43, let bytes = Secrets.fromBase64URL(token), bytes.count == 32 else { return nil }
        let idBytes = Array(bytes[..<8])
        let expected = mac(purpose, idBytes)
        // Compared in constant time: the MAC is the secret part.
        let difference = zip(expected, bytes[8...]).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) }
        guard difference == 0 else { return nil }
        return idBytes.reduce(Int64(0)) { $0 << 8 | Int64($1) }
    }

    /// 24 bytes of HMAC-SHA256 over the purpose and the id.
    private func mac(_ purpose: LinkPurpose, _ idBytes: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Array(purpose.rawValue.utf8) + [0] + idBytes, using: key).prefix(24))
    }

    private static func bytes(of id: Int64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: id >> (56 - 8 * $0)) }
    }
}
