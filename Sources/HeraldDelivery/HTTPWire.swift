import CCurl
import Foundation

/// Where a request goes, as libcurl itself reads its URL: the connection is libcurl's, so
/// the host it connects to and the target written on it come from one reading.
struct HTTPTarget: Sendable, Equatable {
    /// `scheme://host:port/`, for libcurl to connect to.
    let origin: String
    /// The `Host` header: the host, and the port when it is not the scheme's own.
    let host: String
    /// Path and query, as in the URL.
    let path: String

    /// Nil when libcurl cannot read `url`, it is not http(s), it carries a user, or its path
    /// holds a byte that cannot stand on a request line.
    init?(_ url: String) {
        guard let target = Self.plain(url) ?? Self.readByLibcurl(url) else { return nil }
        self = target
    }

    private init(origin: String, host: String, path: String) {
        self.origin = origin
        self.host = host
        self.path = path
    }

    /// How libcurl reads `url`: any URL the plain reading does not take.
    static func readByLibcurl(_ url: String) -> HTTPTarget? {
        _ = CurlEngine.globalInit  // the locale libidn2 reads names in
        guard let handle = curl_url() else { return nil }
        defer { curl_url_cleanup(handle) }
        guard curl_url_set(handle, CURLUPART_URL, url, 0) == CURLUE_OK else { return nil }
        func part(_ part: CURLUPart, _ flags: Int32 = 0) -> String? {
            var value: UnsafeMutablePointer<CChar>?
            guard curl_url_get(handle, part, &value, UInt32(flags)) == CURLUE_OK, let value else { return nil }
            defer { curl_free(value) }
            return String(cString: value)
        }
        // As libcurl's own HTTP sent them: a name in IDNA (punycode), and a path and query with
        // any byte outside ASCII percent-encoded (UTF-8 `é` as `%c3%a9`).
        guard let scheme = part(CURLUPART_SCHEME)?.lowercased(), scheme == "http" || scheme == "https",
            let host = part(CURLUPART_HOST, CURLU_PUNYCODE), !host.isEmpty, part(CURLUPART_USER) == nil,
            let port = part(CURLUPART_PORT, CURLU_DEFAULT_PORT)
        else { return nil }
        let path =
            (part(CURLUPART_PATH, CURLU_URLENCODE) ?? "/")
            + (part(CURLUPART_QUERY, CURLU_URLENCODE).map { "?" + $0 } ?? "")
        let printableASCII = { (byte: UInt8) in byte > 0x20 && byte < 0x7F }
        guard path.hasPrefix("/"), path.utf8.allSatisfy(printableASCII), host.utf8.allSatisfy(printableASCII)
        else { return nil }
        return HTTPTarget(
            origin: "\(scheme)://\(host):\(port)/",
            host: part(CURLUPART_PORT, CURLU_NO_DEFAULT_PORT).map { "\(host):\($0)" } ?? host, path: path)
    }

