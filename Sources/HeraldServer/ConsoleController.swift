import Crypto
import Foundation
import HTTPTypes
import HeraldApp
import HeraldCore
import HeraldStore
import HeraldTemplates
import Hummingbird

/// The release managers' console (`/console`): sign-in by a single-use link mailed to the
/// account's address, then a TOTP code (enrolled at the first sign-in); then the dashboard.
/// Server-rendered forms, no JavaScript. The session cookie is `HttpOnly`, `SameSite=Strict`,
/// `Secure` behind HTTPS and scoped to `/console`; every form carries the session's CSRF token.
/// The rules are the `Console` use cases'; this turns requests into them and pages out of them.
struct ConsoleController: Sendable {
    let app: AppServices
    let limiter: RateLimiter

    static let cookie = "herald_console"
    static let signInCookie = "herald_console_csrf"
    /// A form here is an address, a code, or three notes of 2,000 characters (up to 12 bytes
    /// each form-encoded).
    static let maxBody = 64 * 1024

    func addRoutes(to router: Router<HeraldContext>) {
        router.get("/console") { request, _ in
            try await viewing(request, at: "/console?") { session, pages in
                page(.ok, try await dashboard(pages, session: session))
            }
        }
        router.get("/console/advisories/:id") { request, context in
            try await viewing(request, at: "/console?") { session, pages in
                guard let id = context.parameters.get("id", as: Int64.self) else {
                    return page(.notFound, pages.notFound())
                }
                let now = app.now
                let found = try await app.run { stores -> (Advisory, Project?, Readiness, [DeliveryRecord], Bool)? in
                    guard let advisory = try? stores.advisoryRecords.get(id) else { return nil }
                    return (
                        advisory, try stores.projects.find(advisory.projectSlug),
                        try stores.participation.readiness(id),
                        try stores.outbox.list(advisory: id, limit: Self.deliveriesShown),
                        try stores.advisories.earlyNoticeSent(id)
                    )
                }
                guard let (advisory, project, readiness, deliveries, earlyNoticeSent) = found else {
                    return page(.notFound, pages.notFound())
                }
                return page(
                    .ok,
                    pages.consoleAdvisory(
                        advisory, project: project, readiness: readiness, deliveries: deliveries,
                        earlyNoticeSent: earlyNoticeSent, session: session, now: now))
            }
        }
        // Every message as each audience receives it: the providers' notice in each language,
        // the publication on each public channel of the project. Nothing is sent from here.
        router.get("/console/advisories/:id/preview") { request, context in
            try await viewing(request, at: "/console?") { _, pages in
                guard let id = context.parameters.get("id", as: Int64.self) else {
                    return page(.notFound, pages.notFound())
                }
                let found = try await app.run {
                    stores -> (Advisory, Project, [Pages.PreviewSection], [Pages.PreviewSection])? in
                    guard let advisory = try? stores.advisoryRecords.get(id),
                        let project = try stores.projects.find(advisory.projectSlug)
                    else { return nil }
                    let outbox = stores.outbox
                    let privateKind: NoticeKind =
                        advisory.state == .published
                        ? .publication : advisory.state == .cancelled ? .cancellation : .earlyNotice
                    let `private` = Language.allCases.map { language in
                        let content = outbox.previewContent(
                            privateKind, advisory: advisory, project: project, audience: .provider(organization: ""),
                            language: language)
                        return Pages.PreviewSection(
                            heading: "\(privateKind.rawValue) · e-mail · \(language.ownName)",
                            subject: content.headline,
                            text: content.plainText)
                    }
                    // One section per kind and language of channel: endpoints of one kind get the same words.
                    let publicKind: NoticeKind = advisory.state == .cancelled ? .cancellation : .publication
                    var seen = Set<String>()
                    let channels = try stores.channels.list(project: project.slug).filter {
                        $0.disabledAt == nil
                            && seen.insert("\($0.kind.rawValue)/\($0.language?.rawValue ?? "")").inserted
                    }
                    let `public` = channels.map { channel in
                        let format = WebhookKind(rawValue: channel.kind.rawValue)  // nil for a mailing list
                        let language = channel.language ?? project.language ?? app.settings.defaultLanguage
                        let bytes = outbox.preview(
                            publicKind, advisory: advisory, project: project, audience: .publicChannel, format: format,
                            language: language)
                        let content = outbox.previewContent(
                            publicKind, advisory: advisory, project: project, audience: .publicChannel,
                            language: language)
                        return Pages.PreviewSection(
                            heading: "\(publicKind.rawValue) · \(channel.kind.rawValue) · \(language.ownName)",
                            subject: format == nil ? content.headline : "",
                            text: format == nil ? content.plainText : String(decoding: bytes, as: UTF8.self))
                    }
                    return (advisory, project, `private`, `public`)
                }
                guard let (advisory, project, privateSections, publicSections) = found else {
                    return page(.notFound, pages.notFound())
                }
                return page(
                    .ok,
                    pages.consolePreview(
                        advisory: advisory, project: project, private: privateSections, public: publicSections))
            }
        }
        // The editor: a new advisory, or a revision of one; "preview" shows the text rendered
        // and keeps the form, "save" creates or revises through the use cases the CLI uses.
        router.get("/console/advisories/new") { request, _ in
            try await viewing(request, at: "/console?") { session, pages in
                let projects = try await app.run { stores in try stores.projects.list() }
                return page(
                    .ok,
                    pages.consoleEditor(
                        creating: true, input: Pages.EditorInput(), id: nil, projects: projects, csrf: session.csrf))
            }
        }
        router.post("/console/advisories/new") { request, _ in
            try await saveEditor(request, id: nil)
        }
        router.get("/console/advisories/:id/edit") { request, context in
            try await viewing(request, at: "/console?") { session, pages in
                guard let id = context.parameters.get("id", as: Int64.self),
                    let advisory = try await app.run({ stores in try? stores.advisoryRecords.get(id) })
                else { return page(.notFound, pages.notFound()) }
                return page(
                    .ok,
                    pages.consoleEditor(
                        creating: false, input: Pages.EditorInput(advisory), id: id, projects: [], csrf: session.csrf))
            }
        }
        // Registered on its own: the router takes "edit" as the GET's path, not as an :action.
        router.post("/console/advisories/:id/edit") { request, context in
            try await saveEditor(request, id: context.parameters.get("id", as: Int64.self) ?? 0)
        }
        // Reschedule, publish now, cancel: a first POST shows what it does and whom it reaches;
        // the second, confirmed, does it through the same use cases as the CLI and the API.
        router.post("/console/advisories/:id/:action") { request, context in
            try await acting(request, at: "/console?", role: .releaseManager) { session, form, pages in
                guard let id = context.parameters.get("id", as: Int64.self),
                    let action = context.parameters.get("action"),
                    ["reschedule", "publish", "cancel", "early-notice", "decline"].contains(action)
                else { return page(.notFound, pages.notFound()) }
                // Declining one provider's proposal tells that provider only: no review step.
                if action == "decline" {
                    guard let provider = form.first("provider").flatMap(Int64.init) else {
                        return page(.notFound, pages.notFound())
                    }
                    let note = form.first("note") ?? ""
                    _ = try await app.run { stores in
                        try stores.participation.decline(id, provider: provider, note: note, actor: session.actor)
                    }
                    return Self.seeOther("/console/advisories/\(id)")
                }
                let typed = form.first("embargo") ?? ""
                let outsideWindow = form.first("outside_window").flatMap { $0.isEmpty ? nil : $0 }
                let fields =
                    ["reason", "note_to_providers", "public_note"].map { ($0, form.first($0) ?? "") }
                    + (action == "reschedule" ? [("embargo", typed), ("outside_window", outsideWindow ?? "")] : [])
                // The early notice says why itself (Advisories.sendEarlyNoticeNow); the others need a reason.
                let early = action == "early-notice"
                let notes = try ChangeNotes(
                    reason: form.first("reason") ?? "", toProviders: form.first("note_to_providers") ?? "",
                    publicNote: form.first("public_note") ?? "", reasonRequired: !early)
                let instant = action == "reschedule" ? try Instant.parse(typed, field: "embargo") : nil
                guard form.first("confirm") == "yes" else {
                    let (advisory, participants, channels) = try await app.run { stores in
                        let advisory = try stores.advisoryRecords.get(id)
                        let project = try stores.projects.require(advisory.projectSlug)
                        return (
                            advisory,
                            early
                                ? try stores.outbox.earlyNoticeAudience(advisory: advisory, project: project)
                                : try stores.participation.readiness(id).taking.count,
                            try stores.channels.list(project: advisory.projectSlug).count
                        )
                    }
                    let shown =
                        instant.map { "\(typed) (\(Instant.utc($0)))" }
                        ?? (early ? advisory.schedule.embargo.map(Instant.utc) ?? "" : "")
                    return page(
                        .ok,
                        pages.consoleConfirm(
                            action: action, advisory: advisory, participants: participants, channels: channels,
                            instant: shown, fields: fields, csrf: session.csrf))
                }
                let actor = session.actor
                try await app.run { stores in
                    switch action {
                    case "publish": _ = try stores.advisories.publishNow(id, notes: notes, actor: actor)
                    case "cancel": _ = try stores.advisories.cancel(id, notes: notes, actor: actor)
                    case "early-notice": _ = try stores.advisories.sendEarlyNoticeNow(id, actor: actor)
                    default:
                        _ = try stores.advisories.reschedule(
                            id,
                            to: {
                                var schedule = $0
                                schedule.embargo = instant
                                return schedule
                            }, notes: notes, actor: actor, typedZone: Instant.zone(of: typed),
                            outsideWindow: outsideWindow)
                    }
                }
                return Self.seeOther("/console/advisories/\(id)")
            }
        }
        router.post("/console/sign-in-link") { request, context in
            try limiter.check(context.clientAddress)
            let pages = app.pages(for: request, at: "/console?")
            let form = try await Self.form(request)
            let cookie = request.headers[.cookie].flatMap { Form.cookie(Self.signInCookie, in: $0) }
            guard let sent = form.first("csrf"), let cookie, !cookie.isEmpty, sent == cookie else {
                return forbidden(pages)
            }
            let email = form.first("email") ?? ""
            do {
                let requester = context.clientAddress
                try await app.run { stores in try stores.console.requestSignIn(email: email, requester: requester) }
            } catch let refusal as Refusal {
                return signInForm(pages, error: refusal.description, status: .unprocessableContent)
            }
            // The same page whoever asked: it says nothing of who has an account.
            return page(
                .ok,
                pages.message(
                    title: pages.word("portal-check-mail-title"),
                    text: pages.word(
                        "console-check-mail-text", ["address": email.trimmingCharacters(in: .whitespaces)])))
        }
        // The link's page shows a button (mail scanners fetch links); the POST uses the link.
        router.get("/console/sign-in") { request, _ in
            let pages = app.pages(for: request, at: "/console?")
            let token = request.uri.queryParameters.get("token") ?? ""
            return page(
                .ok,
                pages.message(
                    title: pages.word("console-title"), text: pages.word("console-sign-in-ask"),
                    action: "/console/sign-in?token=\(PortalController.encoded(token))",
                    button: pages.word("console-sign-in-button")))
        }
        router.post("/console/sign-in") { request, context in
            try limiter.check(context.clientAddress)
            let pages = app.pages(for: request, at: "/console?")
            // Another site's form must not start a sign-in with a link it got hold of.
            guard PortalController.sameSite(request) else { return forbidden(pages) }
            let token = request.uri.queryParameters.get("token") ?? ""
            do {
                let session = try await app.run { stores in try stores.console.signIn(token: token) }
                var response = Response(status: .seeOther, headers: [.location: "/console", .cacheControl: "no-store"])
                response.headers[.setCookie] = cookie(session, maxAge: Int(Console.absoluteTimeout))
                return response
            } catch let refusal as Refusal {
                return page(.notFound, pages.message(title: pages.word("console-title"), text: refusal.linkMessage))
            }
        }
        // The second factor: the first code of a new authenticator, or the code (or a recovery code).
        router.post("/console/code") { request, context in
            try limiter.check(context.clientAddress)
            let pages = app.pages(for: request, at: "/console?")
            let form = try await Self.form(request)
            guard let (token, session) = try await session(request) else {
                return signInForm(pages, error: pages.word("portal-expired"))
            }
            guard form.first("csrf") == session.csrf else { return forbidden(pages) }
            guard !session.verified else { return Response(status: .seeOther, headers: [.location: "/console"]) }
            let code = String((form.first("code") ?? "").prefix(40))
            do {
                // Signed in, the session has a new token: the one from before means nothing now.
                if session.account.enrolled {
                    let fresh = try await app.run { stores in try stores.console.verify(token, code: code) }
                    var response = Response(
                        status: .seeOther, headers: [.location: "/console", .cacheControl: "no-store"])
                    response.headers[.setCookie] = cookie(fresh, maxAge: Int(Console.absoluteTimeout))
                    return response
                }
                let (fresh, recovery) = try await app.run { stores in
                    try stores.console.confirmEnrolment(token, code: code)
                }
                var response = page(.ok, pages.consoleRecovery(codes: recovery))
                response.headers[.setCookie] = cookie(fresh, maxAge: Int(Console.absoluteTimeout))
                return response
            } catch let refusal as Refusal {
                // Too many wrong codes end the session: back to the start.
                guard let (_, still) = try await self.session(request), !still.verified else {
                    return signInForm(pages, error: refusal.description, status: .unprocessableContent)
                }
                return try await codePage(
                    pages, token: token, session: still, error: refusal.description, status: .unprocessableContent)
            }
        }
        router.get("/console/providers") { request, _ in
            try await viewing(request, at: "/console/providers?") { session, pages in
                let providers = try await app.run { stores in try stores.providerRecords.list() }
                return page(.ok, pages.consoleProviders(providers, session: session))
            }
        }
        // Approving a provider is an admin's (as for API tokens); a look-alike name needs the box ticked.
        router.post("/console/providers/:id/approve") { request, context in
            try await acting(request, at: "/console/providers?", role: .admin) { session, form, pages in
                guard let id = context.parameters.get("id", as: Int64.self) else {
                    return page(.notFound, pages.notFound())
                }
                _ = try await app.run { stores in
                    try stores.providers.transition(
                        id, .approve, reason: "approved in the console", actor: session.actor,
                        despiteLookAlike: form.first("checked") == "yes")
                }
                return Self.seeOther("/console/providers")
            }
        }
        // The list from a spreadsheet's CSV, as `herald provider import [--sync]`: a preview is
        // the same import rehearsed (run, then rolled back), so it says exactly what applying
        // would do; applying is an admin's.
        router.get("/console/import") { request, _ in
            try await viewing(request, at: "/console/import?") { session, pages in
                page(.ok, pages.consoleImport(session: session))
            }
        }
        router.post("/console/import") { request, _ in
            try await acting(request, at: "/console/import?", role: .admin, maxBody: Self.maxImportBody) {
                session, form, pages in
                let csv = form.first("csv") ?? ""
                let sync = form.first("sync") == "yes"
                let apply = form.first("do") == "apply"
                let refused = { (problem: String) in
                    page(
                        .unprocessableContent,
                        pages.consoleImport(session: session, csv: csv, sync: sync, error: problem))
                }
                guard csv.utf8.count <= Self.maxImportBytes else {
                    return refused("csv: at most \(Self.maxImportBytes / 1024) KiB")
                }
                do {
                    let (report, token) = try await app.run { stores -> (ProviderSync.Report, String) in
                        let list = try ProviderImport(
                            csv: csv, knownProjects: Set(try stores.projects.list().map(\.slug)))
                        // What was previewed: this text, this mode, the list as it stood.
                        let token = Self.previewToken(
                            csv: csv, sync: sync, list: try stores.providerRecords.list(), session: session)
                        let importing = {
                            sync
                                ? try stores.providers.sync(list, actor: session.actor)
                                : try stores.providers.importReport(list, actor: session.actor)
                        }
                        guard apply else {
                            var report = try stores.database.rehearse(importing)
                            report.newSecrets = []  // made in the rehearsal, rolled back with it
                            return (report, token)
                        }
                        // Applied only as previewed: another text, mode or list is previewed again.
                        guard form.first("previewed") == token else {
                            throw Refusal.conflict(
                                field: "import",
                                rule:
                                    "the text, the mode or the list changed since the preview; preview it again before applying"
                            )
                        }
                        return (try importing(), "")
                    }
                    return page(
                        .ok,
                        pages.consoleImport(
                            session: session, csv: csv, sync: sync, report: report, applied: apply, previewed: token))
                } catch let problems as LineRefusals {
                    return refused(problems.description)
                } catch let refusal as Refusal {
                    return refused(refusal.description)
                }
            }
        }
        router.get("/console/providers/:id") { request, context in
            let id = context.parameters.get("id", as: Int64.self) ?? 0
            return try await viewing(request, at: "/console/providers/\(id)?") { session, pages in
                let pgp = app.pgp
                let found = try await app.run { stores -> (Provider, [ProviderKey]?)? in
                    let provider: Provider
                    do { provider = try stores.providerRecords.get(id) } catch is Refusal { return nil }
                    return (provider, try pgp.map { try stores.keys($0).providerKeys(of: id) })
                }
                guard let (provider, keys) = found else { return page(.notFound, pages.notFound()) }
                return page(.ok, pages.consoleProvider(provider, keys: keys, session: session))
            }
        }
        // Editing a provider is an admin's, as approving it is: the form holds the whole
        // provider, and only what differs becomes the edit (ProviderEdit.toward), audited.
        router.post("/console/providers/:id/edit") { request, context in
            let id = context.parameters.get("id", as: Int64.self) ?? 0
            return try await acting(request, at: "/console/providers/\(id)?", role: .admin) { session, form, _ in
                // One per line or separated by commas; a browser ends a textarea's lines with
                // CR LF, a single Character in Swift, which `isNewline` matches.
                let items = { (name: String) in
                    (form.first(name) ?? "").split(whereSeparator: { $0.isNewline || $0 == "," })
                        .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                }
                let emails = items("emails")
                let projects = items("projects")
                let language = try Language.parse(form.first("language") ?? "")
                let reason = try Validate.reason(form.first("reason") ?? "", required: false)
                _ = try await app.run { stores in
                    let current = try stores.providerRecords.get(id)
                    // The form is the whole provider as it was drawn: applied to a provider that
                    // changed since (an address confirmed in the portal, another admin's edit),
                    // it would undo that change.
                    guard form.first("updated") == String(Int64(current.updatedAt.timeIntervalSince1970 * 1000)) else {
                        throw Refusal.conflict(
                            field: "provider",
                            rule: "changed since this page was opened; open it again and redo the edit")
                    }
                    let change = try ProviderEdit.toward(
                        current, organization: form.first("organization") ?? "", emails: emails, projects: projects,
                        language: language, listed: form.first("listed") == "yes")
                    return try stores.providers.edit(id, change, actor: session.actor, reason: reason)
                }
                return Self.seeOther("/console/providers/\(id)")
            }
        }
        // A broken endpoint replaced: the form names it by its fingerprint (the URL may be the
        // credential), the secret is kept, and what failed is sent again.
        router.post("/console/providers/:id/replace-webhook") { request, context in
            let id = context.parameters.get("id", as: Int64.self) ?? 0
            return try await acting(request, at: "/console/providers/\(id)?", role: .admin) { session, form, _ in
                let shown = form.first("webhook") ?? ""
                let position = form.first("position").flatMap(Int.init) ?? -1
                let reason = try Validate.reason(form.first("reason") ?? "", required: true)
                _ = try await app.run { stores in
                    let provider = try stores.providerRecords.get(id)
                    // By its place and its fingerprint both: a fingerprint alone may match two
                    // endpoints on one host, and a place alone may have moved.
                    guard provider.webhooks.indices.contains(position),
                        Redaction.url(provider.webhooks[position].url) == shown
                    else {
                        throw Refusal.conflict(
                            field: "webhook", rule: "\(shown) changed since this page was opened; open it again")
                    }
                    let old = provider.webhooks[position]
                    return try stores.providers.edit(
                        id, ProviderEdit(replaceWebhook: (old.url, form.first("url") ?? "")), actor: session.actor,
                        reason: reason)
                }
                return Self.seeOther("/console/providers/\(id)")
            }
        }
        // An address's key, pasted or removed by an admin (as `herald provider key add|remove`).
        router.post("/console/providers/:id/keys") { request, context in
            let id = context.parameters.get("id", as: Int64.self) ?? 0
            return try await acting(
                request, at: "/console/providers/\(id)?", role: .admin, maxBody: Self.maxKeyBody
            ) { session, form, _ in
                let pgp = try app.openPGP()
                _ = try await app.run { stores in
                    let keys = stores.keys(pgp)
                    if let fingerprint = form.first("remove") {
                        // From the one address whose row was pressed, not from every address it serves.
                        return try keys.removeProviderKey(
                            provider: id, keyID: fingerprint, email: form.first("email"), actor: session.actor)
                    }
                    let email = form.first("email").flatMap { $0.isEmpty ? nil : $0 }
                    return try keys.addProviderKey(
                        Array((form.first("key") ?? "").utf8), provider: id, email: email, actor: session.actor
                    ).map(\.email)
                }
                return Self.seeOther("/console/providers/\(id)")
            }
        }
        // The wording in use, read only: edits stay files (`herald templates export|check`).
        router.get("/console/templates") { request, _ in
            try await viewing(request, at: "/console/templates?") { _, pages in
                let templates = app.templates
                let name = request.uri.queryParameters.get("name").map { String($0.prefix(200)) }
                if let name, templates.source(of: name) == nil { return page(.notFound, pages.notFound()) }
                return page(.ok, pages.consoleTemplates(templates, selected: name))
            }
        }
        router.get("/console/settings") { request, _ in
            try await viewing(request, at: "/console/settings?") { _, pages in
                let values = try await app.run { stores in try stores.settingsStore.all() }
                return page(.ok, pages.consoleSettings(values, templates: values[.templates] ?? "built-in"))
            }
        }
        // Suspending a provider is an admin's: it gets nothing until approved again.
        router.post("/console/providers/:id/suspend") { request, context in
            try await acting(request, at: "/console/providers?", role: .admin) { session, form, pages in
                guard let id = context.parameters.get("id", as: Int64.self) else {
                    return page(.notFound, pages.notFound())
                }
                let reason = form.first("reason") ?? ""
                _ = try await app.run { stores in
                    try stores.providers.transition(
                        id, .suspend, reason: try Validate.reason(reason, required: true), actor: session.actor)
                }
                return Self.seeOther("/console/providers")
            }
        }
        router.get("/console/audit") { request, _ in
            try await viewing(request, at: "/console/audit?") { _, pages in
                let actor = String((request.uri.queryParameters.get("actor") ?? "").prefix(200))
                let advisoryText = String((request.uri.queryParameters.get("advisory") ?? "").prefix(20))
                let advisory = Int64(advisoryText)
                let entries = try await app.run { stores in
                    try stores.audit.list(
                        subjectType: advisory == nil ? nil : "advisory", subjectID: advisory,
                        actor: actor.isEmpty ? nil : actor, limit: 200)
                }
                return page(.ok, pages.consoleAudit(entries, actor: actor, advisory: advisoryText))
            }
        }
        // Sends a failing or dead delivery again now (DeliveryRetries, as `herald deliveries retry`).
        router.post("/console/deliveries/:id/retry") { request, context in
            try await acting(request, at: "/console?", role: .releaseManager) { session, form, pages in
                guard let id = context.parameters.get("id", as: Int64.self) else {
                    return page(.notFound, pages.notFound())
                }
                try await app.run { stores in try stores.retries.retry(id, actor: session.actor) }
                // Back to the advisory it belongs to (an id, never a URL from the form).
                return Self.seeOther(
                    form.first("advisory").flatMap(Int64.init).map { "/console/advisories/\($0)" } ?? "/console")
            }
        }
        router.post("/console/sign-out") { request, _ in
            let pages = app.pages(for: request, at: "/console?")
            let form = try await Self.form(request)
            if let (token, session) = try await session(request), form.first("csrf") == session.csrf {
                try await app.run { stores in try stores.console.signOut(token) }
            }
            return signedOut(pages, pages.word("console-signed-out"))
        }
        router.post("/console/sign-out-everywhere") { request, _ in
            let pages = app.pages(for: request, at: "/console?")
            let form = try await Self.form(request)
            // Only a signed-in session: the holder of a link alone must not end the owner's sessions.
            guard let (_, session) = try await session(request), session.verified, form.first("csrf") == session.csrf
            else {
                return forbidden(pages)
            }
            try await app.run { stores in try stores.console.signOutEverywhere(session) }
            return signedOut(pages, pages.word("console-signed-out-everywhere"))
        }
    }

