import Foundation
import HeraldCore
import Hummingbird
import Logging

/// The request context: who is asking (the client's address for rate limits, the token for
/// admin routes) and Herald's JSON coding.
public struct HeraldContext: RequestContext {
    /// Hummingbird's own part: the request's logger, route parameters and so on.
    public var coreContext: CoreRequestContextStorage
    /// The client's IP address, or "local" for in-process test requests.
    public let clientAddress: String
    /// The authenticated token, set by the auth middleware on admin routes.
    public var token: TokenRecord?

    /// Takes the client's address from the connection; the token is set later, by the auth middleware.
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        clientAddress = source.channel.remoteAddress?.ipAddress ?? "local"
    }

    /// Request bodies are small: a subscription, an advisory (its body up to 200,000 characters).
    public var maxUploadSize: Int { 1024 * 1024 }

    /// Reads Herald's JSON: snake_case keys, RFC 3339 instants.
    public var requestDecoder: JSONDecoder { .herald }
    /// Writes Herald's JSON: snake_case keys, sorted, RFC 3339 instants with milliseconds.
    public var responseEncoder: JSONEncoder { .herald }

    /// The token's name for the audit log.
    public var actor: String { token.map { "token:\($0.name)" } ?? "anonymous" }
}
