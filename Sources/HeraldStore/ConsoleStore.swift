import Crypto
import Foundation
import HeraldApp
import HeraldCore

/// The console's rows: accounts, sign-in links, sessions and recovery codes (hashes of their
/// tokens only), TOTP secrets.
public struct ConsoleStore {
    let database: Database

    /// Creates a store over `database`.
    public init(database: Database) {
        self.database = database
    }

    private static let accountColumns =
        "id, email, role, totp_enrolled_at IS NOT NULL, created_at, disabled_at"

    private static func account(_ row: Row) -> ConsoleAccount {
        ConsoleAccount(
            id: row.int(0), email: row.text(1), role: TokenRole(rawValue: row.text(2)) ?? .auditor,
            enrolled: row.int(3) == 1, createdAt: row.date(4), disabledAt: row.optionalDate(5))
    }
}

extension ConsoleStore: ConsoleAccountRecords {
    /// Adds an account; an address that has one (disabled or not) is refused.
    public func addAccount(email: String, role: TokenRole, at: Date) throws -> ConsoleAccount {
        guard try database.first("SELECT 1 FROM console_accounts WHERE email = ?", .text(email), map: { _ in 1 }) == nil
        else {
            throw Refusal.conflict(field: "email", rule: "\(email) has an account already (herald account list)")
        }
        _ = try database.run(
            "INSERT INTO console_accounts (email, role, created_at) VALUES (?, ?, ?)", .text(email),
            .text(role.rawValue), .date(at))
        return try account(database.lastInsertID)
    }

    /// Every account, oldest first.
    public func accounts() throws -> [ConsoleAccount] {
        try database.query("SELECT \(Self.accountColumns) FROM console_accounts ORDER BY id", map: Self.account)
    }

    /// The account with this id.
    public func account(_ id: Int64) throws -> ConsoleAccount {
        guard
            let account = try database.first(
                "SELECT \(Self.accountColumns) FROM console_accounts WHERE id = ?", .integer(id), map: Self.account)
        else { throw Refusal.notFound(subject: "account", id: String(id)) }
        return account
    }

    /// The account of `email` that is not disabled.
    public func activeAccount(email: String) throws -> ConsoleAccount? {
        try database.first(
            "SELECT \(Self.accountColumns) FROM console_accounts WHERE email = ? AND disabled_at IS NULL",
            .text(email), map: Self.account)
    }

    /// Disables the account.
    public func disableAccount(_ id: Int64, at: Date) throws {
        _ = try database.run(
            "UPDATE console_accounts SET disabled_at = ? WHERE id = ? AND disabled_at IS NULL", .date(at), .integer(id))
    }

    /// Enables the account again.
    public func enableAccount(_ id: Int64) throws {
        _ = try database.run("UPDATE console_accounts SET disabled_at = NULL WHERE id = ?", .integer(id))
    }
}

extension ConsoleStore {
    /// Private deliveries (to providers) failing or dead, by advisory: what the dashboard marks.
    public func failingPrivateDeliveries() throws -> [Int64: Int] {
        Dictionary(
            uniqueKeysWithValues: try database.query(
                """
                SELECT n.advisory_id, count(*) FROM deliveries d JOIN notices n ON n.id = d.notice_id
                WHERE d.provider_id IS NOT NULL AND d.state IN ('retrying', 'dead') AND n.advisory_id IS NOT NULL
                GROUP BY n.advisory_id
                """, map: { ($0.int(0), Int($0.int(1))) }))
    }
}

extension ConsoleStore: ConsoleAccess {
    /// Requests counted per address, known or not: by this requester, and by anyone.
    public func signInsRequested(email: String, requester: String, since: Date) throws -> (
        byRequester: Int, total: Int
    ) {
        try database.first(
            """
            SELECT count(*) FILTER (WHERE requester = ?3), count(*) FROM console_sign_ins
            WHERE email = lower(?1) AND created_at >= ?2
            """, .text(email), .date(since), .text(requester)
        ) { (Int($0.int(0)), Int($0.int(1))) } ?? (0, 0)
    }

    /// One row per request; the token opens something only with an account.
    public func recordSignIn(email: String, account: Int64?, requester: String, at: Date, expires: Date) throws
        -> String
    {
        let token = Secrets.token(prefix: "")
        _ = try database.run(
            """
            INSERT INTO console_sign_ins (hash, email, account_id, requester, created_at, expires_at)
            VALUES (?, lower(?), ?, ?, ?, ?)
            """, .blob(Secrets.hash(token)), .text(email), account.map(SQLValue.integer) ?? .null, .text(requester),
            .date(at), .date(expires))
        return token
    }

    /// Marks the token used, once.
    public func useSignIn(_ token: String, at: Date) throws -> Int64? {
        let hash = Secrets.hash(token)
        guard
            let account = try database.first(
                """
                SELECT account_id FROM console_sign_ins
                WHERE hash = ? AND used_at IS NULL AND expires_at > ? AND account_id IS NOT NULL
                """, .blob(hash), .date(at), map: { $0.int(0) })
        else { return nil }
        _ = try database.run("UPDATE console_sign_ins SET used_at = ? WHERE hash = ?", .date(at), .blob(hash))
        return account
    }