    /// The common URL read without libcurl, to the parts libcurl reads it to (a test compares
    /// the two on thousands of URLs): a target is read per send, and libcurl's reading was 5 %
    /// of `serve`'s CPU in a webhook fan-out. `http(s)://` in lower case; a host of dotted
    /// labels of lower-case letters, digits and inner hyphens, or, when every label is a number
    /// (libcurl reads `127.1` and `0x7f.1` as 127.0.0.1), a dotted quad as libcurl writes one;
    /// a port without leading zeros; a path of letters, digits and `-._~/` with no `.` or `..`
    /// segment (libcurl removes those), and a query of those and `=&`. Anything else (a user,
    /// IPv6, IDNA, a percent sign, a fragment) is libcurl's to read.
    static func plain(_ url: String) -> HTTPTarget? {
        var url = url
        return url.withUTF8 { bytes -> HTTPTarget? in
            let https = bytes.starts(with: "https://".utf8)
            guard https || bytes.starts(with: "http://".utf8) else { return nil }
            var index = https ? 8 : 7
            // The host: dotted labels, each of alphanumerics with hyphens only inside.
            let hostStart = index
            var labelStart = index
            var allNumbers = true
            var labels = 0
            var quadParts = 0  // labels written as libcurl writes an IPv4 address's parts: 0-255, no leading zero
            func endLabel() -> Bool {
                let label = bytes[labelStart..<index]
                guard let first = label.first, let last = label.last, first != UInt8(ascii: "-"),
                    last != UInt8(ascii: "-")
                else { return false }
                labels += 1
                if allNumbers && !isNumber(label) { allNumbers = false }
                if allNumbers, label.count <= 3, label.count == 1 || first != UInt8(ascii: "0"),
                    label.allSatisfy(isDigit),
                    label.reduce(0, { $0 * 10 + Int($1 - UInt8(ascii: "0")) }) <= 255
                {
                    quadParts += 1
                }
                return true
            }
            while index < bytes.count, bytes[index] != UInt8(ascii: ":"), bytes[index] != UInt8(ascii: "/") {
                let byte = bytes[index]
                if byte == UInt8(ascii: ".") {
                    guard endLabel() else { return nil }
                    labelStart = index + 1
                } else if !(isLowerAlphanumeric(byte) || byte == UInt8(ascii: "-")) {
                    return nil
                }
                index += 1
            }
            guard endLabel() else { return nil }
            if allNumbers && (labels != 4 || quadParts != 4) { return nil }
            let host = String(decoding: bytes[hostStart..<index], as: UTF8.self)
            var port: String?
            if index < bytes.count, bytes[index] == UInt8(ascii: ":") {
                index += 1
                let portStart = index
                while index < bytes.count, isDigit(bytes[index]) {
                    index += 1
                }
                let digits = bytes[portStart..<index]
                guard let first = digits.first, first != UInt8(ascii: "0"), digits.count <= 5,
                    let number = Int(String(decoding: digits, as: UTF8.self)), number <= 65535
                else { return nil }
                port = String(number)
            }
            // The path, then the query; each segment of the path must not be a dot segment.
            guard index < bytes.count, bytes[index] == UInt8(ascii: "/") else { return nil }
            let pathStart = index
            var segmentStart = index + 1
            var inQuery = false
            func dotSegment(_ end: Int) -> Bool {
                let segment = bytes[segmentStart..<end]
                return segment.elementsEqual(".".utf8) || segment.elementsEqual("..".utf8)
            }
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "?") && !inQuery {
                    if dotSegment(index) { return nil }
                    inQuery = true
                } else if byte == UInt8(ascii: "/") && !inQuery {
                    if index > pathStart, dotSegment(index) { return nil }
                    segmentStart = index + 1
                } else if !isPlainPathByte(byte, inQuery: inQuery) {
                    return nil
                }
                index += 1
            }
            if !inQuery, dotSegment(index) { return nil }
            if inQuery, bytes[bytes.count - 1] == UInt8(ascii: "?") { return nil }  // libcurl drops an empty query
            let defaultPort = https ? "443" : "80"
            let scheme = https ? "https" : "http"
            let explicitPort = port == defaultPort ? nil : port
            return HTTPTarget(
                origin: "\(scheme)://\(host):\(port ?? defaultPort)/",
                host: explicitPort.map { "\(host):\($0)" } ?? host,
                path: String(decoding: bytes[pathStart...], as: UTF8.self))
        }
    }

    /// A label C reads as a number: decimal, octal, or `0x` and hexadecimal.
    private static func isNumber(_ label: Slice<UnsafeBufferPointer<UInt8>>) -> Bool {
        if label.starts(with: "0x".utf8) {
            return label.dropFirst(2).allSatisfy { isDigit($0) || ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "f")) }
        }
        return label.allSatisfy(isDigit)
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private static func isLowerAlphanumeric(_ byte: UInt8) -> Bool {
        isDigit(byte) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
    }

    private static func isPlainPathByte(_ byte: UInt8, inQuery: Bool) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: "~"):
            true
        case UInt8(ascii: "="), UInt8(ascii: "&"), UInt8(ascii: "/"): inQuery
        default: false
        }
    }
}

