import Foundation
import HeraldCore

/// The release managers' console: its accounts (kept by admins from the CLI), and signing in —
/// a single-use link mailed to the account's address, then a TOTP code from an authenticator
/// enrolled at the first sign-in (or one of its recovery codes). A session does nothing until
/// the second factor is given.
public struct Console {
    let work: any UnitOfWork
    let accounts: any ConsoleAccountRecords
    let access: any ConsoleAccess
    let codes: any OneTimeCodes
    let mail: any ConsoleMail
    let audit: any AuditTrail
    let clock: any Clock
    let publicURL: String

    /// A sign-in link works for 15 minutes, once.
    public static let signInValidity: TimeInterval = 15 * 60
    /// At most this many links per address and asker in `signInValidity`…
    public static let signInsPerAddress = 3
    /// …and this many per address from anyone, so a mailbox is not flooded either.
    public static let signInsPerAddressFromAnyone = 10
    /// A session ends after 30 minutes unused, and after 12 hours whatever happens.
    public static let idleTimeout: TimeInterval = 30 * 60
    /// See `idleTimeout`.
    public static let absoluteTimeout: TimeInterval = 12 * 3600
    /// Wrong codes a session may give before it ends (a new link is needed then).
    public static let maxWrongCodes = 5
    /// Wrong codes an account may take in `wrongCodeWindow`, over all its sessions: new links
    /// buy no new guesses. Past it only recovery codes sign in until the window is over; a
    /// six-digit guess then succeeds about once in 30 years of trying.
    public static let maxWrongCodesPerAccount = 10
    /// See `maxWrongCodesPerAccount`.
    public static let wrongCodeWindow: TimeInterval = 24 * 3600
    /// TOTP's time step, in seconds.
    public static let step: TimeInterval = 30

    /// Creates the use cases over their ports.
    public init(
        work: any UnitOfWork, accounts: any ConsoleAccountRecords, access: any ConsoleAccess, codes: any OneTimeCodes,
        mail: any ConsoleMail, audit: any AuditTrail, clock: any Clock, publicURL: String
    ) {
        self.work = work
        self.accounts = accounts
        self.access = access
        self.codes = codes
        self.mail = mail
        self.audit = audit
        self.clock = clock
        self.publicURL = publicURL
    }

    // MARK: Accounts

    /// Adds an account for `email` with `role`.
    public func addAccount(email: String, role: TokenRole, actor: String) throws -> ConsoleAccount {
        let address = try Address.email(email, field: "email")
        let now = clock.now
        return try work.write {
            let account = try accounts.addAccount(email: address, role: role, at: now)
            try audit.entry(
                "account.add", subjectType: "account", subjectID: account.id, at: now, actor: actor, reason: "",
                details: ["email": address, "role": role.rawValue])
            return account
        }
    }

    /// Every account.
    public func listAccounts() throws -> [ConsoleAccount] { try accounts.accounts() }

    /// Enables a disabled account again.
    public func enableAccount(_ id: Int64, reason: String, actor: String) throws -> ConsoleAccount {
        let now = clock.now
        return try work.write {
            let account = try accounts.account(id)
            guard account.disabledAt != nil else { return account }
            try accounts.enableAccount(id)
            try audit.entry(
                "account.enable", subjectType: "account", subjectID: id, at: now, actor: actor, reason: reason,
                details: ["email": account.email])
            return try accounts.account(id)
        }
    }

    /// Forgets the account's authenticator and recovery codes (lost, or its secret exposed):
    /// its sessions end, and its next sign-in enrols a new one.
    public func resetAuthenticator(_ id: Int64, reason: String, actor: String) throws -> ConsoleAccount {
        let now = clock.now
        return try work.write {
            let account = try accounts.account(id)
            try access.resetAuthenticator(account: id)
            try access.endSessions(ofAccount: id, at: now)
            try audit.entry(
                "account.reset-authenticator", subjectType: "account", subjectID: id, at: now, actor: actor,
                reason: reason, details: ["email": account.email])
            return try accounts.account(id)
        }
    }

    /// Disables an account and ends its sessions at once.
    public func disableAccount(_ id: Int64, reason: String, actor: String) throws -> ConsoleAccount {
        let now = clock.now
        return try work.write {
            let account = try accounts.account(id)
            guard account.disabledAt == nil else { return account }
            try accounts.disableAccount(id, at: now)
            try access.endSessions(ofAccount: id, at: now)
            try audit.entry(
                "account.disable", subjectType: "account", subjectID: id, at: now, actor: actor, reason: reason,
                details: ["email": account.email])
            return try accounts.account(id)
        }
    }

