import Foundation
import HeraldCore

/// The provider portal: a contact signs in with a single-use link mailed to its address (no
/// passwords), reads the notices its organisation received (embargoed text only while it takes
/// part, and only the newest revision addressed to it), answers them, keeps its organisation's
/// addresses and language, or leaves.
public struct Portal {
    let work: any UnitOfWork
    let access: any PortalAccess
    let records: any PortalRecords
    let roster: any ProviderRoster
    let administration: ProviderAdministration
    let mail: any ProviderMail
    let recorder: AnswerRecorder
    let audit: any AuditTrail
    let fingerprints: any CredentialFingerprints
    let clock: any Clock
    let publicURL: String

    /// A sign-in link works for 15 minutes, once.
    public static let signInValidity: TimeInterval = 15 * 60
    /// At most this many links per address in `signInValidity`: enough for a lost mail, not a flood.
    public static let signInsPerAddress = 3
    /// A session ends after 30 minutes unused, and after 12 hours whatever happens.
    public static let idleTimeout: TimeInterval = 30 * 60
    /// See `idleTimeout`.
    public static let absoluteTimeout: TimeInterval = 12 * 3600

    /// Creates the use cases over their ports.
    public init(
        work: any UnitOfWork, access: any PortalAccess, records: any PortalRecords, roster: any ProviderRoster,
        administration: ProviderAdministration, mail: any ProviderMail, answers: any AnswerRecords,
        notices: any NoticeRecords, managers: any ReleaseManagerMail, audit: any AuditTrail,
        fingerprints: any CredentialFingerprints, clock: any Clock, publicURL: String
    ) {
        self.fingerprints = fingerprints
        self.work = work
        self.access = access
        self.records = records
        self.roster = roster
        self.administration = administration
        self.mail = mail
        self.recorder = AnswerRecorder(answers: answers, notices: notices, managers: managers, audit: audit)
        self.audit = audit
        self.clock = clock
        self.publicURL = publicURL
    }

    /// Mails a sign-in link to `email` for each active provider it is a contact of (an address
    /// may serve several organisations; each link signs in to one). The answer and the rows
    /// written are the same whoever asks, so the form tells no one who is on the list.
    public func requestSignIn(email: String) throws {
        let address = try Address.email(email, field: "email")
        let now = clock.now
        try work.write {
            guard try access.signInsRequested(email: address, since: now - Self.signInValidity) < Self.signInsPerAddress
            else { return }
            let providers = try access.activeProviders(withContact: address)
            guard !providers.isEmpty else {
                _ = try access.recordSignIn(email: address, provider: nil, at: now, expires: now + Self.signInValidity)
                return
            }
            for provider in providers {
                let token = try access.recordSignIn(
                    email: address, provider: provider, at: now, expires: now + Self.signInValidity)
                try mail.sendSignInLink(
                    to: try roster.get(provider), address: address,
                    link: "\(publicURL)/portal/sign-in?token=\(token)")
            }
        }
    }

    /// How long a link that confirms a new address works.
    public static let contactConfirmationValidity: TimeInterval = 48 * 3600

    /// Asks `email` to confirm that it is a contact of the session's organisation: a link goes
    /// to that address, and only its confirmation adds it, so no one adds someone else's address.
    public func proposeContact(_ email: String, session: PortalSession) throws {
        let address = try Address.email(email, field: "email")
        let now = clock.now
        try work.write {
            let provider = try roster.get(session.providerID)
            guard !provider.emails.contains(where: { $0.lowercased() == address.lowercased() }) else {
                throw Refusal.conflict(
                    field: "email", rule: "\(address) is an address of \(provider.organization) already")
            }
            guard provider.emails.count < NewProvider.maxEmails else {
                throw Refusal.invalid(field: "email", rule: "at most \(NewProvider.maxEmails) addresses per provider")
            }
            let token = try access.recordContactConfirmation(
                provider: provider.id, email: address, by: Self.actor(session.email), at: now,
                expires: now + Self.contactConfirmationValidity)
            try mail.sendContactConfirmation(
                to: provider, address: address, link: "\(publicURL)/portal/confirm-address?token=\(token)")
            try audit.entry(
                "provider.contact-invite", subjectType: "provider", subjectID: provider.id, at: now,
                actor: Self.actor(session.email), reason: "", details: ["email": address])
        }
    }

