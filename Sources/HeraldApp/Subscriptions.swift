import Foundation
import HeraldCore

/// Provider self-service: subscribe (double opt-in), confirm, unsubscribe, acknowledge, and what
/// a link is about before its button is pressed. Every link is a random token stored only as its
/// hash, so no comparison ever runs over the secret itself.
public struct Subscriptions {
    let work: any UnitOfWork
    let roster: any ProviderRoster
    let projects: any ProjectDirectory
    let links: any LinkTokens
    let mail: any ProviderMail
    let notices: any NoticeRecords
    let answers: any AnswerRecords
    let managers: any ReleaseManagerMail
    let audit: any AuditTrail
    let clock: any Clock
    /// Base of the links in messages.
    let publicURL: String

    /// How long a confirmation link works.
    public static let confirmationValidity: TimeInterval = 48 * 3600

    /// Creates the use cases over their ports.
    public init(
        work: any UnitOfWork, roster: any ProviderRoster, projects: any ProjectDirectory, links: any LinkTokens,
        mail: any ProviderMail, notices: any NoticeRecords, answers: any AnswerRecords,
        managers: any ReleaseManagerMail, audit: any AuditTrail, clock: any Clock, publicURL: String
    ) {
        self.answers = answers
        self.managers = managers
        self.work = work
        self.roster = roster
        self.projects = projects
        self.links = links
        self.mail = mail
        self.notices = notices
        self.audit = audit
        self.clock = clock
        self.publicURL = publicURL
    }

    /// Records a subscription request as pending confirmation and queues the confirmation
    /// mail, whatever the list holds: the same row, mail and work for a new name and for a
    /// member's, so neither the answer, nor the mail, nor the time it takes tells who is on the
    /// list. A request never blocks anyone; whether the organisation is a duplicate is the
    /// approving release manager's question. Requests left unconfirmed expire after 48 hours.
    public func subscribe(_ request: NewProvider) throws {
        let now = clock.now
        try work.write {
            try expireUnconfirmed(now: now)
            let projectIDs = try request.projects.map { try projects.require($0, field: "projects").id }
            // Not checked against the list at all: that would tell who is on it.
            let id = try roster.insert(request, status: .pendingConfirmation, projectIDs: projectIDs, at: now)
            try audit.entry(
                "provider.add", subjectType: "provider", subjectID: id, at: now, actor: "subscriber", reason: "",
                details: [
                    "organization": request.organization, "status": ProviderStatus.pendingConfirmation.rawValue,
                    "emails": request.emails.joined(separator: ","),
                    "projects": request.projects.joined(separator: ","),
                ])
            let provider = try roster.get(id)
            let token = try links.issueLink(
                .confirm, provider: provider.id, notice: nil, expires: now + Self.confirmationValidity, email: nil)
            try mail.sendConfirmation(
                to: provider, address: provider.emails[0], link: "\(publicURL)/subscriptions/confirm?token=\(token)")
        }
    }

    /// Marks requests unconfirmed for longer than the link's validity as removed; returns how many.
    @discardableResult
    public func expireUnconfirmed(now: Date) throws -> Int {
        let expired = try roster.expireUnconfirmed(before: now - Self.confirmationValidity, at: now)
        if expired > 0 {
            try audit.entry(
                "provider.expire", subjectType: "provider", subjectID: nil, at: now, actor: "subscriber",
                reason: "not confirmed within 48 hours", details: ["count": String(expired)])
        }
        return expired
    }

    /// Confirms the address behind a confirmation link: the request waits for approval.
    public func confirm(token: String) throws -> Provider {
        try work.write {
            let link = try use(token, .confirm, consume: true)
            return try roster.move(
                link.provider, .confirm, reason: "", actor: "subscriber", at: clock.now, audit: audit)
        }
    }

    /// What a link is about, for the page before its button: the organisation, the address,
    /// and for an acknowledgement the advisory's title and revision. Changes nothing.
    public struct LinkSubject: Sendable, Equatable {
        /// The provider's organisation.
        public var organization: String
        /// The address the link speaks for; nil when it names none.
        public var address: String?
        /// For an acknowledgement: the advisory's title.
        public var advisoryTitle: String?
        /// For an acknowledgement: the kind of notice, such as `early-notice`.
        public var notice: String?
        /// For an acknowledgement: the advisory's revision the notice told of.
        public var revision: Int?
        /// For an acknowledgement: the advisory's database id.
        public var advisoryID: Int64?
        /// For an acknowledgement: the project's time zone, in which a proposal is read.
        public var timezone: String?
        /// For an acknowledgement: the advisory's release instant now.
        public var release: Date?
    }

