import Crypto
import Foundation
import HeraldApp
import HeraldCore

/// Link tokens derived from a delivery instead of stored, under the database's link key
/// (`link_keys`): a fan-out then writes no token row per recipient, and a message's links are
/// made when it is sent.
///
/// A token is 32 bytes in base64url, as long as a random token: a MAC of the purpose, the
/// delivery's id and its Message-ID (24 bytes), then the id masked by a function of that MAC
/// (8 bytes). The Message-ID holds its notice's random key, so a token names one row for good:
/// a database restored from a backup hands out old ids again, never their Message-IDs. The id
/// is masked so that a provider cannot count, from two of its own links, the deliveries made
/// in between (which would count other projects' embargoed notices).
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

    /// The token for `purpose` of delivery `id`, whose Message-ID is `messageID`.
    func token(_ purpose: LinkPurpose, delivery id: Int64, messageID: String) -> String {
        let mac = mac(purpose, id: id, messageID: messageID)
        return Secrets.base64URL(mac + zip(Self.bytes(of: id), mask(mac)).map { $0 ^ $1 })
    }

    /// The delivery a token was made for, when it is one of ours for `purpose`; `messageID`
    /// reads the Message-ID of a delivery id (nil: no such row).
    func delivery(of token: String, purpose: LinkPurpose, messageID: (Int64) throws -> String?) rethrows -> Int64? {
        guard token.utf8.count == 43, let bytes = Secrets.fromBase64URL(token), bytes.count == 32 else { return nil }
        let given = Array(bytes[..<24])
        let id = zip(bytes[24...], mask(given)).map { $0 ^ $1 }.reduce(Int64(0)) { $0 << 8 | Int64($1) }
        guard let stored = try messageID(id) else { return nil }
        // Compared in constant time: the MAC is the secret part.
        let difference = zip(mac(purpose, id: id, messageID: stored), given).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) }
        return difference == 0 ? id : nil
    }

    /// A fan-out template filled in for delivery `id`: its address, its Message-ID, its links
    /// (the template's token slots: acknowledge, unsubscribe).
    func message(_ template: MailTemplate, delivery id: Int64, recipient: String, messageID: String) -> [UInt8] {
        template.filled(
            recipient: recipient, messageID: messageID,
            tokens: [
                token(.ack, delivery: id, messageID: messageID),
                token(.unsubscribe, delivery: id, messageID: messageID),
            ])
    }

    /// 24 bytes of HMAC-SHA256 over the purpose, the id and the Message-ID.
    private func mac(_ purpose: LinkPurpose, id: Int64, messageID: String) -> [UInt8] {
        let input = Array(purpose.rawValue.utf8) + [0] + Self.bytes(of: id) + Array(messageID.utf8)
        return Array(HMAC<SHA256>.authenticationCode(for: input, using: key).prefix(24))
    }

    /// What hides the id: 8 bytes of HMAC-SHA256 over the token's MAC.
    private func mask(_ mac: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Array("id".utf8) + [0] + mac, using: key).prefix(8))
    }

    private static func bytes(of id: Int64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: id >> (56 - 8 * $0)) }
    }
}
