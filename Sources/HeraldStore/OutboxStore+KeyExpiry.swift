import Foundation
import HeraldCore

extension OutboxStore {
    /// Warns of each provider key that expires within `OpenPGPKey.expiryWarning`, once per key:
    /// its address, and the release managers of every project its provider follows. A key
    /// replaced or extended since is warned of again when its new expiry comes near. Returns
    /// how many keys were warned of.
    @discardableResult
    public func warnOfExpiringKeys() throws -> Int {
        let now = clock.now
        return try database.write {
            let keys = try database.query(
                """
                SELECT k.id, k.provider_id, k.email, k.fingerprint, k.expires_at FROM provider_keys k
                JOIN providers p ON p.id = k.provider_id
                WHERE p.status = 'active' AND k.warned_at IS NULL AND k.expires_at > ?1 AND k.expires_at <= ?2
                ORDER BY k.id
                """, [.date(now), .date(now.addingTimeInterval(OpenPGPKey.expiryWarning))]
            ) { (id: $0.int(0), provider: $0.int(1), email: $0.text(2), fingerprint: $0.text(3), expires: $0.date(4)) }
            let providers = ProviderStore(database: database, clock: clock)
            let projects = ProjectStore(database: database, clock: clock)
            for key in keys {
                let provider = try providers.get(key.provider)
                let followed = try provider.projects.compactMap { try projects.find($0) }
                try enqueueProviderMail(.alert, provider: provider, to: [key.email], project: followed.first) {
                    $0.keyExpiring(
                        organization: provider.organization, address: key.email, fingerprint: key.fingerprint,
                        expires: key.expires)
                }
                for project in followed {
                    guard let contact = project.contact else { continue }
                    try enqueueMail(
                        .alert, to: contact, project: project,
                        content: settings.writer(for: project).keyExpiring(
                            organization: provider.organization, address: key.email, fingerprint: key.fingerprint,
                            expires: key.expires))
                }
                try database.run("UPDATE provider_keys SET warned_at = ? WHERE id = ?", .date(now), .integer(key.id))
            }
            return keys.count
        }
    }
}
