import Foundation
import HeraldCore
import HeraldStore
import Hummingbird

/// Provider self-service: the subscribe form and API, and the links in messages (confirm,
/// unsubscribe, acknowledge). Link pages show a button rather than acting on GET, because mail
/// scanners fetch links; the POST does the work (RFC 8058 one-click for unsubscribe).
struct SubscriptionController: Sendable {
    let app: AppServices
    let limiter: RateLimiter

    func addRoutes(to router: Router<HeraldContext>) {
        router.get("/subscribe") { request, _ in
            let projects = try await app.run { stores in try stores.projects.list() }
            let csrf = Secrets.token(prefix: "")
            var response = html(.ok, app.pages(for: request).subscribe(projects: projects, csrf: csrf))
            response.headers[.setCookie] =
                "herald_csrf=\(csrf); Path=/subscribe; HttpOnly; SameSite=Strict\(app.settings.publicURL.hasPrefix("https") ? "; Secure" : "")"
            response.headers[.cacheControl] = "no-store"
            return response
        }
        router.post("/subscribe") { request, context in
            try limiter.check(context.clientAddress)
            var request = request
            let form = Form(String(buffer: try await request.collectBody(upTo: Self.maxSubscriptionBody)))
            let cookie = request.headers[.cookie].flatMap { Form.cookie("herald_csrf", in: $0) }
            let pages = app.pages(for: request)
            guard let sent = form.first("csrf"), let cookie, !cookie.isEmpty, sent == cookie else {
                return html(
                    .forbidden,
                    pages.message(title: pages.word("form-expired-title"), text: pages.word("form-expired-text")))
            }
            do {
                try await subscribe(SubscriptionInput(form: form).provider())
            } catch let refusal as Refusal {
                return html(
                    .unprocessableContent,
                    pages.message(
                        title: pages.word("correct-form-title"), text: refusal.description,
                        back: pages.word("back-to-form")))
            }
            return html(.ok, pages.message(title: pages.word("check-mail-title"), text: pages.word("check-mail-text")))
        }
        router.post("/api/v1/subscriptions") { request, context in
            try limiter.check(context.clientAddress)
            // JSON only: a web page elsewhere can post text/plain cross-site without asking
            // (a "simple" request), but not application/json.
            guard
                let type = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(
                    in: .whitespaces
                ).lowercased(),
                type == "application/json"
            else {
                throw Problem(.unsupportedMediaType, "send the subscription as Content-Type: application/json")
            }
            var request = request
            let body = try await request.collectBody(upTo: Self.maxSubscriptionBody)
            let input = try context.requestDecoder.decode(SubscriptionInput.self, from: Data(body.readableBytesView))
            try await subscribe(try input.provider())
            return Response(
                status: .accepted, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: "{\"status\":\"confirmation sent\"}")))
        }

        // Each page says in plain words which organisation, address and advisory it is about.
        linkRoutes(
            router, path: "/subscriptions/confirm", words: "confirm",
            ask: { store, token, pages in
                let subject = try store.subject(of: token, purpose: .confirm)
                return pages.word(
                    "confirm-ask", ["address": subject.address ?? "", "organization": subject.organization])
            },
            act: { store, token, pages in
                let provider = try store.confirm(token: token)
                return pages.word(
                    "confirm-done", ["address": provider.emails.first ?? "", "organization": provider.organization])
            })
        linkRoutes(
            router, path: "/unsubscribe", words: "unsubscribe",
            ask: { store, token, pages in
                let subject = try store.subject(of: token, purpose: .unsubscribe)
                guard let address = subject.address else {
                    return pages.word("unsubscribe-ask-organization", ["organization": subject.organization])
                }
                return pages.word(
                    "unsubscribe-ask-address", ["address": address, "organization": subject.organization])
            },
            act: { store, token, pages in
                let departure = try store.unsubscribe(token: token)
                if departure.organizationLeft {
                    return pages.word("unsubscribe-done-left", ["organization": departure.organization])
                }
                return pages.word(
                    "unsubscribe-done-address",
                    ["address": departure.address ?? "", "organization": departure.organization])
            })
        linkRoutes(
            router, path: "/ack", words: "ack",
            ask: { store, token, pages in
                let subject = try store.subject(of: token, purpose: .ack)
                return pages.word("ack-ask", ["who": Self.who(subject), "notice": Self.describe(subject, pages)])
            },
            act: { store, token, pages in
                let subject = try store.acknowledge(token: token)
                return pages.word("ack-done", ["who": Self.who(subject), "notice": Self.describe(subject, pages)])
            })
    }

    /// "Gemeente Voorbeeld (cert@voorbeeld.example)", or the organisation alone for a webhook's link.
    static func who(_ subject: SubscriptionStore.LinkSubject) -> String {
        subject.organization + (subject.address.map { " (\($0))" } ?? "")
    }

    /// "the early notice for 'Heap overflow…', revision 2", in the page's language.
    static func describe(_ subject: SubscriptionStore.LinkSubject, _ pages: Pages) -> String {
        pages.word(
            "ack-notice",
            [
                "revised": subject.notice == "revision", "title": subject.advisoryTitle ?? "",
                "revision": subject.revision.map(String.init) ?? "",
            ])
    }

    /// A subscription, as a form or JSON, is a few hundred bytes; 16 KiB leaves room for many
    /// projects and stops a hostile body before it is parsed.
    static let maxSubscriptionBody = 16 * 1024

    /// GET shows a page with a button; POST acts. A bad or used link gets the same 404 page.
    private func linkRoutes(
        _ router: Router<HeraldContext>, path: String, words: String,
        ask: @escaping @Sendable (SubscriptionStore, String, Pages) throws -> String,
        act: @escaping @Sendable (SubscriptionStore, String, Pages) throws -> String
    ) {
        router.get(RouterPath(path)) { request, _ in
            let token = request.uri.queryParameters.get("token") ?? ""
            let pages = app.pages(for: request)
            let title = pages.word(words + "-title")
            do {
                let question = try await app.run { stores in try ask(stores.subscriptions, token, pages) }
                let encoded =
                    token.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "-_")))
                    ?? ""
                let action = "\(path)?token=\(encoded)" + (pages.chosen ? "&lang=\(pages.language.rawValue)" : "")
                return html(
                    .ok,
                    pages.message(title: title, text: question, action: action, button: pages.word(words + "-button")),
                    noStore: true)
            } catch let refusal as Refusal {
                // The same page whatever the token was: nothing of it is said back.
                return html(
                    .notFound, pages.at(path + "?").message(title: title, text: refusal.linkMessage), noStore: true)
            }
        }
        router.post(RouterPath(path)) { request, context in
            try limiter.check(context.clientAddress)
            let token = request.uri.queryParameters.get("token") ?? ""
            let pages = app.pages(for: request)
            let title = pages.word(words + "-title")
            do {
                let text = try await app.run { stores in try act(stores.subscriptions, token, pages) }
                return html(.ok, pages.message(title: title, text: text), noStore: true)
            } catch let refusal as Refusal {
                // The same page whatever the token was: nothing of it is said back.
                return html(
                    .notFound, pages.at(path + "?").message(title: title, text: refusal.linkMessage), noStore: true)
            }
        }
    }

    private func subscribe(_ provider: NewProvider) async throws {
        try await app.run { stores in try stores.subscriptions.subscribe(provider) }
    }

    private func html(_ status: HTTPResponse.Status, _ text: String, noStore: Bool = false) -> Response {
        var headers: HTTPFields = [.contentType: "text/html; charset=utf-8", .vary: "Accept-Language"]
        if noStore { headers[.cacheControl] = "no-store" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

/// A subscription request, from the JSON API or the HTML form: one way to a `NewProvider`.
struct SubscriptionInput: Decodable {
    var organization: String?
    var email: String?
    var projects: [String]?
    var webhook: String?
    var listed: Bool?
    var language: String?

    init(form: Form) {
        organization = form.first("organization")
        email = form.first("email")
        projects = form.all("projects")
        webhook = form.first("webhook").flatMap { $0.isEmpty ? nil : $0 }  // the form sends the empty field
        listed = form.first("listed") == "yes"
        language = form.first("language")
    }

    /// Validated; an address or field left out is refused by `NewProvider` with its name.
    func provider() throws(Refusal) -> NewProvider {
        try NewProvider(
            organization: organization ?? "", emails: email.map { [$0] } ?? [],
            webhooks: webhook.map { [($0, .webhook)] } ?? [],
            projects: projects ?? [], listed: listed ?? false, language: try language.map(Language.parse) ?? .english)
    }
}

extension Refusal {
    /// What a link page says about a refused token.
    var linkMessage: String {
        // A token's rule is written as the rest of a sentence; the page makes it one.
        guard case let .invalid(field, rule) = self, field == "token", let first = rule.first else {
            return description
        }
        return first.uppercased() + rule.dropFirst() + "."
    }
}

/// `application/x-www-form-urlencoded` fields, in order.
struct Form {
    let fields: [(String, String)]

    init(_ body: String) {
        fields = body.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
    }

    func first(_ name: String) -> String? { fields.first { $0.0 == name }?.1 }
    func all(_ name: String) -> [String] { fields.filter { $0.0 == name }.map(\.1) }

    /// A cookie's value from a Cookie header.
    static func cookie(_ name: String, in header: String) -> String? {
        header.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            .first { $0.hasPrefix(name + "=") }.map { String($0.dropFirst(name.count + 1)) }
    }
}

/// A token bucket per client address for public POST routes.
final class RateLimiter: @unchecked Sendable {
    private let lock = NSLock()
    private var buckets: [String: (tokens: Double, at: ContinuousClock.Instant)] = [:]
    private let perMinute: Double

    init(perMinute: Int) { self.perMinute = Double(max(1, perMinute)) }

    /// Throws 429 with Retry-After when `client` has used its share.
    func check(_ client: String) throws {
        let now = ContinuousClock.now
        let allowed = lock.withLock { () -> Bool in
            if buckets.count > 100_000 { buckets.removeAll() }  // bounded memory under a flood
            var bucket = buckets[client] ?? (perMinute, now)
            let elapsed =
                Double((now - bucket.at).components.seconds) + Double((now - bucket.at).components.attoseconds) / 1e18
            bucket.tokens = min(perMinute, bucket.tokens + elapsed * perMinute / 60)
            bucket.at = now
            let ok = bucket.tokens >= 1
            if ok { bucket.tokens -= 1 }
            buckets[client] = bucket
            return ok
        }
        guard allowed else {
            var problem = Problem(.tooManyRequests, "too many requests from this address; try again in a minute")
            problem.headers[.retryAfter] = String(Int(60 / perMinute) + 1)
            throw problem
        }
    }
}
