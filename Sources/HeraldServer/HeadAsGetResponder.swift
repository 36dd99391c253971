import Foundation
import HeraldCore
import HeraldStore
import Hummingbird
import Logging

/// Answers HEAD like GET without the body (RFC 9110 §9.3.2). It wraps the whole router,
/// because the router matches routes by method before any middleware runs.
struct HeadAsGetResponder<Inner: HTTPResponder>: HTTPResponder where Inner.Context == HeraldContext {
    typealias Context = HeraldContext
    let inner: Inner

    @Sendable func respond(to request: Request, context: Context) async throws -> Response {
        guard request.method == .head else { return try await inner.respond(to: request, context: context) }
        var head = request.head
        head.method = .get
        var response = try await inner.respond(to: Request(head: head, body: request.body), context: context)
        response.body = .init()
        return response
    }
}