/// HTTP/1.1 as the webhook client speaks it (RFC 9112): requests written whole, one at a
/// time per connection, and answers read by `HTTPAnswerReader`.
enum HTTPWire {
    /// Appends the request line and headers of a request with a body of `bodyCount` bytes to
    /// `output`. False, and nothing appended, when a header holds a byte that would end it (CR,
    /// LF, NUL): a header must never become two.
    static func appendHead(
        method: String, target: HTTPTarget, headers: [String], bodyCount: Int, to output: inout [UInt8]
    ) -> Bool {
        // Over each header's bytes at once: walking `String.UTF8View` a byte at a time was 0.7 %
        // of `serve`'s CPU samples in a 10,000-webhook fan-out.
        guard
            headers.allSatisfy({ header in
                var header = header
                return header.withUTF8 { !$0.contains { $0 == 13 || $0 == 10 || $0 == 0 } }
            })
        else { return false }
        output.append(contentsOf: method.utf8)
        output.append(0x20)
        output.append(contentsOf: target.path.utf8)
        output.append(contentsOf: " HTTP/1.1\r\nHost: ".utf8)
        output.append(contentsOf: target.host.utf8)
        output.append(contentsOf: "\r\nUser-Agent: Herald\r\nContent-Length: ".utf8)
        output.append(contentsOf: String(bodyCount).utf8)
        for header in headers {
            output.append(contentsOf: "\r\n".utf8)
            output.append(contentsOf: header.utf8)
        }
        output.append(contentsOf: "\r\n\r\n".utf8)
        return true
    }
}

/// A whole answer: what the transport classifies, and whether the connection may carry another.
struct HTTPAnswer: Equatable {
    var status: Int
    var retryAfter: TimeInterval?
    /// The first bytes of the body, for the error record.
    var snippet: [UInt8]
    var keepAlive: Bool
}

/// What a receiver sent that is not HTTP/1.x: the connection cannot be trusted any further.
struct HTTPProtocolError: Error, Equatable {
    var reason: String
}

/// Reads one answer from the bytes a receiver sends: the status line and headers, any
/// interim (1xx) answers before them, and the body as its framing says (a length, chunks,
/// or up to the close). Bounded: a receiver cannot make it hold more than `maxHead` bytes of
/// headers, and a body past `maxBody` ends the read (the status is known; the connection is
/// not reused).
struct HTTPAnswerReader {
    static let maxHead = 65536
    static let maxBody = 65536
    static let snippetLength = 300

    private enum Phase {
        case head
        case length(Int)
        case chunkSize
        case chunkData(Int)
        case chunkEnd
        case trailers
        case untilClose
    }

    private var phase = Phase.head
    private var line: [UInt8] = []
    private var headBytes = 0
    private var answer = HTTPAnswer(status: 0, retryAfter: nil, snippet: [], keepAlive: true)
    private var isHTTP10 = false
    private var contentLength: Int?
    private var hasTransferEncoding = false
    private var transferChunked = false
    private var keepAliveAsked = false
    /// The last Retry-After's value: read once, at the end of the head (a date costs a formatter).
    private var retryAfterValue: ArraySlice<UInt8>?
    private var bodyBytes = 0
    /// Any byte came: a connection that dies after this did not die idle.
    private(set) var hasStarted = false

    /// Takes the next bytes; returns the answer once it is whole, with how many of the bytes
    /// it used (any after it are not for this request).
    mutating func read(_ bytes: UnsafeRawBufferPointer) throws(HTTPProtocolError) -> (HTTPAnswer, used: Int)? {
        if !bytes.isEmpty { hasStarted = true }
        var index = 0
        while index < bytes.count {
            switch phase {
            case .head, .chunkSize, .chunkEnd, .trailers:
                guard let newline = bytes[index...].firstIndex(of: 10) else {
                    try take(bytes[index...])
                    if bodyBytes > Self.maxBody { return tooLong(used: bytes.count) }
                    return nil
                }
                try take(bytes[index..<newline])
                index = newline + 1
                if bodyBytes > Self.maxBody { return tooLong(used: index) }
                if line.last == 13 { line.removeLast() }
                defer { line.removeAll(keepingCapacity: true) }
                if try endOfLine() { return (answer, index) }
            case let .length(remaining), let .chunkData(remaining):
                let count = min(remaining, bytes.count - index)
                keep(bytes[index..<index + count])
                index += count
                if case .length = phase {
                    phase = .length(remaining - count)
                    if remaining == count { return (answer, index) }
                } else {
                    phase = remaining == count ? .chunkEnd : .chunkData(remaining - count)
                }
                if bodyBytes > Self.maxBody { return tooLong(used: index) }
            case .untilClose:
                keep(bytes[index...])
                if bodyBytes > Self.maxBody { return tooLong(used: bytes.count) }
                return nil
            }
        }
        return nil
    }

