import Foundation
import HeraldApp
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
            var response = html(
                .ok, app.pages(for: request, at: "/subscribe?").subscribe(projects: projects, csrf: csrf))
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
            let pages = app.pages(for: request, at: "/subscribe?")
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
        answerRoutes(router)
    }

    /// An answer link opens a form with the answer chosen; sending it records the answer. The
    /// token is the notice's acknowledgement token, so a refused one gets the same page as any bad link.
    private func answerRoutes(_ router: Router<HeraldContext>) {
        @Sendable func form(
            _ request: Request, _ subject: Subscriptions.LinkSubject, status: ResponseStatus?,
            error: String = "",
            typed: (proposed: String, statement: String) = ("", "")
        ) -> String {
            let token = request.uri.queryParameters.get("token") ?? ""
            let encoded =
                token.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "-_")))
                ?? ""
            let pages = app.pages(for: request, at: "/answer?token=\(encoded)&")
            let zone = TimeZone(identifier: subject.timezone ?? "UTC") ?? .gmt
            let release = subject.release.map { pages.language.dateTime($0, in: zone) + " (\(zone.identifier))" } ?? ""
            return pages.answer(
                who: Self.who(subject), notice: Self.describe(subject, pages), release: release, zone: zone.identifier,
                action: "/answer?token=\(encoded)" + (pages.chosen ? "&lang=\(pages.language.rawValue)" : ""),
                status: status, error: error, typed: typed)
        }
        router.get("/answer") { request, _ in
            let token = request.uri.queryParameters.get("token") ?? ""
            let status = request.uri.queryParameters.get("status").flatMap(ResponseStatus.init(rawValue:))
            do {
                let subject = try await app.run { stores in try stores.subscriptions.subject(of: token, purpose: .ack) }
                return html(.ok, form(request, subject, status: status), noStore: true)
            } catch let refusal as Refusal {
                let pages = app.pages(for: request, at: "/answer?")
                return html(
                    .notFound, pages.message(title: pages.word("answer-title"), text: refusal.linkMessage),
                    noStore: true)
            }
        }
        router.post("/answer") { request, context in
            try limiter.check(context.clientAddress)
            let token = request.uri.queryParameters.get("token") ?? ""
            var request = request
            let body = Form(String(buffer: try await request.collectBody(upTo: Self.maxAnswerBody)))
            let pages = app.pages(for: request, at: "/answer?")
            let status = body.first("status").flatMap(ResponseStatus.init(rawValue:)) ?? .unknown
            do {
                let subject = try await app.run { stores in
                    let subject = try stores.subscriptions.subject(of: token, purpose: .ack)
                    // Only "needs more time" proposes: a leftover value in the field does not block another answer.
                    let proposed =
                        status == .needsMoreTime
                        ? try Self.proposedInstant(body.first("proposed") ?? "", zone: subject.timezone) : nil
                    return try stores.subscriptions.answer(
                        token: token, status: status, proposedInstant: proposed,
                        statement: body.first("statement") ?? "", shareable: body.first("shareable") == "yes")
                }
                let text = pages.word(
                    "answer-done",
                    [
                        "who": Self.who(subject), "notice": Self.describe(subject, pages),
                        "status": pages.word("status-\(status.rawValue)"),
                    ])
                return html(.ok, pages.message(title: pages.word("answer-title"), text: text), noStore: true)
            } catch let refusal as Refusal where refusal.isAboutTheLink {
                return html(
                    .notFound, pages.message(title: pages.word("answer-title"), text: refusal.linkMessage),
                    noStore: true)
            } catch let refusal as Refusal {
                // The form again, with what to correct; the link itself was good.
                let subject = try await app.run { stores in try stores.subscriptions.subject(of: token, purpose: .ack) }
                return html(
                    .unprocessableContent, form(request, subject, status: status, error: refusal.description),
                    noStore: true)
            }
        }
    }

    /// A browser's `datetime-local` (`2026-12-09T16:00`) is a wall-clock time in the project's
    /// zone; an instant with an offset or a zone is read as written. Empty: none.
    static func proposedInstant(_ text: String, zone: String?) throws(Refusal) -> Date? {
        let text = text.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty else { return nil }
        try Validate.bound(text, field: "proposed", maxLength: 64)
        if text.wholeMatch(of: /\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?/) != nil {
            return try Instant.parse(
                text.replacingOccurrences(of: "T", with: " ") + " " + (zone ?? "UTC"), field: "proposed")
        }
        return try Instant.parse(text, field: "proposed")
    }

    /// An answer is a status, an instant and a statement of at most 2,000 characters, which
    /// form-encoded may take 12 bytes a character (an emoji).
    static let maxAnswerBody = 64 * 1024

    /// "Gemeente Voorbeeld (cert@voorbeeld.example)", or the organisation alone for a webhook's link.
    static func who(_ subject: Subscriptions.LinkSubject) -> String {
        subject.organization + (subject.address.map { " (\($0))" } ?? "")
    }

    /// "the early notice for 'Heap overflow…', revision 2", in the page's language.
    static func describe(_ subject: Subscriptions.LinkSubject, _ pages: Pages) -> String {
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
        ask: @escaping @Sendable (Subscriptions, String, Pages) throws -> String,
        act: @escaping @Sendable (Subscriptions, String, Pages) throws -> String
    ) {
        router.get(RouterPath(path)) { request, _ in
            let token = request.uri.queryParameters.get("token") ?? ""
            let encoded =
                token.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "-_")))
                ?? ""
            // A valid link's page switches language with its token; a refused one says nothing of it back.
            let pages = app.pages(for: request, at: "\(path)?")
            let title = pages.word(words + "-title")
            do {
                let question = try await app.run { stores in try ask(stores.subscriptions, token, pages) }
                let action = "\(path)?token=\(encoded)" + (pages.chosen ? "&lang=\(pages.language.rawValue)" : "")
                return html(
                    .ok,
                    pages.at("\(path)?token=\(encoded)&")
                        .message(title: title, text: question, action: action, button: pages.word(words + "-button")),
                    noStore: true)
            } catch let refusal as Refusal {
                // The same page whatever the token was: nothing of it is said back.
                return html(
                    .notFound, pages.message(title: title, text: refusal.linkMessage), noStore: true)
            }
        }
        router.post(RouterPath(path)) { request, context in
            try limiter.check(context.clientAddress)
            let token = request.uri.queryParameters.get("token") ?? ""
            let pages = app.pages(for: request, at: "\(path)?")
            let title = pages.word(words + "-title")
            do {
                let text = try await app.run { stores in try act(stores.subscriptions, token, pages) }
                return html(.ok, pages.message(title: title, text: text), noStore: true)
            } catch let refusal as Refusal {
                // The same page whatever the token was: nothing of it is said back.
                return html(
                    .notFound, pages.message(title: title, text: refusal.linkMessage), noStore: true)
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
