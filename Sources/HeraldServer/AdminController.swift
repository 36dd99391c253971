import Foundation
import HeraldCore
import HeraldStore
import Hummingbird

/// The admin JSON API. It validates with the same domain types and writes through the same
/// stores as the CLI, so a rule and its audit row exist once.
struct AdminController: Sendable {
    let app: AppServices

    func addRoutes(to group: RouterGroup<HeraldContext>) {
        // Projects
        group.get("projects") { _, context in
            try context.require(.auditor)
            return try await json { stores in try stores.projects.list() }
        }
        group.post("projects") { request, context in
            try context.require(.admin)
            let input = try await request.decode(as: ProjectInput.self, context: context)
            let project = try NewProject(
                slug: input.slug ?? "", name: input.name ?? "", timezone: input.timezone ?? "UTC",
                maxEmbargoDays: input.maxEmbargoDays ?? NewProject.defaultMaxEmbargoDays)
            let language = try input.language.map(Language.parse)
            return try await json(status: .created) { stores in
                let added = try stores.projects.add(project, actor: context.actor)
                guard let language else { return added }
                return try stores.projects.setLanguage(added.slug, language: language, actor: context.actor)
            }
        }

        // Providers
        group.get("providers") { request, context in
            try context.require(.auditor)
            let status = try request.uri.queryParameters.get("status").map { value throws(Refusal) -> ProviderStatus in
                guard let status = ProviderStatus(rawValue: value) else {
                    throw .invalid(
                        field: "status",
                        rule:
                            "'\(value)' must be one of \(ProviderStatus.allCases.map(\.rawValue).joined(separator: ", "))"
                    )
                }
                return status
            }
            let reveal = try context.reveal(request)
            return try await json { stores in
                try stores.providerRecords.list(status: status, revealedTo: reveal ? context.actor : nil)
            }
        }
        group.post("providers") { request, context in
            try context.require(.admin)
            let input = try await request.decode(as: ProviderInput.self, context: context)
            let hooks = try (input.webhooks ?? []).map { hook throws -> (url: String, kind: WebhookKind) in
                guard let kind = WebhookKind(rawValue: hook.kind ?? "webhook") else {
                    throw Refusal.invalid(
                        field: "webhooks.kind",
                        rule: "must be one of \(WebhookKind.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return (hook.url, kind)
            }
            let provider = try NewProvider(
                organization: input.organization ?? "", emails: input.emails ?? [], webhooks: hooks,
                projects: input.projects ?? [], listed: input.listed ?? false,
                language: try Language.parse(input.language ?? "en"))
            let status: ProviderStatus = input.approve == true ? .active : .pendingApproval
            return try await json(status: .created) { stores in
                try stores.providers.add(provider, status: status, actor: context.actor)
            }
        }
        group.patch("providers/:id") { request, context in
            try context.require(.admin)
            let id = try context.id()
            let input = try await request.decode(as: ProviderPatchInput.self, context: context)
            let change = try input.edit()
            let reason = try Validate.reason(input.reason ?? "", required: false)
            return try await json { stores in
                let (provider, secrets) = try stores.providers.edit(
                    id, change, actor: context.actor, reason: reason)
                return EditedProvider(provider: provider.redacted, newSecrets: secrets)
            }
        }
        for action in [ProviderAction.approve, .suspend, .remove] {
            group.post("providers/:id/\(action.rawValue)") { request, context in
                try context.require(.admin)
                let id = try context.id()
                let input = try await request.decodeIfPresent(ReasonInput.self, context: context)
                let reason = try Validate.reason(input?.reason ?? "", required: false)
                return try await json { stores in
                    try stores.providers.transition(
                        id, action, reason: reason, actor: context.actor,
                        despiteLookAlike: input?.despiteLookAlike == true)
                }
            }
        }

        // Providers' OpenPGP keys, one per contact address
        group.get("providers/:id/keys") { _, context in
            try context.require(.auditor)
            let id = try context.id()
            let pgp = try app.openPGP()
            return try await json { stores in try stores.keys(pgp).providerKeys(of: id) }
        }
        group.post("providers/:id/keys") { request, context in
            try context.require(.admin)
            let id = try context.id()
            let input = try await request.decode(as: ProviderKeyInput.self, context: context)
            let pgp = try app.openPGP()
            return try await json(status: .created) { stores in
                try stores.keys(pgp).addProviderKey(
                    Array((input.key ?? "").utf8), provider: id, email: input.email, actor: context.actor)
            }
        }
        group.delete("providers/:id/keys/:key") { _, context in
            try context.require(.admin)
            let id = try context.id()
            let keyID = context.parameters.get("key") ?? ""
            let pgp = try app.openPGP()
            return try await json { stores in
                RemovedKey(
                    addresses: try stores.keys(pgp).removeProviderKey(provider: id, keyID: keyID, actor: context.actor))
            }
        }

        // Channels
        group.get("channels") { request, context in
            try context.require(.auditor)
            let project = request.uri.queryParameters.get("project")
            let reveal = try context.reveal(request)
            return try await json { stores in
                try stores.channels.list(project: project, revealedTo: reveal ? context.actor : nil)
            }
        }
        group.post("channels") { request, context in
            try context.require(.admin)
            let input = try await request.decode(as: ChannelInput.self, context: context)
            guard let kind = ChannelKind(rawValue: input.kind ?? "") else {
                throw Refusal.invalid(
                    field: "kind",
                    rule: "must be one of \(ChannelKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let channel = try NewChannel(
                projectSlug: input.project ?? "", kind: kind, target: input.target ?? "", secret: input.secret,
                language: try input.language.map(Language.parse))
            return try await json(status: .created) { stores in try stores.channels.add(channel, actor: context.actor) }
        }
        group.delete("channels/:id") { _, context in
            try context.require(.admin)
            let id = try context.id()
            try await app.run { stores in try stores.channels.remove(id, actor: context.actor) }
            return Response(status: .noContent)
        }
        group.post("channels/:id/test") { _, context in
            try context.require(.admin)
            let id = try context.id()
            return try await json(status: .accepted) { stores in
                ["delivery": try stores.outbox.enqueueTest(channel: id, actor: context.actor)]
            }
        }

        // Advisories
        group.get("advisories") { request, context in
            try context.require(.auditor)
            let project = request.uri.queryParameters.get("project")
            let state = try request.uri.queryParameters.get("state").map { value throws(Refusal) -> AdvisoryState in
                guard let state = AdvisoryState(rawValue: value) else {
                    throw .invalid(
                        field: "state",
                        rule: "must be one of \(AdvisoryState.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return state
            }
            return try await json { stores in try stores.advisoryRecords.list(project: project, state: state) }
        }
        group.post("advisories") { request, context in
            try context.require(.releaseManager)
            let input = try await request.decode(as: AdvisoryInput.self, context: context)
            let now = app.now
            let patch = try input.patch()
            let content = try AdvisoryContent(
                title: input.title ?? "", summary: patch.summary ?? "", body: patch.body ?? "", cves: patch.cves ?? [],
                severity: patch.severity, cvss: patch.cvss, affected: patch.affected ?? "", fixed: patch.fixed ?? "",
                references: patch.references ?? [])
            let schedule = try input.schedule(applyingTo: Schedule(), now: now)
            return try await json(status: .created, at: now) { stores in
                var content = content
                if let project = try stores.projects.find(input.project ?? "") {
                    content.terms = try input.terms(from: project.terms)
                }
                return try stores.advisories.create(
                    project: input.project ?? "", content: content, schedule: schedule, actor: context.actor,
                    outsideWindow: input.outsideWindow)
            }
        }
        group.get("advisories/:id") { _, context in
            try context.require(.auditor)
            let id = try context.id()
            return try await json { stores in try stores.advisoryRecords.detail(id) }
        }
        group.get("advisories/:id/readiness") { _, context in
            try context.require(.auditor)
            let id = try context.id()
            return try await json { stores in try stores.participation.readiness(id) }
        }
        group.post("advisories/:id/participants/:provider/invite") { _, context in
            try context.require(.releaseManager)
            let (id, provider) = (try context.id(), try context.id("provider"))
            return try await json { stores in
                try stores.participation.invite(id, provider: provider, actor: context.actor)
            }
        }
        group.post("advisories/:id/participants/:provider/exclude") { request, context in
            try context.require(.releaseManager)
            let (id, provider) = (try context.id(), try context.id("provider"))
            let input = try await request.decodeIfPresent(ReasonInput.self, context: context)
            let reason = try Validate.reason(input?.reason ?? "", required: true)
            return try await json { stores in
                try stores.participation.exclude(id, provider: provider, reason: reason, actor: context.actor)
            }
        }
        group.post("advisories/:id/participants/:provider/decline") { request, context in
            try context.require(.releaseManager)
            let (id, provider) = (try context.id(), try context.id("provider"))
            let input = try await request.decodeIfPresent(NoteInput.self, context: context)
            return try await json { stores in
                try stores.participation.decline(id, provider: provider, note: input?.note ?? "", actor: context.actor)
            }
        }
        group.get("advisories/:id/deliveries") { request, context in
            try context.require(.auditor)
            let id = try context.id()
            let state = try request.uri.queryParameters.get("state").map(DeliveryFilter.parse)
            return try await json { stores in
                _ = try stores.advisories.get(id)
                return try stores.outbox.list(advisory: id, state: state, limit: 1_000_000)
            }
        }
        group.post("advisories/:id/reschedule") { request, context in
            try context.require(.releaseManager)
            let id = try context.id()
            let input = try await request.decode(as: AdvisoryInput.self, context: context)
            guard input.embargo != nil else {
                throw Refusal.invalid(field: "embargo", rule: "give the new release instant")
            }
            let now = app.now
            let notes = try input.notes.notes(reasonRequired: false)
            return try await json(at: now) { stores in
                let store = stores.advisories
                let plan = try input.schedule(applyingTo: try store.get(id).schedule, now: now)
                return try store.reschedule(
                    id, to: { _ in plan }, notes: notes, actor: context.actor, outsideWindow: input.outsideWindow)
            }
        }
        group.post("advisories/:id/revise") { request, context in
            try context.require(.releaseManager)
            let id = try context.id()
            let input = try await request.decode(as: AdvisoryInput.self, context: context)
            let given = try input.patch()
            let notes = try input.notes.notes(reasonRequired: false)
            return try await json { stores in
                let current = try stores.advisories.get(id)
                var patch = given
                patch.terms = try input.terms(
                    from: current.content.terms ?? stores.projects.require(current.projectSlug).terms)
                return try stores.advisories.revise(id, patch, notes: notes, actor: context.actor)
            }
        }
        group.post("advisories/:id/publish") { request, context in
            try context.require(.releaseManager)
            let id = try context.id()
            let notes = try (try await request.decodeIfPresent(NotesInput.self, context: context) ?? NotesInput())
                .notes(reasonRequired: true)
            return try await json { stores in
                try stores.advisories.publishNow(id, notes: notes, actor: context.actor)
            }
        }
        group.post("advisories/:id/cancel") { request, context in
            try context.require(.releaseManager)
            let id = try context.id()
            let notes = try (try await request.decodeIfPresent(NotesInput.self, context: context) ?? NotesInput())
                .notes(reasonRequired: true)
            return try await json { stores in
                try stores.advisories.cancel(id, notes: notes, actor: context.actor)
            }
        }

        // Deliveries and audit
        group.get("deliveries") { request, context in
            try context.require(.auditor)
            let state = try request.uri.queryParameters.get("state").map(DeliveryFilter.parse)
            let limit = min(max(Int(request.uri.queryParameters.get("limit") ?? "") ?? 1000, 1), 100_000)
            return try await json { stores in
                try stores.outbox.list(state: state, limit: limit)
            }
        }
        group.post("deliveries/:id/retry") { _, context in
            try context.require(.releaseManager)
            let id = try context.id()
            try await app.run { stores in try stores.retries.retry(id, actor: context.actor) }
            return Response(status: .accepted)
        }
        group.get("audit") { request, context in
            try context.require(.auditor)
            let query = request.uri.queryParameters
            let limit = min(max(Int(query.get("limit") ?? "") ?? 100, 1), 10_000)
            let advisory = try query.get("advisory").map { text throws(Refusal) -> Int64 in
                guard let id = Int64(text), id > 0 else {
                    throw .invalid(field: "advisory", rule: "must be an advisory's id")
                }
                return id
            }
            let actor = try query.get("actor").map { try Validate.line($0, field: "actor", maxLength: 200) }
            let since = try query.get("since").map { try Instant.parse($0, field: "since") }
            return try await json { stores in
                try stores.audit.list(
                    subjectType: advisory == nil ? nil : "advisory", subjectID: advisory, actor: actor, since: since,
                    limit: limit)
            }
        }

        // Tokens
        group.get("tokens") { _, context in
            try context.require(.admin)
            return try await json { stores in try stores.tokens.list() }
        }
        group.post("tokens") { request, context in
            try context.require(.admin)
            let input = try await request.decode(as: TokenInput.self, context: context)
            guard let role = TokenRole(rawValue: input.role ?? "") else {
                throw Refusal.invalid(field: "role", rule: "must be one of admin, release-manager, auditor")
            }
            return try await json(status: .created) { stores in
                let (record, token) = try stores.tokens.create(name: input.name ?? "", role: role, actor: context.actor)
                return CreatedToken(token: token, record: record)
            }
        }
        group.delete("tokens/:name") { _, context in
            try context.require(.admin)
            let name = context.parameters.get("name") ?? ""
            _ = try await app.run { stores in try stores.tokens.revoke(name: name, actor: context.actor) }
            return Response(status: .noContent)
        }
    }

    /// Runs `body` on a pooled connection and answers with its result as JSON.
    private func json<T: Encodable & Sendable>(
        status: HTTPResponse.Status = .ok, at instant: Date? = nil,
        _ body: @escaping @Sendable (Stores) throws -> T
    ) async throws -> Response {
        let value = try await app.run(at: instant, body)
        let data = try JSONEncoder.herald.encode(value)
        return Response(
            status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
