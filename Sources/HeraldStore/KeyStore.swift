import Crypto
import Foundation
import HeraldApp
import HeraldCore

/// Providers' and projects' OpenPGP keys in SQLite.
public struct KeyStore: KeyRecords {
    let database: Database

    /// A store over `database`.
    public init(database: Database) { self.database = database }

    /// The keys of a provider, by address.
    public func providerKeys(of provider: Int64) throws -> [ProviderKey] {
        try database.query(
            """
            SELECT email, fingerprint, algorithm, armored, user_ids, key_created, expires_at, added_at, added_by,
                   encryption_subkey, encryption_subkey_expires
            FROM provider_keys WHERE provider_id = ? ORDER BY email
            """, [.integer(provider)]
        ) { row in
            let userIDs = row.strings(4)
            return ProviderKey(
                email: row.text(0),
                key: OpenPGPKey(
                    fingerprint: row.text(1), algorithm: row.text(2), created: row.date(5),
                    expires: row.optionalDate(6), userIDs: userIDs,
                    canEncrypt: true, revoked: false, armored: row.text(3),
                    encryptionSubkey: row.optionalText(9).map {
                        EncryptionSubkey(fingerprint: $0, expires: row.optionalDate(10))
                    }),
                addedAt: row.date(7), addedBy: row.text(8))
        }
    }

    /// Stores a key for one address, in place of its old one; returns the old fingerprint.
    public func setProviderKey(_ key: OpenPGPKey, provider: Int64, email: String, at: Date, actor: String) throws
        -> String?
    {
        let replaced = try database.first(
            "SELECT fingerprint FROM provider_keys WHERE provider_id = ? AND email = ?", .integer(provider),
            .text(email)
        ) { $0.text(0) }
        let userIDs = String(decoding: try JSONEncoder().encode(key.userIDs), as: UTF8.self)
        try database.run(
            """
            INSERT INTO provider_keys (provider_id, email, fingerprint, algorithm, armored, user_ids, key_created,
                                       expires_at, added_at, added_by, encryption_subkey, encryption_subkey_expires)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
            ON CONFLICT (provider_id, email) DO UPDATE SET
                fingerprint = ?3, algorithm = ?4, armored = ?5, user_ids = ?6, key_created = ?7, expires_at = ?8,
                added_at = ?9, added_by = ?10, encryption_subkey = ?11, encryption_subkey_expires = ?12,
                -- Warned again only of a new key or a new date, not of the same key pasted again.
                warned_at = CASE WHEN provider_keys.fingerprint = ?3 AND provider_keys.expires_at IS ?8
                                 THEN provider_keys.warned_at END
            """,
            [
                .integer(provider), .text(email), .text(key.fingerprint), .text(key.algorithm), .text(key.armored),
                .text(userIDs), .date(key.created), SQLValue.date(key.expires), .date(at), .text(actor),
                .optionalText(key.encryptionSubkey?.fingerprint), SQLValue.date(key.encryptionSubkey?.expires),
            ])
        return replaced
    }

    /// Deletes a key (by fingerprint or key ID) from every address of a provider.
    public func removeProviderKey(provider: Int64, fingerprint: String, email: String? = nil) throws -> [String] {
        try database.query(
            """
            DELETE FROM provider_keys WHERE provider_id = ?1 AND (fingerprint = ?2 OR substr(fingerprint, -16) = ?2)
                                        AND (?3 IS NULL OR email = ?3)
            RETURNING email
            """,
            [.integer(provider), .text(fingerprint), .optionalText(email)]
        ) { $0.text(0) }.sorted()
    }

    /// The project's signing key, if any.
    public func projectKey(of project: Int64) throws -> ProjectKey? {
        try database.first(
            "SELECT \(Self.projectKeyColumns) FROM project_keys k WHERE project_id = ?", .integer(project),
            map: { Self.projectKey($0) })
    }

    static let projectKeyColumns =
        "k.fingerprint, k.public_key, k.sealed_secret, k.created_at, k.can_encrypt, k.addresses"

