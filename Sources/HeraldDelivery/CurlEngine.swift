import CCurl
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Webhooks over HTTP/1.1, on a thread of its own. libcurl makes each connection (name
/// resolution, the private-address check, connect, TLS: `CONNECT_ONLY`) and carries its bytes
/// through TLS; the engine writes each request whole and reads the answer itself, one
/// request at a time per connection, connections kept for the next request to their origin.
/// That is one write and one read per request and one epoll wait for all connections, where
/// libcurl's own HTTP made about three polls and a dozen options per request: libcurl was
/// half of the webhook fan-out's CPU.
///
/// Callers `await perform(_:)` or `submit` with a completion, which runs on the engine's
/// thread. Each origin gets `maxConnectionsPerHost` connections; more requests wait in its
/// line, in order, and start the moment a connection is free.
public final class CurlEngine: @unchecked Sendable {
    /// Its timeouts, limits and the SMTP relay's CA file.
    public let settings: CurlSettings
    /// How long an unused connection stays open (receivers close theirs after 5–75 s).
    static let idleLimit: TimeInterval = 30

    // Shared with callers and the connecting threads, guarded by `lock`.
    private let lock = NSLock()
    private var incoming: [Transfer] = []
    /// Endpoints whose origins to connect to ahead of their sends.
    private var connectingAhead: [(urls: [String], refusePrivate: Bool)] = []
    /// Connections made for an origin, by its key.
    private var made: [(String, Made)] = []
    private var stopping = false
    private var droppingWaiting = false
    private let wakePipe = WakePipe()
    private let finished = DispatchSemaphore(value: 0)

    // The thread's own.
    private var origins: [String: Origin] = [:]
    private var connections: [Connection] = []
    private var connecting = 0
    /// Origins that wanted a connection when every one of `maxConnections` was taken.
    private var starved: [Origin] = []
    private var now: TimeInterval = 0
    private var readBuffer = [UInt8](repeating: 0, count: 16384)
    /// What the thread waits on: the wake pipe and every connection, by socket.
    private let epoll = Epoll()
    private var bySocket: [Int32: Connection] = [:]
    private var readyEvents = [epoll_event](repeating: epoll_event(), count: 64)
    private var ready: [(Connection, UInt32)] = []

    static let globalInit: Void = {
        curl_global_init(3)  // CURL_GLOBAL_ALL, a macro
        signal(SIGPIPE, SIG_IGN)  // CURLOPT_NOSIGNAL leaves SIGPIPE to us
        // libidn2 reads a host name in the locale's encoding: in the C locale a name such as
        // bücher.example has none, and no IDNA form. Only character types change.
        _ = setlocale(LC_CTYPE, "C.UTF-8")
    }()

    /// Starts the engine thread.
    public init(settings: CurlSettings = CurlSettings()) {
        _ = Self.globalInit
        self.settings = settings
        Thread.start(named: "herald-curl") { [self] in run() }
    }

    /// Ends every transfer still waiting for a connection at once with `CurlResult.notStarted`;
    /// those already sending go on. For a graceful stop that should not wait behind a slow host.
    public func dropWaiting() {
        lock.withLock { droppingWaiting = true }
        wakePipe.wake()
    }

    /// Stops the thread after the transfers in flight and waiting end; waits for it.
    public func shutdown() {
        lock.withLock { stopping = true }
        wakePipe.wake()
        finished.wait()
    }

    /// Makes one transfer and returns its report. Never throws: failures are results.
    public func perform(_ request: CurlRequest) async -> CurlResult {
        await withCheckedContinuation { continuation in
            submit(request) { continuation.resume(returning: $0) }
        }
    }

    /// Starts one transfer and calls `completion` on the engine thread when it ends: no task
    /// per transfer, for callers that send thousands a second. `completion` must be quick.
    public func submit(_ request: CurlRequest, completion: @escaping @Sendable (CurlResult) -> Void) {
        let transfer: Transfer
        switch Transfer.make(request, completion: completion) {
        case let .success(made): transfer = made
        case let .failure(unsendable): return completion(unsendable.result)
        }
        let accepted = lock.withLock { () -> Bool? in
            guard !stopping else { return nil }
            incoming.append(transfer)
            // Only the first of a burst wakes the thread: it takes every waiting transfer at once.
            return incoming.count == 1
        }
        if let wake = accepted {
            if wake { wakePipe.wake() }
        } else {
            completion(
                CurlResult(code: -1, error: "shutting down", responseCode: 0, retryAfter: nil, responseSnippet: ""))
        }
    }

    /// Opens connections to the origins of `urls` ahead of their sends, as many to each as it
    /// has URLs there (within its share), sending nothing on them: a publication's first sends
    /// then find them made. Only ever at or after an instant: a connection to a public endpoint
    /// before it would tell that endpoint something is coming. Unused, they close after `idleLimit`.
    /// The URLs are read on the engine's thread, idle then, not on the caller's.
    public func connectAhead(to urls: [String], refusePrivate: Bool) {
        guard !urls.isEmpty else { return }
        let wake = lock.withLock { () -> Bool in
            guard !stopping else { return false }
            connectingAhead.append((urls, refusePrivate))
            return true
        }
        if wake { wakePipe.wake() }
    }

    /// libcurl's version, for logs.
    public static var version: String {
        _ = globalInit
        return herald_curl_version_info().map { String(cString: $0.pointee.version) } ?? "unknown"
    }

    // MARK: - The thread

    private func run() {
        now = ProcessInfo.processInfo.systemUptime
        epoll.add(wakePipe.readEnd)
        while true {
            let (batch, newlyMade, ahead, stop, drop) = lock.withLock {
                () -> ([Transfer], [(String, Made)], [(urls: [String], refusePrivate: Bool)], Bool, Bool) in
                defer {
                    incoming.removeAll(keepingCapacity: true)
                    made.removeAll()
                    connectingAhead.removeAll()
                    droppingWaiting = false
                }
                return (incoming, made, connectingAhead, stopping, droppingWaiting)
            }
            var touched: [Origin] = []
            for transfer in batch {
                let origin = self.origin(for: transfer)
                if !origin.isTouched {
                    origin.isTouched = true
                    touched.append(origin)
                }
                origin.waiting.append(transfer)
            }
            // An origin is kept while it has a connection coming.
            for (key, result) in newlyMade { adopt(result, for: origins[key]!) }
            for origin in touched {
                origin.isTouched = false
                dispatch(origin)
            }
            // After the sends: connections wanted now come first. Not while stopping, nor while
            // an origin waits for room (a connect under way cannot make room).
            if !stop && starved.isEmpty {
                for (urls, refusePrivate) in ahead { openAhead(to: urls, refusePrivate: refusePrivate) }
            }
            if drop {
                // Not started yet: they end at once, unsent, so the caller can give them back.
                for origin in Array(origins.values) {
                    while let transfer = origin.waiting.next() { transfer.completion(.notStarted) }
                    forgetIfUnused(origin)
                }
            }
            if stop && connecting == 0 && !connections.contains(where: { $0.transfer != nil })
                && !origins.values.contains(where: \.hasWaiting)
            {
                for connection in connections { close(connection) }
                break
            }
            waitAndServe()
        }
        finished.signal()
    }

    /// As many connections to each origin as it has URLs among `urls`, within its share.
    private func openAhead(to urls: [String], refusePrivate: Bool) {
        var wanted: [String: (origin: String, connections: Int)] = [:]
        for url in urls {
            guard let target = HTTPTarget(url) else { continue }
            wanted[Transfer.originKey(target.origin, refusePrivate: refusePrivate), default: (target.origin, 0)]
                .connections += 1
        }
        for (key, want) in wanted {
            let origin = self.origin(key: key, url: want.origin, refusePrivate: refusePrivate)
            openConnections(to: origin, upTo: want.connections)
            forgetIfUnused(origin)
        }
    }

    private func origin(for transfer: Transfer) -> Origin {
        origin(key: transfer.originKey, url: transfer.origin, refusePrivate: transfer.refusePrivate)
    }

    private func origin(key: String, url: String, refusePrivate: Bool) -> Origin {
        if let origin = origins[key] { return origin }
        let origin = Origin(key: key, url: url, refusePrivate: refusePrivate)
        origins[key] = origin
        return origin
    }

    /// Waits for the connections (or a wake-up, or the nearest deadline) and serves what is ready.
    /// By epoll: `poll` looked at every connection on every turn, and a fan-out takes a turn
    /// for every answer or two.
    private func waitAndServe() {
        var nearest = now + 1
        for connection in connections {
            if let transfer = connection.transfer { nearest = min(nearest, transfer.deadline) }
        }
        if readyEvents.count <= connections.count {
            readyEvents = [epoll_event](repeating: epoll_event(), count: connections.count * 2 + 1)
        }
        let timeout = Int32(max(0, min(1000, ((nearest - now) * 1000).rounded(.up))))
        let count = epoll.wait(into: &readyEvents, timeout: timeout)
        now = ProcessInfo.processInfo.systemUptime
        // Served from a list made first: serving may close connections and open the next request on others.
        ready.removeAll(keepingCapacity: true)
        for event in readyEvents[..<count] {
            if event.data.fd == wakePipe.readEnd {
                wakePipe.drain()
            } else if let connection = bySocket[event.data.fd] {
                ready.append((connection, event.events))
            }
        }
        let readable = EPOLLIN.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue
        // Idle ones first (a close, unasked bytes, a TLS ticket): an answer served below may
        // hand one the next request, which must not meet what was already waiting on it.
        for (connection, events) in ready where connection.transfer == nil {
            if events & readable != 0 && !connection.isClosed { receive(connection) }
        }
        for (connection, events) in ready where !connection.isClosed {
            if events & EPOLLOUT.rawValue != 0 { flush(connection) }
            if events & readable != 0 && !connection.isClosed { receive(connection) }
        }
        for connection in connections where !connection.isClosed {
            if let transfer = connection.transfer {
                if now >= transfer.deadline {
                    let milliseconds = Int(settings.totalTimeout * 1000)
                    fail(
                        connection, code: CURLE_OPERATION_TIMEDOUT,
                        error: "Operation timed out after \(milliseconds) milliseconds without a whole answer",
                        mayResend: false)
                }
            } else if now - connection.lastUsed > Self.idleLimit {
                close(connection)
            }
        }
        for origin in origins.values
        where origin.hasWaiting && origin.retryConnectAt > 0 && now >= origin.retryConnectAt {
            origin.retryConnectAt = 0
            dispatch(origin)
        }
    }

    // MARK: Connections

    /// Puts waiting transfers on the origin's free connections and opens more for the rest,
    /// up to its share and the engine's.
    private func dispatch(_ origin: Origin) {
        while origin.hasWaiting, let connection = origin.idle.popLast() {
            begin(connection, origin.waiting.next()!)
        }
        guard now >= origin.retryConnectAt else { return }
        // Counted afresh each time: closing a connection to make room may dispatch again.
        while origin.waiting.count > origin.connecting
            && origin.open + origin.connecting < settings.maxConnectionsPerHost
        {
            if connections.count + connecting >= settings.maxConnections {
                // Full: the connection unused the longest, elsewhere, makes room; else wait for one.
                guard let unused = connections.filter({ $0.transfer == nil }).min(by: { $0.lastUsed < $1.lastUsed })
                else {
                    if !starved.contains(where: { $0 === origin }) { starved.append(origin) }
                    return
                }
                // Its close may give the room to an origin that waited longer: count again.
                close(unused)
                continue
            }
            startConnecting(origin)
        }
    }

    /// Connections made ahead of sends, up to `count` for the origin (within its share), only
    /// where there is room: connecting ahead never closes another origin's connection.
    private func openConnections(to origin: Origin, upTo count: Int) {
        guard now >= origin.retryConnectAt else { return }
        while origin.open + origin.connecting < min(count, settings.maxConnectionsPerHost)
            && connections.count + connecting < settings.maxConnections
        {
            startConnecting(origin)
        }
    }

    /// One connection to the origin, made on a thread of its own and adopted when it is.
    private func startConnecting(_ origin: Origin) {
        origin.connecting += 1
        connecting += 1
        let (key, url, refusePrivate, settings) = (origin.key, origin.url, origin.refusePrivate, settings)
        Thread.start(named: "herald-curl-con") { [self] in
            let result = Self.connect(url: url, refusePrivate: refusePrivate, settings: settings)
            lock.withLock { made.append((key, result)) }
            wakePipe.wake()
        }
    }

    private func adopt(_ made: Made, for origin: Origin) {
        origin.connecting -= 1
        connecting -= 1
        var result = made
        // A socket the thread cannot wait on would never be answered: that connect failed.
        if case let .connected(easy, socket, errorBuffer) = made, !epoll.add(socket) {
            let words = "the engine cannot wait on the connection (epoll_ctl: errno \(errno))"
            curl_easy_cleanup(easy)
            errorBuffer.deallocate()
            result = .failed(
                CurlResult(
                    code: Int32(CURLE_COULDNT_CONNECT.rawValue), error: words, responseCode: 0, retryAfter: nil,
                    responseSnippet: ""))
        }
        switch result {
        case let .connected(easy, socket, errorBuffer):
            let connection = Connection(easy: easy, socket: socket, errorBuffer: errorBuffer, origin: origin, now: now)
            connections.append(connection)
            bySocket[socket] = connection
            origin.open += 1
            if let transfer = origin.waiting.next() {
                begin(connection, transfer)
            } else if starved.isEmpty {
                connection.waitedIdle = true
                origin.idle.append(connection)
            } else {
                close(connection)
            }
        case let .failed(failure):
            if origin.open == 0 && origin.connecting == 0 {
                // No connection to the origin works: every waiting transfer would meet the same error now.
                while let transfer = origin.waiting.next() { transfer.completion(failure) }
                forgetIfUnused(origin)
            } else {
                // The others carry the line; try a new one later (the receiver may have a limit).
                origin.retryConnectAt = now + 1
            }
            dispatchStarved(except: origin)
        }
    }

    /// The outcome of connecting: libcurl's name resolution, connect and TLS, on a thread of its own.
    enum Made: @unchecked Sendable {
        case connected(UnsafeMutableRawPointer, Int32, UnsafeMutablePointer<CChar>)
        case failed(CurlResult)
    }

    static func connect(url: String, refusePrivate: Bool, settings: CurlSettings) -> Made {
        let easy = curl_easy_init()!
        // The connection's for as long as it lives: libcurl writes a send or receive failure's details here.
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        let refused = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
        refused.initialize(to: 0)
        defer { refused.deallocate() }
        setCommonOptions(easy, settings: settings, errorBuffer: errorBuffer)
        herald_curl_easy_setopt_string(easy, CURLOPT_PROTOCOLS_STR, "http,https")
        herald_curl_easy_setopt_string(easy, CURLOPT_URL, url)
        herald_curl_easy_setopt_long(easy, CURLOPT_CONNECT_ONLY, 1)
        // TLS offers only http/1.1 (ALPN): the engine speaks nothing else on the connection.
        herald_curl_easy_setopt_long(easy, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_1_1))
        if let ca = settings.receiverCAFile {
            herald_curl_easy_setopt_string(easy, CURLOPT_CAINFO, ca)
            herald_curl_easy_setopt_string(easy, CURLOPT_CAPATH, nil)
        }
        if refusePrivate { herald_curl_refuse_private_targets(easy, refused) }
        let code = curl_easy_perform(easy)
        herald_curl_allow_private_targets(easy)
        let socket = herald_curl_active_socket(easy)
        guard code == CURLE_OK, socket >= 0 else {
            let failure = CurlResult(
                code: Int32((code == CURLE_OK ? CURLE_COULDNT_CONNECT : code).rawValue),
                error: curlWords(code == CURLE_OK ? CURLE_COULDNT_CONNECT : code, errorBuffer: errorBuffer),
                responseCode: 0, retryAfter: nil, responseSnippet: "", refusedPrivateTarget: refused.pointee != 0)
            curl_easy_cleanup(easy)
            errorBuffer.deallocate()
            return .failed(failure)
        }
        errorBuffer[0] = 0
        return .connected(easy, socket, errorBuffer)
    }

    /// Writes the transfer's request on the free connection; its time starts now.
    private func begin(_ connection: Connection, _ transfer: Transfer) {
        connection.transfer = transfer
        connection.reader = HTTPAnswerReader()
        transfer.deadline = now + settings.totalTimeout
        // Into the connection's own buffer, kept from its last request: a buffer of its own per
        // request (a 2 KB body each, a thousand in flight) was allocated on the worker's thread,
        // freed on this one, and the heap grown and trimmed under them.
        connection.output.removeAll(keepingCapacity: true)
        connection.output.append(contentsOf: transfer.head)
        connection.output.append(contentsOf: transfer.body)
        connection.written = 0
        flush(connection)
    }

    /// Writes what it can. The bytes being written never move or change until they are all
    /// out (OpenSSL wants a retry with the same buffer).
    private func flush(_ connection: Connection) {
        while !connection.isClosed && connection.written < connection.output.count {
            var sent = 0
            let code = connection.output.withUnsafeBytes { bytes in
                curl_easy_send(
                    connection.easy, bytes.baseAddress! + connection.written, bytes.count - connection.written, &sent)
            }
            if code == CURLE_AGAIN { break }
            guard code == CURLE_OK else {
                // A receiver may answer (413, 401) and close before taking the whole request:
                // that answer, when it came, is the outcome.
                let words = curlWords(code, errorBuffer: connection.errorBuffer)
                receive(connection)
                return fail(connection, code: code, error: words)
            }
            connection.written += sent
        }
        // Asked to say when the socket takes more only while part of a request waits.
        let waiting = !connection.isClosed && connection.written < connection.output.count
        if waiting != connection.watchesWrite && !connection.isClosed {
            connection.watchesWrite = waiting
            epoll.change(connection.socket, writable: waiting)
        }
    }

    /// Reads until the answer is whole or nothing more is there.
    private func receive(_ connection: Connection) {
        while !connection.isClosed {
            var count = 0
            let code = readBuffer.withUnsafeMutableBytes {
                curl_easy_recv(connection.easy, $0.baseAddress, $0.count, &count)
            }
            if code == CURLE_AGAIN { return }
            guard connection.transfer != nil else {
                // Unasked bytes, or the close of an unused connection: it is not reused.
                return close(connection)
            }
            guard code == CURLE_OK else {
                return fail(connection, code: code, error: curlWords(code, errorBuffer: connection.errorBuffer))
            }
            guard count > 0 else {
                if let answer = connection.reader.end() { return complete(connection, answer, reuse: false) }
                let started = connection.reader.hasStarted
                return fail(
                    connection, code: started ? CURLE_PARTIAL_FILE : CURLE_GOT_NOTHING,
                    error: started ? "the receiver closed the connection mid-answer" : "Empty reply from server")
            }
            let read = readBuffer.withUnsafeBytes { bytes in
                Result { () throws(HTTPProtocolError) in
                    try connection.reader.read(UnsafeRawBufferPointer(rebasing: bytes[..<count]))
                }
            }
            switch read {
            case let .failure(error):
                return fail(connection, code: CURLE_WEIRD_SERVER_REPLY, error: "HTTP answer: \(error.reason)")
            case let .success(whole?):
                // Bytes after the answer were not asked for: the connection is not trusted with another request,
                // nor when the read filled the buffer (more may wait behind it). Nor is one that answered before
                // the whole request was written: the rest is unsent.
                let reuse =
                    whole.0.keepAlive && whole.used == count && count < readBuffer.count
                    && connection.written == connection.output.count
                return complete(connection, whole.0, reuse: reuse)
            case .success(nil):
                continue
            }
        }
    }

    private func complete(_ connection: Connection, _ answer: HTTPAnswer, reuse: Bool) {
        guard let transfer = connection.transfer else { return }
        connection.transfer = nil
        connection.answered += 1
        connection.lastUsed = now
        transfer.completion(
            CurlResult(
                code: 0, error: "", responseCode: answer.status, retryAfter: answer.retryAfter,
                responseSnippet: printable(answer.snippet[...])))
        if reuse { reuseOrClose(connection) } else { close(connection) }
    }

    /// A connection free for another request: the origin's next, else kept idle, else closed
    /// for an origin waiting for room.
    private func reuseOrClose(_ connection: Connection) {
        let origin = connection.origin
        if let next = origin.waiting.next() {
            begin(connection, next)
        } else if starved.isEmpty {
            // An idle connection holds no request's bytes.
            connection.output = []
            connection.written = 0
            origin.idle.append(connection)
        } else {
            close(connection)
        }
    }

    /// Ends the connection and its transfer. A request that met a kept connection's close (or
    /// that of one made ahead and kept idle) before any answer goes again, on another
    /// connection: the receiver closed it idle, as receivers do, and never saw the request. Up
    /// to 3 times, since a receiver that closes its kept connections at once may close the
    /// next one taken too; a fresh connection that dies ends it (libcurl does the same, up to 5 times).
    private func fail(_ connection: Connection, code: CURLcode, error: String, mayResend: Bool = true) {
        guard let transfer = connection.transfer else { return close(connection) }
        connection.transfer = nil
        if mayResend && (connection.answered > 0 || connection.waitedIdle) && !connection.reader.hasStarted
            && transfer.resends < 3
        {
            transfer.resends += 1
            // Back at the head of its line before the close, which dispatches the line.
            connection.origin.waiting.putFirst([transfer])
            return close(connection)
        }
        close(connection)
        transfer.completion(
            CurlResult(code: Int32(code.rawValue), error: error, responseCode: 0, retryAfter: nil, responseSnippet: ""))
    }

    private func close(_ connection: Connection) {
        guard !connection.isClosed else { return }
        connection.isClosed = true
        let origin = connection.origin
        origin.open -= 1
        origin.idle.removeAll { $0 === connection }
        connections.removeAll { $0 === connection }
        // Out of the set before libcurl closes the socket: its number may come back for another.
        // Only while the number is still this connection's (had libcurl closed it already, a
        // newer connection may hold it now).
        if bySocket[connection.socket] === connection {
            epoll.remove(connection.socket)
            bySocket[connection.socket] = nil
        }
        curl_easy_cleanup(connection.easy)
        connection.errorBuffer.deallocate()
        if origin.hasWaiting { dispatch(origin) } else { forgetIfUnused(origin) }
        dispatchStarved(except: origin)
    }

    /// A connection less, made or not: origins that found none free may open one now.
    private func dispatchStarved(except origin: Origin) {
        guard !starved.isEmpty else { return }
        let waiting = starved
        starved.removeAll()
        for other in waiting {
            if other !== origin {
                dispatch(other)
            } else if other.waiting.count > other.connecting {
                // It took the room just freed and still waits for more: it stays in line for the next.
                starved.append(other)
            }
        }
    }

    private func forgetIfUnused(_ origin: Origin) {
        guard origin.open == 0 && origin.connecting == 0 && !origin.hasWaiting else { return }
        origins[origin.key] = nil
        starved.removeAll { $0 === origin }
    }

    /// What every transfer has, sends and checks alike: no signals, the timeouts, TLS verified,
    /// no proxy, libcurl's words for a failure in `errorBuffer`.
    static func setCommonOptions(
        _ easy: UnsafeMutableRawPointer, settings: CurlSettings, errorBuffer: UnsafeMutablePointer<CChar>
    ) {
        herald_curl_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        herald_curl_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, Int(settings.connectTimeout * 1000))
        herald_curl_easy_setopt_long(easy, CURLOPT_TIMEOUT_MS, Int(settings.totalTimeout * 1000))
        herald_curl_easy_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, 1)
        herald_curl_easy_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, 2)
        herald_curl_easy_setopt_pointer(easy, CURLOPT_ERRORBUFFER, errorBuffer)
        // No proxy from the environment (HTTPS_PROXY, ALL_PROXY): behind one, the private-address
        // check would see only the proxy's address, and the proxy would reach internal hosts.
        herald_curl_easy_setopt_string(easy, CURLOPT_PROXY, "")
    }
}

