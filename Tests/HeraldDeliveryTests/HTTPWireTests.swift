import Foundation
import HeraldTestSupport
import Synchronization
import Testing

@testable import HeraldDelivery

/// The webhook engine's own HTTP/1.1: the reading of URLs and answers alone, and then the
/// engine against a real receiver that answers in every framing HTTP/1.1 allows.
@Suite(.serialized) struct HTTPWireTests {
    func read(_ text: String, splitEvery step: Int = .max) throws -> (HTTPAnswer, used: Int)? {
        var reader = HTTPAnswerReader()
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + step)
            let result = try bytes[offset..<end].withUnsafeBytes { try reader.read($0) }
            if let (answer, used) = result { return (answer, offset + used) }
            offset = end
        }
        return nil
    }

    @Test func answersReadTheSameInOnePieceAndByteByByte() throws {
        let chunked =
            "HTTP/1.1 429 Too Many Requests\r\nTransfer-Encoding: gzip, Chunked\r\nRETRY-AFTER:  30 \r\n\r\n"
            + "3;ext=1\r\nabc\r\nA\r\n0123456789\r\n0\r\nTrailer: x\r\n\r\n"
        for step in [Int.max, 1, 7] {
            let (answer, used) = try #require(try read(chunked + "HTTP/1.1 200", splitEvery: step))
            #expect(
                answer == HTTPAnswer(status: 429, retryAfter: 30, snippet: Array("abc0123456789".utf8), keepAlive: true)
            )
            #expect(used == chunked.utf8.count, "the next answer's bytes are not this one's")
        }
        let interim =
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"
        #expect(try read(interim, splitEvery: 3)?.0 == HTTPAnswer(status: 204, snippet: [], keepAlive: true))
        // HTTP/1.0 closes unless it says keep-alive; Connection: close closes in any version.
        #expect(try read("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")?.0.keepAlive == false)
        #expect(try read("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n")?.0.keepAlive == true)
        #expect(try read("HTTP/1.1 200 OK\r\nConnection: te, close\r\nContent-Length: 0\r\n\r\n")?.0.keepAlive == false)
        // Bare LF line ends, as some receivers write them.
        #expect(try read("HTTP/1.1 202 Accepted\nContent-Length: 1\n\nx")?.0.status == 202)
        // One length repeated is that length (RFC 9110 8.6); the last Retry-After counts, a date too.
        let repeated = try read(
            "HTTP/1.1 503 No\r\nContent-Length: 2, 2\r\nRetry-After: 5\r\nRetry-After: 9\r\n\r\nnoHTTP")
        #expect(repeated?.0 == HTTPAnswer(status: 503, retryAfter: 9, snippet: Array("no".utf8), keepAlive: true))
        #expect(
            repeated?.used
                == "HTTP/1.1 503 No\r\nContent-Length: 2, 2\r\nRetry-After: 5\r\nRetry-After: 9\r\n\r\nno".utf8.count)
        let inAMinute = Date().addingTimeInterval(60).formatted(
            .verbatim(
                "\(weekday: .abbreviated), \(day: .twoDigits) \(month: .abbreviated) \(year: .defaultDigits) \(hour: .twoDigits(clock: .twentyFourHour, hourCycle: .zeroBased)):\(minute: .twoDigits):\(second: .twoDigits) GMT",
                locale: Locale(identifier: "en_US_POSIX"), timeZone: TimeZone(identifier: "GMT")!,
                calendar: Calendar(identifier: .gregorian)))
        let dated = try #require(
            try read("HTTP/1.1 429 Slow\r\nRetry-After: \(inAMinute)\r\nContent-Length: 0\r\n\r\n")?.0)
        #expect((55...60).contains(dated.retryAfter ?? 0), "\(inAMinute): \(String(describing: dated.retryAfter))")
        // A folded header (obs-fold) and HTTP/1.0 with a Transfer-Encoding: read, not trusted again.
        #expect(try read("HTTP/1.1 200 OK\r\nX-A: 1\r\n  2\r\nContent-Length: 0\r\n\r\n")?.0.keepAlive == false)
        let old = "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
        #expect(try read(old)?.0 == HTTPAnswer(status: 200, snippet: Array("ok".utf8), keepAlive: false))
        // Many small chunks are a long body, not long headers: the status stands.
        let chunks =
            "HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\n" + String(repeating: "1\r\nx\r\n", count: 20000)
        let (small, _) = try #require(try read(chunks, splitEvery: 4096))
        #expect(small.status == 500 && !small.keepAlive && small.snippet.count == HTTPAnswerReader.snippetLength)
        let longLine =
            "HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\n1;" + String(repeating: "e", count: 70000)
        #expect(try read(longLine, splitEvery: 4096)?.0.keepAlive == false, "a long chunk line ends the read too")
    }

    @Test func aBodyWithoutALengthRunsToTheCloseAndBothFramingsMeanNoReuse() throws {
        var reader = HTTPAnswerReader()
        let head = Array("HTTP/1.1 500 Oops\r\nTransfer-Encoding: gzip\r\nContent-Length: 3\r\n\r\nbody".utf8)
        #expect(try head.withUnsafeBytes { try reader.read($0) } == nil)
        #expect(reader.end() == HTTPAnswer(status: 500, snippet: Array("body".utf8), keepAlive: false))
        let both = "HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
        #expect(try read(both)?.0 == HTTPAnswer(status: 200, snippet: Array("ok".utf8), keepAlive: false))
        // A close before the length is whole is no answer.
        var short = HTTPAnswerReader()
        _ = try Array("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nok".utf8).withUnsafeBytes { try short.read($0) }
        #expect(short.end() == nil && short.hasStarted)
    }

    @Test func whatIsNotHTTPOrTooLongIsRefused() throws {
        for (text, words) in [
            ("220 smtp.example ESMTP\r\n", "not an HTTP/1.x status line"),
            ("HTTP/2 200\r\n\r\n", "not an HTTP/1.x status line"),
            ("HTTP/1.1 20 OK\r\n\r\n", "not an HTTP/1.x status line"),
            ("HTTP/1.1 000\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "not an HTTP/1.x status line"),
            ("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "two different Content-Lengths"),
            ("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "not a length"),
            ("HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\n", "two different Content-Lengths"),
            ("HTTP/1.1 200 OK\r\nContent-Length: 2,\r\n\r\n", "not a length"),
            ("HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\n", "without a name"),
            ("HTTP/1.1 200 OK\r\nno colon\r\n\r\n", "without a name"),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "chunk size"),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nabc\r\n", "longer than its size"),
            ("HTTP/1.1 101 Switching Protocols\r\n\r\n", "101"),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\nabc\r\n", "chunk size"),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n+2\r\nab\r\n", "chunk size"),
            (String(repeating: "HTTP/1.1 103 Early Hints\r\n\r\n", count: 3000), "longer than 64 KiB"),
            ("HTTP/1.1 200 OK\r\nX: " + String(repeating: "a", count: 70000), "longer than 64 KiB"),
        ] {
            #expect(throws: HTTPProtocolError.self, "\(text.prefix(40))") { try read(text, splitEvery: 4096) }
            let error = #expect(throws: HTTPProtocolError.self) { try read(text) }
            #expect(error?.reason.contains(words) == true, "\(error?.reason ?? "no error")")
        }
        // A body past the bound ends the read with the status, and the connection is not reused.
        let big = "HTTP/1.1 500 Oops\r\nContent-Length: 900000\r\n\r\n" + String(repeating: "x", count: 70000)
        let (answer, _) = try #require(try read(big, splitEvery: 16384))
        #expect(answer.status == 500 && !answer.keepAlive && answer.snippet.count == HTTPAnswerReader.snippetLength)
    }

    /// The plain reading (no libcurl, per send) gives libcurl's parts for every URL it takes,
    /// and takes the common ones: URLs made of the pieces where the two could differ.
    @Test func thePlainReadingOfATargetIsLibcurlsReading() {
        let hosts = [
            "a.example", "hooks.slack.com", "x-y.example", "-a.example", "a-.example", "a..example", "a.example.",
            "Hooks.example", "127.0.0.1", "127.1", "1.2.3.4.5", "01.2.3.4", "256.1.1.1", "0x7f.0.0.1", "0x.1.2.3",
            "1.2.3", "example.123", "123.example", "0", "a_b.example", "b\u{FC}cher.example", "[::1]", "u@a.example",
            "a.example:", "",
        ]
        let ports = ["", ":80", ":443", ":8080", ":0", ":080", ":65535", ":65536", ":1x"]
        let segments = [
            "", ".", "..", "...", ".a", "a.", "hooks", "B_c~d-e", "%41", "%2e", " ", "\u{E9}", "@", "=", "&", ";", "#f",
        ]
        let queries = ["", "?", "?a=b&c=d", "?x/y", "?.", "?a?b", "?a=%20", "?%41", "#f", "?q=\u{E6}"]
        var urls: [String] = []
        for scheme in ["http://", "https://", "HTTP://", "ftp://"] {
            for host in hosts {
                for port in ports {
                    urls += [scheme + host + port + "/p", scheme + host + port, scheme + host + port + "?a"]
                }
            }
        }
        for first in segments {
            for second in segments {
                for query in queries { urls.append("http://a.example:8080/" + first + "/" + second + query) }
            }
        }
        var plain = 0
        for url in urls {
            guard let target = HTTPTarget.plain(url) else { continue }
            plain += 1
            #expect(target == HTTPTarget.readByLibcurl(url), "\(url)")
        }
        // The common URLs are read plainly: the test is not passing by reading none.
        #expect(plain > 200, "\(plain) of \(urls.count)")
        for common in [
            "https://hooks.slack.com/services/T000/B000/XXXX", "https://discord.com/api/webhooks/123/a-b_c",
            "http://127.0.0.1:8080/hooks/7", "https://example.org/hook?token=abc&x=1",
        ] {
            #expect(HTTPTarget.plain(common) != nil, "\(common)")
        }
    }

    @Test func targetsAreReadAsLibcurlReadsThemAndRequestsWrittenWhole() throws {
        let target = try #require(HTTPTarget("HTTPS://Hooks.Example.net/a/b?x=1&y=%20"))
        #expect(target.origin == "https://Hooks.Example.net:443/")
        #expect(target.host == "Hooks.Example.net")
        #expect(target.path == "/a/b?x=1&y=%20")
        let v6 = try #require(HTTPTarget("http://[::1]:8080"))
        #expect((v6.origin, v6.host, v6.path) == ("http://[::1]:8080/", "[::1]:8080", "/"))
        #expect(HTTPTarget("http://example.net:80/")?.host == "example.net")
        for refused in ["ftp://example.net/", "http://user:pass@example.net/", "not a url", ""] {
            #expect(HTTPTarget(refused) == nil, "\(refused)")
        }
        var output: [UInt8] = []
        #expect(
            HTTPWire.appendHead(method: "PUT", target: v6, headers: ["A: 1", "B: 2"], bodyCount: 2, to: &output))
        #expect(
            String(decoding: output, as: UTF8.self)
                == "PUT / HTTP/1.1\r\nHost: [::1]:8080\r\nUser-Agent: Herald\r\nContent-Length: 2\r\nA: 1\r\nB: 2\r\n\r\n"
        )
        // A header must never become two.
        for header in ["X: a\r\nInjected: yes", "X: a\nInjected: yes", "X: a\u{0}"] {
            var untouched: [UInt8] = []
            #expect(!HTTPWire.appendHead(method: "POST", target: v6, headers: [header], bodyCount: 0, to: &untouched))
            #expect(untouched.isEmpty)
        }
    }

    // MARK: - The engine against a real receiver

    func post(_ engine: CurlEngine, _ url: String, body: [UInt8] = Array("{}".utf8)) async -> CurlResult {
        await engine.perform(.http(method: "POST", url: url, headers: [], body: body, refusePrivate: false))
    }

    /// Runs `body` with a `webhook_receiver.py` (over TLS from a CA of its own, when asked) in
    /// a temporary directory and an engine with `settings`; stops both and removes the directory after.
    func withReceiver(
        _ settings: CurlSettings = CurlSettings(connectTimeout: 2, totalTimeout: 2, maxConnectionsPerHost: 1),
        tls: Bool = false, _ body: (CurlEngine, WebhookReceiver) async throws -> Void
    ) async throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "herald-http-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var settings = settings
        var certificate: (String, String)?
        if tls {
            let pki = try certificateFromOwnAuthority(in: directory)
            certificate = (pki.certificate, pki.key)
            settings.receiverCAFile = pki.authority
        }
        let receiver = try WebhookReceiver(in: directory, tls: certificate)
        defer { receiver.server.stop() }
        let engine = CurlEngine(settings: settings)
        defer { engine.shutdown() }
        try await body(engine, receiver)
    }

    /// Connections asked for ahead are made, within the origin's share, and stay open and
    /// silent; the request that follows goes on one of them, not on a new one. Ahead or not, a
    /// private address is not connected to when it is to be refused. (The listener is read
    /// from this thread, so the request is submitted, not awaited: no second thread needed.)
    @Test func connectionsMadeAheadCarryTheFirstRequests() async throws {
        let listener = try HandAnsweredListener()
        let engine = CurlEngine(settings: CurlSettings(connectTimeout: 2, totalTimeout: 5, maxConnectionsPerHost: 2))
        defer { engine.shutdown() }
        let url = "http://127.0.0.1:\(listener.port)/hook"
        engine.connectAhead(to: [url], refusePrivate: true)
        #expect(listener.accept(within: 0.3) == nil, "connected to a private address to be refused")
        engine.connectAhead(to: [url, url + "?two", url + "?three"], refusePrivate: false)
        let made = [listener.accept(within: 2), listener.accept(within: 2)].compactMap { $0 }
        #expect(made.count == 2)
        #expect(listener.accept(within: 0.3) == nil, "more connections than the origin's share")
        #expect(made.allSatisfy { listener.read($0, within: 0.1) == [] }, "a connection made ahead spoke or closed")

        let answer = SubmittedAnswer()
        engine.submit(.http(method: "POST", url: url, headers: [], body: Array("{}".utf8), refusePrivate: false)) {
            answer.arrived($0)
        }
        var carrier: Int32?
        for _ in 0..<40 where carrier == nil {
            carrier = made.first {
                String(decoding: listener.read($0, within: 0.05) ?? [], as: UTF8.self).hasPrefix("POST /hook ")
            }
        }
        let connection = try #require(carrier, "the request came on neither connection made ahead")
        listener.write(connection, "HTTP/1.1 204 No Content\r\n\r\n")
        #expect(answer.wait(seconds: 5)?.responseCode == 204)
        #expect(listener.accept(within: 0.2) == nil, "a new connection for the request")
    }

    @Test func theEngineReadsEveryFramingAndKeepsAConnectionOnlyWhenItMay() async throws {
        // One connection for the host: every request that can reuse it must.
        try await withReceiver { engine, receiver async throws in
            let base = receiver.base
            let chunked = await post(engine, base + "/raw/chunked/1")
            #expect(chunked.code == 0 && chunked.responseCode == 503 && chunked.retryAfter == 7)
            #expect(chunked.responseSnippet == "busy now!")
            let afterChunked = await post(engine, base + "/ok/after-chunked")
            let interim = await post(engine, base + "/raw/continue/1")
            #expect(afterChunked.responseCode == 204 && interim.responseCode == 202)
            let untilClose = await post(engine, base + "/raw/untilclose/1")
            #expect(untilClose.responseCode == 200 && untilClose.responseSnippet == "the body, up to the close")
            let closed = await post(engine, base + "/raw/close/1")
            #expect(closed.responseCode == 201 && closed.responseSnippet == "ok")
            let extra = await post(engine, base + "/raw/extra/1")
            let afterExtra = await post(engine, base + "/ok/after-extra")
            #expect(extra.responseCode == 204 && afterExtra.responseCode == 204)
            let started = ContinuousClock.now
            let big = await post(engine, base + "/raw/big/1")
            #expect(big.responseCode == 500 && big.responseSnippet == String(repeating: "x", count: 300))
            #expect(seconds(since: started) < 1, "a long body is not read to its end")
            let garbage = await post(engine, base + "/raw/garbage/1")
            #expect(garbage.code != 0 && garbage.error.contains("not an HTTP/1.x status line"), "\(garbage.error)")

            let peers = Dictionary(try receiver.requests().map { ($0.path, $0.peer) }, uniquingKeysWith: { a, _ in a })
            // Kept after chunks and after an interim answer; new after a close, said or done,
            // and after unasked bytes.
            #expect(peers["/ok/after-chunked"] == peers["/raw/chunked/1"])
            #expect(peers["/raw/continue/1"] == peers["/raw/chunked/1"])
            #expect(peers["/raw/untilclose/1"] == peers["/raw/chunked/1"])
            #expect(peers["/raw/close/1"] != peers["/raw/untilclose/1"])
            #expect(peers["/raw/extra/1"] != peers["/raw/close/1"])
            #expect(peers["/ok/after-extra"] != peers["/raw/extra/1"])
        }
    }

    @Test func aKeptConnectionThatDiesUnansweredIsTriedOnceMoreAndATrickleTimesOut() async throws {
        try await withReceiver { engine, receiver async throws in
            _ = await post(engine, receiver.base + "/ok/first")
            let dropped = await post(engine, receiver.base + "/raw/drop/1")
            #expect(dropped.code == 52 && dropped.error == "Empty reply from server", "\(dropped.error)")
            let requests = try receiver.requests()
            let drops = requests.filter { $0.path == "/raw/drop/1" }
            // The kept connection's close may be the receiver's idle timeout: once more on a new
            // one, and not again when a fresh connection dies too.
            #expect(drops.count == 2)
            #expect(drops.first?.peer == requests.first?.peer && drops.last?.peer != drops.first?.peer)

            let started = ContinuousClock.now
            let trickled = await post(engine, receiver.base + "/raw/trickle/1")
            let took = seconds(since: started)
            #expect(trickled.code == 28 && trickled.error.contains("timed out"), "\(trickled.error)")
            #expect(took >= 1.9 && took < 3, "took \(took) s")
            #expect(
                try receiver.requests().filter { $0.path == "/raw/trickle/1" }.count == 1, "a timeout is not resent")
        }
    }

    @Test func aReceiverThatClosesEveryKeptConnectionAtOnceLosesNoRequest() async throws {
        try await withReceiver(CurlSettings(connectTimeout: 2, totalTimeout: 4, maxConnectionsPerHost: 2)) {
            engine, receiver in
            // Two kept connections, then a request on one makes the receiver close both, as a
            // restart or an idle sweep does: the request goes on a connection that works.
            let base = receiver.base
            async let first = post(engine, base + "/slow/a")
            async let second = post(engine, base + "/slow/b")
            #expect(await [first.responseCode, second.responseCode] == [200, 200])
            let swept = await post(engine, receiver.base + "/dropall/1")
            #expect(swept.code == 0 && swept.responseCode == 200, "\(swept.error)")
            let peers = try receiver.requests().map(\.peer)
            #expect(Set(peers).count == 3, "a new connection after the sweep: \(peers)")
        }
    }

    @Test func anAnswerBeforeTheBodyIsWhollySentIsTheOutcome() async throws {
        try await withReceiver { engine, receiver async throws in
            // The receiver refuses a long body after its head and resets the connection: the
            // send fails, and the 413 that came before is what the receiver said.
            let long = [UInt8](repeating: UInt8(ascii: "x"), count: 8 << 20)
            let refused = await post(engine, receiver.base + "/early/1", body: long)
            #expect(refused.code == 0 && refused.responseCode == 413, "\(refused.error)")
            #expect(refused.responseSnippet == "too long")
            #expect(
                WebhookTransport.classify(refused)
                    == .permanent(
                        "HTTP 413 (final: the receiver refuses the request itself): too long"))
        }
    }

    @Test func requestsThatComeOneByOneGetEveryConnectionTheHostMayHave() async throws {
        try await withReceiver(CurlSettings(connectTimeout: 2, totalTimeout: 3)) { engine, receiver async throws in
            // Each takes a second to answer; they come while the first connections are being made.
            for i in 0..<8 {
                engine.submit(
                    .http(
                        method: "POST", url: receiver.base + "/slow/\(i)", headers: [], body: [], refusePrivate: false)
                ) { _ in }
                usleep(100)  // apart: the engine takes them in batches of one, mostly
            }
            #expect(try await eventually(timeout: .milliseconds(800)) { try receiver.requests().count == 8 })
            #expect(Set(try receiver.requests().map(\.peer)).count == 8)
        }
    }

    @Test func overTLSTheConnectionIsKeptAndSpeaksHTTP11() async throws {
        // The receiver offers h2 first: a client that offered it too would get it.
        try await withReceiver(tls: true) { engine, receiver in
            #expect(receiver.base.hasPrefix("https://"))
            let first = await post(engine, receiver.base + "/ok/1")
            let chunked = await post(engine, receiver.base + "/raw/chunked/2")
            let last = await post(engine, receiver.base + "/ok/3")
            let codes: [Int] = [first.responseCode, chunked.responseCode, last.responseCode]
            #expect(codes == [204, 503, 204], "\(first.error)")
            #expect(chunked.responseSnippet == "busy now!")
            let requests = try receiver.requests()
            #expect(requests.count == 3 && Set(requests.map(\.peer)).count == 1, "one connection for all three")
            #expect(requests.allSatisfy { $0.alpn == "http/1.1" }, "\(requests.map(\.alpn))")
        }
    }

    @Test func anOriginWaitingForRoomGetsTheFirstConnectionThatFrees() async throws {
        // Two connections in all, both taken by one origin's slow answers; `localhost` is
        // another origin, which must not wait for a taken connection's idle timeout.
        let settings = CurlSettings(connectTimeout: 2, totalTimeout: 5, maxConnectionsPerHost: 2, maxConnections: 2)
        try await withReceiver(settings) { engine, receiver in
            let other = receiver.base.replacingOccurrences(of: "127.0.0.1", with: "localhost")
            let started = ContinuousClock.now
            let base = receiver.base
            async let slow1 = post(engine, base + "/slow/1")
            async let slow2 = post(engine, base + "/slow/2")
            try await Task.sleep(for: .milliseconds(300))
            let elsewhere = await post(engine, other + "/ok/elsewhere")
            let took = seconds(since: started)
            #expect(elsewhere.responseCode == 204, "\(elsewhere.error)")
            #expect(took < 2, "took \(took) s")
            #expect(await [slow1.responseCode, slow2.responseCode] == [200, 200])
        }
    }

    @Test func anOriginThatTookRoomAndWantsMoreStaysInLineForIt() async throws {
        // Two connections in all; `localhost` holds one with an answer that never ends (until
        // its 2.5 s timeout). 127.0.0.1 has five one-second requests on the other; the first
        // answer closes its connection, and the origin must stay in line for the room the
        // trickle frees, not carry the other four one at a time.
        let settings = CurlSettings(connectTimeout: 2, totalTimeout: 2.5, maxConnectionsPerHost: 2, maxConnections: 2)
        try await withReceiver(settings) { engine, receiver in
            let base = receiver.base
            let other = base.replacingOccurrences(of: "127.0.0.1", with: "localhost")
            let started = ContinuousClock.now
            async let held = post(engine, other + "/raw/trickle/held")
            try await Task.sleep(for: .milliseconds(100))
            // Submitted in this order, the one that closes first.
            let codes = Mutex<[Int]>([])
            for path in ["/raw/slowclose/1", "/slow/2", "/slow/3", "/slow/4", "/slow/5"] {
                engine.submit(.http(method: "POST", url: base + path, headers: [], body: [], refusePrivate: false)) {
                    result in codes.withLock { $0.append(result.responseCode) }
                }
            }
            #expect(await eventually(timeout: .seconds(8)) { codes.withLock { $0.count } == 5 })
            let took = seconds(since: started)
            #expect(codes.withLock { $0 } == [200, 200, 200, 200, 200])
            // One connection after the close: 5.1 s; two once the trickle's room frees: 4.1 s.
            #expect(took < 4.6, "took \(took) s")
            #expect(await held.code == 28)
        }
    }

    @Test func anOriginWaitingForRoomGetsTheRoomOfAConnectThatFailed() async throws {
        // Both connections in all are being made to a port that takes the connection and never
        // says a word (its TLS handshake times out); the receiver must get one when they fail,
        // not wait for ever: nothing else would close a connection to free one.
        let silent = try SilentListener()
        let settings = CurlSettings(connectTimeout: 1, totalTimeout: 5, maxConnectionsPerHost: 2, maxConnections: 2)
        try await withReceiver(settings) { engine, receiver in
            let started = ContinuousClock.now
            let (mute, url) = ("https://127.0.0.1:\(silent.port)", receiver.base + "/ok/after-failed-connects")
            async let mute1 = post(engine, mute + "/1")
            async let mute2 = post(engine, mute + "/2")
            try await Task.sleep(for: .milliseconds(200))
            let answered = Task { await post(engine, url) }
            let waited = Task {
                try await Task.sleep(for: .seconds(4))
                engine.dropWaiting()
            }
            let result = await answered.value
            waited.cancel()
            #expect(result.responseCode == 204, "\(result.error)")
            #expect(seconds(since: started) < 3)
            #expect(await [mute1.code, mute2.code] == [28, 28])
        }
    }

    @Test func nonASCIIURLsArePercentEncodedAndUnsendableOnesAreFinal() async throws {
        // As libcurl's own HTTP sent them: path and query percent-encoded, the name in IDNA.
        let target = try #require(HTTPTarget("http://b\u{FC}cher.example/caf\u{E9}?q=\u{E6}\u{F8}\u{E5}"))
        #expect(target.host == "xn--bcher-kva.example" && target.origin == "http://xn--bcher-kva.example:80/")
        #expect(target.path == "/caf%c3%a9?q=%c3%a6%c3%b8%c3%a5")
        try await withReceiver { engine, receiver async throws in
            let sent = await post(engine, receiver.base + "/ok/\u{E6}bleskive?by=K\u{F8}benhavn")
            #expect(sent.responseCode == 204, "\(sent.error)")
            #expect(try receiver.requests().last?.path == "/ok/%c3%a6bleskive?by=K%c3%b8benhavn")
            let unsendable = await post(engine, "http://[::1/")
            #expect(
                WebhookTransport.classify(unsendable)
                    == .permanent(
                        "refused before sending: not an http(s) URL HTTP/1.1 can carry"))
            let split = await engine.perform(
                .http(
                    method: "POST", url: receiver.base + "/ok/x", headers: ["X: a\r\nY: b"], body: [],
                    refusePrivate: false))
            #expect(
                WebhookTransport.classify(split)
                    == .permanent("refused before sending: a header with a line break in it"))
            // Refused before any connection is asked for: where nothing listens, the outcome is
            // the same, not a connect failure retried for two days.
            let nowhere = await engine.perform(
                .http(
                    method: "POST", url: "http://127.0.0.1:1/x", headers: ["X: a\nY: b"], body: [],
                    refusePrivate: false))
            #expect(
                WebhookTransport.classify(nowhere)
                    == .permanent("refused before sending: a header with a line break in it"))
            #expect(try receiver.requests().count == 1)
        }
    }
}

/// Seconds from `start` by the monotonic clock: the wall clock may be stepped mid-test (a
/// virtual machine's time sync moved it 5.6 s once, and a 4.3 s test measured 9.9 s).
private func seconds(since start: ContinuousClock.Instant) -> Double {
    let elapsed = start.duration(to: .now)
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

/// The answer to a submitted transfer, waited for on the test's own thread.
private final class SubmittedAnswer: @unchecked Sendable {
    private let lock = NSLock()
    private let came = DispatchSemaphore(value: 0)
    private var result: CurlResult?

    func arrived(_ result: CurlResult) {
        lock.withLock { self.result = result }
        came.signal()
    }

    func wait(seconds: Double) -> CurlResult? {
        guard came.wait(timeout: .now() + seconds) == .success else { return nil }
        return lock.withLock { result }
    }
}