    /// Checks a link without using it and says what it is about; throws when it is not valid.
    /// Changes nothing, except that opening an acknowledgement link counts as seeing its advisory.
    public func subject(of token: String, purpose: LinkPurpose) throws -> LinkSubject {
        let link = try use(token, purpose, consume: false)
        let provider = try roster.get(link.provider)
        var subject = LinkSubject(
            organization: provider.organization,
            address: link.email ?? (purpose == .confirm ? provider.emails.first : nil))
        // An address that left the list no longer speaks for the organisation, and a provider
        // excluded from the advisory learns nothing more of it through an old link.
        if purpose == .ack, let address = link.email,
            !provider.emails.contains(where: { $0.lowercased() == address.lowercased() })
        {
            throw Self.invalid
        }
        // Nor does a provider that left, was suspended or removed, or no longer takes part.
        if purpose == .ack, let notice = link.notice,
            try provider.status != .active || !notices.takesPart(provider: link.provider, inAdvisoryOf: notice)
        {
            throw Self.invalid
        }
        if let notice = link.notice, let summary = try notices.summary(of: notice) {
            (subject.notice, subject.revision, subject.advisoryTitle) = (summary.kind, summary.revision, summary.title)
            (subject.advisoryID, subject.timezone, subject.release) = (
                summary.advisoryID, summary.timezone, summary.release
            )
            if purpose == .ack, let advisory = summary.advisoryID {
                try answers.markSeen(advisory: advisory, provider: link.provider, at: clock.now)
            }
        }
        return subject
    }

    /// Records a participant's answer through its notice's link (the acknowledgement link's
    /// token): an answer acknowledges the notice too. "Needs more time" tells the release
    /// managers at once. A withdrawn advisory takes no answers, a public one no proposals.
    public func answer(
        token: String, status: ResponseStatus, proposedInstant: Date?, statement: String, shareable: Bool
    ) throws -> LinkSubject {
        let now = clock.now
        return try work.write {
            let link = try use(token, .ack, consume: false)
            let subject = try subject(of: token, purpose: .ack)
            guard let notice = link.notice, let advisory = subject.advisoryID else { throw Self.invalid }
            try recorder.answer(
                advisory: advisory, notice: notice, provider: link.provider, organization: subject.organization,
                status: status, proposedInstant: proposedInstant, statement: statement, shareable: shareable,
                by: "provider:\(link.provider)" + (link.email.map { " <\($0)>" } ?? ""), at: now)
            return subject
        }
    }

    /// What an unsubscribe did: the address that left, and whether the organisation left with it.
    public struct Departure: Sendable, Equatable {
        /// The provider's organisation.
        public var organization: String
        /// The address that left; nil for an old link that names none (the whole organisation left).
        public var address: String?
        /// Whether the organisation is off the list now: its last address left, the link named none, or it had gone.
        public var organizationLeft: Bool
    }

    /// Leaves the list (RFC 8058 one-click): the link's address only, unless it is the
    /// organisation's last; then the organisation leaves. The other addresses are told.
    /// Leaving twice is fine.
    public func unsubscribe(token: String) throws -> Departure {
        let now = clock.now
        return try work.write {
            let link = try use(token, .unsubscribe, consume: false)
            let provider = try roster.get(link.provider)
            if provider.status == .removed {
                return Departure(organization: provider.organization, address: link.email, organizationLeft: true)
            }
            let remaining = provider.emails.filter { $0.lowercased() != link.email?.lowercased() }
            // Links from before addresses were named (no email), or the last address: the organisation leaves.
            guard let address = link.email, !remaining.isEmpty else {
                _ = try roster.move(
                    link.provider, .remove, reason: "unsubscribed", actor: "subscriber", at: now, audit: audit)
                return Departure(organization: provider.organization, address: link.email, organizationLeft: true)
            }
            if remaining.count < provider.emails.count {
                try roster.removeContact(
                    provider.id, address: address, at: now, actor: "subscriber", reason: "unsubscribed")
                try roster.endPortalSessions(ofProvider: provider.id, address: address, at: now)
                try mail.sendContactLeft(try roster.get(provider.id), address: address, remaining: remaining)
            }
            return Departure(organization: provider.organization, address: address, organizationLeft: false)
        }
    }

    /// Records that the provider acknowledged the notice of an ack link; returns what was
    /// acknowledged. Acknowledging twice keeps the first time.
    public func acknowledge(token: String) throws -> LinkSubject {
        let now = clock.now
        return try work.write {
            let link = try use(token, .ack, consume: false)
            guard let notice = link.notice else {
                throw Refusal.invalid(field: "token", rule: "this link is not valid")
            }
            if try notices.acknowledge(notice: notice, provider: link.provider, at: now) {
                try audit.entry(
                    "notice.acknowledge", subjectType: "advisory",
                    subjectID: try notices.summary(of: notice)?.advisoryID,
                    at: now, actor: "provider:\(link.provider)", reason: "", details: ["notice": String(notice)])
            }
            return try subject(of: token, purpose: .ack)
        }
    }

    var recorder: AnswerRecorder {
        AnswerRecorder(answers: answers, notices: notices, managers: managers, audit: audit)
    }

    static let invalid = Refusal.invalid(
        field: "token", rule: "this link is not valid, was used already, or has expired")

    /// The link behind `token`, or the one refusal for every way a link can be bad. The length
    /// is checked before any work: a token is 43 characters.
    private func use(_ token: String, _ purpose: LinkPurpose, consume: Bool) throws -> LinkUse {
        guard (20...100).contains(token.count),
            let link = try links.useLink(token, purpose: purpose, at: clock.now, consume: consume)
        else { throw Self.invalid }
        return link
    }
}
