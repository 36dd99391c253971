import Foundation
import HTTPTypes
import HeraldCore
import Hummingbird
import NIOCore
import Synchronization

/// The first handler of a connection, before the HTTP decoder: a read that holds only whole,
/// plain GETs of fresh cached public documents (a feed reader's poll) is answered from the
/// bytes: a head serialized once a second and the cache's own buffer of the document, skipping
/// the decoder, the header conversions and the encoder. The answer's bytes are those the HTTP
/// pipeline would write (a test compares them).
///
/// Anything else — a request split over reads, HEAD, a body, `Connection: close`, `Expect`,
/// an unusual header line — and every read after it on the connection go to the HTTP pipeline
/// unchanged. Whole plain GETs of a document that is not fresh this moment go to the pipeline
/// too, and the connection comes back once the pipeline has answered them; no request is
/// answered out of order. This handler keeps the connection's idle timeout either way, from
/// what `CachedDocumentHandler` sees of requests and answers.
final class RawDocumentHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let documents: CachedDocumentHandler
    private let idleTimeout: TimeAmount
    /// Set at the first read that is not whole plain GETs: from then on, everything passes.
    private var passing = false
    private var idleTimer: Scheduled<Void>?
    /// The last answer's head serialized, by document, answer and second (its Date header).
    private var lastHead: (etag: String, type: String, current: Bool, second: Int, bytes: ByteBuffer)?
    #if DEBUG
        /// Requests answered here since the process started (tests ask which path answered).
        static let answered = Atomic<Int>(0)
    #endif

    /// `documents` finds and heads the answers, and sees the pipeline's requests and answers.
    init(documents: CachedDocumentHandler, idleTimeout: TimeAmount) {
        self.documents = documents
        self.idleTimeout = idleTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        scheduleIdleCheck(context: context, in: idleTimeout)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        idleTimer?.cancel()
        idleTimer = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !passing else { return context.fireChannelRead(data) }
        // A reader that does not read its answers is the HTTP pipeline's to slow down.
        let requests =
            context.channel.isWritable ? unwrapInboundIn(data).withUnsafeReadableBytes { PlainGet.parseAll($0) } : nil
        guard let requests else {
            // Handed to the HTTP pipeline for good.
            passing = true
            lastHead = nil
            return context.fireChannelRead(data)
        }
        // Whole plain GETs the pipeline has not answered yet: these wait behind them.
        var answers: [(head: ByteBuffer, body: ByteBuffer?)] = []
        if documents.forwardedUnanswered == 0 {
            for request in requests {
                guard let answer = answer(request) else { break }
                answers.append(answer)
            }
        }
        guard answers.count == requests.count else {
            // A document not fresh this moment (the cache is rechecked every 100 ms): the
            // pipeline answers these whole requests, and the connection comes back here once
            // it has, as the decoder then stands between requests again.
            documents.forwardedUnanswered += requests.count
            return context.fireChannelRead(data)
        }
        #if DEBUG
            Self.answered.add(answers.count, ordering: .relaxed)
        #endif
        documents.lastActive = .now()
        // The body is the cache's one buffer, shared by every answer (NIO writes both in one writev).
        for answer in answers {
            context.write(wrapOutboundOut(answer.head), promise: nil)
            if let body = answer.body { context.write(wrapOutboundOut(body), promise: nil) }
        }
        context.flush()
    }

    /// The answer to `request`: its head serialized, and the document's own buffer for a 200;
    /// nil when it is not a fresh cached document.
    private func answer(_ request: PlainGet) -> (head: ByteBuffer, body: ByteBuffer?)? {
        guard let document = documents.cachedDocument(path: request.path, acceptLanguage: request.acceptLanguage)
        else { return nil }
        let current = document.isCurrent(ifNoneMatch: request.ifNoneMatch, ifModifiedSince: request.ifModifiedSince)
        let body = current ? nil : document.buffer
        let (second, head) = documents.head(for: document, current: current)
        if let last = lastHead, last.etag == document.etag, last.type == document.contentType,
            last.current == current, last.second == second
        {
            return (last.bytes, body)
        }
        var bytes = ByteBuffer()
        bytes.writeString("HTTP/1.1 \(head.status.code) \(head.status.reasonPhrase)\r\n")
        for field in head.headerFields {
            bytes.writeString(field.name.rawName)
            bytes.writeString(": ")
            bytes.writeString(field.value)
            bytes.writeString("\r\n")
        }
        bytes.writeString("\r\n")
        lastHead = (document.etag, document.contentType, current, second, bytes)
        return (bytes, body)
    }

    /// Closes the connection when no request was read or answered for `idleTimeout` and none
    /// is owed an answer, whichever path answers it: a request head that never ends (a
    /// slowloris) is closed; a slow route is not.
    private func scheduleIdleCheck(context: ChannelHandlerContext, in delay: TimeAmount) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        idleTimer = context.eventLoop.scheduleTask(in: delay) {
            let (handler, context) = loopBound.value
            let documents = handler.documents
            let idle = NIODeadline.now() - documents.lastActive
            let owed = documents.unanswered > 0 || documents.forwardedUnanswered > 0
            if !owed && idle >= handler.idleTimeout {
                context.close(promise: nil)
            } else {
                handler.scheduleIdleCheck(
                    context: context,
                    in: owed || idle >= handler.idleTimeout ? handler.idleTimeout : handler.idleTimeout - idle)
            }
        }
    }
}