    /// What a confirmation link is about, without using it: the organisation and the address.
    public func contactConfirmation(token: String) throws -> (organization: String, address: String) {
        guard (20...100).contains(token.count),
            let link = try access.contactConfirmation(token, at: clock.now, consume: false),
            case let provider = try roster.get(link.provider), provider.status != .removed
        else { throw Self.invalidLink }
        return (provider.organization, link.email)
    }

    /// Confirms a new address: it becomes a contact of the organisation that proposed it.
    public func confirmContact(token: String) throws -> (organization: String, address: String) {
        try work.write {
            guard (20...100).contains(token.count),
                let link = try access.contactConfirmation(token, at: clock.now, consume: true),
                case let provider = try roster.get(link.provider), provider.status != .removed
            else { throw Self.invalidLink }
            if !provider.emails.contains(where: { $0.lowercased() == link.email.lowercased() }) {
                _ = try administration.editInTransaction(
                    provider, try ProviderEdit(addEmails: [link.email]), actor: Self.actor(link.email),
                    reason: "confirmed through the portal")
            }
            return (provider.organization, link.email)
        }
    }

    static let invalidLink = Refusal.invalid(
        field: "token", rule: "this link is not valid, was used already, or has expired")

    /// Uses a sign-in link: starts a session for its address; returns the session's token and
    /// CSRF token. The provider must still be active and the address still its own.
    public func signIn(token: String) throws -> (token: String, session: PortalSession) {
        let now = clock.now
        return try work.write {
            guard (20...100).contains(token.count), let link = try access.useSignIn(token, at: now),
                case let provider = try roster.get(link.provider), provider.status == .active,
                provider.emails.contains(where: { $0.lowercased() == link.email.lowercased() })
            else { throw Self.invalidLink }
            let started = try access.startSession(provider: provider.id, email: link.email, at: now)
            try audit.entry(
                "portal.sign-in", subjectType: "provider", subjectID: provider.id, at: now,
                actor: Self.actor(link.email), reason: "", details: [:])
            return (started.token, PortalSession(providerID: provider.id, email: link.email, csrf: started.csrf))
        }
    }

    /// The session behind a cookie, or nil when it ended, timed out, or its address or provider
    /// no longer may sign in.
    public func session(_ token: String) throws -> PortalSession? {
        guard (20...100).contains(token.count) else { return nil }
        return try work.write {
            guard
                let session = try access.session(
                    token, at: clock.now, idle: Self.idleTimeout, absolute: Self.absoluteTimeout)
            else { return nil }
            let provider = try roster.get(session.providerID)
            guard provider.status == .active,
                provider.emails.contains(where: { $0.lowercased() == session.email.lowercased() })
            else {
                try access.endSession(token, at: clock.now)
                return nil
            }
            return session
        }
    }

    /// Ends the session.
    public func signOut(_ token: String) throws {
        try work.write { try access.endSession(token, at: clock.now) }
    }

    /// The provider and the advisories it has notices of.
    public func overview(_ session: PortalSession) throws -> (provider: Provider, advisories: [PortalItem]) {
        let provider = try roster.get(session.providerID)
        let items = try records.advisories(of: session.providerID).compactMap { try item($0) }
        return (shown(provider), items)
    }

    /// One advisory as this provider may read it, with the statements other participants shared;
    /// nil when it may read nothing of it. Reading it counts as seeing it.
    public func advisory(_ id: Int64, session: PortalSession) throws -> (item: PortalItem, shared: [SharedStatement])? {
        guard let listed = try records.advisories(of: session.providerID).first(where: { $0.id == id }),
            let item = try item(listed)
        else { return nil }
        if listed.takesPart {
            try work.write { try recorder.answers.markSeen(advisory: id, provider: session.providerID, at: clock.now) }
        }
        // What other participants shared is for those who take part, published or not.
        let shared =
            listed.takesPart && listed.reading != .withdrawn
            ? try records.sharedStatements(advisory: id, except: session.providerID) : []
        return (item, shared)
    }

