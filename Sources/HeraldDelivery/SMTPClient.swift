import CCurl
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// E-mail to one relay, one message per recipient, over connections libcurl opens and Herald
/// drives. libcurl makes each connection (connect, STARTTLS, EHLO, AUTH: `CONNECT_ONLY`) and
/// carries its bytes through TLS; Herald says MAIL, RCPT and DATA itself, pipelined
/// (RFC 2920) when the relay offers it, the next message's commands in the same write as
/// the previous message's content. That is one write and one round trip per message, where
/// libcurl's own SMTP makes four of each: libcurl was the ceiling of the e-mail fan-out.
///
/// One thread owns the connections and polls them; sends are handed in from any thread and
/// `completion` runs on that thread. It starts with the first send and ends once no
/// connection is left (an unused one is closed after `idleLimit`).
public final class SMTPClient: @unchecked Sendable {
    private let url: String
    private let requireTLS: Bool
    private let from: String
    private let settings: CurlSettings
    /// How long an unused connection stays open; relays close theirs after a minute or more.
    static let idleLimit: TimeInterval = 30

    // Shared with callers and the connecting threads, guarded by `lock`.
    private let lock = NSLock()
    private var incoming: [Message] = []
    private var made: [Made] = []
    private var droppingWaiting = false
    private var running = false
    private let wakePipe = WakePipe()

    // The thread's own.
    private var waiting = WaitingLine<Message>()
    private var connections: [Connection] = []
    private var connecting = 0
    private var noNewConnectionBefore: TimeInterval = 0
    private var now: TimeInterval = 0
    private var readBuffer = [UInt8](repeating: 0, count: 65536)

    /// `url` as for `SMTPTransport`; `requireTLS` refuses a relay without STARTTLS.
    public init(url: String, requireTLS: Bool, from: String, settings: CurlSettings) {
        _ = CurlEngine.globalInit
        self.url = url
        self.requireTLS = requireTLS
        self.from = from
        self.settings = settings
    }

    /// Sends `message` to `to`; `completion` gets the outcome, on the client's thread.
    public func submit(to: String, message: [UInt8], completion: @escaping @Sendable (SendResult) -> Void) {
        guard SMTPWire.isSafeAddress(from) else {
            return completion(.permanent("SMTP MAIL FROM: the sender's address cannot be said in SMTP"))
        }
        guard SMTPWire.isSafeAddress(to) else {
            return completion(.permanent("SMTP RCPT TO: the recipient's address cannot be said in SMTP"))
        }
        let (wake, start) = lock.withLock { () -> (Bool, Bool) in
            incoming.append(Message(to: to, payload: message, completion: completion))
            defer { running = true }
            return (incoming.count == 1, !running)
        }
        if start {
            Thread.start(named: "herald-smtp") { [self] in run() }
        } else if wake {
            wakePipe.wake()
        }
    }

    /// Ends the sends not yet on a connection at once, as `.notAttempted`; those on one go on.
    public func dropWaiting() {
        lock.withLock { droppingWaiting = true }
        wakePipe.wake()
    }

    // MARK: - The thread

    private func run() {
        now = ProcessInfo.processInfo.systemUptime
        while true {
            let (batch, newlyMade, drop) = lock.withLock { () -> ([Message], [Made], Bool) in
                defer {
                    incoming.removeAll(keepingCapacity: true)
                    made.removeAll()
                    droppingWaiting = false
                }
                return (incoming, made, droppingWaiting)
            }
            waiting.append(contentsOf: batch)
            for connection in newlyMade {
                connecting -= 1
                adopt(connection)
            }
            if drop {
                while let message = waiting.next() { message.finish(.notAttempted) }
            }
            for connection in connections where connection.open == nil {
                guard !waiting.isEmpty else { break }
                begin(connection)
            }
            connectMore()
            connections.removeAll { $0.isClosed }
            if waiting.isEmpty && connections.isEmpty && connecting == 0 {
                let done = lock.withLock { () -> Bool in
                    guard incoming.isEmpty && made.isEmpty else { return false }
                    running = false
                    droppingWaiting = false  // nothing waits: a later start must not drop its first sends
                    return true
                }
                if done { return }
                continue
            }
            waitAndServe()
        }
    }

