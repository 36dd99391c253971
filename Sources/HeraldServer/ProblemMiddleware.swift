import Foundation
import HeraldCore
import HeraldStore
import Hummingbird
import Logging

/// Turns every thrown error into a problem response, and adds the security headers every
/// response carries.
struct ProblemMiddleware: RouterMiddleware {
    typealias Context = HeraldContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            response = try Problem.from(error, logger: context.logger).response(from: request, context: context)
        }
        SecurityHeaders.apply(to: &response.headers)
        return response
    }
}