/// One scheme, host and port, and whether private addresses are refused there: the
/// connections to it and the transfers waiting for one.
private final class Origin {
    let key: String
    let url: String
    let refusePrivate: Bool
    var waiting = WaitingLine<Transfer>()
    var idle: [Connection] = []
    var open = 0
    var connecting = 0
    /// After a failed connect while others are open: no new one before this (0: none pending).
    var retryConnectAt: TimeInterval = 0
    /// Transfers came for it in the batch being taken: it is dispatched once, after them all.
    var isTouched = false

    init(key: String, url: String, refusePrivate: Bool) {
        self.key = key
        self.url = url
        self.refusePrivate = refusePrivate
    }

    var hasWaiting: Bool { !waiting.isEmpty }
}

/// One request, from its submission to its answer.
private final class Transfer {
    /// Its request line and headers as they go on the wire, made by whoever submits it (a
    /// fan-out's sends wait for the engine's thread, not for the submitter's), and its body,
    /// shared with the other sends of the same payload.
    let head: [UInt8]
    let body: [UInt8]
    /// Scheme, host and port, and the key of its origin: the same with private targets allowed
    /// or not are separate origins, never sharing a connection checked for the other.
    let origin: String
    let originKey: String
    let refusePrivate: Bool
    let completion: @Sendable (CurlResult) -> Void
    /// When its answer must be whole; set when its request is written.
    var deadline: TimeInterval = .infinity
    /// Times it went again after a kept connection died unanswered (libcurl allows 5).
    var resends = 0