    /// A new session, not yet verified, with its own CSRF token.
    public func startSession(account: Int64, at: Date) throws -> (token: String, csrf: String) {
        let token = Secrets.token(prefix: "")
        let csrf = Secrets.token(prefix: "")
        _ = try database.run(
            "INSERT INTO console_sessions (hash, account_id, csrf, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?)",
            .blob(Secrets.hash(token)), .integer(account), .text(csrf), .date(at), .date(at))
        return (token, csrf)
    }

    /// A live session of an account that is not disabled, touched.
    public func session(_ token: String, at: Date, idle: TimeInterval, absolute: TimeInterval) throws
        -> ConsoleSession?
    {
        let hash = Secrets.hash(token)
        guard
            let session = try database.first(
                """
                SELECT a.id, a.email, a.role, a.totp_enrolled_at IS NOT NULL, a.created_at, a.disabled_at,
                       s.csrf, s.verified_at IS NOT NULL
                FROM console_sessions s JOIN console_accounts a ON a.id = s.account_id
                WHERE s.hash = ? AND s.ended_at IS NULL AND s.last_seen_at > ? AND s.created_at > ?
                  AND a.disabled_at IS NULL
                """, .blob(hash), .date(at - idle), .date(at - absolute),
                map: { ConsoleSession(account: Self.account($0), csrf: $0.text(6), verified: $0.int(7) == 1) })
        else { return nil }
        _ = try database.run("UPDATE console_sessions SET last_seen_at = ? WHERE hash = ?", .date(at), .blob(hash))
        return session
    }

    /// The second factor was given: a new token and CSRF token for the session, which forgets
    /// the secret it was enrolling.
    public func markVerified(_ token: String, at: Date) throws -> String {
        let fresh = Secrets.token(prefix: "")
        _ = try database.run(
            """
            UPDATE console_sessions SET hash = ?, csrf = ?, verified_at = ?, pending_secret = NULL, last_seen_at = ?
            WHERE hash = ?
            """, .blob(Secrets.hash(fresh)), .text(Secrets.token(prefix: "")), .date(at), .date(at),
            .blob(Secrets.hash(token)))
        return fresh
    }

    /// One more wrong code for the account, counting afresh once `window` has passed.
    public func countWrongCode(account: Int64, at: Date, window: TimeInterval) throws -> (count: Int, since: Date) {
        _ = try database.run(
            """
            UPDATE console_accounts SET
                wrong_codes = CASE WHEN wrong_codes_since IS NULL OR wrong_codes_since <= ?2 THEN 1 ELSE wrong_codes + 1 END,
                wrong_codes_since = CASE WHEN wrong_codes_since IS NULL OR wrong_codes_since <= ?2 THEN ?3 ELSE wrong_codes_since END
            WHERE id = ?1
            """, [.integer(account), .date(at - window), .date(at)])
        return try database.first(
            "SELECT wrong_codes, wrong_codes_since FROM console_accounts WHERE id = ?", .integer(account)
        ) { (Int($0.int(0)), $0.date(1)) } ?? (1, at)
    }

    /// The account's wrong codes within `window`.
    public func wrongCodes(account: Int64, at: Date, window: TimeInterval) throws -> (count: Int, since: Date?) {
        try database.first(
            "SELECT wrong_codes, wrong_codes_since FROM console_accounts WHERE id = ? AND wrong_codes_since > ?",
            .integer(account), .date(at - window)
        ) { (Int($0.int(0)), $0.optionalDate(1)) } ?? (0, nil)
    }

    /// One more wrong code; the count.
    public func countWrongCode(_ token: String) throws -> Int {
        let hash = Secrets.hash(token)
        _ = try database.run("UPDATE console_sessions SET failed_codes = failed_codes + 1 WHERE hash = ?", .blob(hash))
        return Int(
            try database.first("SELECT failed_codes FROM console_sessions WHERE hash = ?", .blob(hash)) { $0.int(0) }
                ?? 0)
    }

    /// Ends one session.
    public func endSession(_ token: String, at: Date) throws {
        _ = try database.run(
            "UPDATE console_sessions SET ended_at = ? WHERE hash = ? AND ended_at IS NULL", .date(at),
            .blob(Secrets.hash(token)))
    }

    /// Ends every session of an account.
    public func endSessions(ofAccount account: Int64, at: Date) throws {
        _ = try database.run(
            "UPDATE console_sessions SET ended_at = ? WHERE account_id = ? AND ended_at IS NULL", .date(at),
            .integer(account))
    }

