import Crypto
import Foundation
import HeraldCore
import HeraldStore
import HeraldTestSupport
import Testing

@testable import HeraldDelivery

@Suite(.serialized) struct WebhookDeliveryTests {
    let secret = WebhookSecret.make(key: Array("a webhook signing key, 32 bytes!".utf8))

    /// A published advisory announced on one channel per receiver behaviour.
    func publish(to receiver: WebhookReceiver, paths: [(String, ChannelKind)], db: TestDatabase) throws -> Advisory {
        try db.addProject()
        for (path, kind) in paths {
            _ = try db.channels.add(
                NewChannel(
                    projectSlug: "demo", kind: kind, target: receiver.base + path,
                    secret: kind == .webhook ? secret : nil), actor: db.actor)
        }
        let advisory = try db.advisories.create(
            project: "demo", content: AdvisoryContent(title: "Overflow", summary: "Details", cves: ["CVE-2026-7777"]),
            schedule: Schedule(embargo: db.clock.now + 3600), actor: db.actor)
        return try db.advisories.publishNow(advisory.id, notes: try ChangeNotes(reason: "test"), actor: db.actor)
    }

    @Test func signaturesMatchTheStandardWebhooksVector() {
        // The reference vector of standardwebhooks.com's libraries.
        let signature = StandardWebhooks.signature(
            secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
            timestamp: 1_614_265_330, body: Array(#"{"test": 2432232314}"#.utf8))
        #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        #expect(
            StandardWebhooks.signature(secret: "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", id: "x", timestamp: 1, body: [])
                == nil)
        #expect(StandardWebhooks.signature(secret: "whsec_not base64!", id: "x", timestamp: 1, body: []) == nil)
        // An empty key and a key longer than a block, as swift-crypto's HMAC signs them.
        for key in [[UInt8](), [UInt8](repeating: 7, count: 100)] {
            let reference = HMAC<SHA256>.authenticationCode(
                for: Array("m.5.{}".utf8), using: SymmetricKey(data: key))
            #expect(
                StandardWebhooks.signature(
                    secret: "whsec_" + Data(key).base64EncodedString(), id: "m", timestamp: 5, body: Array("{}".utf8))
                    == "v1," + Data(reference).base64EncodedString())
        }
    }

