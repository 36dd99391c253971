import Foundation
import HTTPTypes
import HeraldApp
import HeraldCore
import HeraldStore
import Hummingbird

/// The provider portal (`/portal`): sign-in by a single-use link mailed to a contact address,
/// then the organisation's notices, its answers, its addresses and language. Server-rendered
/// forms, no JavaScript. The session cookie is `HttpOnly`, `SameSite=Strict`, `Secure` behind
/// HTTPS and scoped to `/portal`; every form carries the session's CSRF token as well.
struct PortalController: Sendable {
    let app: AppServices
    let limiter: RateLimiter

    static let cookie = "herald_portal"
    static let signInCookie = "herald_portal_csrf"
    /// A form here is an address, a status, an instant and a statement (2,000 characters,
    /// up to 12 bytes each form-encoded).
    static let maxBody = 64 * 1024

    func addRoutes(to router: Router<HeraldContext>) {
        router.get("/portal") { request, _ in
            let pages = app.pages(for: request, at: "/portal?")
            guard let (_, session) = try await session(request) else { return signInForm(pages) }
            let (provider, items, projects) = try await app.run { stores in
                let overview = try stores.portal.overview(session)
                let projects = Dictionary(
                    uniqueKeysWithValues: try stores.projects.list().map { ($0.slug, $0) })
                return (overview.provider, overview.advisories, projects)
            }
            return page(.ok, pages.portalHome(provider: provider, session: session, items: items, projects: projects))
        }
        router.post("/portal/sign-in-link") { request, context in
            try limiter.check(context.clientAddress)
            let form = try await Self.form(request)
            let pages = app.pages(for: request, at: "/portal?")
            let cookie = request.headers[.cookie].flatMap { Form.cookie(Self.signInCookie, in: $0) }
            guard let sent = form.first("csrf"), let cookie, !cookie.isEmpty, sent == cookie else {
                return page(
                    .forbidden,
                    pages.message(title: pages.word("form-expired-title"), text: pages.word("form-expired-text")))
            }
            let email = form.first("email") ?? ""
            do {
                try await app.run { stores in try stores.portal.requestSignIn(email: email) }
            } catch let refusal as Refusal {
                return signInForm(pages, error: refusal.description, status: .unprocessableContent)
            }
            // The same page whoever asked: it says nothing of who is on the list.
            return page(
                .ok,
                pages.message(
                    title: pages.word("portal-check-mail-title"),
                    text: pages.word("portal-check-mail-text", ["address": email.trimmingCharacters(in: .whitespaces)]))
            )
        }
        // The link's page shows a button (mail scanners fetch links); the POST signs in.
        router.get("/portal/sign-in") { request, _ in
            let pages = app.pages(for: request, at: "/portal?")
            let token = request.uri.queryParameters.get("token") ?? ""
            let encoded =
                token.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "-_")))
                ?? ""
            return page(
                .ok,
                pages.message(
                    title: pages.word("portal-sign-in-title"), text: pages.word("portal-sign-in-title") + ".",
                    action: "/portal/sign-in?token=\(encoded)", button: pages.word("portal-sign-in-button")))
        }
        router.post("/portal/sign-in") { request, context in
            try limiter.check(context.clientAddress)
            let token = request.uri.queryParameters.get("token") ?? ""
            let pages = app.pages(for: request, at: "/portal?")
            // Another site's form must not sign a visitor in to the account of its link.
            guard Self.sameSite(request) else { return forbidden(pages) }
            do {
                let (sessionToken, _) = try await app.run { stores in try stores.portal.signIn(token: token) }
                var response = Response(status: .seeOther, headers: [.location: "/portal", .cacheControl: "no-store"])
                response.headers[.setCookie] = cookie(sessionToken, maxAge: Int(Portal.absoluteTimeout))
                return response
            } catch let refusal as Refusal {
                return page(
                    .notFound, pages.message(title: pages.word("portal-sign-in-title"), text: refusal.linkMessage))
            }
        }
        // A new address confirms itself: a page with a button, then the POST adds it.
        router.get("/portal/confirm-address") { request, _ in
            let pages = app.pages(for: request, at: "/portal?")
            let token = request.uri.queryParameters.get("token") ?? ""
            let title = pages.word("portal-confirm-address-title")
            do {
                let (organization, address) = try await app.run { stores in
                    try stores.portal.contactConfirmation(token: token)
                }
                return page(
                    .ok,
                    pages.message(
                        title: title,
                        text: pages.word(
                            "portal-confirm-address-ask", ["organization": organization, "address": address]),
                        action: "/portal/confirm-address?token=\(Self.encoded(token))",
                        button: pages.word("portal-confirm-address-button")))
            } catch let refusal as Refusal {
                return page(.notFound, pages.message(title: title, text: refusal.linkMessage))
            }
        }
        router.post("/portal/confirm-address") { request, context in
            try limiter.check(context.clientAddress)
            let pages = app.pages(for: request, at: "/portal?")
            let title = pages.word("portal-confirm-address-title")
            guard Self.sameSite(request) else { return forbidden(pages) }
            let token = request.uri.queryParameters.get("token") ?? ""
            do {
                let (organization, address) = try await app.run { stores in
                    try stores.portal.confirmContact(token: token)
                }
                return page(
                    .ok,
                    pages.message(
                        title: title,
                        text: pages.word(
                            "portal-confirm-address-done", ["organization": organization, "address": address])))
            } catch let refusal as Refusal {
                return page(.notFound, pages.message(title: title, text: refusal.linkMessage))
            }
        }
        router.post("/portal/sign-out") { request, _ in
            let pages = app.pages(for: request, at: "/portal?")
            let form = try await Self.form(request)
            if let (token, session) = try await session(request), form.first("csrf") == session.csrf {
                try await app.run { stores in try stores.portal.signOut(token) }
            }
            var response = page(
                .ok, pages.message(title: pages.word("portal-sign-in-title"), text: pages.word("portal-signed-out")))
            response.headers[.setCookie] = cookie("", maxAge: 0)
            return response
        }
        router.get("/portal/advisories/:id") { request, context in
            let pages = app.pages(for: request, at: "/portal?")
            guard let (_, session) = try await session(request) else { return signInForm(pages, expired: true) }
            let id = context.parameters.get("id", as: Int64.self) ?? -1
            let answered = request.uri.queryParameters.get("answered") == "1"
            guard let (item, shared, project) = try await advisory(id, session) else { return notFound(pages) }
            return page(
                .ok,
                pages.portalAdvisory(
                    item, shared: shared, project: project, session: session, terms: terms(item, project, pages),
                    answered: answered,
                    chosen: item.advisory.status == .unknown ? nil : item.advisory.status))
        }
        router.post("/portal/advisories/:id/answer") { request, context in
            try limiter.check(context.clientAddress)
            let pages = app.pages(for: request, at: "/portal?")
            let form = try await Self.form(request)
            guard let (_, session) = try await session(request) else { return signInForm(pages, expired: true) }
            guard form.first("csrf") == session.csrf else { return forbidden(pages) }
            let id = context.parameters.get("id", as: Int64.self) ?? -1
            let status = form.first("status").flatMap(ResponseStatus.init(rawValue:)) ?? .unknown
            do {
                try await app.run { stores in
                    guard let item = try stores.portal.advisory(id, session: session) else {
                        throw Refusal.notFound(subject: "advisory", id: String(id))
                    }
                    let zone = try stores.projects.require(item.item.projectSlug).timezone
                    let proposed =
                        status == .needsMoreTime
                        ? try SubscriptionController.proposedInstant(form.first("proposed") ?? "", zone: zone) : nil
                    try stores.portal.answer(
                        id, session: session, status: status, proposedInstant: proposed,
                        statement: form.first("statement") ?? "", shareable: form.first("shareable") == "yes")
                }
                return Response(
                    status: .seeOther,
                    headers: [.location: "/portal/advisories/\(id)?answered=1", .cacheControl: "no-store"])
            } catch Refusal.notFound {
                return notFound(pages)
            } catch let refusal as Refusal {
                guard let (item, shared, project) = try await advisory(id, session) else { return notFound(pages) }
                return page(
                    .unprocessableContent,
                    pages.portalAdvisory(
                        item, shared: shared, project: project, session: session, terms: terms(item, project, pages),
                        error: refusal.description,
                        chosen: status, typed: (form.first("proposed") ?? "", form.first("statement") ?? "")))
            }
        }
        router.get("/portal/organisation") { request, _ in
            let pages = app.pages(for: request, at: "/portal/organisation?")
            guard let (_, session) = try await session(request) else { return signInForm(pages, expired: true) }
            let provider = try await app.run { stores in try stores.portal.overview(session).provider }
            return page(
                .ok,
                pages.portalOrganisation(
                    provider, session: session, key: try await ownKey(session)))
        }
        router.post("/portal/organisation") { request, context in
            try limiter.check(context.clientAddress)
            let pages = app.pages(for: request, at: "/portal/organisation?")
            let form = try await Self.form(request)
            guard let (_, session) = try await session(request) else { return signInForm(pages, expired: true) }
            guard form.first("csrf") == session.csrf else { return forbidden(pages) }
            do {
                if form.first("do") == "add-email" {
                    let address = form.first("email") ?? ""
                    let provider = try await app.run { stores in
                        try stores.portal.proposeContact(address, session: session)
                        return try stores.portal.overview(session).provider
                    }
                    return page(
                        .ok,
                        pages.portalOrganisation(
                            provider, session: session, key: try await ownKey(session),
                            notice: pages.word(
                                "portal-address-pending",
                                [
                                    "address": address.trimmingCharacters(in: .whitespaces),
                                    "organization": provider.organization,
                                ])))
                }
                if form.first("do") == "add-key" || form.first("do") == "remove-key" {
                    // A signed-in contact keeps the key of its own address: the address it proved it reads.
                    let pgp = try app.openPGP()
                    let adding = form.first("do") == "add-key"
                    let text = form.first("key") ?? ""
                    let provider = try await app.run { stores in
                        let keys = stores.keys(pgp)
                        if adding {
                            try keys.addProviderKey(
                                Array(text.utf8), provider: session.providerID, email: session.email,
                                actor: "portal:" + session.email)
                        } else if let own = try keys.providerKeys(of: session.providerID).first(where: {
                            $0.email.lowercased() == session.email.lowercased()
                        }) {
                            _ = try keys.removeProviderKey(
                                provider: session.providerID, keyID: own.key.fingerprint, email: own.email,
                                actor: "portal:" + session.email)
                        }
                        return try stores.portal.overview(session).provider
                    }
                    return page(
                        .ok,
                        pages.portalOrganisation(
                            provider, session: session, key: try await ownKey(session),
                            notice: pages.word("portal-saved")))
                }
                if form.first("do") == "remove-webhook" {
                    guard let position = form.first("position").flatMap(Int.init) else {
                        throw Refusal.invalid(field: "webhook", rule: "no such webhook; reload the page")
                    }
                    let provider = try await app.run { stores in
                        try stores.portal.removeWebhook(at: position, session: session)
                    }
                    return page(
                        .ok,
                        pages.portalOrganisation(
                            provider, session: session, key: try await ownKey(session),
                            notice: pages.word("portal-saved")))
                }
                let change: ProviderEdit
                switch form.first("do") {
                case "remove-email": change = try ProviderEdit(removeEmails: [form.first("email") ?? ""])
                case "add-webhook": change = try ProviderEdit(addWebhooks: [(form.first("url") ?? "", .webhook)])
                case "language":
                    guard let language = form.first("language").flatMap(Language.init(rawValue:)) else {
                        throw Refusal.invalid(field: "language", rule: "choose one of en, nl, da")
                    }
                    change = try ProviderEdit(language: language)
                default: throw Refusal.invalid(field: "do", rule: "not a change the portal makes")
                }
                let (provider, secrets) = try await app.run { stores in try stores.portal.edit(change, session: session)
                }
                // The address that signed in may have removed itself: then the session has ended.
                let still = try await self.session(request)
                guard let (_, current) = still else {
                    var response = page(
                        .ok,
                        pages.message(title: pages.word("portal-sign-in-title"), text: pages.word("portal-signed-out")))
                    response.headers[.setCookie] = cookie("", maxAge: 0)
                    return response
                }
                return page(
                    .ok,
                    pages.portalOrganisation(
                        provider, session: current, key: try await ownKey(current), notice: pages.word("portal-saved"),
                        secrets: secrets))
            } catch let refusal as Refusal {
                let provider = try await app.run { stores in try stores.portal.overview(session).provider }
                return page(
                    .unprocessableContent,
                    pages.portalOrganisation(
                        provider, session: session, key: try await ownKey(session), error: refusal.description))
            }
        }
        router.post("/portal/leave") { request, context in
            try limiter.check(context.clientAddress)
            let pages = app.pages(for: request, at: "/portal?")
            let form = try await Self.form(request)
            guard let (_, session) = try await session(request) else { return signInForm(pages, expired: true) }
            guard form.first("csrf") == session.csrf, form.first("confirm") == "yes" else { return forbidden(pages) }
            let organization = try await app.run { stores in
                let name = try stores.portal.overview(session).provider.organization
                try stores.portal.leave(session)
                return name
            }
            var response = page(
                .ok,
                pages.message(
                    title: pages.word("portal-sign-in-title"),
                    text: pages.word("portal-left", ["organization": organization])))
            response.headers[.setCookie] = cookie("", maxAge: 0)
            return response
        }
    }

    /// The key of the session's own address, if it has one.
    private func ownKey(_ session: PortalSession) async throws -> ProviderKey? {
        guard let pgp = app.pgp else { return nil }
        return try await app.run { stores in
            try stores.keys(pgp).providerKeys(of: session.providerID).first {
                $0.email.lowercased() == session.email.lowercased()
            }
        }
    }

    /// The session behind the request's cookie, if it is alive.
    private func session(_ request: Request) async throws -> (String, PortalSession)? {
        guard let token = request.headers[.cookie].flatMap({ Form.cookie(Self.cookie, in: $0) }), !token.isEmpty else {
            return nil
        }
        guard let session = try await app.run({ stores in try stores.portal.session(token) }) else { return nil }
        return (token, session)
    }

    private func advisory(_ id: Int64, _ session: PortalSession) async throws
        -> (Portal.PortalItem, [SharedStatement], Project?)?
    {
        try await app.run { stores in
            guard let (item, shared) = try stores.portal.advisory(id, session: session) else { return nil }
            return (item, shared, try stores.projects.find(item.projectSlug))
        }
    }

    private func signInForm(
        _ pages: Pages, error: String = "", expired: Bool = false, status: HTTPResponse.Status = .ok
    )
        -> Response
    {
        let csrf = Secrets.token(prefix: "")
        var response = page(
            status, pages.portalSignIn(csrf: csrf, error: expired ? pages.word("portal-expired") : error))
        response.headers[.setCookie] =
            area.cookie(Self.signInCookie, csrf)
        return response
    }

    /// The advisory's embargo terms (its own, else its project's), in the page's language.
    private func terms(_ item: Portal.PortalItem, _ project: Project?, _ pages: Pages) -> String {
        guard let project else { return "" }
        return app.settings.writer(for: project).speaking(pages.language)
            .terms(item.revision?.content.terms ?? project.terms)
    }

    private var area: PrivateArea { PrivateArea(path: "/portal", settings: app.settings) }

    private func forbidden(_ pages: Pages) -> Response { area.forbidden(pages) }

    private func notFound(_ pages: Pages) -> Response { page(.notFound, pages.notFound()) }

    private func cookie(_ value: String, maxAge: Int) -> String { area.cookie(Self.cookie, value, maxAge: maxAge) }

    private func page(_ status: HTTPResponse.Status, _ html: String) -> Response { area.page(status, html) }

    /// A token as it may stand in a URL: its own characters only.
    static func encoded(_ token: String) -> String {
        token.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "-_"))) ?? ""
    }

    /// Whether a POST comes from this site's own pages (or from no browser at all): browsers say
    /// where a request comes from in `Sec-Fetch-Site`; a form on another site says `cross-site`.
    static func sameSite(_ request: Request) -> Bool {
        guard let site = request.headers[HTTPField.Name("Sec-Fetch-Site")!] else { return true }
        return site == "same-origin" || site == "none"
    }

    static func form(_ request: Request) async throws -> Form {
        var request = request
        return Form(String(buffer: try await request.collectBody(upTo: maxBody)))
    }
}