    // MARK: -

    /// The editor's POST: "preview" renders the form again with the text as it will read;
    /// "save" creates (`id` nil) or revises, and goes to the advisory's page. A refusal keeps
    /// everything typed.
    private func saveEditor(_ request: Request, id: Int64?) async throws -> Response {
        try await acting(request, at: "/console?", role: .releaseManager, maxBody: Self.maxEditorBody) {
            session, form, pages in
            let input = Pages.EditorInput(form)
            let projects = id == nil ? try await app.run { stores in try stores.projects.list() } : []
            let editor = { (error: String, preview: Bool, status: HTTPResponse.Status) in
                page(
                    status,
                    pages.consoleEditor(
                        creating: id == nil, input: input, id: id, projects: projects, csrf: session.csrf, error: error,
                        preview: preview))
            }
            guard form.first("do") == "save" else { return editor("", true, .ok) }
            do {
                let actor = session.actor
                let saved = try await app.run { stores -> Int64 in
                    let content = try input.content()
                    if let id {
                        let notes = try ChangeNotes(
                            reason: input.reason, toProviders: input.note, reasonRequired: true)
                        return try stores.advisories.revise(id, input.patch(content), notes: notes, actor: actor).id
                    }
                    var schedule = Schedule()
                    if !input.embargo.trimmingCharacters(in: .whitespaces).isEmpty {
                        schedule.embargo = try Instant.parse(input.embargo, field: "embargo")
                        if input.early { schedule.earlyNotice = stores.clock.now }
                    }
                    return try stores.advisories.create(
                        project: input.project, content: content, schedule: schedule, actor: actor,
                        typedZone: Instant.zone(of: input.embargo)
                    ).id
                }
                return Self.seeOther("/console/advisories/\(saved)")
            } catch let refusal as Refusal {
                if case .notFound = refusal { throw refusal }
                return editor(refusal.description, false, .unprocessableContent)
            }
        }
    }

