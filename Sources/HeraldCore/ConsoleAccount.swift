import Foundation

/// A release manager's (or admin's, or auditor's) account in the console: an address and the
/// role an API token would have.
public struct ConsoleAccount: Sendable, Equatable, Codable {
    /// Database id.
    public var id: Int64
    /// Where sign-in links go.
    public var email: String
    /// What the account may do: admin ⊇ release-manager ⊇ auditor.
    public var role: TokenRole
    /// Whether a TOTP authenticator was enrolled (a code from it was right once).
    public var enrolled: Bool
    /// When it was added.
    public var createdAt: Date
    /// When it was disabled; a disabled account signs in no more.
    public var disabledAt: Date?

    /// An account as stored.
    public init(id: Int64, email: String, role: TokenRole, enrolled: Bool, createdAt: Date, disabledAt: Date?) {
        self.id = id
        self.email = email
        self.role = role
        self.enrolled = enrolled
        self.createdAt = createdAt
        self.disabledAt = disabledAt
    }
}

/// A console session: opened by a sign-in link, signed in once the second factor is given.
public struct ConsoleSession: Sendable, Equatable {
    /// The account signed in.
    public var account: ConsoleAccount
    /// The token every form of this session carries.
    public var csrf: String
    /// Whether the TOTP code (or a recovery code) was given: only then may it see or do anything.
    public var verified: Bool

    /// A session as stored.
    public init(account: ConsoleAccount, csrf: String, verified: Bool) {
        self.account = account
        self.csrf = csrf
        self.verified = verified
    }

    /// Who did it, in the audit log.
    public var actor: String { "console:\(account.email)" }
}

/// RFC 4648 base32, as authenticator apps read TOTP secrets: upper case, no padding; or the
/// same five-bit grouping over another alphabet (z-base-32 for the Web Key Directory).
public enum Base32 {
    /// RFC 4648's alphabet, the default.
    public static let rfc4648 = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)
    /// z-base-32 (RFC 6189 §5.1.6), as the Web Key Directory names hashed local parts.
    public static let zBase32 = Array("ybndrfg8ejkmcpqxot1uwisza345h769".utf8)

    /// The bytes in base32, by `alphabet` (32 ASCII characters; RFC 4648's by default).
    public static func encode(_ bytes: [UInt8], alphabet: [UInt8] = rfc4648) -> String {
        var out: [UInt8] = []
        var buffer = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | Int(byte)
            bits += 8
            while bits >= 5 {
                out.append(alphabet[(buffer >> (bits - 5)) & 31])
                bits -= 5
            }
        }
        if bits > 0 { out.append(alphabet[(buffer << (5 - bits)) & 31]) }
        return String(decoding: out, as: UTF8.self)
    }
}