    @Test func theSignersBase64AgreesWithFoundation() {
        var generator = SystemRandomNumberGenerator()
        func decoded(_ text: String) -> [UInt8]? {
            Array(text.utf8).withUnsafeBufferPointer { text in
                withUnsafeTemporaryAllocation(of: UInt8.self, capacity: text.count / 4 * 3) { output in
                    Base64.decodeCanonical(text, into: output).map { Array(output[..<$0]) }
                }
            }
        }
        for length in 0...70 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let foundation = Data(bytes).base64EncodedString()
            let ours = bytes.withUnsafeBytes { Base64.string(lead: "x: ", "v1,", encoding: $0) }
            #expect(ours == "x: v1," + foundation, "length \(length)")
            #expect(decoded(foundation) == bytes, "length \(length)")
            // Every character changed in turn: where we decode it, Foundation decodes it to the
            // same bytes (so the signer's fallback to Foundation changes nothing).
            guard length <= 8 else { continue }
            for position in foundation.utf8.indices {
                for replacement in "AB+/=9zQ-_ .\n".utf8 {
                    var characters = Array(foundation.utf8)
                    characters[foundation.utf8.distance(from: foundation.utf8.startIndex, to: position)] = replacement
                    let changed = String(decoding: characters, as: UTF8.self)
                    if let ours = decoded(changed) {
                        #expect(Data(base64Encoded: changed).map(Array.init) == ours, "\(changed)")
                    }
                }
            }
        }
        #expect(decoded("QQ==") == Array("A".utf8))
        #expect(decoded("QR==") == nil)  // Foundation's to decide: bits set past the byte
        #expect(decoded("QUI=") == Array("AB".utf8))
        #expect(decoded("QUJ=") == nil)
        for malformed in ["Q", "QQ=", "Q===", "QQ==QUI=", "=QQQ", "QQ=A", "QU I", "QUI\n"] {
            #expect(decoded(malformed) == nil, "\(malformed)")
        }
        // A secret Foundation reads and the hand decoder leaves to it still signs, as before.
        #expect(Data(base64Encoded: "QR==") != nil)
        let lenient = "whsec_QR=="
        #expect(
            StandardWebhooks.signature(secret: lenient, id: "m", timestamp: 5, body: [])
                == Data(base64Encoded: "QR==").map { key in
                    "v1,"
                        + Data(HMAC<SHA256>.authenticationCode(for: Array("m.5.".utf8), using: SymmetricKey(data: key)))
                        .base64EncodedString()
                })
        #expect(
            StandardWebhooks.signatureHeader(secret: secret, id: "m", timestamp: -5, body: [1, 2])
                == "webhook-signature: "
                + StandardWebhooks.signature(secret: secret, id: "m", timestamp: -5, body: [1, 2])!)
        // The longest timestamp fills the signed prefix's buffer to its last byte but one.
        let key = Array("a webhook signing key, 32 bytes!".utf8)
        #expect(
            StandardWebhooks.signature(secret: secret, id: "msg", timestamp: Int.min, body: [])
                == "v1,"
                + Data(
                    HMAC<SHA256>.authenticationCode(
                        for: Array("msg.\(Int.min).".utf8), using: SymmetricKey(data: key))
                ).base64EncodedString())
    }

    @Test func hmacAgreesWithSwiftCryptoForEveryKeyLength() {
        // Keys shorter than, equal to and longer than SHA-256's 64-byte block (which is hashed first).
        var generator = SystemRandomNumberGenerator()
        for keyLength in [0, 1, 32, 63, 64, 65, 131, 200] {
            let key = (0..<keyLength).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let first = (0..<Int.random(in: 0..<100)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let second = (0..<Int.random(in: 0..<3000)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let ours = first.withUnsafeBytes { a in
                second.withUnsafeBytes { b in StandardWebhooks.hmacSHA256(key: key, parts: [a, b]) }
            }
            let reference = Array(HMAC<SHA256>.authenticationCode(for: first + second, using: SymmetricKey(data: key)))
            #expect(ours == reference, "key of \(keyLength) bytes")
        }
    }

    @Test func reusedHandlesCarryNothingFromTheTransferBefore() async throws {
        // One connection per host, so transfers reuse one handle: a refusal of private addresses
        // must not outlive the transfer that asked for it, a PUT must not make the next POST a
        // PUT, and headers and bodies must not carry over. (`localhost` is a second host name
        // for the receiver, so its transfers open connections of their own.)
        let db = try TestDatabase(clock: SystemClock())
        let receiver = try WebhookReceiver(in: db.directory)
        defer { receiver.server.stop() }
        let other = receiver.base.replacingOccurrences(of: "127.0.0.1", with: "localhost")
        let engine = CurlEngine(settings: CurlSettings(connectTimeout: 2, totalTimeout: 2, maxConnectionsPerHost: 1))
        defer { engine.shutdown() }
        let refused = await engine.perform(
            .http(method: "POST", url: other + "/ok/refused", headers: [], body: [], refusePrivate: true))
        let allowed = await engine.perform(
            .http(method: "POST", url: other + "/ok/allowed", headers: [], body: [], refusePrivate: false))
        let put = await engine.perform(
            .http(
                method: "PUT", url: receiver.base + "/ok/one", headers: ["X-First: yes"], body: Array("first".utf8),
                refusePrivate: false))
        let post = await engine.perform(
            .http(
                method: "POST", url: receiver.base + "/ok/two", headers: [], body: Array("second".utf8),
                refusePrivate: false))
        #expect(refused.refusedPrivateTarget && !refused.error.isEmpty)
        #expect(
            allowed.code == 0 && allowed.responseCode == 204 && !allowed.refusedPrivateTarget && allowed.error.isEmpty)
        #expect(put.code == 0 && put.responseCode == 204)
        #expect(post.code == 0 && post.responseCode == 204)
        let requests = try receiver.requests()
        #expect(requests.map(\.method) == ["POST", "PUT", "POST"])
        #expect(requests.map(\.path) == ["/ok/allowed", "/ok/one", "/ok/two"])
        #expect(requests.map(\.body) == ["", "first", "second"])
        #expect(requests.last?.headers.keys.contains { $0.lowercased() == "x-first" } == false)
        // A long request and a short one queued together: the second is written from the
        // connection's buffer as the first left it (kept for the next request), and carries
        // nothing of it.
        let base = receiver.base
        async let long = engine.perform(
            .http(
                method: "POST", url: base + "/ok/long", headers: [],
                body: Array(String(repeating: "L", count: 3000).utf8), refusePrivate: false))
        async let short = engine.perform(
            .http(method: "POST", url: base + "/ok/short", headers: [], body: Array("s".utf8), refusePrivate: false))
        #expect(await [long.responseCode, short.responseCode] == [204, 204])
        let queued = try receiver.requests().suffix(2)
        #expect(Set(queued.map(\.body)) == [String(repeating: "L", count: 3000), "s"])
        #expect(queued.allSatisfy { ($0.path == "/ok/short") == ($0.body == "s") })
    }

    @Test func signedWebhooksVerifyAndFailuresRetryOrDisable() async throws {
        let db = try TestDatabase(clock: SystemClock())
        let receiver = try WebhookReceiver(in: db.directory, secret: secret)
        defer { receiver.server.stop() }
        _ = try publish(
            to: receiver,
            paths: [
                ("/ok/generic", .webhook), ("/ok/slack", .slack), ("/flaky/x", .discord),
                ("/limited/x", .teams), ("/gone/x", .mattermost),
            ], db: db)
        let engine = CurlEngine(settings: CurlSettings(connectTimeout: 2, totalTimeout: 2))
        defer { engine.shutdown() }
        let settled = try await runService(
            db, mail: MaildirTransport(directory: db.directory.appending(path: "mail")),
            webhooks: WebhookTransport(engine: engine, allowPrivateTargets: true)
        ) {
            try db.deliveries("delivered") == 4 && db.deliveries("dead") == 1
        }
        #expect(settled)
        let requests = try receiver.requests()

        // The generic webhook carries Standard Webhooks headers that verify with the channel's secret.
        let generic = requests.filter { $0.path == "/ok/generic" }
        #expect(generic.count == 1)
        #expect(generic.first?.verified == true)
        #expect(generic.first?.headers["webhook-id"]?.hasPrefix("msg_") == true)
        let event = try JSONSerialization.jsonObject(with: Data((generic.first?.body ?? "{}").utf8)) as? [String: Any]
        #expect(event?["type"] as? String == "herald.publication")
        #expect((event?["data"] as? [String: Any])?["headline"] as? String == "Demo security advisory: Overflow")

        // Slack gets blocks with a text fallback.
        let slack =
            try JSONSerialization.jsonObject(with: Data((requests.first { $0.path == "/ok/slack" }?.body ?? "{}").utf8))
            as? [String: Any]
        #expect(slack?["text"] as? String == "Demo security advisory: Overflow")
        #expect((slack?["blocks"] as? [Any])?.isEmpty == false)

        // 500 then 200: delivered on the second attempt.
        #expect(requests.filter { $0.path == "/flaky/x" }.count == 2)
        // 429 with Retry-After: 1: the second attempt waits at least that long.
        let limited = requests.filter { $0.path == "/limited/x" }.map(\.time)
        #expect(limited.count == 2)
        if limited.count == 2 { #expect(limited[1] - limited[0] >= 0.95) }
        // 410: dead, and the channel is disabled.
        #expect(requests.filter { $0.path == "/gone/x" }.count == 1)
        let disabled = try db.channels.list(revealedTo: db.actor).filter { $0.disabledAt != nil }.map(\.target)
        #expect(disabled == [receiver.base + "/gone/x"])
        let attempts = try db.database.query("SELECT recipient, attempts FROM deliveries ORDER BY channel_id") {
            ($0.text(0), $0.int(1))
        }
        #expect(attempts.map(\.1) == [1, 1, 2, 2, 1])
    }

    @Test func aReceiverThatNeverAnswersHoldsUpNoOther() async throws {
        let db = try TestDatabase(clock: SystemClock())
        let receiver = try WebhookReceiver(in: db.directory)
        defer { receiver.server.stop() }
        let slow = try WebhookReceiver(in: db.directory)  // its own host:port, as a slow endpoint elsewhere would be
        defer { slow.server.stop() }
        try db.addProject()
        _ = try db.channels.add(
            NewChannel(projectSlug: "demo", kind: .slack, target: slow.base + "/hang/x", secret: nil), actor: db.actor)
        for i in 0..<5 {
            _ = try db.channels.add(
                NewChannel(projectSlug: "demo", kind: .slack, target: receiver.base + "/ok/\(i)", secret: nil),
                actor: db.actor)
        }
        let advisory = try db.advisories.create(
            project: "demo", content: AdvisoryContent(title: "Overflow"),
            schedule: Schedule(embargo: db.clock.now + 3600), actor: db.actor)
        let start = Date()
        _ = try db.advisories.publishNow(advisory.id, notes: try ChangeNotes(reason: "test"), actor: db.actor)
        let timeout: TimeInterval = 2
        let engine = CurlEngine(settings: CurlSettings(connectTimeout: timeout, totalTimeout: timeout))
        defer { engine.shutdown() }
        let settled = try await runService(
            db, mail: MaildirTransport(directory: db.directory.appending(path: "mail")),
            webhooks: WebhookTransport(engine: engine, allowPrivateTargets: true)
        ) {
            try db.deliveries("delivered") == 5 && db.deliveries("retrying") == 1
        }
        #expect(settled)
        let fastest = try receiver.requests().map { $0.time - start.timeIntervalSince1970 }
        #expect(fastest.count == 5)
        // Everything else arrived well before the slow endpoint's timeout ran out.
        #expect((fastest.max() ?? 99) < timeout / 2, "arrivals: \(fastest)")
        let error = try db.database.first("SELECT last_error FROM deliveries WHERE state = 'retrying'") { $0.text(0) }
        #expect(error?.lowercased().contains("timed out") == true, "error: \(error ?? "none")")
    }

    @Test func aStopWaitsForSendsUnderWayNotForASlowHostsWholeLine() async throws {
        let db = try TestDatabase(clock: SystemClock())
        let slow = try WebhookReceiver(in: db.directory)
        defer { slow.server.stop() }
        try db.addProject()
        for i in 0..<20 {
            _ = try db.channels.add(
                NewChannel(projectSlug: "demo", kind: .slack, target: slow.base + "/hang/\(i)", secret: nil),
                actor: db.actor)
        }
        let advisory = try db.advisories.create(
            project: "demo", content: AdvisoryContent(title: "Overflow"),
            schedule: Schedule(embargo: db.clock.now + 3600), actor: db.actor)
        _ = try db.advisories.publishNow(advisory.id, notes: try ChangeNotes(reason: "test"), actor: db.actor)
        let timeout: TimeInterval = 2
        let engine = CurlEngine(settings: CurlSettings(connectTimeout: timeout, totalTimeout: timeout))
        defer { engine.shutdown() }
        // 8 sends hang on their connections; the other 12 wait in the engine's line for the host.
        let stopAt = Date().addingTimeInterval(0.5)
        _ = try await runService(
            db, mail: MaildirTransport(directory: db.directory.appending(path: "mail")),
            webhooks: WebhookTransport(engine: engine, allowPrivateTargets: true)
        ) { Date() >= stopAt }
        let stopped = Date().timeIntervalSince(stopAt)
        // The stop waited for the 8 under way (one timeout), not for the line behind them (three).
        #expect(stopped < timeout + 1, "stopping took \(stopped) s")
        let states = try db.database.query("SELECT state, attempts, lease_until IS NULL FROM deliveries") {
            ($0.text(0), $0.int(1), $0.int(2) == 1)
        }
        #expect(states.filter { $0.0 == "retrying" && $0.1 == 1 }.count == 8)
        // The waiting ones went back untouched: no attempt counted, no lease kept.
        #expect(states.filter { $0.0 == "pending" && $0.1 == 0 && $0.2 }.count == 12, "\(states)")
    }

    @Test func privateTargetsAreRefusedUnlessAllowed() async throws {
        let db = try TestDatabase(clock: SystemClock())
        let receiver = try WebhookReceiver(in: db.directory)
        defer { receiver.server.stop() }
        _ = try publish(to: receiver, paths: [("/ok/a", .webhook)], db: db)
        // "localhost" resolves to loopback: refused after resolution, not by looking at the name.
        try db.database.run(
            "UPDATE deliveries SET recipient = ?", .text("http://localhost:\(receiver.server.port)/ok/a"))
        let engine = CurlEngine()
        defer { engine.shutdown() }
        let died = try await runService(
            db, mail: MaildirTransport(directory: db.directory.appending(path: "mail")),
            webhooks: WebhookTransport(engine: engine, allowPrivateTargets: false)
        ) {
            try db.deliveries("dead") == 1
        }
        #expect(died)
        #expect(try receiver.requests().isEmpty)
        let error = try db.database.first("SELECT last_error FROM deliveries") { $0.text(0) }
        #expect(error?.contains("private") == true)
    }

    /// Every way to write a loopback, link-local, private or otherwise internal address that
    /// we know of, and a name that resolves to one. `local` marks those that reach the receiver
    /// (on 127.0.0.1) when private targets are allowed.
    static func internalTargets(port: Int) -> [(url: String, local: Bool)] {
        let local = [
            "127.0.0.1", "localhost", "[::ffff:127.0.0.1]", "0.0.0.0", "2130706433", "0177.0.0.1", "0x7f.0.0.1",
            "127.1",
        ]
        .map { (url: "http://\($0):\(port)/ok/\($0)", local: true) }
        let elsewhere = [
            "[::1]", "169.254.169.254", "10.0.0.1", "10.255.255.254", "172.16.0.1", "172.31.255.254", "192.168.1.1",
            "100.64.0.1", "100.127.255.254", "[fc00::1]", "[fd12:3456::1]", "[fe80::1]", "[::]", "[::127.0.0.1]",
            "[64:ff9b::a9fe:a9fe]", "[2002:a00:1::1]", "[fec0::1]", "224.0.0.1", "255.255.255.255", "0.1.2.3",
            "192.0.0.8",
            "127.0.0.2",
        ]
        .map { (url: "http://\($0):\(port)/ok/x", local: false) }
        return local + elsewhere
    }

    @Test(arguments: [false, true]) func everyInternalAddressIsRefusedAtSendTimeUnlessAllowed(allowed: Bool)
        async throws
    {
        let db = try TestDatabase(clock: SystemClock())
        let receiver = try WebhookReceiver(in: db.directory)
        defer { receiver.server.stop() }
        let targets = Self.internalTargets(port: receiver.server.port)
        try db.addProject()
        // `channel add` takes them: the address a name resolves to can change, so the check is made when sending.
        for target in targets {
            _ = try db.channels.add(
                NewChannel(projectSlug: "demo", kind: .slack, target: target.url, secret: nil), actor: db.actor)
        }
        let advisory = try db.advisories.create(
            project: "demo", content: AdvisoryContent(title: "Overflow"),
            schedule: Schedule(embargo: db.clock.now + 3600), actor: db.actor)
        _ = try db.advisories.publishNow(advisory.id, notes: try ChangeNotes(reason: "test"), actor: db.actor)
        var settings = fastRetries
        // One attempt each: the outcome of that attempt is the point.
        settings.retryPolicy = RetryPolicy(steps: [], jitter: 0)
        let engine = CurlEngine(settings: CurlSettings(connectTimeout: 1, totalTimeout: 2))
        defer { engine.shutdown() }
        let settled = try await runService(
            db, mail: MaildirTransport(directory: db.directory.appending(path: "mail")),
            webhooks: WebhookTransport(engine: engine, allowPrivateTargets: allowed), settings: settings
        ) {
            try db.deliveries("delivered") + db.deliveries("dead") == Int64(targets.count)
        }
        #expect(settled)
        let records = try db.database.query("SELECT recipient, state, coalesce(last_error, '') FROM deliveries") {
            ($0.text(0), $0.text(1), $0.text(2))
        }
        let refused = records.filter { $0.2.contains("refused: the URL resolves to a loopback or private address") }
        if allowed {
            #expect(refused.isEmpty, "refused although allowed: \(refused)")
            let delivered = Set(records.filter { $0.1 == "delivered" }.map(\.0))
            #expect(delivered == Set(targets.filter(\.local).map(\.url)), "delivered: \(delivered.sorted())")
        } else {
            let missed = records.filter { !$0.2.contains("refused: the URL resolves to a loopback or private address") }
            #expect(missed.isEmpty, "not refused: \(missed)")
            #expect(try receiver.requests().isEmpty)
        }
    }

    @Test func publicAddressesNextToPrivateRangesAreNotRefused() async throws {
        let db = try TestDatabase(clock: SystemClock())
        try db.addProject()
        // 192.0.43.10 is a public address inside 192.0.0.0/16 (only /24s of it are reserved), and
        // 2002:c000:2b0a:: is its 6to4 form. No network here: the send fails, but not as a refusal.
        for host in ["192.0.43.10", "[2002:c000:2b0a::1]", "172.32.0.1", "100.128.0.1"] {
            _ = try db.channels.add(
                NewChannel(projectSlug: "demo", kind: .slack, target: "http://\(host)/hook", secret: nil),
                actor: db.actor)
        }
        let advisory = try db.advisories.create(
            project: "demo", content: AdvisoryContent(title: "Overflow"),
            schedule: Schedule(embargo: db.clock.now + 3600), actor: db.actor)
        _ = try db.advisories.publishNow(advisory.id, notes: try ChangeNotes(reason: "test"), actor: db.actor)
        var settings = fastRetries
        settings.retryPolicy = RetryPolicy(steps: [], jitter: 0)
        let engine = CurlEngine(settings: CurlSettings(connectTimeout: 0.5, totalTimeout: 1))
        defer { engine.shutdown() }
        #expect(
            try await runService(
                db, mail: MaildirTransport(directory: db.directory.appending(path: "mail")),
                webhooks: WebhookTransport(engine: engine, allowPrivateTargets: false), settings: settings
            ) {
                try db.deliveries("delivered") + db.deliveries("dead") == 4
            })
        let errors = try db.database.query("SELECT recipient, coalesce(last_error, '') FROM deliveries") {
            ($0.text(0), $0.text(1))
        }
        #expect(errors.allSatisfy { !$0.1.contains("refused") }, "\(errors)")
    }

    @Test func matrixGetsAPutWithTheMessageIdAsTransaction() async throws {
        let db = try TestDatabase(clock: SystemClock())
        let receiver = try WebhookReceiver(in: db.directory)
        defer { receiver.server.stop() }
        try db.addProject()
        _ = try db.channels.add(
            NewChannel(
                projectSlug: "demo", kind: .matrix,
                target: receiver.base + "/ok/_matrix/client/v3/rooms/!room:example.org",
                secret: "syt_token"), actor: db.actor)
        let advisory = try db.advisories.create(
            project: "demo", content: AdvisoryContent(title: "Overflow <b>"),
            schedule: Schedule(embargo: db.clock.now + 3600), actor: db.actor)
        _ = try db.advisories.publishNow(advisory.id, notes: try ChangeNotes(reason: "test"), actor: db.actor)
        let engine = CurlEngine()
        defer { engine.shutdown() }
        #expect(
            try await runService(
                db, mail: MaildirTransport(directory: db.directory.appending(path: "mail")),
                webhooks: WebhookTransport(engine: engine, allowPrivateTargets: true)
            ) { try db.deliveries("delivered") == 1 })
        let request = try #require(try receiver.requests().first)
        #expect(request.method == "PUT")
        #expect(request.path.contains("/send/m.room.message/msg_"))
        #expect(request.headers["authorization"] == "Bearer syt_token")
        let body = try JSONSerialization.jsonObject(with: Data(request.body.utf8)) as? [String: Any]
        #expect(body?["msgtype"] as? String == "m.text")
        #expect((body?["formatted_body"] as? String)?.contains("Overflow &lt;b&gt;") == true)
    }
}
