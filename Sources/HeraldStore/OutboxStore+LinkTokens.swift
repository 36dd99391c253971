import Foundation
import HeraldCore

/// Single-purpose link tokens: each message's acknowledge, unsubscribe and confirm links.
extension OutboxStore {
    /// A new single-purpose link token for `provider`, valid until `expires` (nil: no expiry).
    /// With `email`, the link is about that address of the provider (unsubscribe links are).
    func newLinkToken(
        _ purpose: LinkPurpose, provider: Int64, notice: Int64? = nil, expires: Date? = nil, email: String? = nil
    ) throws -> String {
        let token = Secrets.token(prefix: "")
        try database.run(
            "INSERT INTO link_tokens (hash, purpose, provider_id, notice_id, expires_at, email) VALUES (?, ?, ?, ?, ?, ?)",
            .blob(Secrets.hash(token)), .text(purpose.rawValue), .integer(provider),
            notice.map(SQLValue.integer) ?? .null,
            .date(expires), .optionalText(email))
        return token
    }
}
