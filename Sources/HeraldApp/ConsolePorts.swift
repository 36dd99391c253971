import Foundation
import HeraldCore

/// Console accounts as stored.
public protocol ConsoleAccountRecords {
    /// Adds an account; refuses an address that has one already.
    func addAccount(email: String, role: TokenRole, at: Date) throws -> ConsoleAccount
    /// Every account, disabled ones included.
    func accounts() throws -> [ConsoleAccount]
    /// The account with this id, or a not-found refusal.
    func account(_ id: Int64) throws -> ConsoleAccount
    /// The account of `email` (ignoring case) that is not disabled.
    func activeAccount(email: String) throws -> ConsoleAccount?
    /// Disables the account at `at`.
    func disableAccount(_ id: Int64, at: Date) throws
    /// Enables a disabled account again.
    func enableAccount(_ id: Int64) throws
}

/// Sign-in links, sessions and second factors of the console; tokens stored only as hashes.
public protocol ConsoleAccess {
    /// How many sign-in links were asked for `email` since `since` (whoever it belongs to): by
    /// `requester` (the asking client), and by anyone.
    func signInsRequested(email: String, requester: String, since: Date) throws -> (byRequester: Int, total: Int)
    /// Records a request; with `account`, a single-use token valid until `expires`, returned.
    func recordSignIn(email: String, account: Int64?, requester: String, at: Date, expires: Date) throws -> String
    /// Uses up a sign-in token that is unused and unexpired at `at`: its account.
    func useSignIn(_ token: String, at: Date) throws -> Int64?
    /// Starts a session, not yet verified; its token (the cookie) and CSRF token.
    func startSession(account: Int64, at: Date) throws -> (token: String, csrf: String)
    /// The live session behind `token` (used within `idle`, begun within `absolute`, its account
    /// not disabled); marks it used at `at`.
    func session(_ token: String, at: Date, idle: TimeInterval, absolute: TimeInterval) throws -> ConsoleSession?
    /// The second factor was given: the session is signed in under a new token and CSRF token
    /// (so a token planted before sign-in is worth nothing after it), returned.
    func markVerified(_ token: String, at: Date) throws -> String
    /// Counts one wrong code for the session; the count so far.
    func countWrongCode(_ token: String) throws -> Int
    /// Counts one wrong code for the account, the count starting again after `window`; the
    /// count and when it started.
    func countWrongCode(account: Int64, at: Date, window: TimeInterval) throws -> (count: Int, since: Date)
    /// The account's wrong codes within `window` of `at`, and when they started.
    func wrongCodes(account: Int64, at: Date, window: TimeInterval) throws -> (count: Int, since: Date?)
    /// Ends the session behind `token`.
    func endSession(_ token: String, at: Date) throws
    /// Ends every session of `account`.
    func endSessions(ofAccount account: Int64, at: Date) throws
    /// The account's TOTP secret (nil before enrolment) and the last time step used.
    func totp(of account: Int64) throws -> (secret: [UInt8]?, lastStep: Int64)
    /// The secret the session behind `token` is enrolling, if it made one.
    func pendingSecret(_ token: String) throws -> [UInt8]?
    /// Keeps the secret the session behind `token` shows for enrolment.
    func setPendingSecret(_ secret: [UInt8], token: String) throws
    /// Enrols `secret` for the account (a code of `step` from it was right).
    func enrol(_ secret: [UInt8], step: Int64, account: Int64, at: Date) throws
    /// The code of time step `step` was right: the step is used up.
    func useStep(_ step: Int64, account: Int64, at: Date) throws
    /// Forgets the account's authenticator, recovery codes and wrong codes: it enrols anew.
    func resetAuthenticator(account: Int64) throws
    /// Replaces the account's recovery codes (stored hashed).
    func replaceRecoveryCodes(_ codes: [String], account: Int64) throws
    /// Uses up one unused recovery code of the account; whether it was one.
    func useRecoveryCode(_ code: String, account: Int64, at: Date) throws -> Bool
}

/// TOTP codes (RFC 6238, HMAC-SHA1, 6 digits, 30 s) and fresh secrets.
public protocol OneTimeCodes {
    /// 20 random bytes.
    func newSecret() -> [UInt8]
    /// The code of time step `step` (seconds since 1970 ÷ 30).
    func code(secret: [UInt8], step: Int64) -> String
    /// Ten fresh recovery codes, `xxxxx-xxxxx`.
    func newRecoveryCodes() -> [String]
}

/// Mail to console accounts.
public protocol ConsoleMail {
    /// The sign-in link, to the account's address.
    func sendConsoleSignInLink(to address: String, link: String, minutes: Int) throws
}
