import Foundation
import HeraldCore
import Hummingbird
import NIOCore
import NIOHTTPTypes

/// Answers GET and HEAD for public documents that are in the cache and fresh, on the event
/// loop that read the request, without handing it to the router: a feed polled by thousands
/// of readers costs one lookup and one write per request instead of two thread hops.
///
/// It serves only what `PublicCache` holds, which is rendered from published data alone, and
/// only while the cache was checked against the database within its 100 ms; anything else
/// (a stale or missing document, another route, a request with a body or `Connection: close`,
/// or while the router is still answering an earlier request on this connection) goes on to
/// Hummingbird unchanged. The answer is byte for byte what the router would give.
final class CachedDocumentHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let cache: PublicCache
    private let serverName: String
    /// The language of a page when the reader's Accept-Language names none of Herald's.
    private let defaultLanguage: Language
    /// Requests handed to the router whose answer has not ended yet: answering here meanwhile
    /// would overtake them.
    private var routed = 0
    /// Whole requests `RawDocumentHandler` handed to the pipeline, not answered yet: it answers
    /// again only when this is 0 (the decoder then stands between requests, nothing is owed).
    var forwardedUnanswered = 0
    private var answering: (document: PublicDocument, request: HTTPRequest)?
    private var dateSecond = 0
    private var dateHeader = ""
    /// The last response head written, by document, answer and second: a reader polling one
    /// feed gets the same head all second, built once instead of once per request.
    /// (The same bytes under another type would have other headers: the type is compared too.)
    private var lastHead: (etag: String, type: String, current: Bool, second: Int, head: HTTPResponse)?

    /// How long a connection may stay silent with no answer owed (`RawDocumentHandler` keeps it).
    private let idleTimeout: Duration
    /// Requests whose head was read here and whose answer has not ended: while there are any,
    /// the connection is not idle (a slow body is the request deadline's to end).
    private(set) var unanswered = 0
    /// When a request was last read whole or answered, here or by `RawDocumentHandler`.
    var lastActive = NIODeadline.now()

    init(cache: PublicCache, serverName: String, defaultLanguage: Language, idleTimeout: Duration) {
        self.cache = cache
        self.serverName = serverName
        self.defaultLanguage = defaultLanguage
        self.idleTimeout = idleTimeout
    }

    /// Puts `RawDocumentHandler` first in the pipeline, before the HTTP decoder.
    func handlerAdded(context: ChannelHandlerContext) {
        let raw = RawDocumentHandler(documents: self, idleTimeout: TimeAmount(idleTimeout))
        try? context.pipeline.syncOperations.addHandler(raw, position: .first)
    }

    /// An answer ended: here, or by the router.
    private func answered() {
        unanswered = max(0, unanswered - 1)
        forwardedUnanswered = max(0, forwardedUnanswered - 1)
        lastActive = .now()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        switch part {
        case let .head(request):
            unanswered += 1
            lastActive = .now()
            if routed == 0, let document = cachedDocument(for: request) {
                answering = (document, request)
                return
            }
            routed += 1
        case .body:
            if answering != nil { return }  // a GET has no body worth reading
        case .end:
            if let (document, request) = answering {
                answering = nil
                answer(request, with: document, context: context)
                return
            }
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            routed = max(0, routed - 1)
            answered()
        }
        context.write(data, promise: promise)
    }

    /// The cached document `request` asks for, when there is one to answer with here.
    private func cachedDocument(for request: HTTPRequest) -> PublicDocument? {
        guard request.method == .get || request.method == .head, let path = request.path,
            request.headerFields[.connection]?.lowercased().contains("close") != true,
            request.headerFields[.contentLength] == nil, request.headerFields[.transferEncoding] == nil
        else { return nil }
        return cachedDocument(path: path, acceptLanguage: request.headerFields[.acceptLanguage])
    }

    /// The fresh cached document at `path` in the reader's language, if there is one.
    func cachedDocument(path: String, acceptLanguage: String?) -> PublicDocument? {
        guard let route = PublicDocumentRoute(path: path) else { return nil }
        // The same choice as the router's (a path with `?lang=` is no plain path and goes there).
        let language = Language.negotiate(acceptLanguage, fallback: defaultLanguage)
        return cache.freshDocument(route.key(language: language, chosen: false))
    }

    /// The head of the answer with `document` (304 when `current`), and the second its Date says.
    func head(for document: PublicDocument, current: Bool) -> (second: Int, head: HTTPResponse) {
        let date = date()
        if let last = lastHead, last.etag == document.etag, last.type == document.contentType, last.current == current,
            last.second == dateSecond
        {
            return (dateSecond, last.head)
        }
        var headers = current ? document.notModifiedHeaders : document.headers
        headers[.date] = date
        headers[.server] = serverName
        let head = HTTPResponse(status: current ? .notModified : .ok, headerFields: headers)
        lastHead = (document.etag, document.contentType, current, dateSecond, head)
        return (dateSecond, head)
    }

    private func answer(_ request: HTTPRequest, with document: PublicDocument, context: ChannelHandlerContext) {
        let current = document.isCurrent(
            ifNoneMatch: request.headerFields[.ifNoneMatch], ifModifiedSince: request.headerFields[.ifModifiedSince])
        let head = head(for: document, current: current).head
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if !current && request.method == .get {
            context.write(wrapOutboundOut(.body(document.buffer)), promise: nil)
        }
        answered()  // written from this context, so `write` above does not see it
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    /// The Date header, formatted once a second.
    private func date() -> String {
        let now = Date()
        let second = Int(now.timeIntervalSince1970)
        if second != dateSecond {
            dateSecond = second
            dateHeader = EmailMessage.httpDate(now)
        }
        return dateHeader
    }
}