    // MARK: Signing in

    /// Mails a sign-in link to `email` when it is an active account's. The answer and the rows
    /// written are the same whoever asks, so the form tells no one who has an account.
    /// `requester` (the asking client's address) has a share of links of its own, so no one
    /// can use up an address's links for its owner.
    public func requestSignIn(email: String, requester: String = "") throws {
        let address = try Address.email(email, field: "email")
        let now = clock.now
        try work.write {
            let asked = try access.signInsRequested(
                email: address, requester: requester, since: now - Self.signInValidity)
            guard asked.byRequester < Self.signInsPerAddress, asked.total < Self.signInsPerAddressFromAnyone else {
                return
            }
            let account = try accounts.activeAccount(email: address)
            let token = try access.recordSignIn(
                email: address, account: account?.id, requester: requester, at: now,
                expires: now + Self.signInValidity)
            guard let account else { return }
            // To the address as the account has it, not as it was typed.
            try mail.sendConsoleSignInLink(
                to: account.email, link: "\(publicURL)/console/sign-in?token=\(token)",
                minutes: Int(Self.signInValidity / 60))
        }
    }

    static let invalidLink = Refusal.invalid(
        field: "token", rule: "this link is not valid, was used already, or has expired")

    /// Uses a sign-in link: a session that still needs the second factor. Its token.
    public func signIn(token: String) throws -> String {
        let now = clock.now
        return try work.write {
            guard (20...100).contains(token.count), let id = try access.useSignIn(token, at: now),
                try accounts.account(id).disabledAt == nil
            else { throw Self.invalidLink }
            let session = try access.startSession(account: id, at: now)
            try audit.entry(
                "account.sign-in-link", subjectType: "account", subjectID: id, at: now,
                actor: "console:\(try accounts.account(id).email)", reason: "", details: [:])
            return session.token
        }
    }

    /// The live session behind a cookie, verified or not.
    public func session(_ token: String) throws -> ConsoleSession? {
        guard (20...100).contains(token.count) else { return nil }
        return try work.write {
            try access.session(token, at: clock.now, idle: Self.idleTimeout, absolute: Self.absoluteTimeout)
        }
    }

