import Foundation
import HeraldTestSupport
import Testing

@testable import HeraldDelivery

/// Herald's own SMTP conversation (MAIL, RCPT, DATA, pipelined when offered) against a real
/// server, aiosmtpd: what arrives, what each recipient's outcome says, and what a relay that
/// closes, stalls or refuses does to the messages around it.
@Suite(.serialized) struct SMTPClientTests {
    /// Sends each `(recipient, message)` and waits for every outcome, in the order given.
    func send(
        _ messages: [(String, [UInt8])], through url: String, settings: CurlSettings = CurlSettings(),
        requireTLS: Bool = false
    ) async -> [SendResult] {
        let client = SMTPClient(url: url, requireTLS: requireTLS, from: "herald@herald.test", settings: settings)
        return await withTaskGroup(of: (Int, SendResult).self) { group in
            for (index, (to, message)) in messages.enumerated() {
                group.addTask {
                    await withCheckedContinuation { continuation in
                        client.submit(to: to, message: message) { continuation.resume(returning: (index, $0)) }
                    }
                }
            }
            var results = [SendResult](repeating: .notAttempted, count: messages.count)
            for await (index, result) in group { results[index] = result }
            return results
        }
    }

    /// What the server saved, by envelope recipient: the content as it arrived, dots undone.
    func received(_ sink: SMTPSink) throws -> [String: [[UInt8]]] {
        var byRecipient: [String: [[UInt8]]] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: sink.directory.path)
        where name.hasSuffix(".eml") {
            let bytes = Array(try Data(contentsOf: sink.directory.appending(path: name)))
            // Two header lines added by the server: X-Envelope-To and X-Envelope-From.
            var lines = 0
            var index = 0
            while lines < 2, index < bytes.count {
                if bytes[index] == 10 { lines += 1 }
                index += 1
            }
            let to = String(decoding: bytes.prefix(index), as: UTF8.self).split(separator: "\r\n")[0]
                .dropFirst("X-Envelope-To: ".count)
            byRecipient[String(to), default: []].append(Array(bytes[index...]))
        }
        return byRecipient
    }

    func message(_ number: Int, body: String) -> [UInt8] {
        Array("Subject: message \(number)\r\nTo: r\(number)@example.org\r\n\r\n\(body)".utf8)
    }

    /// Dots at the start of lines, a lone dot line and a message without a final line break:
    /// each arrives byte for byte, over STARTTLS and AUTH, pipelined.
    @Test func pipelinedMessagesArriveByteForByteOverTLSAndAuth() async throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "smtp-client-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let pki = try certificateFromOwnAuthority(in: directory)
        let sink = try SMTPSink(in: directory, tls: (pki.certificate, pki.key), auth: "herald:pw", pipelining: true)
        defer { sink.server.stop() }
        let bodies = [
            ".starts with a dot\r\n..two dots\r\n.\r\nafter a lone dot\r\n",
            "no line break at the end",
            "",
            "a line\r\n. \r\n.\r\n.\r\n",
        ]
        let messages = (0..<120).map { ("r\($0)@example.org", message($0, body: bodies[$0 % bodies.count])) }
        let results = await send(
            messages, through: "smtp://herald:pw@127.0.0.1:\(sink.server.port)",
            settings: CurlSettings(smtpCAFile: pki.authority), requireTLS: true)
        #expect(results.allSatisfy { $0 == .delivered }, "\(Set(results.map { "\($0)" }))")
        let arrived = try received(sink)
        #expect(arrived.count == messages.count)
        for (to, sent) in messages {
            // The server keeps the content with the final line break DATA's end needs.
            let expected = sent.isEmpty || sent.suffix(2) == [13, 10] ? sent : sent + [13, 10]
            #expect(arrived[to] == [expected], "\(to)")
        }
        let logins = try String(contentsOf: sink.directory.appending(path: "auth.log"), encoding: .utf8)
        #expect(logins.split(separator: "\n").count <= CurlSettings().maxConnectionsPerHost, "connections reused")
    }

    /// A relay that does not offer PIPELINING refuses a command sent before its turn (as
    /// Postfix does); every message still arrives, each command having waited for its reply.
    @Test func withoutPipeliningEachCommandWaitsForItsReply() async throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "smtp-client-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let sink = try SMTPSink(in: directory, pipelining: false)
        defer { sink.server.stop() }
        let messages = (0..<40).map { ("r\($0)@example.org", message($0, body: "hello\r\n")) }
        let results = await send(messages, through: sink.url)
        #expect(results.allSatisfy { $0 == .delivered }, "\(Set(results.map { "\($0)" }))")
        #expect(try received(sink).count == 40)
    }

    /// Refusals in the middle of a pipeline stay with their recipient: a 550 is final, a 451
    /// is worth another try, and the messages around them arrive.
    @Test func aRefusedRecipientInAPipelineTouchesNoOther() async throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "smtp-client-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let sink = try SMTPSink(in: directory, pipelining: true)
        defer { sink.server.stop() }
        let recipients = (0..<60).map { number in
            switch number % 5 {
            case 1: "refuse-550-\(number)@example.org"
            case 3: "refuse-451-\(number)@example.org"
            default: "r\(number)@example.org"
            }
        }
        let results = await send(recipients.enumerated().map { ($1, message($0, body: "x\r\n")) }, through: sink.url)
        for (recipient, result) in zip(recipients, results) {
            if recipient.hasPrefix("refuse-550") {
                #expect(result == .permanent("SMTP RCPT TO 550: refused as asked"), "\(recipient)")
            } else if recipient.hasPrefix("refuse-451") {
                #expect(result == .failed("SMTP RCPT TO 451: refused as asked", retryAfter: nil), "\(recipient)")
            } else {
                #expect(result == .delivered, "\(recipient)")
            }
        }
        #expect(try Set(received(sink).keys) == Set(recipients.filter { !$0.hasPrefix("refuse-") }))
    }

    /// A relay that closes each connection after a few messages (421, as relays with a limit
    /// per connection do): the message it did not take goes over another, none is lost and
    /// none arrives twice.
    @Test func aRelayThatClosesBetweenMessagesLosesNoneAndDoublesNone() async throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "smtp-client-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let sink = try SMTPSink(in: directory, pipelining: true, closeEvery: 7)
        defer { sink.server.stop() }
        let messages = (0..<80).map { ("r\($0)@example.org", message($0, body: "body \($0)\r\n")) }
        let results = await send(messages, through: sink.url)
        #expect(results.allSatisfy { $0 == .delivered }, "\(Set(results.map { "\($0)" }))")
        let arrived = try received(sink)
        #expect(arrived.count == 80)
        #expect(arrived.values.allSatisfy { $0.count == 1 }, "each once")
    }

    /// A relay that stops answering: the messages on it fail as a timeout after the send
    /// timeout, those already taken are delivered, and nothing waits for ever.
    @Test func aRelayThatStopsAnsweringTimesOut() async throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "smtp-client-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let sink = try SMTPSink(in: directory, pipelining: true, stallAfter: 3)
        defer { sink.server.stop() }
        let started = ContinuousClock.now
        let results = await send(
            (0..<3).map { ("r\($0)@example.org", message($0, body: "x\r\n")) }, through: sink.url,
            settings: CurlSettings(totalTimeout: 1))
        #expect(results == [.delivered, .delivered, .delivered])
        let stalled = await send(
            [("late@example.org", message(9, body: "x\r\n"))], through: sink.url,
            settings: CurlSettings(totalTimeout: 1))
        #expect(stalled == [.failed("SMTP timeout: the relay did not answer in 1 s", retryAfter: nil)])
        #expect(ContinuousClock.now - started < .seconds(8), "one timeout, and one more on a new connection")
    }

    /// A relay that answers one byte at a time, never finishing its reply, times out as one
    /// that says nothing: bytes are not progress, whole replies are.
    @Test func aRelayThatTricklesItsReplyTimesOut() async throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "smtp-client-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let sink = try SMTPSink(in: directory, pipelining: true, stallAfter: 1, trickle: true)
        defer { sink.server.stop() }
        let started = ContinuousClock.now
        let settings = CurlSettings(totalTimeout: 1)
        #expect(
            await send([("r0@example.org", message(0, body: "x\r\n"))], through: sink.url, settings: settings) == [
                .delivered
            ])
        let trickled = await send(
            [("r1@example.org", message(1, body: "x\r\n"))], through: sink.url, settings: settings)
        #expect(trickled == [.failed("SMTP timeout: the relay did not answer in 1 s", retryAfter: nil)])
        #expect(ContinuousClock.now - started < .seconds(8))
    }

    /// Messages of megabytes over TLS, on one connection, while more arrive: a write the socket
    /// could not take whole is retried with the same bytes (OpenSSL refuses a retry whose
    /// buffer moved: "bad write retry"), and the commands queued meanwhile follow it.
    @Test func largeMessagesOverTLSWithMoreArrivingAllArrive() async throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "smtp-client-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let pki = try certificateFromOwnAuthority(in: directory)
        let sink = try SMTPSink(in: directory, tls: (pki.certificate, pki.key), auth: "herald:pw", pipelining: true)
        defer { sink.server.stop() }
        let client = SMTPClient(
            url: "smtp://herald:pw@127.0.0.1:\(sink.server.port)", requireTLS: true, from: "herald@herald.test",
            settings: CurlSettings(maxConnectionsPerHost: 1, smtpCAFile: pki.authority))
        let line = String(repeating: "0123456789", count: 7) + "\r\n"
        let large = message(0, body: String(repeating: line, count: 110_000))  // about 8 MB
        let results = await withTaskGroup(of: SendResult.self) { group in
            for number in 0..<60 {
                group.addTask {
                    // The large one first; the small ones come while it is being written, after
                    // its DATA was answered and nothing else was waiting.
                    if number > 0 { try? await Task.sleep(for: .milliseconds(30 + number)) }
                    return await withCheckedContinuation { continuation in
                        client.submit(
                            to: "r\(number)@example.org",
                            message: number == 0 ? large : self.message(number, body: "x\r\n")
                        ) { continuation.resume(returning: $0) }
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.allSatisfy { $0 == .delivered }, "\(Set(results.map { "\($0)" }))")
        let arrived = try received(sink)
        #expect(arrived.count == 60)
        #expect(arrived["r0@example.org"]?.first?.count == large.count)
    }

    /// A message cannot end its own DATA early and smuggle a second transaction, by any line
    /// ending: it arrives as one message, with the text inside it.
    @Test func aMessageCannotSmuggleCommands() async throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "smtp-client-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let sink = try SMTPSink(in: directory, pipelining: true)
        defer { sink.server.stop() }
        let smuggled = [
            "\r\n.\r\nMAIL FROM:<evil@attacker.example>\r\nRCPT TO:<victim@example.org>\r\nDATA\r\nevil\r\n.\r\n",
            "\n.\nMAIL FROM:<evil@attacker.example>\nRCPT TO:<victim@example.org>\nDATA\nevil\n.\n",
            "\n.\r\nMAIL FROM:<evil@attacker.example>\r\nRCPT TO:<victim@example.org>\r\nDATA\r\nevil\r\n.\r\n",
        ]
        let messages = smuggled.enumerated().map { ("r\($0)@example.org", message($0, body: "text\($1)end\r\n")) }
        let results = await send(messages, through: sink.url)
        #expect(results.allSatisfy { $0 == .delivered })
        let arrived = try received(sink)
        #expect(Set(arrived.keys) == ["r0@example.org", "r1@example.org", "r2@example.org"], "no victim")
        for (to, _) in messages {
            let text = String(decoding: arrived[to]?.first ?? [], as: UTF8.self)
            #expect(text.contains("evil") && text.hasSuffix("end\r\n"), "\(to): \(text)")
        }
    }

    /// The steps of connecting are named as before: a closed port, a wrong password.
    @Test func connectingFailuresNameTheirStep() async throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "smtp-client-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let pki = try certificateFromOwnAuthority(in: directory)
        let sink = try SMTPSink(in: directory, tls: (pki.certificate, pki.key), auth: "herald:right")
        defer { sink.server.stop() }
        let settings = CurlSettings(smtpCAFile: pki.authority)
        let wrong = await send(
            [("a@example.org", message(1, body: "x")), ("b@example.org", message(2, body: "x"))],
            through: "smtp://herald:wrong@127.0.0.1:\(sink.server.port)", settings: settings, requireTLS: true)
        for result in wrong {
            guard case let .failed(error, _) = result else {
                Issue.record("a refused login is worth another try once fixed: \(result)")
                continue
            }
            #expect(error.hasPrefix("SMTP AUTH") && !error.contains("wrong"), "\(error)")
        }
        let closed = await send([("a@example.org", message(1, body: "x"))], through: "smtp://127.0.0.1:9")
        guard case let .failed(error, _) = closed.first else {
            Issue.record("\(closed)")
            return
        }
        #expect(error.hasPrefix("SMTP connect:"), "\(error)")
        #expect(sink.count == 0)
    }
}

