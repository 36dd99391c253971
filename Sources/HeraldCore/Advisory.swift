import Foundation

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