    /// A console page for a signed-in session; before that, the page that comes first: the
    /// sign-in form, or the code for a session a link opened.
    private func viewing(
        _ request: Request, at path: String, _ body: (ConsoleSession, Pages) async throws -> Response
    ) async throws -> Response {
        let pages = app.pages(for: request, at: path)
        guard let (token, session) = try await session(request) else { return signInForm(pages) }
        guard session.verified else { return try await codePage(pages, token: token, session: session) }
        return try await body(session, pages)
    }

    /// An action of a signed-in session of at least `role` whose form carries the session's
    /// token; the body is read only once the session is known. A refusal of the use case is
    /// a page: 404 for what does not exist, 422 with the rule broken otherwise.
    private func acting(
        _ request: Request, at path: String, role: TokenRole, maxBody: Int = Self.maxBody,
        _ body: (ConsoleSession, Form, Pages) async throws -> Response
    ) async throws -> Response {
        let pages = app.pages(for: request, at: path)
        guard let (_, session) = try await session(request), session.verified else { return signInForm(pages) }
        guard session.account.role >= role else {
            return page(
                .forbidden, pages.message(title: pages.word("console-title"), text: pages.word("console-read-only")))
        }
        var request = request
        let form = Form(String(buffer: try await request.collectBody(upTo: maxBody)))
        guard form.first("csrf") == session.csrf else { return forbidden(pages) }
        do {
            return try await body(session, form, pages)
        } catch let refusal as Refusal {
            if case .notFound = refusal { return page(.notFound, pages.notFound()) }
            return page(
                .unprocessableContent, pages.message(title: pages.word("console-title"), text: refusal.description))
        }
    }