    /// The enrolled secret (nil before enrolment) and the last step used.
    public func totp(of account: Int64) throws -> (secret: [UInt8]?, lastStep: Int64) {
        try database.first(
            """
            SELECT totp_enrolled_at IS NOT NULL AND totp_secret IS NOT NULL, totp_secret, totp_last_step
            FROM console_accounts WHERE id = ?
            """, .integer(account)
        ) { ($0.int(0) == 1 ? $0.blob(1) : nil, $0.int(2)) } ?? (nil, 0)
    }

    /// The secret this session is enrolling.
    public func pendingSecret(_ token: String) throws -> [UInt8]? {
        try database.first(
            "SELECT pending_secret IS NOT NULL, pending_secret FROM console_sessions WHERE hash = ?",
            .blob(Secrets.hash(token))
        ) { $0.int(0) == 1 ? $0.blob(1) : nil } ?? nil
    }

    /// Keeps the secret this session shows for enrolment.
    public func setPendingSecret(_ secret: [UInt8], token: String) throws {
        _ = try database.run(
            "UPDATE console_sessions SET pending_secret = ? WHERE hash = ?", .blob(secret), .blob(Secrets.hash(token)))
    }

    /// The account is enrolled with `secret`, `step` used.
    public func enrol(_ secret: [UInt8], step: Int64, account: Int64, at: Date) throws {
        _ = try database.run(
            """
            UPDATE console_accounts SET totp_secret = ?, totp_enrolled_at = ?, totp_last_step = ?
            WHERE id = ? AND totp_enrolled_at IS NULL
            """, .blob(secret), .date(at), .integer(step), .integer(account))
    }

    /// Uses up `step`.
    public func useStep(_ step: Int64, account: Int64, at: Date) throws {
        _ = try database.run(
            "UPDATE console_accounts SET totp_last_step = ? WHERE id = ?", .integer(step), .integer(account))
    }

    /// Forgets the authenticator, the recovery codes and the wrong codes.
    public func resetAuthenticator(account: Int64) throws {
        _ = try database.run(
            """
            UPDATE console_accounts SET totp_secret = NULL, totp_enrolled_at = NULL, totp_last_step = 0,
                wrong_codes = 0, wrong_codes_since = NULL
            WHERE id = ?
            """, .integer(account))
        _ = try database.run("DELETE FROM console_recovery_codes WHERE account_id = ?", .integer(account))
    }

    /// Replaces the account's recovery codes, stored as hashes.
    public func replaceRecoveryCodes(_ codes: [String], account: Int64) throws {
        _ = try database.run("DELETE FROM console_recovery_codes WHERE account_id = ?", .integer(account))
        for code in codes {
            _ = try database.run(
                "INSERT INTO console_recovery_codes (account_id, hash) VALUES (?, ?)", .integer(account),
                .blob(Secrets.hash(Self.compact(code))))
        }
    }

    /// Uses up one recovery code, however it was typed (case, dashes, spaces).
    public func useRecoveryCode(_ code: String, account: Int64, at: Date) throws -> Bool {
        try database.run(
            "UPDATE console_recovery_codes SET used_at = ? WHERE account_id = ? AND hash = ? AND used_at IS NULL",
            .date(at), .integer(account), .blob(Secrets.hash(Self.compact(code)))) == 1
    }

    static func compact(_ code: String) -> String { code.lowercased().filter { $0.isLetter || $0.isNumber } }
}

/// TOTP (RFC 6238: HMAC-SHA1, six digits, 30-second steps), as every authenticator app makes it.
public struct TOTPCodes: OneTimeCodes {
    /// The codes.
    public init() {}

    /// 20 random bytes, the size RFC 4226 recommends for HMAC-SHA1.
    public func newSecret() -> [UInt8] { Secrets.randomBytes(20) }

    /// The six-digit code of one time step (RFC 4226's dynamic truncation).
    public func code(secret: [UInt8], step: Int64) -> String {
        Self.code(secret: secret, step: step, digits: 6)
    }

    /// The code of `digits` digits (RFC 6238's test vectors have eight).
    public static func code(secret: [UInt8], step: Int64, digits: Int) -> String {
        var counter = UInt64(bitPattern: step).bigEndian
        let message = withUnsafeBytes(of: &counter) { Array($0) }
        let mac = Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: SymmetricKey(data: secret)))
        let offset = Int(mac[mac.count - 1] & 0x0F)
        let value =
            (UInt32(mac[offset] & 0x7F) << 24) | (UInt32(mac[offset + 1]) << 16) | (UInt32(mac[offset + 2]) << 8)
            | UInt32(mac[offset + 3])
        var modulus: UInt32 = 1
        for _ in 0..<digits { modulus *= 10 }
        let number = String(value % modulus)
        return String(repeating: "0", count: digits - number.count) + number
    }

    /// Ten codes of ten base32 letters and digits, `xxxxx-xxxxx`: 50 bits each.
    public func newRecoveryCodes() -> [String] {
        (0..<10).map { _ in
            let text = Base32.encode(Secrets.randomBytes(7)).lowercased().prefix(10)
            return "\(text.prefix(5))-\(text.suffix(5))"
        }
    }
}
