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

    var publicURL: String { app.settings.publicURL }

    func addRoutes(to router: Router<HeraldContext>) {
        router.get("/subscribe") { _, _ in
            let projects = try await app.run { stores in try stores.projects.list() }
            let csrf = Secrets.token(prefix: "")
            var response = html(.ok, Pages.layout(title: "Early notice", publicURL: publicURL, body: subscribeForm(projects: projects, csrf: csrf)))
            response.headers[.setCookie] = "herald_csrf=\(csrf); Path=/subscribe; HttpOnly; SameSite=Strict\(publicURL.hasPrefix("https") ? "; Secure" : "")"
            response.headers[.cacheControl] = "no-store"
            return response
        }
        router.post("/subscribe") { request, context in
            try limiter.check(context.clientAddress)
            var request = request
            let form = Form(String(buffer: try await request.collectBody(upTo: Self.maxSubscriptionBody)))
            let cookie = request.headers[.cookie].flatMap { Form.cookie("herald_csrf", in: $0) }
            guard let sent = form.first("csrf"), let cookie, !cookie.isEmpty, sent == cookie else {
                return html(.forbidden, Pages.message(title: "Form expired", text: "Open the form again and resubmit it.", publicURL: publicURL))
            }
            do {
                try await subscribe(SubscriptionInput(form: form).provider())
            } catch let refusal as Refusal {
                return html(.unprocessableContent, Pages.message(title: "Please correct the form", text: refusal.description, publicURL: publicURL,
                                                                 form: "<p><a href=\"/subscribe\">Back to the form</a></p>"))
            }
            return html(.ok, Pages.message(title: "Check your mail", text: "A confirmation link is on its way to the address you gave. After you confirm, a release manager reviews the request.", publicURL: publicURL))
        }
        router.post("/api/v1/subscriptions") { request, context in
            try limiter.check(context.clientAddress)
            // JSON only: a web page elsewhere can post text/plain cross-site without asking
            // (a "simple" request), but not application/json.
            guard let type = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased(),
                  type == "application/json" else {
                throw Problem(.unsupportedMediaType, "send the subscription as Content-Type: application/json")
            }
            var request = request
            let body = try await request.collectBody(upTo: Self.maxSubscriptionBody)
            let input = try context.requestDecoder.decode(SubscriptionInput.self, from: Data(body.readableBytesView))
            try await subscribe(try input.provider())
            return Response(status: .accepted, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(string: "{\"status\":\"confirmation sent\"}")))
        }

        // Each page says in plain words which organisation, address and advisory it is about.
        linkRoutes(router, path: "/subscriptions/confirm", title: "Confirm early notice", button: "Confirm",
                   ask: { store, token in
                       let subject = try store.subject(of: token, purpose: .confirm)
                       return "Confirm that \(subject.address ?? "this address") should receive early notice of security releases for \(subject.organization)."
                   }) { store, token in
            let provider = try store.confirm(token: token)
            return "Thank you: \(provider.emails.first ?? "the address") is confirmed for \(provider.organization). The request now waits for a release manager's approval; you will get a message when it is approved."
        }
        linkRoutes(router, path: "/unsubscribe", title: "Leave the early-notice list", button: "Unsubscribe",
                   ask: { store, token in
                       let subject = try store.subject(of: token, purpose: .unsubscribe)
                       guard let address = subject.address else {
                           return "Stop early notices for \(subject.organization)? Every address of the organisation stops receiving them."
                       }
                       return "Stop early notices to \(address) for \(subject.organization)? The organisation's other addresses keep receiving them; if this is its last address, the organisation leaves the list."
                   }) { store, token in
            let departure = try store.unsubscribe(token: token)
            if departure.organizationLeft { return "\(departure.organization) has left the early-notice list." }
            return "\(departure.address ?? "The address") no longer receives early notices for \(departure.organization); its other addresses were told."
        }
        linkRoutes(router, path: "/ack", title: "Acknowledge a notice", button: "Acknowledge",
                   ask: { store, token in
                       let subject = try store.subject(of: token, purpose: .ack)
                       return "Acknowledge that \(Self.who(subject)) received \(Self.describe(subject))."
                   }) { store, token in
            let subject = try store.acknowledge(token: token)
            return "Thank you: \(Self.who(subject)) acknowledged \(Self.describe(subject))."
        }
    }

    /// "Gemeente Voorbeeld (cert@voorbeeld.example)", or the organisation alone for a webhook's link.
    static func who(_ subject: SubscriptionStore.LinkSubject) -> String {
        subject.organization + (subject.address.map { " (\($0))" } ?? "")
    }

    /// "the early notice for 'Heap overflow…', revision 2".
    static func describe(_ subject: SubscriptionStore.LinkSubject) -> String {
        let what = subject.notice == "revision" ? "the revised notice" : "the early notice"
        guard let title = subject.advisoryTitle else { return what }
        return "\(what) for '\(title)'" + (subject.revision.map { ", revision \($0)" } ?? "")
    }

    /// A subscription, as a form or JSON, is a few hundred bytes; 16 KiB leaves room for many
    /// projects and stops a hostile body before it is parsed.
    static let maxSubscriptionBody = 16 * 1024

    /// GET shows a page with a button; POST acts. A bad or used link gets the same 404 page.
    private func linkRoutes(_ router: Router<HeraldContext>, path: String, title: String, button: String,
                            ask: @escaping @Sendable (SubscriptionStore, String) throws -> String,
                            act: @escaping @Sendable (SubscriptionStore, String) throws -> String) {
        router.get(RouterPath(path)) { request, _ in
            let token = request.uri.queryParameters.get("token") ?? ""
            do {
                let question = try await app.run { stores in try ask(stores.subscriptions, token) }
                let form = "<form method=\"post\" action=\"\(path)?token=\(HTML.escape(token.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "-_"))) ?? ""))\"><button type=\"submit\">\(button)</button></form>"
                return html(.ok, Pages.message(title: title, text: question, publicURL: publicURL, form: form), noStore: true)
            } catch let refusal as Refusal {
                return html(.notFound, Pages.message(title: title, text: refusal.linkMessage, publicURL: publicURL), noStore: true)
            }
        }
        router.post(RouterPath(path)) { request, context in
            try limiter.check(context.clientAddress)
            let token = request.uri.queryParameters.get("token") ?? ""
            do {
                let text = try await app.run { stores in try act(stores.subscriptions, token) }
                return html(.ok, Pages.message(title: title, text: text, publicURL: publicURL), noStore: true)
            } catch let refusal as Refusal {
                return html(.notFound, Pages.message(title: title, text: refusal.linkMessage, publicURL: publicURL), noStore: true)
            }
        }
    }

    private func subscribe(_ provider: NewProvider) async throws {
        try await app.run { stores in try stores.subscriptions.subscribe(provider) }
    }

    private func subscribeForm(projects: [Project], csrf: String) -> String {
        let choices = projects.map {
            "<label><input type=\"checkbox\" name=\"projects\" value=\"\(HTML.escape($0.slug))\"\(projects.count == 1 ? " checked" : "")> \(HTML.escape($0.name))</label>"
        }.joined(separator: "\n")
        return """
            <h1>Early notice for service providers</h1>
            <p>Organisations that run the software for others can receive private notice of security releases before they are public. Subscribe with a role address of your security team; you confirm it by e-mail, then a release manager reviews the request.</p>
            <form method="post" action="/subscribe">
            <input type="hidden" name="csrf" value="\(HTML.escape(csrf))">
            <label for="organization">Organisation</label>
            <input type="text" id="organization" name="organization" required maxlength="200" autocomplete="organization">
            <label for="email">Security contact e-mail (a role address)</label>
            <input type="email" id="email" name="email" required autocomplete="email">
            <label for="webhook">Webhook URL (optional; signed JSON)</label>
            <input type="url" id="webhook" name="webhook">
            <fieldset><legend>Projects</legend>
            \(choices)
            </fieldset>
            <label><input type="checkbox" name="listed" value="yes"> List our organisation on the public members page</label>
            <button type="submit">Subscribe</button>
            </form>
            """
    }

    private func html(_ status: HTTPResponse.Status, _ text: String, noStore: Bool = false) -> Response {
        var headers: HTTPFields = [.contentType: "text/html; charset=utf-8"]
        if noStore { headers[.cacheControl] = "no-store" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

/// A subscription request, from the JSON API or the HTML form: one way to a `NewProvider`.
struct SubscriptionInput: Decodable {
    var organization: String?; var email: String?; var projects: [String]?; var webhook: String?; var listed: Bool?

    init(form: Form) {
        organization = form.first("organization")
        email = form.first("email")
        projects = form.all("projects")
        webhook = form.first("webhook").flatMap { $0.isEmpty ? nil : $0 }   // the form sends the empty field
        listed = form.first("listed") == "yes"
    }

    /// Validated; an address or field left out is refused by `NewProvider` with its name.
    func provider() throws(Refusal) -> NewProvider {
        try NewProvider(organization: organization ?? "", emails: email.map { [$0] } ?? [], webhooks: webhook.map { [($0, .webhook)] } ?? [],
                        projects: projects ?? [], listed: listed ?? false)
    }
}

extension Refusal {
    /// What a link page says about a refused token.
    var linkMessage: String {
        // A token's rule is written as the rest of a sentence; the page makes it one.
        guard case let .invalid(field, rule) = self, field == "token", let first = rule.first else { return description }
        return first.uppercased() + rule.dropFirst() + "."
    }
}

/// `application/x-www-form-urlencoded` fields, in order.
struct Form {
    let fields: [(String, String)]

    init(_ body: String) {
        fields = body.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String { s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
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
            if buckets.count > 100_000 { buckets.removeAll() }   // bounded memory under a flood
            var bucket = buckets[client] ?? (perMinute, now)
            let elapsed = Double((now - bucket.at).components.seconds) + Double((now - bucket.at).components.attoseconds) / 1e18
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