    private init(
        head: [UInt8], body: [UInt8], origin: String, refusePrivate: Bool,
        completion: @escaping @Sendable (CurlResult) -> Void
    ) {
        self.head = head
        self.body = body
        self.origin = origin
        originKey = Self.originKey(origin, refusePrivate: refusePrivate)
        self.refusePrivate = refusePrivate
        self.completion = completion
    }

    /// The same origin with private targets allowed or not is two: they never share a connection.
    static func originKey(_ origin: String, refusePrivate: Bool) -> String {
        (refusePrivate ? "" : "private allowed ") + origin
    }

    /// Why a request cannot be sent, on any try: nothing of it went out.
    struct Unsendable: Error {
        var result: CurlResult
    }

    static func make(_ request: CurlRequest, completion: @escaping @Sendable (CurlResult) -> Void) -> Result<
        Transfer, Unsendable
    > {
        switch request {
        case let .http(method, url, headers, body, refusePrivate):
            guard let target = HTTPTarget(url) else {
                return .failure(unsendable(CURLE_URL_MALFORMAT, "not an http(s) URL HTTP/1.1 can carry"))
            }
            var head: [UInt8] = []
            head.reserveCapacity(512)
            guard
                HTTPWire.appendHead(method: method, target: target, headers: headers, bodyCount: body.count, to: &head)
            else { return .failure(unsendable(CURLE_BAD_FUNCTION_ARGUMENT, "a header with a line break in it")) }
            return .success(
                Transfer(
                    head: head, body: body, origin: target.origin, refusePrivate: refusePrivate, completion: completion)
            )
        }
    }