/// The bytes of the conversation, without a server.
@Suite struct SMTPWireTests {
    func replies(_ chunks: [String]) throws -> [SMTPReply] {
        var reader = SMTPReplyReader()
        var all: [SMTPReply] = []
        for chunk in chunks {
            all += try Array(chunk.utf8).withUnsafeBytes { bytes throws(SMTPProtocolError) in try reader.read(bytes) }
        }
        return all
    }

    @Test func repliesAreReadWhateverTheirChunks() throws {
        #expect(
            try replies(["250-first\r\n250-PIPE", "LINING\r\n250 last\r\n354 go\r", "\n2", "21\r\n"]) == [
                SMTPReply(code: 250, text: "first PIPELINING last"), SMTPReply(code: 354, text: "go"),
                SMTPReply(code: 221, text: ""),
            ])
        #expect(try replies(["250 no CR\n"]) == [SMTPReply(code: 250, text: "no CR")])
    }

    @Test func aRelaysWordsCarryNoControlCharacters() throws {
        #expect(try replies(["550 \u{1B}[31mred\u{7}\r\n"]) == [SMTPReply(code: 550, text: " [31mred ")])
    }

    @Test func whatIsNotAReplyIsRefusedAndBounded() {
        for bad in ["HTTP/1.1 200 OK\r\n", "25 short\r\n", "250x\r\n", "250-a\r\n251 b\r\n"] {
            #expect(throws: SMTPProtocolError.self, "\(bad)") { try replies([bad]) }
        }
        #expect(throws: SMTPProtocolError.self) { try replies([String(repeating: "2", count: 5000)]) }
        #expect(throws: SMTPProtocolError.self) {
            try replies([String(repeating: "250-x\r\n", count: SMTPReplyReader.maxLines + 1)])
        }
    }

    func content(_ text: String) -> String {
        var out: [UInt8] = []
        SMTPWire.appendContent(Array(text.utf8), to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    @Test func dotsAtTheStartOfALineAreDoubledAndDataEndsOnce() {
        #expect(content(".a\r\nb.\r\n..c\r\n") == "..a\r\nb.\r\n...c\r\n.\r\n")
        #expect(content("no end") == "no end\r\n.\r\n")
        #expect(content("") == ".\r\n")
        #expect(content(".") == "..\r\n.\r\n")
        // Bare line ends become CRLF, so no relay can find an end of data inside the message.
        #expect(content("a\n.b\n") == "a\r\n..b\r\n.\r\n")
        #expect(content("a\r.\rb") == "a\r\n..\r\nb\r\n.\r\n")
        #expect(content("x\r\r\n.\n\r\n") == "x\r\n\r\n..\r\n\r\n.\r\n")
    }

    @Test func anAddressThatWouldBreakTheCommandIsRefused() {
        #expect(SMTPWire.isSafeAddress("security@example.org"))
        for bad in ["", "a@b>\r\nRCPT TO:<c@d", "a b@c.example", "a@b\n", "<a@b>", "ä@b.example"] {
            #expect(!SMTPWire.isSafeAddress(bad), "\(bad)")
        }
    }
}
