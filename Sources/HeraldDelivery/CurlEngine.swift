import CCurl
import Foundation

/// libcurl's multi interface on a thread of its own: many transfers in flight, connections
/// reused, and `curl_easy_perform`'s blocking kept off the Swift concurrency pool.
/// Callers `await perform(_:)`; the engine thread resumes them when their transfer ends.
public final class CurlEngine: @unchecked Sendable {
    // Shared with callers, guarded by `lock`: new transfers and the stop flag.
    private let lock = NSLock()
    private var incoming: [Transfer] = []
    private var stopping = false
    private var droppingWaiting = false
    // Owned by the engine thread alone.
    private let multi: UnsafeMutableRawPointer
    private var idleHandles: [Handle] = []
    /// Its timeouts, limits and the SMTP relay's CA file.
    public let settings: CurlSettings
    private let finished = DispatchSemaphore(value: 0)

    static let globalInit: Void = {
        curl_global_init(3)  // CURL_GLOBAL_ALL, a macro
        signal(SIGPIPE, SIG_IGN)  // CURLOPT_NOSIGNAL leaves SIGPIPE to us
    }()

    /// Starts the engine thread.
    public init(settings: CurlSettings = CurlSettings()) {
        _ = Self.globalInit
        self.settings = settings
        multi = curl_multi_init()!
        herald_curl_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, settings.maxConnectionsPerHost)
        herald_curl_multi_setopt_long(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, settings.maxConnections)
        let thread = Thread { [self] in loop() }
        thread.name = "herald-curl"
        thread.start()
    }

    /// Ends every transfer still waiting for a connection at once with `CurlResult.notStarted`;
    /// those already sending go on. For a graceful stop that should not wait behind a slow host.
    public func dropWaiting() {
        lock.withLock { droppingWaiting = true }
        curl_multi_wakeup(multi)
    }

    /// Stops the thread after the transfers in flight end; waits for it.
    public func shutdown() {
        lock.withLock { stopping = true }
        curl_multi_wakeup(multi)
        finished.wait()
    }

    /// Makes one transfer and returns libcurl's report. Never throws: failures are results.
    /// Transfers of one `lane` (a host) share its `maxConnectionsPerHost` connections.
    public func perform(_ request: CurlRequest, lane: String = "") async -> CurlResult {
        await withCheckedContinuation { continuation in
            submit(request, lane: lane) { continuation.resume(returning: $0) }
        }
    }

    /// Starts one transfer and calls `completion` on the engine thread when it ends: no task
    /// per transfer, for callers that send thousands a second. `completion` must be quick.
    public func submit(_ request: CurlRequest, lane: String = "", completion: @escaping @Sendable (CurlResult) -> Void)
    {
        let transfer = Transfer(request: request, lane: lane, completion: completion)
        let accepted = lock.withLock { () -> Bool? in
            guard !stopping else { return nil }
            incoming.append(transfer)
            // Only the first of a burst wakes the engine: it takes every waiting transfer at once.
            return incoming.count == 1
        }
        if let wake = accepted {
            if wake { curl_multi_wakeup(multi) }
        } else {
            completion(
                CurlResult(code: -1, error: "shutting down", responseCode: 0, retryAfter: nil, responseSnippet: ""))
        }
    }

    /// libcurl's version, for logs.
    public static var version: String {
        _ = globalInit
        return herald_curl_version_info().map { String(cString: $0.pointee.version) } ?? "unknown"
    }

    // MARK: - The engine thread

    private var active: [UnsafeMutableRawPointer: (Transfer, Handle)] = [:]
    private var activePerLane: [String: Int] = [:]
    private var waitingPerLane: [String: [Transfer]] = [:]

    private func loop() {
        while true {
            let (batch, stop, drop) = lock.withLock { () -> ([Transfer], Bool, Bool) in
                defer {
                    incoming.removeAll(keepingCapacity: true)
                    droppingWaiting = false
                }
                return (incoming, stopping, droppingWaiting)
            }
            for transfer in batch { start(transfer) }
            if drop {
                // Not started yet: they end at once, unsent, so the caller can give them back.
                let waiting = waitingPerLane.values.joined()
                waitingPerLane.removeAll()
                for transfer in waiting { transfer.completion(.notStarted) }
            }
            if stop && active.isEmpty && waitingPerLane.isEmpty { break }
            var running: Int32 = 0
            curl_multi_perform(multi, &running)
            var queued: Int32 = 0
            var ended = false
            while let message = curl_multi_info_read(multi, &queued) {
                guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
                complete(easy, code: message.pointee.data.result)
                ended = true
            }
            // An ended transfer started the next on its connection: send it before waiting on
            // the sockets (a poll per pass cost 4 % of the webhook rate).
            if !ended { curl_multi_poll(multi, nil, 0, 1000, nil) }
        }
        idleHandles.removeAll()  // each Handle cleans up its easy handle
        curl_multi_cleanup(multi)
        finished.signal()
    }

    private func start(_ transfer: Transfer) {
        guard activePerLane[transfer.lane, default: 0] < settings.maxConnectionsPerHost else {
            waitingPerLane[transfer.lane, default: []].append(transfer)
            return
        }
        activePerLane[transfer.lane, default: 0] += 1
        let handle = idleHandles.popLast() ?? Handle(settings: settings)
        transfer.configure(handle)
        active[handle.easy] = (transfer, handle)
        curl_multi_add_handle(multi, handle.easy)
    }

    private func complete(_ easy: UnsafeMutableRawPointer, code: CURLcode) {
        curl_multi_remove_handle(multi, easy)
        guard let (transfer, handle) = active.removeValue(forKey: easy) else { return }
        var status = 0
        herald_curl_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        let result = transfer.result(code: code, responseCode: status, handle: handle)
        transfer.release(handle)
        idleHandles.append(handle)
        transfer.completion(result)
        activePerLane[transfer.lane, default: 1] -= 1
        if activePerLane[transfer.lane] == 0 { activePerLane[transfer.lane] = nil }
        // Mutated in place: a copy of the lane's line per transfer cost more than the transfer.
        if let next = waitingPerLane[transfer.lane]?.removeFirst() {
            if waitingPerLane[transfer.lane]?.isEmpty == true { waitingPerLane[transfer.lane] = nil }
            start(next)
        }
    }
}

