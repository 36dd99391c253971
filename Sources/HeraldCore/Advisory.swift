import Foundation

/// Where an advisory is in its life.
public enum AdvisoryState: String, Codable, Sendable, CaseIterable {
    /// Being written; no instant set, nothing sent.
    case draft
    /// Has an embargo instant; notices go out on their instants.
    case scheduled
    /// Public: on the feeds and pages, announced on the channels.
    case published
    /// Withdrawn before release; recipients of earlier notices are told.
    case cancelled
}

/// What an advisory says. Changing any of it is a new revision.
public struct AdvisoryContent: Equatable, Sendable, Codable {
    /// One line (at most 200 characters) naming the issue.
    public var title: String
    /// A short paragraph for previews and feed summaries; may be empty.
    public var summary: String
    /// The full text, in Markdown; embargoed until publication.
    public var body: String
    /// CVE ids, uppercased, without duplicates, in the order given.
    public var cves: [String]
    /// How bad it is; nil: not stated.
    public var severity: Severity?
    /// A CVSS 3.1 or 4.0 vector, its metrics in the specification's order; nil: none.
    public var cvss: String?
    /// The affected versions as typed (`1.0.0 to 1.4.2`); OSV's ranges are read from it.
    public var affected: String
    /// The fixed version as typed (`1.4.3`); empty: none named.
    public var fixed: String
    /// Links for more: fix commits, release notes (the advisory page itself is always one).
    public var references: [Reference] = []

    /// Validates every field; throws the first rule broken.
    public init(
        title: String, summary: String = "", body: String = "", cves: [String] = [], severity: Severity? = nil,
        cvss: String? = nil, affected: String = "", fixed: String = "", references: [Reference] = []
    ) throws(Refusal) {
        try Validate.count(references, field: "reference", max: Self.maxReferences, noun: "references per advisory")
        self.references = references
        try Validate.count(cves, field: "cve", max: Self.maxCVEs, noun: "CVE ids per advisory")
        self.title = try Validate.line(title, field: "title", maxLength: 200)
        self.summary = try Validate.text(summary, field: "summary", maxLength: 2000)
        self.body = try Validate.text(body, field: "body", maxLength: 200_000)
        var ids: [String] = []
        var seen = Set<String>()
        for cve in cves {
            let id = try CVE.validate(cve)
            if seen.insert(id).inserted { ids.append(id) }
        }
        self.cves = ids
        self.severity = severity
        self.cvss = try cvss.map { v throws(Refusal) in try CVSS.validate(v) }
        self.affected = try Validate.text(affected, field: "affected", maxLength: 2000)
        self.fixed = try Validate.text(fixed, field: "fixed", maxLength: 2000)
    }
}

extension AdvisoryContent {
    /// Most CVE ids one advisory may name: counted before any is validated.
    public static let maxCVEs = 100
    /// Most references one advisory may give.
    public static let maxReferences = 50

    private enum CodingKeys: String, CodingKey {
        case title, summary, body, cves, severity, cvss, affected, fixed, references
    }

    // Snapshots written before references existed have none.
    /// Decodes stored content as it was written, without validating it again.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            unchecked: try c.decode(String.self, forKey: .title), try c.decode(String.self, forKey: .summary),
            try c.decode(String.self, forKey: .body),
            try c.decodeIfPresent(Severity.self, forKey: .severity), try c.decodeIfPresent(String.self, forKey: .cvss),
            try c.decode(String.self, forKey: .affected), try c.decode(String.self, forKey: .fixed))
        cves = try c.decode([String].self, forKey: .cves)
        references = try c.decodeIfPresent([Reference].self, forKey: .references) ?? []
    }

    /// Content as stored earlier, taken without validation (CVEs are added by the caller).
    public init(
        unchecked title: String, _ summary: String, _ body: String, _ severity: Severity?, _ cvss: String?,
        _ affected: String, _ fixed: String
    ) {
        self.title = title
        self.summary = summary
        self.body = body
        self.cves = []
        self.severity = severity
        self.cvss = cvss
        self.affected = affected
        self.fixed = fixed
    }
}

/// Changes to an advisory's content; nil leaves a field as it is.
public struct AdvisoryPatch: Equatable, Sendable {
    /// A new title; nil keeps it.
    public var title: String?
    /// A new summary; nil keeps it, "" clears it.
    public var summary: String?
    /// A new body; nil keeps it, "" clears it.
    public var body: String?
    /// The complete new list of CVE ids, not additions; nil keeps it.
    public var cves: [String]?
    /// A new severity; nil keeps it (a patch cannot clear it).
    public var severity: Severity?
    /// A new CVSS vector; nil keeps it (a patch cannot clear it).
    public var cvss: String?
    /// New affected versions; nil keeps them.
    public var affected: String?
    /// New fixed versions; nil keeps them.
    public var fixed: String?
    /// The complete new list of references, not additions; nil keeps it.
    public var references: [Reference]?

