import Foundation
import HeraldApp
import HeraldCore
import HeraldStore
import HeraldTestSupport
import Testing

/// The console's accounts and sign-in: a mailed link, then TOTP; against a real SQLite file.
@Suite struct ConsoleTests {
    /// RFC 6238 appendix B, SHA-1: the reference's eight-digit codes.
    @Test func totpCodesAreRFC6238s() {
        let secret = Array("12345678901234567890".utf8)
        let vectors: [(Int64, String)] = [
            (59, "94287082"), (1_111_111_109, "07081804"), (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"), (2_000_000_000, "69279037"), (20_000_000_000, "65353130"),
        ]
        for (time, code) in vectors {
            #expect(TOTPCodes.code(secret: secret, step: time / 30, digits: 8) == code, "T=\(time)")
            #expect(TOTPCodes().code(secret: secret, step: time / 30) == String(code.suffix(6)), "T=\(time)")
        }
        #expect(Base32.encode(secret) == "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
        #expect(Base32.encode([0xFF]) == "74")
    }

    /// What a release manager goes through: a link by mail, enrolment, codes, sign-out.
    struct Fixture {
        let db: TestDatabase
        var console: Console { db.stores.console }
        let codes = TOTPCodes()

        init() throws {
            db = try TestDatabase()
        }

        /// The token of the newest sign-in link mailed to `address`.
        func mailedToken(to address: String) throws -> String? {
            let messages = try db.sentMessages(
                "SELECT id FROM deliveries WHERE recipient = ? ORDER BY id DESC LIMIT 1", .text(address))
            // Quoted-printable: soft line breaks and "=" as "=3D".
            guard
                let text = messages.first?.replacingOccurrences(of: "=\r\n", with: "")
                    .replacingOccurrences(of: "=3D", with: "="),
                let range = text.range(of: "/console/sign-in?token=")
            else { return nil }
            return String(text[range.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        }

        /// The code an authenticator with `secret` shows now (or `steps` later).
        func code(_ secret: String, steps: Int64 = 0) throws -> String {
            let raw = try #require(
                try db.database.first(
                    "SELECT totp_secret FROM console_accounts WHERE totp_secret IS NOT NULL LIMIT 1",
                    map: { $0.blob(0) }))
            #expect(Base32.encode(raw) == secret)
            let step = Int64(db.clock.now.timeIntervalSince1970 / 30) + steps
            return codes.code(secret: raw, step: step)
        }

        /// A session signed in from a fresh link.
        func signedIn(_ address: String) throws -> (token: String, recovery: [String], secret: String) {
            try console.requestSignIn(email: address)
            let link = try #require(try mailedToken(to: address))
            let token = try console.signIn(token: link)
            let (secret, _) = try console.enrolment(token)
            let recovery = try console.confirmEnrolment(token, code: try code(secret))
            return (token, recovery, secret)
        }
    }

    @Test func aLinkThenAnEnrolledAuthenticatorSignsIn() throws {
        let f = try Fixture()
        let account = try f.console.addAccount(email: "RM@Example.org", role: .releaseManager, actor: f.db.actor)
        #expect(account.email == "RM@example.org" && !account.enrolled)
        try f.console.requestSignIn(email: "rm@example.org")
        let link = try #require(try f.mailedToken(to: "RM@example.org"))
        let token = try f.console.signIn(token: link)
        // The link works once; the session does nothing before the second factor.
        #expect(throws: Refusal.self) { try f.console.signIn(token: link) }
        #expect(try f.console.session(token)?.verified == false)

        let (secret, uri) = try f.console.enrolment(token)
        #expect(
            secret.count == 32 && uri.hasPrefix("otpauth://totp/Herald:RM@example.org?secret=\(secret)&issuer=Herald"))
        #expect(try f.console.enrolment(token).secret == secret, "the same secret until a code confirms it")
        #expect(throws: Refusal.self) { _ = try f.console.confirmEnrolment(token, code: "000000") }
        let recovery = try f.console.confirmEnrolment(token, code: try f.code(secret))
        #expect(recovery.count == 10 && Set(recovery).count == 10)
        #expect(try f.console.session(token)?.verified == true)
        #expect(try f.console.listAccounts().first?.enrolled == true)
        #expect(throws: Refusal.self) { _ = try f.console.enrolment(token) }

        // The next sign-in needs the link and a code; a code works once, the next step's works.
        f.db.manualClock.advance(by: 60)
        try f.console.requestSignIn(email: "rm@example.org")
        let second = try f.console.signIn(token: try #require(try f.mailedToken(to: "RM@example.org")))
        #expect(try f.console.session(second)?.verified == false)
        let now = try f.code(secret)
        try f.console.verify(second, code: now)
        #expect(try f.console.session(second)?.verified == true)
        try f.console.requestSignIn(email: "rm@example.org")
        let third = try f.console.signIn(token: try #require(try f.mailedToken(to: "RM@example.org")))
        #expect(throws: Refusal.self) { try f.console.verify(third, code: now) }
        try f.console.verify(third, code: try f.code(secret, steps: 1))

        // A recovery code works once, typed any way (three links per quarter of an hour).
        f.db.manualClock.advance(by: Console.signInValidity)
        try f.console.requestSignIn(email: "rm@example.org")
        let fourth = try f.console.signIn(token: try #require(try f.mailedToken(to: "RM@example.org")))
        try f.console.verify(fourth, code: recovery[0].uppercased().replacingOccurrences(of: "-", with: " "))
        #expect(try f.console.session(fourth)?.verified == true)
        try f.console.signOut(fourth)
        #expect(try f.console.session(fourth) == nil)
        #expect(try f.console.session(token)?.verified == true, "other sessions go on")
        let actions = try f.db.audit.list(subjectType: "account").map(\.action)
        #expect(actions.contains("account.enrol") && actions.contains("account.sign-in"))
    }

    @Test func fiveWrongCodesEndTheSignIn() throws {
        let f = try Fixture()
        _ = try f.console.addAccount(email: "rm@example.org", role: .admin, actor: f.db.actor)
        let (_, _, secret) = try f.signedIn("rm@example.org")
        try f.console.requestSignIn(email: "rm@example.org")
        let token = try f.console.signIn(token: try #require(try f.mailedToken(to: "rm@example.org")))
        for _ in 0..<4 {
            #expect(throws: Refusal.self) { try f.console.verify(token, code: "123456") }
            #expect(try f.console.session(token) != nil, "counted, not yet ended")
        }
        #expect(throws: Refusal.self) { try f.console.verify(token, code: "123456") }
        #expect(try f.console.session(token) == nil)
        #expect(throws: Refusal.self) { try f.console.verify(token, code: try f.code(secret)) }
    }

    @Test func theFormSaysTheSameWhoeverAsksAndLinksAreLimited() throws {
        let f = try Fixture()
        _ = try f.console.addAccount(email: "rm@example.org", role: .auditor, actor: f.db.actor)
        try f.console.requestSignIn(email: "nobody@example.org")
        #expect(try f.mailedToken(to: "nobody@example.org") == nil)
        #expect(try f.db.count("console_sign_ins") == 1, "counted all the same")
        for _ in 0..<5 { try f.console.requestSignIn(email: "rm@example.org") }
        #expect(try f.db.count("console_sign_ins") == 1 + Int64(Console.signInsPerAddress))
        #expect(throws: Refusal.self) { try f.console.requestSignIn(email: "not an address") }
    }

    @Test func aDisabledAccountSignsInNoMoreAndItsSessionsEnd() throws {
        let f = try Fixture()
        let account = try f.console.addAccount(email: "rm@example.org", role: .releaseManager, actor: f.db.actor)
        #expect(throws: Refusal.self) {
            _ = try f.console.addAccount(email: "RM@example.org", role: .admin, actor: f.db.actor)
        }
        let (token, _, _) = try f.signedIn("rm@example.org")
        try f.console.requestSignIn(email: "rm@example.org")
        let pending = try #require(try f.mailedToken(to: "rm@example.org"))
        _ = try f.console.disableAccount(account.id, reason: "left the team", actor: f.db.actor)
        #expect(try f.console.session(token) == nil)
        #expect(throws: Refusal.self) { _ = try f.console.signIn(token: pending) }
        let mailed = try f.db.count("deliveries")
        f.db.manualClock.advance(by: Console.signInValidity)
        try f.console.requestSignIn(email: "rm@example.org")
        #expect(try f.db.count("deliveries") == mailed, "no link for a disabled account")
    }

    @Test func sessionsExpireWhenIdleAndAfterTwelveHours() throws {
        let f = try Fixture()
        _ = try f.console.addAccount(email: "rm@example.org", role: .releaseManager, actor: f.db.actor)
        let (token, _, _) = try f.signedIn("rm@example.org")
        f.db.manualClock.advance(by: Console.idleTimeout - 60)
        #expect(try f.console.session(token) != nil)
        f.db.manualClock.advance(by: Console.idleTimeout + 1)
        #expect(try f.console.session(token) == nil)

        f.db.manualClock.advance(by: 60)
        try f.console.requestSignIn(email: "rm@example.org")
        let long = try f.console.signIn(token: try #require(try f.mailedToken(to: "rm@example.org")))
        for _ in 0..<(Int(Console.absoluteTimeout / 1200)) {
            f.db.manualClock.advance(by: 1200)
            _ = try f.console.session(long)
        }
        f.db.manualClock.advance(by: 1)
        #expect(try f.console.session(long) == nil)
    }

    @Test func signingOutEverywhereEndsEverySession() throws {
        let f = try Fixture()
        _ = try f.console.addAccount(email: "rm@example.org", role: .releaseManager, actor: f.db.actor)
        let (first, _, secret) = try f.signedIn("rm@example.org")
        f.db.manualClock.advance(by: 60)
        try f.console.requestSignIn(email: "rm@example.org")
        let second = try f.console.signIn(token: try #require(try f.mailedToken(to: "rm@example.org")))
        try f.console.verify(second, code: try f.code(secret))
        try f.console.signOutEverywhere(try #require(try f.console.session(second)))
        #expect(try f.console.session(first) == nil && f.console.session(second) == nil)
    }
}
