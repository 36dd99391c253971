import Crypto
import Foundation
import HeraldCore
import HeraldStore
import Hummingbird
import Logging
import Prometheus

/// `/metrics` in Prometheus' text format. The counters and the outbox depth tell when private
/// notices go out and how many, so the endpoint is never public: on the main listener it needs
/// a bearer token (any role's, or `HERALD_METRICS_TOKEN`); `HERALD_METRICS_LISTEN` serves it on
/// an address of its own (an internal interface) without one.
struct MetricsEndpoint: Sendable {
    let app: AppServices
    let registry: PrometheusCollectorRegistry

    /// Throws 401 unless the request carries the metrics token or a valid API token.
    func authorize(_ request: Request, token metricsToken: String?) async throws {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            throw Problem.unauthorized(
                "/metrics needs a token: Authorization: Bearer … (an API token, or HERALD_METRICS_TOKEN)")
        }
        let presented = String(header.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
        // Compared as digests, so the comparison's time says nothing about the token.
        if let metricsToken, SHA256.hash(data: Data(presented.utf8)) == SHA256.hash(data: Data(metricsToken.utf8)) {
            return
        }
        let record = try await app.run { stores in try stores.tokens.authenticate(presented) }
        guard record != nil else { throw Problem.unauthorized("the token is not valid or was revoked") }
    }

    /// The metrics, with the outbox's depth read from the database now.
    func response() async throws -> Response {
        let queue = try await app.run { stores in try stores.outbox.queueDepth() }
        registry.makeGauge(
            descriptor: .init(
                namespace: "herald", metricName: "outbox_depth", unitName: "",
                helpText: "Deliveries waiting (pending or retrying)")
        ).set(Double(queue.count))
        registry.makeGauge(
            descriptor: .init(
                namespace: "herald", metricName: "outbox_oldest_pending", unitName: "seconds",
                helpText: "Age of the oldest waiting delivery")
        )
        .set(queue.oldest.map { app.now.timeIntervalSince($0) } ?? 0)
        return Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
    }

    /// The application of the metrics listener: `/metrics` and nothing else, without a token.
    func listener(host: String, port: Int, logger: Logger) -> some ApplicationProtocol {
        let router = Router(context: HeraldContext.self)
        router.add(middleware: ProblemMiddleware())
        router.get("/metrics") { _, _ in try await response() }
        return Application(
            router: router, configuration: .init(address: .hostname(host, port: port), serverName: "Herald"),
            logger: logger)
    }
}