    /// Records the session's answer to advisory `id`, as a link's answer is recorded.
    public func answer(
        _ id: Int64, session: PortalSession, status: ResponseStatus, proposedInstant: Date?, statement: String,
        shareable: Bool
    ) throws {
        let now = clock.now
        try work.write {
            // The same rule as an answer link: only while it takes part.
            guard let listed = try records.advisories(of: session.providerID).first(where: { $0.id == id }),
                listed.takesPart
            else { throw Refusal.notFound(subject: "advisory", id: String(id)) }
            let provider = try roster.get(session.providerID)
            try recorder.answer(
                advisory: id, notice: try records.latestNotice(advisory: id, provider: session.providerID),
                provider: session.providerID, organization: provider.organization, status: status,
                proposedInstant: proposedInstant, statement: statement, shareable: shareable,
                by: Self.actor(session.email), at: now)
        }
    }

    /// Changes the organisation's addresses or language, as the release managers' edit does
    /// (it keeps at least one address; every change audited with the address that made it).
    public func edit(_ change: ProviderEdit, session: PortalSession) throws -> (
        provider: Provider, newSecrets: [String: String]
    ) {
        guard change.organization == nil, change.addProjects.isEmpty, change.removeProjects.isEmpty,
            change.listed == nil, change.addEmails.isEmpty
        else {
            throw Refusal.invalid(
                field: "edit",
                rule: "the portal changes addresses, webhooks and the language; ask the release managers for the rest")
        }
        let (edited, secrets) = try administration.edit(
            session.providerID, change, actor: Self.actor(session.email), reason: "through the portal")
        return (shown(edited), secrets)
    }

    /// The provider as the portal shows it: webhooks by fingerprint, secrets never (a new
    /// webhook's secret is shown once, when it is added).
    private func shown(_ provider: Provider) -> Provider {
        var provider = provider
        provider.webhooks = provider.webhooks.map {
            ProviderWebhook(url: fingerprints.url($0.url), kind: $0.kind, secret: nil, disabledAt: $0.disabledAt)
        }
        return provider
    }

    /// Removes the organisation's webhook at `position` in its list (the portal shows webhooks by
    /// fingerprint, so a form names one by its place, never by its URL).
    public func removeWebhook(at position: Int, session: PortalSession) throws -> Provider {
        let provider = try roster.get(session.providerID)
        guard provider.webhooks.indices.contains(position) else {
            throw Refusal.invalid(field: "webhook", rule: "no such webhook; reload the page")
        }
        return try edit(try ProviderEdit(removeWebhooks: [provider.webhooks[position].url]), session: session).provider
    }

    /// The organisation leaves the list: it gets nothing more, and every session ends.
    public func leave(_ session: PortalSession) throws {
        try work.write {
            _ = try administration.transitionInTransaction(
                session.providerID, .remove, reason: "left through the portal", actor: Self.actor(session.email))
            try access.endSessions(ofProvider: session.providerID, at: clock.now)
        }
    }

    /// An advisory with the text the provider may read.
    public struct PortalItem: Sendable, Equatable {
        /// The listing row.
        public var advisory: PortalAdvisory
        /// Its text at the revision the provider may read; nil for a withdrawn one.
        public var revision: AdvisoryRevision?
        /// Its public id (for a published one's public page).
        public var publicID: String
        /// Its project's slug.
        public var projectSlug: String
    }

    private func item(_ listed: PortalAdvisory) throws -> PortalItem? {
        let advisory = try records.advisory(listed.id)
        switch listed.reading {
        case .nothing: return nil
        case .withdrawn:
            return PortalItem(
                advisory: listed, revision: nil, publicID: advisory.publicID, projectSlug: advisory.projectSlug)
        case .published:
            return PortalItem(
                advisory: listed, revision: AdvisoryRevision(of: advisory, notes: .none, actor: ""),
                publicID: advisory.publicID, projectSlug: advisory.projectSlug)
        case let .embargoed(revision):
            guard var text = try records.revision(revision, ofAdvisory: listed.id) else { return nil }
            text.reason = ""  // the release managers' own words: never shown to a provider
            text.actor = ""
            return PortalItem(
                advisory: listed, revision: text, publicID: advisory.publicID, projectSlug: advisory.projectSlug)
        }
    }

    static func actor(_ email: String) -> String { "portal:\(email)" }
}