    /// The receiver closed the connection: the answer, when its body runs up to the close.
    func end() -> HTTPAnswer? {
        if case .untilClose = phase { return answer }
        return nil
    }

    /// A line's bytes. The head's count against `maxHead`; the lines that frame chunks and
    /// trailers against `maxBody`, like the body they carry (many small chunks are a body).
    private mutating func take(_ bytes: UnsafeRawBufferPointer.SubSequence) throws(HTTPProtocolError) {
        if case .head = phase {
            headBytes += bytes.count
            guard headBytes <= Self.maxHead else { throw HTTPProtocolError(reason: "headers longer than 64 KiB") }
        } else {
            bodyBytes += bytes.count
            if bodyBytes > Self.maxBody { return }
        }
        line.append(contentsOf: bytes)
    }

    /// A body past `maxBody`: the status stands, the rest is not read, the connection not reused.
    private mutating func tooLong(used: Int) -> (HTTPAnswer, used: Int) {
        answer.keepAlive = false
        return (answer, used)
    }

    private mutating func keep(_ bytes: UnsafeRawBufferPointer.SubSequence) {
        bodyBytes += bytes.count
        let room = Self.snippetLength - answer.snippet.count
        if room > 0 { answer.snippet.append(contentsOf: bytes.prefix(room)) }
    }

    /// One whole line in `line`; true when it ends the answer.
    private mutating func endOfLine() throws(HTTPProtocolError) -> Bool {
        switch phase {
        case .head where answer.status == 0:
            try statusLine()
        case .head where !line.isEmpty:
            try header()
        case .head:
            return try endOfHead()
        case .chunkSize:
            let digits = line.prefix { $0 != UInt8(ascii: ";") && $0 != 0x20 && $0 != 9 }
            // Hex digits only: Int(_:radix:) would take a sign, and a negative size traps.
            guard !digits.isEmpty, digits.count <= 15, digits.allSatisfy({ $0 < 128 && isxdigit(Int32($0)) != 0 }),
                let size = Int(String(decoding: digits, as: UTF8.self), radix: 16), size >= 0
            else { throw HTTPProtocolError(reason: "a chunk size that is not one: \(printable(line.prefix(40)))") }
            phase = size == 0 ? .trailers : .chunkData(size)
        case .chunkEnd:
            guard line.isEmpty else { throw HTTPProtocolError(reason: "a chunk longer than its size") }
            phase = .chunkSize
        case .trailers:
            return line.isEmpty
        case .length, .chunkData, .untilClose:
            break
        }
        return false
    }

    private mutating func statusLine() throws(HTTPProtocolError) {
        // HTTP/1.x SP 3DIGIT [SP reason], the status from 100 (RFC 9110 15): 000 would leave the
        // next line read as the status line.
        let version = line.prefix(8)
        let code = line.dropFirst(9).prefix(3)
        guard version.elementsEqual("HTTP/1.1".utf8) || version.elementsEqual("HTTP/1.0".utf8),
            line.count >= 12, line[8] == 0x20, code.allSatisfy({ (48...57).contains($0) }), line[9] != 48,
            line.count == 12 || line[12] == 0x20
        else {
            throw HTTPProtocolError(reason: "not an HTTP/1.x status line: \(printable(line.prefix(60)))")
        }
        answer.status = code.reduce(0) { $0 * 10 + Int($1 - 48) }
        isHTTP10 = line[7] == UInt8(ascii: "0")
    }