    /// Where a done action goes next.
    static func seeOther(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
    }

    private func session(_ request: Request) async throws -> (String, ConsoleSession)? {
        guard let token = request.headers[.cookie].flatMap({ Form.cookie(Self.cookie, in: $0) }), !token.isEmpty else {
            return nil
        }
        guard let session = try await app.run({ stores in try stores.console.session(token) }) else { return nil }
        return (token, session)
    }

    private func codePage(
        _ pages: Pages, token: String, session: ConsoleSession, error: String = "", status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let enrolment =
            session.account.enrolled ? nil : try await app.run { stores in try stores.console.enrolment(token) }
        return page(status, pages.consoleCode(session: session, enrolment: enrolment, error: error))
    }

    private func dashboard(_ pages: Pages, session: ConsoleSession) async throws -> String {
        let now = app.now
        let rows = try await app.run { stores in
            let projects = Dictionary(uniqueKeysWithValues: try stores.projects.list().map { ($0.slug, $0) })
            let failing = try stores.consoleRecords.failingPrivateDeliveries()
            let order: [AdvisoryState] = [.scheduled, .draft, .published, .cancelled]
            return try stores.advisoryRecords.list()
                .sorted {
                    (order.firstIndex(of: $0.state) ?? 9, $0.schedule.embargo ?? .distantFuture)
                        < (order.firstIndex(of: $1.state) ?? 9, $1.schedule.embargo ?? .distantFuture)
                }
                .map { advisory in
                    Pages.ConsoleRow(
                        advisory: advisory, project: projects[advisory.projectSlug],
                        counts: try stores.participation.readiness(advisory.id).counts,
                        failing: failing[advisory.id] ?? 0)
                }
        }
        return pages.consoleDashboard(session: session, rows: rows, now: now)
    }