    private static func unsendable(_ code: CURLcode, _ words: String) -> Unsendable {
        Unsendable(
            result: CurlResult(
                code: Int32(code.rawValue), error: words, responseCode: 0, retryAfter: nil, responseSnippet: ""))
    }
}

/// One connection, made by libcurl and driven by the engine's thread.
private final class Connection {
    let easy: UnsafeMutableRawPointer
    let socket: Int32
    let errorBuffer: UnsafeMutablePointer<CChar>
    let origin: Origin
    /// The request being written, `written` bytes of it so far; untouched until all are out.
    var output: [UInt8] = []
    var written = 0
    /// Whether epoll reports the socket writable: while `written` is short of `output`.
    var watchesWrite = false
    var transfer: Transfer?
    var reader = HTTPAnswerReader()
    /// Answers it carried: a connection that did is one the receiver kept.
    var answered = 0
    /// It waited idle before a request (made ahead): the receiver may have closed it meanwhile.
    var waitedIdle = false
    var lastUsed: TimeInterval
    var isClosed = false

    init(
        easy: UnsafeMutableRawPointer, socket: Int32, errorBuffer: UnsafeMutablePointer<CChar>, origin: Origin,
        now: TimeInterval
    ) {
        self.easy = easy
        self.socket = socket
        self.errorBuffer = errorBuffer
        self.origin = origin
        lastUsed = now
    }
}