    /// Creates a patch; fields left out stay as they are.
    public init(
        title: String? = nil, summary: String? = nil, body: String? = nil, cves: [String]? = nil,
        severity: Severity? = nil, cvss: String? = nil, affected: String? = nil, fixed: String? = nil,
        references: [Reference]? = nil
    ) {
        self.references = references
        self.title = title
        self.summary = summary
        self.body = body
        self.cves = cves
        self.severity = severity
        self.cvss = cvss
        self.affected = affected
        self.fixed = fixed
    }

    /// `content` with the patch applied and validated.
    public func applied(to content: AdvisoryContent) throws(Refusal) -> AdvisoryContent {
        try AdvisoryContent(
            title: title ?? content.title, summary: summary ?? content.summary, body: body ?? content.body,
            cves: cves ?? content.cves, severity: severity ?? content.severity, cvss: cvss ?? content.cvss,
            affected: affected ?? content.affected, fixed: fixed ?? content.fixed,
            references: references ?? content.references
        )
    }
}

/// A security advisory and its embargo.
public struct Advisory: Equatable, Sendable, Codable {
    /// Database id; 0 until stored.
    public var id: Int64
    /// The id in public URLs. Random, so ids of embargoed advisories cannot be guessed from published ones.
    public var publicID: String
    /// The project it belongs to.
    public var projectSlug: String
    /// Where it is in its life; the methods below refuse moves its state does not allow.
    public var state: AdvisoryState
    /// Grows by one with every change of content or dates; every notice carries it.
    public var revision: Int
    /// What it says, as of `revision`.
    public var content: AdvisoryContent
    /// Its embargo and notice instants.
    public var schedule: Schedule
    /// When it became public, early or on schedule; nil until then.
    public var publishedAt: Date?
    /// When it was withdrawn; nil unless cancelled.
    public var cancelledAt: Date?
    /// When it was created.
    public var createdAt: Date
    /// The last change of its content, dates or state.
    public var updatedAt: Date

    /// Creates an advisory value as stored; `new` makes one that keeps the rules.
    public init(
        id: Int64, publicID: String, projectSlug: String, state: AdvisoryState, revision: Int,
        content: AdvisoryContent, schedule: Schedule, publishedAt: Date? = nil, cancelledAt: Date? = nil,
        createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.publicID = publicID
        self.projectSlug = projectSlug
        self.state = state
        self.revision = revision
        self.content = content
        self.schedule = schedule
        self.publishedAt = publishedAt
        self.cancelledAt = cancelledAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// A new advisory: scheduled when it has an embargo instant, a draft otherwise.
    public static func new(
        projectSlug: String, publicID: String, content: AdvisoryContent, schedule: Schedule,
        policy: EmbargoPolicy, now: Date
    ) throws(Refusal) -> Advisory {
        try policy.check(schedule, now: now)
        return Advisory(
            id: 0, publicID: publicID, projectSlug: projectSlug, state: schedule.embargo == nil ? .draft : .scheduled,
            revision: 1, content: content, schedule: schedule, createdAt: now, updatedAt: now)
    }

    /// Moves the release instant (and optionally the notices); a draft becomes scheduled.
    public func rescheduled(_ schedule: Schedule, policy: EmbargoPolicy, now: Date) throws(Refusal) -> Advisory {
        try requireState([.draft, .scheduled], for: "reschedule")
        guard schedule.embargo != nil else { throw .invalid(field: "embargo", rule: "give the new release instant") }
        guard schedule != self.schedule else {
            throw .invalid(field: "embargo", rule: "is the instant already set; nothing to change")
        }
        try policy.check(schedule, now: now, current: self.schedule)
        var next = self
        next.schedule = schedule
        next.state = .scheduled
        return next.bumped(now)
    }

    /// Changes the content; allowed until cancelled (a published advisory can be corrected).
    public func revised(_ patch: AdvisoryPatch, now: Date) throws(Refusal) -> Advisory {
        try requireState([.draft, .scheduled, .published], for: "revise")
        let content = try patch.applied(to: self.content)
        guard content != self.content else {
            throw .invalid(field: "content", rule: "the revision changes nothing; give at least one changed field")
        }
        var next = self
        next.content = content
        return next.bumped(now)
    }

    /// Publishes at once, before the embargo instant: for a leak or an exploit in the wild.
    public func publishedNow(_ now: Date) throws(Refusal) -> Advisory {
        try requireState([.draft, .scheduled], for: "publish")
        var next = self
        next.state = .published
        next.publishedAt = now
        next.updatedAt = now
        return next
    }

    /// Publishes at the embargo instant; refused before it (never early).
    public func publishedOnSchedule(_ now: Date) throws(Refusal) -> Advisory {
        try requireState([.scheduled], for: "publish on schedule")
        guard let embargo = schedule.embargo, now >= embargo else {
            throw .invalid(field: "embargo", rule: "the embargo instant has not come yet")
        }
        return try publishedNow(now)
    }

    /// Withdraws the advisory before release.
    public func cancelled(_ now: Date) throws(Refusal) -> Advisory {
        try requireState([.draft, .scheduled], for: "cancel")
        var next = self
        next.state = .cancelled
        next.cancelledAt = now
        next.updatedAt = now
        return next
    }

    private func requireState(_ allowed: [AdvisoryState], for action: String) throws(Refusal) {
        guard allowed.contains(state) else {
            throw .illegalTransition(
                subject: "advisory \(id)", state: state.rawValue, action: action, allowedFrom: allowed.map(\.rawValue))
        }
    }

    private func bumped(_ now: Date) -> Advisory {
        var next = self
        next.revision += 1
        next.updatedAt = now
        return next
    }
}

/// An advisory as it was at one revision, kept for the history and for "who got which revision".
public struct AdvisoryRevision: Equatable, Sendable, Codable {
    /// The revision number this snapshot is of.
    public var revision: Int
    /// The advisory's state at that revision.
    public var state: AdvisoryState
    /// Its content at that revision.
    public var content: AdvisoryContent
    /// Its instants at that revision.
    public var schedule: Schedule
    /// Why, for the audit log and release managers only.
    public var reason: String
    /// What the private notice of this change told the providers.
    public var noteToProviders: String
    /// What the public page shows of this change after publication.
    public var publicNote: String
    /// Who made the change, as in the audit log (`cli:<user>`, `token:<name>`, `scheduler`).
    public var actor: String
    /// When the change was made.
    public var createdAt: Date