    private func signInForm(_ pages: Pages, error: String = "", status: HTTPResponse.Status = .ok) -> Response {
        let csrf = Secrets.token(prefix: "")
        var response = page(status, pages.consoleSignIn(csrf: csrf, error: error))
        response.headers[.setCookie] = area.cookie(Self.signInCookie, csrf)
        return response
    }

    private func signedOut(_ pages: Pages, _ text: String) -> Response {
        var response = page(.ok, pages.message(title: pages.word("console-title"), text: text))
        response.headers[.setCookie] = cookie("", maxAge: 0)
        return response
    }

    private var area: PrivateArea { PrivateArea(path: "/console", settings: app.settings) }

    private func forbidden(_ pages: Pages) -> Response { area.forbidden(pages) }

    private func cookie(_ value: String, maxAge: Int) -> String { area.cookie(Self.cookie, value, maxAge: maxAge) }

    private func page(_ status: HTTPResponse.Status, _ html: String) -> Response { area.page(status, html) }

    /// What a preview of an import answers for: the text, the mode and the list as they stood,
    /// for this session. Applying needs the same.
    static func previewToken(csv: String, sync: Bool, list: [Provider], session: ConsoleSession) -> String {
        var hash = SHA256()
        hash.update(data: Array(csv.utf8))
        hash.update(data: Array("\u{0}\(sync)\u{0}\(session.csrf)".utf8))
        for provider in list {
            hash.update(data: Array("\u{0}\(provider.id):\(provider.updatedAt.timeIntervalSince1970)".utf8))
        }
        return hash.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// A list to import: 1 MiB of CSV, some 20,000 short rows.
    static let maxImportBytes = 1024 * 1024
    /// Its form: the CSV form-encoded (a line end or a comma takes three bytes).
    static let maxImportBody = 3 * maxImportBytes + 4096

    /// A pasted key: 64 KiB of armor, form-encoded (line ends and `+` take three bytes each).
    static let maxKeyBody = 3 * OpenPGPKey.maxArmoredBytes + 4096

    /// The editor's form: a body of up to 200,000 characters, form-encoded.
    static let maxEditorBody = 3 * 1024 * 1024

    /// The newest deliveries an advisory's page draws; more would make the picture unreadable
    /// and the page slow.
    static let deliveriesShown = 5_000

    static func form(_ request: Request) async throws -> Form {
        var request = request
        return Form(String(buffer: try await request.collectBody(upTo: maxBody)))
    }
}