    /// Waits for the connections (or a wake-up) and serves what is ready.
    private func waitAndServe() {
        var fds = [pollfd(fd: wakePipe.readEnd, events: Int16(POLLIN), revents: 0)]
        for connection in connections {
            let out = connection.hasUnwritten ? Int16(POLLOUT) : 0
            fds.append(pollfd(fd: connection.socket, events: Int16(POLLIN) | out, revents: 0))
        }
        _ = Glibc.poll(&fds, nfds_t(fds.count), 1000)
        now = ProcessInfo.processInfo.systemUptime
        if fds[0].revents != 0 { wakePipe.drain() }
        for (index, connection) in connections.enumerated() {
            let events = fds[index + 1].revents
            if events & Int16(POLLOUT) != 0 { flush(connection) }
            if events & Int16(POLLIN | POLLHUP | POLLERR) != 0 { receive(connection) }
        }
        for connection in connections where !connection.isClosed {
            if connection.isBusy {
                // From the last whole reply, not the last byte: a relay that trickles a byte at
                // a time must not hold a message for ever.
                if now - connection.lastReply > settings.totalTimeout {
                    let seconds = Int(settings.totalTimeout)
                    end(connection, .failed("SMTP timeout: the relay did not answer in \(seconds) s", retryAfter: nil))
                }
            } else if now - connection.lastProgress > Self.idleLimit {
                SMTPWire.appendCommand("QUIT", to: &connection.next)
                flush(connection)
                end(connection, nil)
            }
        }
    }

    // MARK: Connections

    /// Opens connections for the messages that wait, up to the relay's share.
    private func connectMore() {
        let free = connections.count(where: { $0.open == nil && !$0.isClosed })
        let wanted = waiting.count - free - connecting
        let room = settings.maxConnectionsPerHost - connections.count - connecting
        guard wanted > 0, room > 0, now >= noNewConnectionBefore else { return }
        for _ in 0..<min(wanted, room) {
            connecting += 1
            Thread.start(named: "herald-smtp-con") { [self] in
                let result = Self.connect(url: url, requireTLS: requireTLS, settings: settings)
                lock.withLock { made.append(result) }
                wakePipe.wake()
            }
        }
    }

    private func adopt(_ result: Made) {
        switch result {
        case let .connected(easy, socket, pipelining):
            connections.append(Connection(easy: easy, socket: socket, pipelining: pipelining, now: now))
        case let .failed(outcome):
            if connections.isEmpty && connecting == 0 {
                // No connection works: every waiting message would meet the same error now.
                while let message = waiting.next() { message.finish(outcome) }
            } else {
                // The others carry the messages; try a new one later (the relay may have a limit).
                noNewConnectionBefore = now + 1
            }
        }
    }

    /// The outcome of connecting: libcurl's connect, STARTTLS, EHLO and AUTH, on a thread of its own.
    enum Made: @unchecked Sendable {
        case connected(UnsafeMutableRawPointer, Int32, pipelining: Bool)
        case failed(SendResult)
    }

