import Foundation
import HeraldCore
import HeraldStore
import Hummingbird
import Logging

/// An RFC 9457 problem: every error Herald's HTTP side returns, as `application/problem+json`.
public struct Problem: HTTPResponseError, Sendable {
    /// The HTTP status, repeated in the body.
    public var status: HTTPResponse.Status
    /// A short summary of the kind of problem: the status's reason phrase unless given.
    public var title: String
    /// What went wrong this time, in words for the client.
    public var detail: String
    /// The field that broke a rule, when there is one.
    public var field: String?
    /// Extra response headers, such as `Retry-After`.
    public var headers: HTTPFields = [:]

    /// A problem with `status`; `title` defaults to its reason phrase.
    public init(_ status: HTTPResponse.Status, _ detail: String, field: String? = nil, title: String? = nil) {
        self.status = status
        self.title = title ?? status.reasonPhrase
        self.detail = detail
        self.field = field
    }

    /// The problem as JSON, never cached.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var object: [String: JSON] = [
            "type": "about:blank", "title": .string(title), "status": .int(Int(status.code)), "detail": .string(detail),
        ]
        if let field { object["field"] = .string(field) }
        let body = JSON.object(object).bytes
        var fields = headers
        fields[.contentType] = "application/problem+json"
        fields[.cacheControl] = "no-store"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// The problem for any error a handler threw. Internal failures say nothing of their cause
    /// to the client (it is logged), so no error can carry data out.
    static func from(_ error: any Error, logger: Logger) -> Problem {
        switch error {
        case let problem as Problem:
            return problem
        case let refusal as Refusal:
            switch refusal {
            case let .invalid(field, _): return Problem(.unprocessableContent, refusal.description, field: field)
            case let .conflict(field, _): return Problem(.conflict, refusal.description, field: field)
            case .illegalTransition: return Problem(.conflict, refusal.description)
            case .notFound: return Problem(.notFound, refusal.description)
            }
        case let refusals as LineRefusals:
            return Problem(.unprocessableContent, refusals.description)
        case let error as SQLiteError where error.kind == .busy:
            var problem = Problem(.serviceUnavailable, "the database is busy; try again in a moment")
            problem.headers[.retryAfter] = "1"
            return problem
        case let error as DecodingError:
            return Problem(.badRequest, "the body is not the JSON this route takes: \(describe(error))")
        case let error as HTTPError:
            return Problem(error.status, error.body ?? error.status.reasonPhrase)
        case let error as any HTTPResponseError:
            return Problem(error.status, error.status.reasonPhrase)
        default:
            logger.error("request failed", metadata: ["error": "\(error)"])
            return Problem(.internalServerError, "internal error; it has been logged")
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case let .keyNotFound(key, _): return "'\(key.stringValue)' is missing"
        case let .typeMismatch(_, context), let .valueNotFound(_, context):
            return "'\(context.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type"
        case let .dataCorrupted(context):
            return context.codingPath.isEmpty
                ? "not valid JSON" : "'\(context.codingPath.map(\.stringValue).joined(separator: "."))' is not valid"
        @unknown default: return "not valid"
        }
    }
}