/// A whole request in a read that `RawDocumentHandler` may answer: `GET path HTTP/1.1`, header
/// lines of a token, a colon and visible ASCII, none that asks for more than the document
/// (a body, an upgrade, `Connection: close`, `Expect`), none of the three it reads twice.
struct PlainGet: Equatable {
    var path: String
    var acceptLanguage: String?
    var ifNoneMatch: String?
    var ifModifiedSince: String?

    /// A read longer than this, or with more requests, goes to the HTTP pipeline and its limits.
    static let maxRead = 8192
    static let maxRequests = 16

    /// The requests `bytes` holds, when it holds only whole plain GETs; nil otherwise.
    static func parseAll(_ bytes: UnsafeRawBufferPointer) -> [PlainGet]? {
        guard !bytes.isEmpty, bytes.count <= maxRead else { return nil }
        var requests: [PlainGet] = []
        var at = 0
        while at < bytes.count {
            guard requests.count < maxRequests, let (request, end) = parse(bytes, from: at) else { return nil }
            requests.append(request)
            at = end
        }
        return requests
    }

    private static let space = UInt8(ascii: " "), cr = UInt8(ascii: "\r"), lf = UInt8(ascii: "\n")
    private static let colon = UInt8(ascii: ":"), tab = UInt8(ascii: "\t")
    private static let prefix = Array("GET ".utf8), version = Array(" HTTP/1.1\r\n".utf8)
    /// Headers that ask for something only the HTTP pipeline does.
    private static let refused: Set<String> = [
        "content-length", "transfer-encoding", "expect", "upgrade", "http2-settings", "te", "range", "if-range",
        "if-match", "if-unmodified-since",
    ]

    /// One request from `start`, and where it ends.
    private static func parse(_ bytes: UnsafeRawBufferPointer, from start: Int) -> (PlainGet, Int)? {
        func matches(_ expected: [UInt8], at index: Int) -> Bool {
            index + expected.count <= bytes.count && expected.indices.allSatisfy { bytes[index + $0] == expected[$0] }
        }
        guard matches(prefix, at: start) else { return nil }
        var at = start + prefix.count
        let pathStart = at
        while at < bytes.count, bytes[at] > space, bytes[at] < 0x7F { at += 1 }
        guard at > pathStart, bytes[pathStart] == UInt8(ascii: "/"), matches(version, at: at) else { return nil }
        var request = PlainGet(
            path: String(decoding: UnsafeRawBufferPointer(rebasing: bytes[pathStart..<at]), as: UTF8.self))
        at += version.count
        while true {
            guard at + 1 < bytes.count else { return nil }
            if bytes[at] == cr && bytes[at + 1] == lf { return (request, at + 2) }
            // name: one or more token characters, then the colon at once
            let nameStart = at
            while at < bytes.count, isToken(bytes[at]) { at += 1 }
            guard at > nameStart, at < bytes.count, bytes[at] == colon else { return nil }
            let name = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[nameStart..<at]), as: UTF8.self)
                .lowercased()
            at += 1
            while at < bytes.count, bytes[at] == space || bytes[at] == tab { at += 1 }
            let valueStart = at
            while at < bytes.count, bytes[at] == tab || (bytes[at] >= space && bytes[at] < 0x7F) { at += 1 }
            guard at + 1 < bytes.count, bytes[at] == cr, bytes[at + 1] == lf else { return nil }
            var valueEnd = at
            while valueEnd > valueStart, bytes[valueEnd - 1] == space || bytes[valueEnd - 1] == tab { valueEnd -= 1 }
            let value = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[valueStart..<valueEnd]), as: UTF8.self)
            at += 2
            switch name {
            case "accept-language":
                guard request.acceptLanguage == nil else { return nil }
                request.acceptLanguage = value
            case "if-none-match":
                guard request.ifNoneMatch == nil else { return nil }
                request.ifNoneMatch = value
            case "if-modified-since":
                guard request.ifModifiedSince == nil else { return nil }
                request.ifModifiedSince = value
            case "connection":
                guard !value.lowercased().contains("close"), !value.lowercased().contains("upgrade") else { return nil }
            default:
                guard !refused.contains(name) else { return nil }
            }
        }
    }

    /// RFC 9110's tchar.
    private static func isToken(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default: tokenSymbols.contains(byte)
        }
    }
    private static let tokenSymbols = Set("!#$%&'*+-.^_`|~".utf8)
}