/// A libcurl easy handle, kept for reuse: the options every request shares are set once, so
/// a transfer sets only its own (no `curl_easy_reset` and fifteen options per send). Every
/// option a transfer sets, every transfer sets.
final class Handle {
    let easy: UnsafeMutableRawPointer
    /// libcurl's words for a failure, written by libcurl; cleared before each transfer.
    let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
    /// Set by the open-socket callback when it refused a private address.
    let refusedFlag = UnsafeMutablePointer<Int32>.allocate(capacity: 1)

    init(settings: CurlSettings) {
        easy = curl_easy_init()!
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        refusedFlag.initialize(to: 0)
        Self.setCommonOptions(easy, settings: settings, errorBuffer: errorBuffer)
        herald_curl_easy_setopt_callback(easy, CURLOPT_WRITEFUNCTION, transferWrite)
        herald_curl_easy_setopt_callback(easy, CURLOPT_HEADERFUNCTION, transferHeader)
        herald_curl_easy_setopt_string(easy, CURLOPT_PROTOCOLS_STR, "http,https")
        herald_curl_easy_setopt_long(easy, CURLOPT_FOLLOWLOCATION, 0)
        herald_curl_easy_setopt_string(easy, CURLOPT_USERAGENT, "Herald")
    }

    deinit {
        curl_easy_cleanup(easy)
        errorBuffer.deallocate()
        refusedFlag.deallocate()
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

/// The state of one transfer while libcurl holds it: buffers that must outlive the call.
private final class Transfer {
    let request: CurlRequest
    let lane: String
    let completion: @Sendable (CurlResult) -> Void
    var response: [UInt8] = []
    var retryAfter: TimeInterval?
    var list: UnsafeMutablePointer<curl_slist>?

    init(request: CurlRequest, lane: String, completion: @escaping @Sendable (CurlResult) -> Void) {
        self.request = request
        self.lane = lane
        self.completion = completion
    }

    /// Sets every option that differs between transfers of this kind (see `Handle`).
    func configure(_ handle: Handle) {
        let easy = handle.easy
        let me = Unmanaged.passUnretained(self).toOpaque()
        handle.errorBuffer[0] = 0
        handle.refusedFlag.pointee = 0
        herald_curl_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, me)
        herald_curl_easy_setopt_pointer(easy, CURLOPT_HEADERDATA, me)
        switch request {
        case let .http(method, url, headers, body, refusePrivate):
            herald_curl_easy_setopt_string(easy, CURLOPT_URL, url)
            for header in headers { list = curl_slist_append(list, header) }
            list = curl_slist_append(list, "Expect:")
            herald_curl_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, list)
            herald_curl_easy_setopt_off_t(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
            _ = body.withUnsafeBufferPointer { bytes in
                // COPYPOSTFIELDS copies, so the body need not outlive this call.
                herald_curl_easy_setopt_pointer(
                    easy, CURLOPT_COPYPOSTFIELDS,
                    UnsafeMutableRawPointer(mutating: bytes.baseAddress ?? UnsafePointer(bitPattern: 1)!))
            }
            herald_curl_easy_setopt_string(easy, CURLOPT_CUSTOMREQUEST, method == "POST" ? nil : method)
            if refusePrivate {
                herald_curl_refuse_private_targets(easy, handle.refusedFlag)
            } else {
                herald_curl_allow_private_targets(easy)
            }
        }
    }

    func result(code: CURLcode, responseCode: Int, handle: Handle) -> CurlResult {
        let error = curlWords(code, errorBuffer: handle.errorBuffer)
        let snippet = String(decoding: response.prefix(300), as: UTF8.self)
        return CurlResult(
            code: Int32(code.rawValue), error: error, responseCode: responseCode, retryAfter: retryAfter,
            responseSnippet: snippet, refusedPrivateTarget: handle.refusedFlag.pointee != 0)
    }

    /// Frees the transfer's list and unhooks it from the handle, which goes back for reuse.
    func release(_ handle: Handle) {
        herald_curl_easy_setopt_slist(handle.easy, CURLOPT_HTTPHEADER, nil)
        curl_slist_free_all(list)
        list = nil
    }
}

// C callbacks: `userdata` is the Transfer, unretained (the engine's `active` table owns it).

private func transferWrite(
    _ buffer: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ userdata: UnsafeMutableRawPointer?
) -> Int {
    guard let userdata, let buffer else { return 0 }
    let transfer = Unmanaged<Transfer>.fromOpaque(userdata).takeUnretainedValue()
    let length = size * count
    // Keep only the start of a response: it is for the error record, not for reading.
    if transfer.response.count < 4096 {
        buffer.withMemoryRebound(to: UInt8.self, capacity: length) {
            transfer.response.append(contentsOf: UnsafeBufferPointer(start: $0, count: min(length, 4096)))
        }
    }
    return length
}

private func transferHeader(
    _ buffer: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ userdata: UnsafeMutableRawPointer?
) -> Int {
    guard let userdata, let buffer else { return 0 }
    let transfer = Unmanaged<Transfer>.fromOpaque(userdata).takeUnretainedValue()
    let length = size * count
    // Every response header passes here; only Retry-After is read, so look before decoding.
    let bytes = UnsafeRawBufferPointer(start: buffer, count: length)
    let name = "retry-after:".utf8
    guard length > name.count, zip(bytes, name).allSatisfy({ $0 | 0x20 == $1 | 0x20 }) else { return length }
    let value = String(decoding: bytes.dropFirst(name.count), as: UTF8.self).trimmingCharacters(
        in: .whitespacesAndNewlines)
    transfer.retryAfter = RetryAfter.parse(value, now: Date())
    return length
}

extension CurlEngine {
    /// What a connection to the relay needs: the common options, the URL, TLS as required
    /// and the relay's CA file.
    static func setSMTPOptions(
        _ easy: UnsafeMutableRawPointer, url: String, requireTLS: Bool, settings: CurlSettings,
        errorBuffer: UnsafeMutablePointer<CChar>
    ) {
        Handle.setCommonOptions(easy, settings: settings, errorBuffer: errorBuffer)
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