    static func projectKey(_ row: Row, at offset: Int = 0) -> ProjectKey {
        ProjectKey(
            fingerprint: row.text(offset), publicKey: row.text(offset + 1), sealedSecret: row.blob(offset + 2),
            createdAt: row.date(offset + 3), canEncrypt: row.int(offset + 4) != 0,
            addresses: row.strings(offset + 5))
    }

    /// The signing keys of the projects that have published an advisory, by project slug:
    /// what the public side may show (a project set up only for an embargoed release stays unseen).
    public func publicProjectKeys() throws -> [(slug: String, key: ProjectKey)] {
        try database.query(
            """
            SELECT p.slug, \(Self.projectKeyColumns)
            FROM project_keys k JOIN projects p ON p.id = k.project_id
            WHERE EXISTS (SELECT 1 FROM advisories a WHERE a.project_id = p.id AND a.state = 'published')
            ORDER BY p.slug
            """
        ) { ($0.text(0), Self.projectKey($0, at: 1)) }
    }

    /// Stores the project's signing key, in place of any.
    public func setProjectKey(_ key: ProjectKey, project: Int64) throws {
        try database.run(
            """
            INSERT INTO project_keys (project_id, fingerprint, public_key, sealed_secret, created_at, can_encrypt, addresses)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
            ON CONFLICT (project_id) DO UPDATE SET fingerprint = ?2, public_key = ?3, sealed_secret = ?4, created_at = ?5,
                                                  can_encrypt = ?6, addresses = ?7
            """,
            [
                .integer(project), .text(key.fingerprint), .text(key.publicKey), .blob(key.sealedSecret),
                .date(key.createdAt), .int(key.canEncrypt ? 1 : 0),
                .text(String(decoding: try JSONEncoder().encode(key.addresses), as: UTF8.self)),
            ]
        )
    }
}

/// Seals project keys at rest with AES-256-GCM under a key derived (HKDF-SHA256) from the
/// operator's `HERALD_KEY_ENCRYPTION_KEY`: a copy of the database alone does not sign.
public struct KeyVault: SecretVault {
    /// The environment variable that holds the vault's key.
    public static let environmentName = "HERALD_KEY_ENCRYPTION_KEY"
    // Its bytes, not a SymmetricKey (not Sendable here): made into one for each use.
    private let keyBytes: [UInt8]
    private var key: SymmetricKey { SymmetricKey(data: keyBytes) }

    /// A vault from the operator's secret: at least 32 characters (say, `openssl rand -base64 32`).
    public init(secret: String) throws {
        guard secret.utf8.count >= 32 else {
            throw Refusal.invalid(
                field: Self.environmentName, rule: "must be at least 32 characters (try: openssl rand -base64 32)")
        }
        keyBytes = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: Array(secret.utf8)), info: Array("herald project keys".utf8),
            outputByteCount: 32
        ).withUnsafeBytes { Array($0) }
    }

    /// The vault from the environment; a refusal naming the variable when it is unset.
    public static func fromEnvironment() throws -> KeyVault {
        guard let secret = ProcessInfo.processInfo.environment[environmentName], !secret.isEmpty else {
            throw Refusal.invalid(
                field: environmentName,
                rule:
                    "is not set: project keys are kept encrypted under it (try: export \(environmentName)=\"$(openssl rand -base64 32)\")"
            )
        }
        return try KeyVault(secret: secret)
    }

    /// Encrypts and authenticates `secret` (nonce, ciphertext and tag together).
    public func seal(_ secret: [UInt8]) throws -> [UInt8] {
        guard let combined = try AES.GCM.seal(secret, using: key).combined else { return [] }
        return Array(combined)
    }

    /// What `seal` made; a refusal naming the variable when this vault's key did not make it.
    public func open(_ sealed: [UInt8]) throws -> [UInt8] {
        do {
            return Array(try AES.GCM.open(AES.GCM.SealedBox(combined: sealed), using: key))
        } catch {
            throw Refusal.invalid(
                field: Self.environmentName,
                rule: "does not open the project's key: it is not the key it was sealed with")
        }
    }
}
