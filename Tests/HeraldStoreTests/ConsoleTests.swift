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
                "SELECT id FROM deliveries WHERE lower(recipient) = lower(?) ORDER BY id DESC LIMIT 1", .text(address))
            // Quoted-printable: soft line breaks and "=" as "=3D".
            guard
                let text = messages.first?.replacingOccurrences(of: "=\r\n", with: "")
                    .replacingOccurrences(of: "=3D", with: "="),
                let range = text.range(of: "/console/sign-in?token=")
            else { return nil }
            return String(text[range.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        }

        /// The code an authenticator with the base32 `secret` shows now (or `steps` later).
        func code(_ secret: String, steps: Int64 = 0) throws -> String {
            let step = Int64(db.clock.now.timeIntervalSince1970 / 30) + steps
            return codes.code(secret: try #require(Self.base32(secret)), step: step)
        }

        static func base32(_ text: String) -> [UInt8]? {
            let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
            var bytes: [UInt8] = []
            var buffer = 0
            var bits = 0
            for character in text {
                guard let value = alphabet.firstIndex(of: character) else { return nil }
                buffer = (buffer << 5) | value
                bits += 5
                if bits >= 8 {
                    bytes.append(UInt8((buffer >> (bits - 8)) & 0xFF))
                    bits -= 8
                }
            }
            return bytes
        }

        /// A session signed in from a fresh link: its (new) token, the recovery codes, the secret.
        func signedIn(_ address: String, requester: String = "") throws -> (
            token: String, recovery: [String], secret: String
        ) {
            try console.requestSignIn(email: address, requester: requester)
            let link = try #require(try mailedToken(to: address))
            let token = try console.signIn(token: link)
            let (secret, _) = try console.enrolment(token)
            let (fresh, recovery) = try console.confirmEnrolment(token, code: try code(secret))
            return (fresh, recovery, secret)
        }

        /// A session opened by a fresh link, not yet verified.
        func opened(_ address: String, requester: String = "") throws -> String {
            try console.requestSignIn(email: address, requester: requester)
            return try console.signIn(token: try #require(try mailedToken(to: address)))
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
        let (signedIn, recovery) = try f.console.confirmEnrolment(token, code: try f.code(secret))
        #expect(recovery.count == 10 && Set(recovery).count == 10)
        // Signed in under a new token: the one from before the code means nothing now.
        #expect(try f.console.session(signedIn)?.verified == true)
        #expect(try f.console.session(token) == nil)
        #expect(try f.console.listAccounts().first?.enrolled == true)
        #expect(throws: Refusal.self) { _ = try f.console.enrolment(signedIn) }

        // The next sign-in needs the link and a code; a code works once, the next step's works.
        f.db.manualClock.advance(by: 60)
        let second = try f.opened("rm@example.org")
        #expect(try f.console.session(second)?.verified == false)
        let now = try f.code(secret)
        let secondSignedIn = try f.console.verify(second, code: now)
        #expect(try f.console.session(secondSignedIn)?.verified == true)
        let third = try f.opened("rm@example.org")
        #expect(throws: Refusal.self) { _ = try f.console.verify(third, code: now) }
        _ = try f.console.verify(third, code: try f.code(secret, steps: 1))

        // A recovery code works once, typed any way (three links per quarter of an hour).
        f.db.manualClock.advance(by: Console.signInValidity)
        let fourth = try f.opened("rm@example.org")
        let fourthSignedIn = try f.console.verify(
            fourth, code: recovery[0].uppercased().replacingOccurrences(of: "-", with: " "))
        #expect(try f.console.session(fourthSignedIn)?.verified == true)
        try f.console.signOut(fourthSignedIn)
        #expect(try f.console.session(fourthSignedIn) == nil)
        #expect(try f.console.session(signedIn)?.verified == true, "other sessions go on")
        let actions = try f.db.audit.list(subjectType: "account").map(\.action)
        #expect(actions.contains("account.enrol") && actions.contains("account.sign-in"))
    }

    /// Each session enrols a secret of its own: the holder of another link never learns the one
    /// that gets enrolled, and its codes do not work after.
    @Test func aSecretBeingEnrolledBelongsToItsSession() throws {
        let f = try Fixture()
        _ = try f.console.addAccount(email: "rm@example.org", role: .releaseManager, actor: f.db.actor)
        let owner = try f.opened("rm@example.org")
        let other = try f.opened("rm@example.org", requester: "203.0.113.9")
        let ownerSecret = try f.console.enrolment(owner).secret
        let otherSecret = try f.console.enrolment(other).secret
        #expect(ownerSecret != otherSecret)
        _ = try f.console.confirmEnrolment(owner, code: try f.code(ownerSecret))
        #expect(throws: Refusal.self) { _ = try f.console.confirmEnrolment(other, code: try f.code(otherSecret)) }
        f.db.manualClock.advance(by: 60)
        let later = try f.opened("rm@example.org", requester: "203.0.113.9")
        #expect(throws: Refusal.self) { _ = try f.console.verify(later, code: try f.code(otherSecret)) }
        _ = try f.console.verify(later, code: try f.code(ownerSecret))
    }

    /// New links buy no new guesses: ten wrong codes in a day over any sessions, and the account
    /// takes no authenticator code (not even the right one) until the day is over; a recovery
    /// code still works. An admin's reset makes it enrol anew.
    @Test func wrongCodesAreCountedPerAccountToo() throws {
        let f = try Fixture()
        let account = try f.console.addAccount(email: "rm@example.org", role: .releaseManager, actor: f.db.actor)
        let (_, recovery, secret) = try f.signedIn("rm@example.org")
        for round in 0..<2 {
            let session = try f.opened("rm@example.org", requester: "198.51.100.\(round)")
            for _ in 0..<Console.maxWrongCodes {
                #expect(throws: Refusal.self) { _ = try f.console.verify(session, code: "123456") }
            }
        }
        let locked = try f.opened("rm@example.org", requester: "198.51.100.7")
        #expect(throws: Refusal.self) { _ = try f.console.verify(locked, code: try f.code(secret)) }
        #expect(try f.console.session(locked)?.verified == false, "refused without being counted")
        _ = try f.console.verify(locked, code: recovery[1])

        f.db.manualClock.advance(by: Console.wrongCodeWindow + 1)
        let nextDay = try f.opened("rm@example.org")
        _ = try f.console.verify(nextDay, code: try f.code(secret))

        _ = try f.console.resetAuthenticator(account.id, reason: "phone lost", actor: f.db.actor)
        #expect(try f.console.session(nextDay) == nil, "its sessions end")
        #expect(try f.console.listAccounts().first?.enrolled == false)
        f.db.manualClock.advance(by: 60)
        let anew = try f.opened("rm@example.org")
        #expect(try f.console.enrolment(anew).secret != secret)
    }

    /// Someone else asking for links for an address cannot use up its owner's.
    @Test func eachAskerHasItsOwnShareOfLinks() throws {
        let f = try Fixture()
        _ = try f.console.addAccount(email: "rm@example.org", role: .releaseManager, actor: f.db.actor)
        for _ in 0..<5 { try f.console.requestSignIn(email: "rm@example.org", requester: "198.51.100.66") }
        let before = try f.db.count("deliveries")
        try f.console.requestSignIn(email: "rm@example.org", requester: "192.0.2.10")
        #expect(try f.db.count("deliveries") == before + 1)
        for asker in 0..<10 { try f.console.requestSignIn(email: "rm@example.org", requester: "203.0.113.\(asker)") }
        #expect(try f.db.count("deliveries") == Int64(Console.signInsPerAddressFromAnyone), "a cap for the mailbox")
    }

    @Test func fiveWrongCodesEndTheSignIn() throws {
        let f = try Fixture()
        _ = try f.console.addAccount(email: "rm@example.org", role: .admin, actor: f.db.actor)
        let (_, _, secret) = try f.signedIn("rm@example.org")
        let token = try f.opened("rm@example.org")
        for _ in 0..<4 {
            #expect(throws: Refusal.self) { _ = try f.console.verify(token, code: "123456") }
            #expect(try f.console.session(token) != nil, "counted, not yet ended")
        }
        #expect(throws: Refusal.self) { _ = try f.console.verify(token, code: "123456") }
        #expect(try f.console.session(token) == nil)
        #expect(throws: Refusal.self) { _ = try f.console.verify(token, code: try f.code(secret)) }
    }

    @Test func theFormSaysTheSameWhoeverAsksAndLinksAreLimited() throws {
        let f = try Fixture()
        _ = try f.console.addAccount(email: "rm@example.org", role: .auditor, actor: f.db.actor)
        try f.console.requestSignIn(email: "nobody@example.org")
        #expect(try f.mailedToken(to: "nobody@example.org") == nil)
        #expect(try f.db.count("console_sign_ins") == 1, "counted all the same")
        for _ in 0..<5 { try f.console.requestSignIn(email: "rm@example.org") }
        #expect(try f.db.count("console_sign_ins") == 1 + Int64(Console.signInsPerAddress))
        #expect(try f.db.count("deliveries") == Int64(Console.signInsPerAddress))
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
        let long = try f.opened("rm@example.org")
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
        let second = try f.console.verify(try f.opened("rm@example.org"), code: try f.code(secret))
        try f.console.signOutEverywhere(try #require(try f.console.session(second)))
        #expect(try f.console.session(first) == nil && f.console.session(second) == nil)
    }

    /// "Send the early notice now" (the console's button) makes it due at once, and is refused
    /// once it has gone out: moving it then would only send a revision that changes nothing.
    @Test func theEarlyNoticeIsSentNowOnceAndNotAgain() throws {
        let f = try Fixture()
        try f.db.addProject()
        for number in 0..<2 {
            _ = try f.db.providers.add(
                NewProvider(organization: "Org \(number)", emails: ["sec@org\(number).example"], projects: ["demo"]),
                status: .active, actor: f.db.actor)
        }
        let advisory = try f.db.advisories.create(
            project: "demo", content: AdvisoryContent(title: "T"),
            schedule: Schedule(embargo: f.db.clock.now + 7 * 86_400), actor: f.db.actor)
        #expect(try !f.db.advisories.earlyNoticeSent(advisory.id))
        let due = try f.db.advisories.sendEarlyNoticeNow(advisory.id, actor: f.db.actor)
        #expect(due.schedule.earlyNotice == f.db.clock.now && due.revision == advisory.revision + 1)
        #expect(try f.db.advisories.fireDue().map(\.kind) == [.earlyNotice])
        #expect(try f.db.advisories.earlyNoticeSent(advisory.id))
        let notices = try f.db.count("notices")
        #expect(throws: Refusal.self) { _ = try f.db.advisories.sendEarlyNoticeNow(advisory.id, actor: f.db.actor) }
        #expect(try f.db.count("notices") == notices, "no revision sent")
    }
}