    static func connect(url: String, requireTLS: Bool, settings: CurlSettings) -> Made {
        let easy = curl_easy_init()!
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        let pipelining = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
        pipelining.initialize(to: 0)
        defer {
            errorBuffer.deallocate()
            pipelining.deallocate()
        }
        CurlEngine.setSMTPOptions(easy, url: url, requireTLS: requireTLS, settings: settings, errorBuffer: errorBuffer)
        herald_curl_easy_setopt_long(easy, CURLOPT_CONNECT_ONLY, 1)
        herald_curl_watch_ehlo(easy, pipelining)
        let code = curl_easy_perform(easy)
        herald_curl_stop_watching(easy)
        herald_curl_easy_setopt_pointer(easy, CURLOPT_ERRORBUFFER, nil)
        let socket = herald_curl_active_socket(easy)
        guard code == CURLE_OK, socket >= 0 else {
            var status = 0
            herald_curl_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
            let error =
                errorBuffer.pointee != 0 ? String(cString: errorBuffer) : String(cString: curl_easy_strerror(code))
            curl_easy_cleanup(easy)
            return .failed(
                SMTPTransport.classify(
                    CurlResult(
                        code: code == CURLE_OK ? 56 : Int32(code.rawValue), error: error, responseCode: status,
                        retryAfter: nil, responseSnippet: "")))
        }
        return .connected(easy, socket, pipelining: pipelining.pointee != 0)
    }

    /// Ends the connection. Messages whose content was not sent go back to wait for another;
    /// after a connection that delivered nothing, only once (a relay that drops every
    /// connection fails them). Those whose content was sent and not answered fail with
    /// `outcome`: the relay may have them, and may not.
    private func end(_ connection: Connection, _ outcome: SendResult?) {
        guard !connection.isClosed else { return }
        connection.isClosed = true
        var returned: [Message] = []
        for message in connection.messages where !message.isFinished {
            if let failure = message.failure {
                message.finish(failure)
            } else if message.contentSent || (message.wasReturned && connection.delivered == 0) {
                message.finish(outcome ?? .failed("SMTP connection: closed", retryAfter: nil))
            } else {
                message.wasReturned = true
                returned.append(message)
            }
        }
        if !returned.isEmpty {
            waiting.putFirst(returned)
        }
        connection.steps.removeAll()
        connection.awaiting.removeAll()
        connection.open = nil
        // libcurl would say QUIT and wait for the answer; a shut socket makes that immediate.
        shutdown(connection.socket, Int32(SHUT_RDWR))
        curl_easy_cleanup(connection.easy)
    }

    // MARK: Messages

    /// Puts the next message's MAIL, RCPT and DATA on `connection`, behind anything it is sending.
    private func begin(_ connection: Connection) {
        guard connection.open == nil, !connection.isClosed, let message = waiting.next() else { return }
        if !connection.isBusy { connection.lastReply = now }  // the clock starts with the work
        if connection.needsReset {
            connection.steps.append(.reset)
            connection.needsReset = false
        }
        connection.steps.append(contentsOf: [.mail(message), .recipient(message), .data(message)])
        connection.open = message
        pump(connection)
    }

    /// Writes the steps that may go now: all of them when the relay pipelines, else one
    /// whenever the last is answered. DATA is always the last of a group: nothing is queued
    /// behind it until its answer.
    private func pump(_ connection: Connection) {
        while let step = connection.steps.first, connection.pipelining || connection.awaiting.isEmpty {
            connection.steps.removeFirst()
            switch step {
            case .reset: SMTPWire.appendCommand("RSET", to: &connection.next)
            case .mail: SMTPWire.appendCommand("MAIL FROM:", "<\(from)>", to: &connection.next)
            case let .recipient(message): SMTPWire.appendCommand("RCPT TO:", "<\(message.to)>", to: &connection.next)
            case .data: SMTPWire.appendCommand("DATA", to: &connection.next)
            case let .content(message):
                SMTPWire.appendContent(message.payload, to: &connection.next)
                connection.nextContentEnds.append((connection.next.count, message))
            case .loneDot: SMTPWire.appendCommand(".", to: &connection.next)
            }
            connection.awaiting.append(step)
        }
        flush(connection)
    }