    /// What an authenticator app needs to enrol: the secret (base32) and its `otpauth://` URI.
    /// Each session makes its own secret and keeps it until a code from it is right: the holder
    /// of another link never sees the secret that gets enrolled.
    public func enrolment(_ token: String) throws -> (secret: String, uri: String) {
        try work.write {
            let session = try unverified(token)
            guard !session.account.enrolled else {
                throw Refusal.conflict(field: "totp", rule: "this account has an authenticator already")
            }
            var secret = try access.pendingSecret(token)
            if secret == nil {
                secret = codes.newSecret()
                try access.setPendingSecret(secret!, token: token)
            }
            let encoded = Base32.encode(secret!)
            let label = "Herald:\(session.account.email)"
                .addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "@.-_:")))!
            return (
                encoded, "otpauth://totp/\(label)?secret=\(encoded)&issuer=Herald&algorithm=SHA1&digits=6&period=30"
            )
        }
    }

    /// The first code from the new authenticator: the account is enrolled, the session signed
    /// in under a new token (returned), and ten recovery codes are made, shown this once.
    public func confirmEnrolment(_ token: String, code: String) throws -> (token: String, recovery: [String]) {
        let now = clock.now
        // A wrong code is counted even though the refusal rolls the rest back.
        let outcome: Result<(String, [String]), Refusal> = try work.write {
            let session = try unverified(token)
            guard !session.account.enrolled, let secret = try access.pendingSecret(token) else {
                throw Refusal.conflict(
                    field: "totp", rule: "this account has an authenticator already, or this page is out of date")
            }
            let step: Int64
            do {
                step = try checkTOTP(code, secret: secret, lastStep: 0, session: session, token: token, at: now)
            } catch let refusal as Refusal {
                return .failure(refusal)
            }
            try access.enrol(secret, step: step, account: session.account.id, at: now)
            let recovery = codes.newRecoveryCodes()
            try access.replaceRecoveryCodes(recovery, account: session.account.id)
            let fresh = try access.markVerified(token, at: now)
            try audit.entry(
                "account.enrol", subjectType: "account", subjectID: session.account.id, at: now, actor: session.actor,
                reason: "", details: [:])
            return .success((fresh, recovery))
        }
        return try outcome.get()
    }

    /// The second factor: a TOTP code (each works once) or an unused recovery code. Five wrong
    /// codes end the session; ten in a day stop the account taking TOTP codes for the rest of
    /// it. The session goes on under a new token, returned.
    public func verify(_ token: String, code: String) throws -> String {
        let now = clock.now
        // A wrong code is counted even though the refusal rolls the rest back.
        let outcome: Result<String, Refusal> = try work.write {
            let session = try unverified(token)
            guard session.account.enrolled else {
                throw Refusal.invalid(field: "totp", rule: "this account has no authenticator yet: enrol one first")
            }
            let compact = code.lowercased().filter { $0.isLetter || $0.isNumber }
            let how: String
            if compact.count == 10, try access.useRecoveryCode(compact, account: session.account.id, at: now) {
                how = "recovery-code"
            } else {
                do {
                    let (secret, lastStep) = try access.totp(of: session.account.id)
                    let step = try checkTOTP(
                        code, secret: secret, lastStep: lastStep, session: session, token: token, at: now)
                    try access.useStep(step, account: session.account.id, at: now)
                } catch let refusal as Refusal {
                    return .failure(refusal)
                }
                how = "totp"
            }
            let fresh = try access.markVerified(token, at: now)
            try audit.entry(
                "account.sign-in", subjectType: "account", subjectID: session.account.id, at: now,
                actor: session.actor, reason: "", details: ["factor": how])
            return .success(fresh)
        }
        return try outcome.get()
    }

    /// Ends this session.
    public func signOut(_ token: String) throws {
        try work.write { try access.endSession(token, at: clock.now) }
    }

    /// Ends every session of the session's account, this one included.
    public func signOutEverywhere(_ session: ConsoleSession) throws {
        let now = clock.now
        try work.write {
            try access.endSessions(ofAccount: session.account.id, at: now)
            try audit.entry(
                "account.sign-out-everywhere", subjectType: "account", subjectID: session.account.id, at: now,
                actor: session.actor, reason: "", details: [:])
        }
    }

    // MARK: -

    private func unverified(_ token: String) throws -> ConsoleSession {
        guard (20...100).contains(token.count),
            let session = try access.session(
                token, at: clock.now, idle: Self.idleTimeout, absolute: Self.absoluteTimeout)
        else { throw Self.invalidLink }
        return session
    }

    /// Checks a six-digit code against the steps around now (a clock a step off still works),
    /// never one used before: the step it matched. A wrong one is counted for the session and
    /// the account; the fifth of a session ends it, and past the account's daily limit no code
    /// is even compared.
    private func checkTOTP(
        _ code: String, secret: [UInt8]?, lastStep: Int64, session: ConsoleSession, token: String, at now: Date
    ) throws -> Int64 {
        let account = session.account.id
        let locked = try access.wrongCodes(account: account, at: now, window: Self.wrongCodeWindow)
        if locked.count >= Self.maxWrongCodesPerAccount, let since = locked.since {
            throw Refusal.invalid(
                field: "code",
                rule:
                    "too many wrong codes for this account: it takes no authenticator codes until \(Instant.utc(since + Self.wrongCodeWindow)); a recovery code still works"
            )
        }
        let digits = code.filter(\.isNumber)
        let current = Int64((now.timeIntervalSince1970 / Self.step).rounded(.down))
        let step =
            secret.flatMap { secret in
                digits.count == 6
                    ? (current - 1...current + 1).first {
                        $0 > lastStep && codes.code(secret: secret, step: $0) == digits
                    }
                    : nil
            }
        if let step { return step }
        let wrong = try access.countWrongCode(token)
        let (forAccount, _) = try access.countWrongCode(account: account, at: now, window: Self.wrongCodeWindow)
        if wrong >= Self.maxWrongCodes || forAccount >= Self.maxWrongCodesPerAccount {
            try access.endSession(token, at: now)
            try audit.entry(
                "account.too-many-codes", subjectType: "account", subjectID: account, at: now, actor: session.actor,
                reason: "", details: ["this-sign-in": String(wrong), "today": String(forAccount)])
            throw Refusal.invalid(
                field: "code", rule: "too many wrong codes: this sign-in has ended; ask for a new link")
        }
        throw Refusal.invalid(field: "code", rule: "this code is not right (or was used already); try the next one")
    }
}
