import Foundation
import HeraldTestSupport
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
            ("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "two different Content-Lengths"),
            ("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "not a length"),
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
            HTTPWire.appendRequest(
                method: "PUT", target: v6, headers: ["A: 1", "B: 2"], body: Array("{}".utf8), to: &output))
        #expect(
            String(decoding: output, as: UTF8.self)
                == "PUT / HTTP/1.1\r\nHost: [::1]:8080\r\nUser-Agent: Herald\r\nContent-Length: 2\r\nA: 1\r\nB: 2\r\n\r\n{}"
        )
        // A header must never become two.
        for header in ["X: a\r\nInjected: yes", "X: a\nInjected: yes", "X: a\u{0}"] {
            var untouched: [UInt8] = []
            #expect(!HTTPWire.appendRequest(method: "POST", target: v6, headers: [header], body: [], to: &untouched))
            #expect(untouched.isEmpty)
        }
    }

    // MARK: - The engine against a real receiver

    func post(_ engine: CurlEngine, _ url: String) async -> CurlResult {
        await engine.perform(.http(method: "POST", url: url, headers: [], body: Array("{}".utf8), refusePrivate: false))
    }

    @Test func theEngineReadsEveryFramingAndKeepsAConnectionOnlyWhenItMay() async throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "herald-http-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let receiver = try WebhookReceiver(in: directory)
        defer { receiver.server.stop() }
        // One connection for the host: every request that can reuse it must.
        let engine = CurlEngine(settings: CurlSettings(connectTimeout: 2, totalTimeout: 2, maxConnectionsPerHost: 1))
        defer { engine.shutdown() }
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
        let started = Date()
        let big = await post(engine, base + "/raw/big/1")
        #expect(big.responseCode == 500 && big.responseSnippet == String(repeating: "x", count: 300))
        #expect(Date().timeIntervalSince(started) < 1, "a long body is not read to its end")
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

    @Test func aKeptConnectionThatDiesUnansweredIsTriedOnceMoreAndATrickleTimesOut() async throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "herald-http-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let receiver = try WebhookReceiver(in: directory)
        defer { receiver.server.stop() }
        let engine = CurlEngine(settings: CurlSettings(connectTimeout: 2, totalTimeout: 2, maxConnectionsPerHost: 1))
        defer { engine.shutdown() }
        _ = await post(engine, receiver.base + "/ok/first")
        let dropped = await post(engine, receiver.base + "/raw/drop/1")
        #expect(dropped.code == 52 && dropped.error == "Empty reply from server", "\(dropped.error)")
        let requests = try receiver.requests()
        let drops = requests.filter { $0.path == "/raw/drop/1" }
        // The kept connection's close may be the receiver's idle timeout: once more on a new
        // one, and not again when a fresh connection dies too.
        #expect(drops.count == 2)
        #expect(drops.first?.peer == requests.first?.peer && drops.last?.peer != drops.first?.peer)

        let started = Date()
        let trickled = await post(engine, receiver.base + "/raw/trickle/1")
        let took = Date().timeIntervalSince(started)
        #expect(trickled.code == 28 && trickled.error.contains("timed out"), "\(trickled.error)")
        #expect(took >= 1.9 && took < 3, "took \(took) s")
        #expect(try receiver.requests().filter { $0.path == "/raw/trickle/1" }.count == 1, "a timeout is not resent")
    }

    @Test func requestsThatComeOneByOneGetEveryConnectionTheHostMayHave() async throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "herald-http-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let receiver = try WebhookReceiver(in: directory)
        defer { receiver.server.stop() }
        let engine = CurlEngine(settings: CurlSettings(connectTimeout: 2, totalTimeout: 3))
        defer { engine.shutdown() }
        // Each takes a second to answer; they come while the first connections are being made.
        for i in 0..<8 {
            engine.submit(
                .http(method: "POST", url: receiver.base + "/slow/\(i)", headers: [], body: [], refusePrivate: false)
            ) { _ in }
            usleep(100)  // apart: the engine takes them in batches of one, mostly
        }
        #expect(try await eventually(timeout: .milliseconds(800)) { try receiver.requests().count == 8 })
        #expect(Set(try receiver.requests().map(\.peer)).count == 8)
    }

    @Test func overTLSTheConnectionIsKeptAndSpeaksHTTP11() async throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "herald-http-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let pki = try certificateFromOwnAuthority(in: directory)
        // The receiver offers h2 first: a client that offered it too would get it.
        let receiver = try WebhookReceiver(in: directory, tls: (pki.certificate, pki.key))
        defer { receiver.server.stop() }
        var settings = CurlSettings(connectTimeout: 2, totalTimeout: 2, maxConnectionsPerHost: 1)
        settings.receiverCAFile = pki.authority
        let engine = CurlEngine(settings: settings)
        defer { engine.shutdown() }
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

    @Test func anOriginWaitingForRoomGetsTheFirstConnectionThatFrees() async throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "herald-http-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let receiver = try WebhookReceiver(in: directory)
        defer { receiver.server.stop() }
        // Two connections in all, both taken by one origin's slow answers; `localhost` is
        // another origin, which must not wait for a taken connection's idle timeout.
        let engine = CurlEngine(
            settings: CurlSettings(connectTimeout: 2, totalTimeout: 5, maxConnectionsPerHost: 2, maxConnections: 2))
        defer { engine.shutdown() }
        let other = receiver.base.replacingOccurrences(of: "127.0.0.1", with: "localhost")
        let started = Date()
        let base = receiver.base
        async let slow1 = post(engine, base + "/slow/1")
        async let slow2 = post(engine, base + "/slow/2")
        try await Task.sleep(for: .milliseconds(300))
        let elsewhere = await post(engine, other + "/ok/elsewhere")
        let took = Date().timeIntervalSince(started)
        #expect(elsewhere.responseCode == 204, "\(elsewhere.error)")
        #expect(took < 2, "took \(took) s")
        #expect(await [slow1.responseCode, slow2.responseCode] == [200, 200])
    }
}