    /// Writes what it can. The bytes being written never move or change until they are all
    /// out (OpenSSL wants a retry with the same buffer): new steps go to `next` meanwhile.
    private func flush(_ connection: Connection) {
        while !connection.isClosed && connection.hasUnwritten {
            if connection.written == connection.output.count {
                swap(&connection.output, &connection.next)
                connection.next.removeAll(keepingCapacity: connection.next.capacity <= 1 << 20)
                connection.contentEnds = connection.nextContentEnds
                connection.nextContentEnds.removeAll()
                connection.written = 0
            }
            var sent = 0
            let code = connection.output.withUnsafeBytes { bytes in
                curl_easy_send(
                    connection.easy, bytes.baseAddress! + connection.written, bytes.count - connection.written, &sent)
            }
            if code == CURLE_AGAIN { return }
            guard code == CURLE_OK else {
                let error = String(cString: curl_easy_strerror(code))
                return end(connection, .failed("SMTP connection: \(error)", retryAfter: nil))
            }
            connection.written += sent
            connection.lastProgress = now
            // A message's content is sent once its final dot is: before, the relay cannot have it.
            while let (end, message) = connection.contentEnds.first, end <= connection.written {
                message.contentSent = true
                connection.contentEnds.removeFirst()
            }
        }
    }

    private func receive(_ connection: Connection) {
        while !connection.isClosed {
            var count = 0
            let code = readBuffer.withUnsafeMutableBytes {
                curl_easy_recv(connection.easy, $0.baseAddress, $0.count, &count)
            }
            if code == CURLE_AGAIN { return }
            guard code == CURLE_OK, count > 0 else {
                let error = code == CURLE_OK ? "closed by the relay" : String(cString: curl_easy_strerror(code))
                return end(connection, .failed("SMTP connection: \(error)", retryAfter: nil))
            }
            connection.lastProgress = now
            let replies = readBuffer.withUnsafeBytes { bytes in
                Result { () throws(SMTPProtocolError) in
                    try connection.reader.read(UnsafeRawBufferPointer(rebasing: bytes[..<count]))
                }
            }
            switch replies {
            case let .failure(error):
                return end(connection, .failed("SMTP reply: \(error.reason)", retryAfter: nil))
            case let .success(replies):
                for reply in replies where !connection.isClosed {
                    connection.lastReply = now
                    answer(reply, on: connection)
                }
            }
            if !connection.isClosed { pump(connection) }
        }
    }

    /// One reply, for the oldest step still unanswered.
    private func answer(_ reply: SMTPReply, on connection: Connection) {
        if reply.code == 421 {
            // The relay is closing the connection: what it has not taken goes to another one.
            return end(connection, .failed("SMTP connection 421: \(reply.text)", retryAfter: nil))
        }
        guard !connection.awaiting.isEmpty else {
            // Unasked: a relay that is closing (421 on its idle timeout) or confused.
            return end(connection, .failed("SMTP connection \(reply.code): \(reply.text)", retryAfter: nil))
        }
        switch connection.awaiting.removeFirst() {
        case .reset, .loneDot: break
        case let .mail(message):
            if !reply.isPositive && message.failure == nil { message.failure = Self.refused("MAIL FROM", reply) }
        case let .recipient(message):
            if !reply.isPositive && message.failure == nil { message.failure = Self.refused("RCPT TO", reply) }
        case let .data(message):
            connection.open = nil
            if reply.code == 354, let failure = message.failure {
                // Accepted DATA after a refused MAIL or RCPT: an empty message ends it (RFC 2920 3.1).
                connection.steps.append(.loneDot)
                message.finish(failure)
            } else if reply.code == 354 {
                connection.steps.append(.content(message))
            } else {
                message.finish(message.failure ?? Self.refused("DATA", reply))
                connection.needsReset = true  // a MAIL FROM may still be open
            }
            begin(connection)  // its commands go in the same write as this content
        case let .content(message):
            guard message.contentSent else {
                return end(connection, .failed("SMTP reply: an answer to a message not sent yet", retryAfter: nil))
            }
            if reply.isPositive { connection.delivered += 1 }
            message.finish(reply.isPositive ? .delivered : Self.refused("DATA", reply))
        }
    }

