import Foundation
import HeraldCore
import HeraldStore
import Hummingbird

/// Admin routes need `Authorization: Bearer hrld_…`; the token's role decides what it may do.
struct BearerAuthMiddleware: RouterMiddleware {
    typealias Context = HeraldContext
    let app: AppServices

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            throw Problem.unauthorized("this route needs a token: Authorization: Bearer hrld_… (herald token create)")
        }
        let token = String(header.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
        guard let record = try await app.run({ stores in try stores.tokens.authenticate(token) }) else {
            throw Problem.unauthorized("the token is not valid or was revoked")
        }
        var context = context
        context.token = record
        return try await next(request, context)
    }
}

extension Problem {
    static func unauthorized(_ detail: String) -> Problem {
        var problem = Problem(.unauthorized, detail)
        problem.headers[.wwwAuthenticate] = "Bearer realm=\"herald\""
        return problem
    }
}

extension HeraldContext {
    /// Refuses with 403 unless the token's role includes `role`: admin ⊇ release-manager ⊇ auditor.
    func require(_ role: TokenRole) throws {
        guard let token, token.role >= role else {
            throw Problem(
                .forbidden,
                "this needs the \(role.rawValue) role; the token '\(token?.name ?? "")' has \(token?.role.rawValue ?? "none")"
            )
        }
    }
}
