import Foundation
import HeraldApp
import HeraldCore
import HeraldStore
import Hummingbird

/// The portal's JSON API (`/api/v1/portal/…`): what the portal's pages show and do, for a
/// provider's own tools. It takes the portal session as `Authorization: Bearer SESSION` (the
/// value of the `herald_portal` cookie that the mailed sign-in link sets), never the cookie
/// itself, so no other site can make a browser use it; the same rules as the pages hold.
struct PortalAPIController: Sendable {
    let app: AppServices
    let limiter: RateLimiter

    /// An advisory as the signed-in provider may read it.
    struct AdvisoryView: Encodable, Sendable {
        var id: Int64
        var state: String
        /// `embargoed`, `published` or `withdrawn`.
        var reading: String
        var revision: Int?
        var title: String?
        var summary: String?
        var body: String?
        var release: Date?
        var terms: EmbargoTerms?
        var noteFromReleaseManagers: String?
        var takesPart: Bool
        var status: String
        var shared: [SharedView]?
    }

    /// A statement another participant shared.
    struct SharedView: Encodable, Sendable {
        var organization: String
        var status: String
        var statement: String
    }

    /// An answer as a tool sends it.
    struct AnswerInput: Decodable {
        var status: String?
        var proposedInstant: String?
        var statement: String?
        var shareable: Bool?
    }

    func addRoutes(to router: Router<HeraldContext>) {
        router.get("/api/v1/portal/advisories") { request, _ in
            let session = try await session(request)
            return try await json { stores in
                let portal = stores.portal
                return try portal.overview(session).advisories.map { view($0, shared: nil, stores: stores) }
            }
        }
        router.get("/api/v1/portal/advisories/:id") { request, context in
            let session = try await session(request)
            let id = context.parameters.get("id", as: Int64.self) ?? -1
            return try await json { stores in
                guard let (item, shared) = try stores.portal.advisory(id, session: session) else {
                    throw Refusal.notFound(subject: "advisory", id: String(id))
                }
                return view(item, shared: shared, stores: stores)
            }
        }
        router.post("/api/v1/portal/advisories/:id/answer") { request, context in
            try limiter.check(context.clientAddress)
            let session = try await session(request)
            let id = context.parameters.get("id", as: Int64.self) ?? -1
            var request = request
            let body = try await request.collectBody(upTo: PortalController.maxBody)
            guard body.readableBytes > 0,
                let input = try? context.requestDecoder.decode(AnswerInput.self, from: Data(body.readableBytesView))
            else {
                throw Refusal.invalid(field: "body", rule: "send the answer as JSON: {\"status\": \"ready\"}")
            }
            guard let status = input.status.flatMap(ResponseStatus.init(rawValue:)) else {
                throw Refusal.invalid(
                    field: "status", rule: "one of \(ResponseStatus.answers.map(\.rawValue).joined(separator: ", "))")
            }
            return try await json { stores in
                guard let item = try stores.portal.advisory(id, session: session) else {
                    throw Refusal.notFound(subject: "advisory", id: String(id))
                }
                let zone = try stores.projects.require(item.item.projectSlug).timezone
                let proposed = try SubscriptionController.proposedInstant(input.proposedInstant ?? "", zone: zone)
                try stores.portal.answer(
                    id, session: session, status: status, proposedInstant: proposed, statement: input.statement ?? "",
                    shareable: input.shareable ?? false)
                guard let (answered, shared) = try stores.portal.advisory(id, session: session) else {
                    throw Refusal.notFound(subject: "advisory", id: String(id))
                }
                return view(answered, shared: shared, stores: stores)
            }
        }
        router.get("/api/v1/portal/organisation") { request, _ in
            let session = try await session(request)
            return try await json { stores in try stores.portal.overview(session).provider }
        }
    }

    /// The session behind the bearer token, or 401.
    private func session(_ request: Request) async throws -> PortalSession {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
            case let token = String(header.dropFirst("Bearer ".count)).trimmingCharacters(in: .whitespaces),
            let session = try await app.run({ stores in try stores.portal.session(token) })
        else {
            var problem = Problem(
                .unauthorized, "sign in through the portal's mailed link and send its session as a bearer token")
            problem.headers[.wwwAuthenticate] = "Bearer"
            throw problem
        }
        return session
    }

    private func view(_ item: Portal.PortalItem, shared: [SharedStatement]?, stores: Stores) -> AdvisoryView {
        let reading: String
        switch item.advisory.reading {
        case .embargoed: reading = "embargoed"
        case .published: reading = "published"
        case .withdrawn, .nothing: reading = "withdrawn"
        }
        let project = try? stores.projects.require(item.projectSlug)
        let content = item.revision?.content
        return AdvisoryView(
            id: item.advisory.id, state: item.advisory.state.rawValue, reading: reading,
            revision: item.revision?.revision, title: content?.title, summary: content?.summary, body: content?.body,
            release: item.revision?.schedule.embargo,
            terms: reading == "embargoed" ? (content?.terms ?? project?.terms) : nil,
            noteFromReleaseManagers: item.revision?.noteToProviders, takesPart: item.advisory.takesPart,
            status: item.advisory.status.rawValue,
            shared: shared?.map {
                SharedView(organization: $0.organization, status: $0.status.rawValue, statement: $0.statement)
            })
    }

    private func json<T: Encodable & Sendable>(_ body: @escaping @Sendable (Stores) throws -> T) async throws
        -> Response
    {
        let value = try await app.run(body)
        return Response(
            status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: try JSONEncoder.herald.encode(value))))
    }
}