    /// A refusal of `stage`'s command: final for a 5xx to the recipient or the message, worth
    /// another try otherwise. A refused MAIL FROM is the relay refusing Herald's sender (not
    /// allowed, authentication needed): its configuration, not the recipient's, so the mail
    /// waits for it to be fixed.
    static func refused(_ stage: String, _ reply: SMTPReply) -> SendResult {
        let error = "SMTP \(stage) \(reply.code): \(reply.text)"
        let final = stage != "MAIL FROM" && (500..<600).contains(reply.code)
        return final ? .permanent(error) : .failed(error, retryAfter: nil)
    }
}

/// One message on its way.
private final class Message {
    let to: String
    let payload: [UInt8]
    private let completion: @Sendable (SendResult) -> Void
    /// The first refusal among its MAIL and RCPT, reported once DATA is answered.
    var failure: SendResult?
    var contentSent = false
    /// It went back to wait once already, after a connection ended before its content.
    var wasReturned = false
    private(set) var isFinished = false

    init(to: String, payload: [UInt8], completion: @escaping @Sendable (SendResult) -> Void) {
        self.to = to
        self.payload = payload
        self.completion = completion
    }

    func finish(_ result: SendResult) {
        guard !isFinished else { return }
        isFinished = true
        completion(result)
    }
}

/// What is written to a connection, each answered by one reply in order.
private enum Step {
    case reset
    case mail(Message)
    case recipient(Message)
    case data(Message)
    case content(Message)
    /// The empty message that ends a DATA accepted for a transaction with no recipient.
    case loneDot
}

/// One connection to the relay, made by libcurl and driven by `SMTPClient`'s thread.
private final class Connection {
    let easy: UnsafeMutableRawPointer
    let socket: Int32
    /// The relay said PIPELINING in its (last) EHLO reply.
    let pipelining: Bool
    /// The bytes being written, `written` of them so far; untouched until all are out.
    var output: [UInt8] = []
    var written = 0
    /// Where each message's content ends in `output`: it is sent once `written` passes that.
    var contentEnds: [(Int, Message)] = []
    /// Steps written meanwhile, the next `output`.
    var next: [UInt8] = []
    var nextContentEnds: [(Int, Message)] = []
    var reader = SMTPReplyReader()
    /// Steps not yet written.
    var steps: [Step] = []
    /// Steps written, oldest first, waiting for their replies.
    var awaiting: [Step] = []
    /// The message whose MAIL, RCPT and DATA are out and whose DATA is not answered yet.
    var open: Message?
    /// A transaction ended without its content: RSET before the next MAIL.
    var needsReset = false
    /// When a byte last went or came: the idle limit.
    var lastProgress: TimeInterval
    /// When the last whole reply came, or the work began: the timeout while busy.
    var lastReply: TimeInterval
    var isClosed = false
    /// Messages the relay took on this connection: it works, whatever ended it.
    var delivered = 0

    init(easy: UnsafeMutableRawPointer, socket: Int32, pipelining: Bool, now: TimeInterval) {
        self.easy = easy
        self.socket = socket
        self.pipelining = pipelining
        lastProgress = now
        lastReply = now
    }

    var hasUnwritten: Bool { written < output.count || !next.isEmpty }
    var isBusy: Bool { open != nil || !steps.isEmpty || !awaiting.isEmpty || hasUnwritten }

    /// Every message it holds, each once.
    var messages: [Message] {
        var seen = Set<ObjectIdentifier>()
        var result: [Message] = []
        for step in awaiting + steps {
            let message: Message?
            switch step {
            case let .mail(m), let .recipient(m), let .data(m), let .content(m): message = m
            case .reset, .loneDot: message = nil
            }
            if let message, seen.insert(ObjectIdentifier(message)).inserted { result.append(message) }
        }
        return result
    }
}