    /// One header line. Read as bytes: every answer has several, and only four names matter.
    private mutating func header() throws(HTTPProtocolError) {
        if line[0] == 0x20 || line[0] == 9 {
            // obs-fold (RFC 9112 5.2): the last header's value goes on. None that frames or
            // closes is folded by a sane receiver; the connection is not trusted with another.
            answer.keepAlive = false
            return
        }
        // No space before the colon (RFC 9112 5.1): `Content-Length : 5` would frame nothing here
        // and the body elsewhere.
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > 0,
            !line[..<colon].contains(where: { $0 == 0x20 || $0 == 9 })
        else {
            throw HTTPProtocolError(reason: "a header line without a name: \(printable(line.prefix(60)))")
        }
        let name = line[..<colon]
        let value = Self.trimmed(line[(colon + 1)...])
        if Self.equal(name, "content-length") {
            // A list of one length repeated is that length (RFC 9110 8.6).
            for item in value.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
                let digits = Self.trimmed(item)
                guard !digits.isEmpty, digits.count <= 18, digits.allSatisfy({ (48...57).contains($0) }) else {
                    throw HTTPProtocolError(
                        reason: "a Content-Length that is not a length: \(printable(value.prefix(40)))")
                }
                let length = digits.reduce(0) { $0 * 10 + Int($1 - 48) }
                guard contentLength == nil || contentLength == length else {
                    throw HTTPProtocolError(reason: "two different Content-Lengths")
                }
                contentLength = length
            }
        } else if Self.equal(name, "transfer-encoding") {
            // The last coding frames the body (RFC 9112 6.1): chunked, or else up to the close.
            let last = value.lastIndex(of: UInt8(ascii: ",")).map { value[($0 + 1)...] } ?? value
            transferChunked = Self.equal(Self.trimmed(last), "chunked")
            hasTransferEncoding = true
        } else if Self.equal(name, "connection") {
            for token in value.split(separator: UInt8(ascii: ",")) {
                if Self.equal(Self.trimmed(token), "close") { answer.keepAlive = false }
                if Self.equal(Self.trimmed(token), "keep-alive") { keepAliveAsked = true }
            }
        } else if Self.equal(name, "retry-after") {
            retryAfterValue = value
        }
    }

    private static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        let isSpace = { (byte: UInt8) in byte == 0x20 || byte == 9 }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }), let last = bytes.lastIndex(where: { !isSpace($0) })
        else { return [] }
        return bytes[first...last]
    }

    /// Whether `bytes` spell `lowercase`, ASCII letters in either case.
    private static func equal(_ bytes: ArraySlice<UInt8>, _ lowercase: StaticString) -> Bool {
        guard bytes.count == lowercase.utf8CodeUnitCount else { return false }
        let expected = UnsafeBufferPointer(start: lowercase.utf8Start, count: lowercase.utf8CodeUnitCount)
        return zip(bytes, expected).allSatisfy { (byte: UInt8, want: UInt8) -> Bool in
            (65...90).contains(byte) ? byte + 32 == want : byte == want
        }
    }

    /// The empty line after the headers; true when the answer has no body.
    private mutating func endOfHead() throws(HTTPProtocolError) -> Bool {
        if (100..<200).contains(answer.status) {
            // An interim answer (100 Continue, 103 Early Hints): the real one follows.
            guard answer.status != 101 else { throw HTTPProtocolError(reason: "101 Switching Protocols, unasked") }
            // Interim answers count against the same 64 KiB: a flood of them is refused.
            let seen = headBytes
            self = HTTPAnswerReader()
            headBytes = seen
            hasStarted = true
            return false
        }
        if let value = retryAfterValue, value.count <= 64 {
            answer.retryAfter = RetryAfter.parse(String(decoding: value, as: UTF8.self), now: Date())
        }
        // HTTP/1.0 closes after each answer unless it says otherwise; one with a
        // Transfer-Encoding it cannot have is not trusted with another (RFC 9112 6.1).
        if isHTTP10 && (!keepAliveAsked || hasTransferEncoding) { answer.keepAlive = false }
        if answer.status == 204 || answer.status == 304 { return true }
        if transferChunked {
            // Both framings at once: the length is ignored, and so is the connection after it.
            if contentLength != nil { answer.keepAlive = false }
            phase = .chunkSize
        } else if !hasTransferEncoding, let contentLength {
            if contentLength == 0 { return true }
            phase = .length(contentLength)
        } else {
            answer.keepAlive = false
            phase = .untilClose
        }
        return false
    }
}
