import Foundation

/// What Herald knows of an OpenPGP public key, read by the OpenPGP library: enough to decide
/// whether a private notice may be encrypted to it, and to show it to its owner.
public struct OpenPGPKey: Equatable, Sendable {
    /// The primary key's fingerprint, upper-case hex (40 characters for a v4 key).
    public var fingerprint: String
    /// The primary key's algorithm and size, as the library names them (`EDDSA`, `RSA 3072`).
    public var algorithm: String
    /// When the primary key was made.
    public var created: Date
    /// When encrypting to it stops being possible (the key's or its encryption subkey's
    /// expiry, whichever comes first); nil when it does not expire.
    public var expires: Date?
    /// Its user IDs, as written (`Name <address>`).
    public var userIDs: [String]
    /// Whether a valid, unrevoked key or subkey of it may encrypt.
    public var canEncrypt: Bool
    /// Whether the primary key is revoked.
    public var revoked: Bool
    /// The key, ASCII-armored, public parts only.
    public var armored: String
    /// The subkey notices are encrypted to, as librnp chooses it: the newest verified,
    /// unrevoked encryption subkey valid when the key was read. Nil when the primary key
    /// encrypts, or for a key stored before this was recorded.
    public var encryptionSubkey: EncryptionSubkey?

    /// Creates the value.
    public init(
        fingerprint: String, algorithm: String, created: Date, expires: Date?, userIDs: [String], canEncrypt: Bool,
        revoked: Bool, armored: String, encryptionSubkey: EncryptionSubkey? = nil
    ) {
        self.encryptionSubkey = encryptionSubkey
        self.fingerprint = fingerprint
        self.algorithm = algorithm
        self.created = created
        self.expires = expires
        self.userIDs = userIDs
        self.canEncrypt = canEncrypt
        self.revoked = revoked
        self.armored = armored
    }

    /// The size a key file may have: far above any real key (an RSA-4096 key with many
    /// signatures is a few tens of KiB), far below what would burden the store.
    public static let maxArmoredBytes = 64 * 1024

    /// How long before a key expires its owner and the release managers are warned.
    public static let expiryWarning: TimeInterval = 30 * 86_400

    /// The addresses its user IDs name: the part in angle brackets, or a whole user ID that is an address.
    public var addresses: [String] {
        userIDs.compactMap { userID in
            if let open = userID.lastIndex(of: "<"), let close = userID.lastIndex(of: ">"), open < close {
                return String(userID[userID.index(after: open)..<close]).lowercased()
            }
            return userID.contains("@") && !userID.contains(" ") ? userID.lowercased() : nil
        }
    }

    /// Whether a notice may be encrypted to it at `now`.
    public func isUsable(at now: Date) -> Bool {
        canEncrypt && !revoked && (expires.map { $0 > now } ?? true)
    }

    /// Why the key cannot serve as `address`'s key at `now`, or nil when it can: it must be
    /// able to encrypt, be neither revoked nor expired, and name the address in a user ID
    /// (else a notice would go to a key its holder never claimed for that mailbox).
    public func refusal(for address: String, at now: Date) -> Refusal? {
        if revoked { return .invalid(field: "key", rule: "the key \(fingerprint) is revoked") }
        if let expires, expires <= now {
            return .invalid(field: "key", rule: "the key \(fingerprint) expired on \(Instant.rfc3339(expires))")
        }
        if !canEncrypt {
            return .invalid(field: "key", rule: "the key \(fingerprint) has no valid key for encryption")
        }
        if !addresses.contains(address.lowercased()) {
            let named = addresses.isEmpty ? "no address" : addresses.joined(separator: ", ")
            return .invalid(
                field: "key", rule: "the key's user IDs name \(named), not \(address): upload the key for that address")
        }
        return nil
    }

    /// Whether its owner should be told it expires soon.
    public func expiresSoon(at now: Date) -> Bool {
        guard let expires else { return false }
        return expires > now && expires.timeIntervalSince(now) <= Self.expiryWarning
    }
}

/// A project's policy for private e-mail: whether notices are encrypted to providers' keys.
public enum EncryptionPolicy: String, CaseIterable, Sendable, Codable {
    /// Never encrypted.
    case off
    /// Encrypted to each contact that has a usable key; plain text to the others.
    case whenAvailable = "when-available"
    /// Encrypted, or not sent: a contact without a usable key is only told that a private
    /// advisory waits for it in the portal.
    case required
}

/// The subkey a key's notices are encrypted to, and until when that subkey may be used: its
/// own expiry or its binding signature's, whichever comes first (nil: never).
public struct EncryptionSubkey: Equatable, Sendable {
    /// The subkey's fingerprint, upper-case hex.
    public var fingerprint: String
    /// When it stops being usable; nil when it does not expire.
    public var expires: Date?

    /// Creates the value.
    public init(fingerprint: String, expires: Date?) {
        self.fingerprint = fingerprint
        self.expires = expires
    }
}