    /// A snapshot of `advisory` as it is now, with the words that came with the change.
    public init(of advisory: Advisory, notes: ChangeNotes, actor: String) {
        revision = advisory.revision
        state = advisory.state
        content = advisory.content
        schedule = advisory.schedule
        reason = notes.reason
        noteToProviders = notes.toProviders
        publicNote = notes.publicNote
        self.actor = actor
        createdAt = advisory.updatedAt
    }

    // Snapshots written before notes existed have none: their reason stays private.
    /// Decodes a stored snapshot.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        revision = try c.decode(Int.self, forKey: .revision)
        state = try c.decode(AdvisoryState.self, forKey: .state)
        content = try c.decode(AdvisoryContent.self, forKey: .content)
        schedule = try c.decode(Schedule.self, forKey: .schedule)
        reason = try c.decodeIfPresent(String.self, forKey: .reason) ?? ""
        noteToProviders = try c.decodeIfPresent(String.self, forKey: .noteToProviders) ?? ""
        publicNote = try c.decodeIfPresent(String.self, forKey: .publicNote) ?? ""
        actor = try c.decode(String.self, forKey: .actor)
        createdAt = try c.decode(Date.self, forKey: .createdAt)
    }
}

/// What the public page may show of a revision: when, and the public note. Nothing else of a
/// revision (its reason, its note to providers, who made it) is in this type, so no public
/// surface can show it by mistake.
public struct PublicRevision: Equatable, Sendable {
    /// Which revision this was.
    public var revision: Int
    /// When the change was made.
    public var createdAt: Date
    /// What the release manager chose to say in public; may be empty.
    public var publicNote: String

    /// The public part of `revision`; the rest of it is left behind.
    public init(_ revision: AdvisoryRevision) {
        self.revision = revision.revision
        createdAt = revision.createdAt
        publicNote = revision.publicNote
    }
}

/// The words that go with a change, each for its own audience (DESIGN.md, "Reasons have three
/// audiences"); nothing moves from one audience to another by itself.
public struct ChangeNotes: Equatable, Sendable {
    /// Why: the audit log and release managers only.
    public var reason: String
    /// Goes into the private notice to providers.
    public var toProviders: String
    /// Shown on the public page after publication.
    public var publicNote: String

    /// Validates the notes; with `reasonRequired`, an empty reason is refused (the audit log needs one).
    public init(reason: String = "", toProviders: String = "", publicNote: String = "", reasonRequired: Bool = false)
        throws(Refusal)
    {
        self.reason = try Validate.reason(reason, required: reasonRequired)
        self.toProviders = try Validate.text(toProviders, field: "note-to-providers", maxLength: 2000)
        self.publicNote = try Validate.text(publicNote, field: "public-note", maxLength: 2000)
    }

    /// No words at all (the scheduler's own changes).
    public static let none = try! ChangeNotes()
}