extension CurlEngine {
    /// What a connection to the relay needs: the common options, the URL, TLS as required
    /// and the relay's CA file.
    static func setSMTPOptions(
        _ easy: UnsafeMutableRawPointer, url: String, requireTLS: Bool, settings: CurlSettings,
        errorBuffer: UnsafeMutablePointer<CChar>
    ) {
        setCommonOptions(easy, settings: settings, errorBuffer: errorBuffer)
        herald_curl_easy_setopt_string(easy, CURLOPT_PROTOCOLS_STR, "smtp,smtps")
        herald_curl_easy_setopt_string(easy, CURLOPT_URL, url)
        herald_curl_easy_setopt_long(
            easy, CURLOPT_USE_SSL, Int(requireTLS ? CURLUSESSL_ALL.rawValue : CURLUSESSL_TRY.rawValue))
        if let ca = settings.smtpCAFile {
            // Instead of the system's CAs: the bundle and the directory libcurl was built with.
            herald_curl_easy_setopt_string(easy, CURLOPT_CAINFO, ca)
            herald_curl_easy_setopt_string(easy, CURLOPT_CAPATH, nil)
        }
    }

    /// Checks an SMTP relay the way a send would meet it (connect, STARTTLS, EHLO, AUTH when
    /// the URL has credentials) and ends with NOOP, sending nothing. Blocks its thread: call it
    /// off the concurrency pool (serve runs it once at start).
    public static func checkSMTP(url: String, requireTLS: Bool, settings: CurlSettings) -> CurlResult {
        // The buffer is freed after the handle (defers run last first): cleanup may still write to it.
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        defer { errorBuffer.deallocate() }
        let easy = curl_easy_init()!
        defer { curl_easy_cleanup(easy) }
        setSMTPOptions(easy, url: url, requireTLS: requireTLS, settings: settings, errorBuffer: errorBuffer)
        // No recipient and no upload: libcurl sends this command after logging in.
        herald_curl_easy_setopt_string(easy, CURLOPT_CUSTOMREQUEST, "NOOP")
        herald_curl_easy_setopt_long(easy, CURLOPT_NOBODY, 1)
        let code = curl_easy_perform(easy)
        var status = 0
        herald_curl_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        let error = curlWords(code, errorBuffer: errorBuffer)
        return CurlResult(
            code: Int32(code.rawValue), error: error, responseCode: status, retryAfter: nil, responseSnippet: "")
    }
}
