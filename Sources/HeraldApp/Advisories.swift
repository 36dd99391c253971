import Foundation
import HeraldCore

/// The release managers' use cases on advisories and the clock's: create, reschedule, revise,
/// publish now, cancel, and fire what is due. Each is one transaction over the ports: the
/// change (a rule of `Advisory`), its revision and audit rows, and the notices it causes.
public struct Advisories {
    let work: any UnitOfWork
    let repository: any AdvisoryRepository
    let projects: any ProjectDirectory
    let outbox: any NoticeOutbox
    let audit: any AuditTrail
    let ids: any RandomIDs
    let clock: any Clock

    /// Creates the use cases over their ports.
    public init(
        work: any UnitOfWork, repository: any AdvisoryRepository, projects: any ProjectDirectory,
        outbox: any NoticeOutbox, audit: any AuditTrail, ids: any RandomIDs, clock: any Clock
    ) {
        self.work = work
        self.repository = repository
        self.projects = projects
        self.outbox = outbox
        self.audit = audit
        self.ids = ids
        self.clock = clock
    }

    /// The advisory with database id `id`, or a not-found refusal.
    public func get(_ id: Int64) throws -> Advisory { try repository.get(id) }

    /// Creates an advisory: scheduled when `schedule` has an embargo, a draft otherwise.
    /// `typedZone` is the zone the user wrote the instants in: refusals repeat them in it.
    /// `outsideWindow` is the reason to release outside the project's window (audited).
    public func create(
        project slug: String, content: AdvisoryContent, schedule: Schedule, actor: String, typedZone: TimeZone? = nil,
        outsideWindow: String? = nil
    ) throws -> Advisory {
        let now = clock.now
        let outsideWindow = try Self.windowReason(outsideWindow)
        return try work.write {
            let project = try projects.require(slug, field: "project")
            // Random, so the ids of embargoed advisories cannot be guessed from published ones.
            let publicID = "\(project.slug)-\(Instant.rfc3339(now).prefix(4))-\(ids.readableID(length: 6))"
            var advisory = try Advisory.new(
                projectSlug: project.slug, publicID: publicID, content: content, schedule: schedule,
                policy: project.embargoPolicy(sayingInstantsIn: typedZone, outsideWindow: outsideWindow), now: now)
            advisory.id = try repository.insert(
                advisory, projectID: project.id, actor: actor, action: "advisory.create")
            try auditOutsideWindow(advisory, project: project, reason: outsideWindow, actor: actor, now: now)
            return advisory
        }
    }

    /// Moves the embargo (and optionally the notices); earlier recipients get a revision.
    /// `outsideWindow` is the reason to release outside the project's window (audited).
    public func reschedule(
        _ id: Int64, to change: (Schedule) -> Schedule, notes: ChangeNotes, actor: String, typedZone: TimeZone? = nil,
        outsideWindow: String? = nil
    ) throws -> Advisory {
        try transition(
            id, notes: notes, actor: actor, typedZone: typedZone, outsideWindow: try Self.windowReason(outsideWindow),
            action: "advisory.reschedule", notice: .revision
        ) { advisory, policy, now throws(Refusal) in
            try advisory.rescheduled(change(advisory.schedule), policy: policy, now: now)
        }
    }

    /// Makes the early notice due now, so the scheduler sends it at once (as it sends every
    /// notice). Refused once it has gone out: moving it then would only send a revision that
    /// changes nothing.
    public func sendEarlyNoticeNow(_ id: Int64, actor: String) throws -> Advisory {
        let now = clock.now
        guard try !repository.sentClockNotices(of: id).contains(.earlyNotice) else {
            throw Refusal.conflict(
                field: "early-notice", rule: "the early notice of advisory \(id) has gone out already")
        }
        return try reschedule(
            id,
            to: {
                var schedule = $0
                schedule.earlyNotice = now
                return schedule
            }, notes: try ChangeNotes(reason: "early notice sent at once"), actor: actor)
    }

    /// Whether the early notice of the advisory has gone out.
    public func earlyNoticeSent(_ id: Int64) throws -> Bool {
        try repository.sentClockNotices(of: id).contains(.earlyNotice)
    }

    /// Changes the content; the revision grows and earlier recipients get it.
    public func revise(_ id: Int64, _ patch: AdvisoryPatch, notes: ChangeNotes, actor: String) throws -> Advisory {
        try transition(id, notes: notes, actor: actor, action: "advisory.revise", notice: .revision) {
            advisory, _, now throws(Refusal) in
            try advisory.revised(patch, now: now)
        }
    }

    /// Breaks the embargo: publishes now. The reason is required.
    public func publishNow(_ id: Int64, notes: ChangeNotes, actor: String) throws -> Advisory {
        _ = try Validate.reason(notes.reason, required: true)
        return try transition(id, notes: notes, actor: actor, action: "advisory.publish", notice: .publication) {
            advisory, _, now throws(Refusal) in
            try advisory.publishedNow(now)
        }
    }

    /// Cancels before release. The reason is required.
    public func cancel(_ id: Int64, notes: ChangeNotes, actor: String) throws -> Advisory {
        _ = try Validate.reason(notes.reason, required: true)
        return try transition(id, notes: notes, actor: actor, action: "advisory.cancel", notice: .cancellation) {
            advisory, _, now throws(Refusal) in
            try advisory.cancelled(now)
        }
    }

    /// Applies `step` to the advisory, saves it, and fans out `notice`: one transaction.
    private func transition(
        _ id: Int64, notes: ChangeNotes, actor: String, typedZone: TimeZone? = nil, outsideWindow: String? = nil,
        action: String, notice: NoticeKind, _ step: (Advisory, EmbargoPolicy, Date) throws(Refusal) -> Advisory
    ) throws -> Advisory {
        let now = clock.now
        return try work.write {
            let current = try repository.get(id)
            let project = try projects.require(current.projectSlug, field: "project")
            let next = try step(
                current, project.embargoPolicy(sayingInstantsIn: typedZone, outsideWindow: outsideWindow), now)
            try repository.update(next, previous: current, notes: notes, actor: actor, action: action)
            if next.schedule.embargo != current.schedule.embargo {
                try auditOutsideWindow(next, project: project, reason: outsideWindow, actor: actor, now: now)
            }
            try outbox.fanOut(notice, advisory: next, project: project, notes: notes, dueAt: nil, previous: current)
            return next
        }
    }

    /// A reason to release outside the window is a reason: bounded, and not empty when given.
    static func windowReason(_ text: String?) throws(Refusal) -> String? {
        guard let text else { return nil }
        let reason = try Validate.text(text, field: "outside-window", maxLength: 1000)
        guard !reason.isEmpty else {
            throw .invalid(field: "outside-window", rule: "say why the release is outside the window")
        }
        return reason
    }

    /// The audit row of a release instant set outside the project's window, with the reason.
    private func auditOutsideWindow(_ advisory: Advisory, project: Project, reason: String?, actor: String, now: Date)
        throws
    {
        guard let reason, let window = project.releaseWindow, let embargo = advisory.schedule.embargo,
            !window.contains(embargo, in: project.zone)
        else { return }
        try audit.entry(
            "advisory.outside-window", subjectType: "advisory", subjectID: advisory.id, at: now, actor: actor,
            reason: reason, details: ["embargo": Instant.utc(embargo), "window": "\(window) \(project.timezone)"])
    }

    // MARK: - The clock's notices

    /// A notice the scheduler fired.
    public struct Fired: Sendable, Equatable {
        /// Database id of the advisory.
        public var advisoryID: Int64
        /// Which notice fired.
        public var kind: NoticeKind
        /// How long after its instant it fired.
        public var lag: TimeInterval
    }

    /// A notice that could not be fired this pass; the scheduler logs it and tries again.
    public struct Failure: Error, Sendable {
        /// Database id of the advisory.
        public var advisoryID: Int64
        /// The notice that was due.
        public var kind: NoticeKind
        /// Why it could not be fired.
        public var error: any Error
    }

    /// Fires every notice due now (Schedule.due decides which), each in its own transaction:
    /// state change, outbox rows, audit row. An advisory whose release instant has passed is
    /// published and gets no early notice or pre-announcement any more: they would come after
    /// the fact. A notice that fails is reported to `failed` and the others still fire;
    /// advisories `skip` names wait (the scheduler's backoff after a failure); `beforeFire`
    /// runs between choosing a notice and firing it (tests use it to change the advisory in that gap);
    /// `publishing` runs inside a publication's transaction once it is decided, before its
    /// notices are written (the scheduler connects to its endpoints then).
    public func fireDue(
        actor: String = "scheduler", skip: (Int64) -> Bool = { _ in false }, failed: (Failure) -> Void = { _ in },
        beforeFire: (Int64, NoticeKind) throws -> Void = { _, _ in }, publishing: (Int64) -> Void = { _ in }
    ) throws -> [Fired] {
        let now = clock.now
        var fired: [Fired] = []
        let due = try repository.scheduled().compactMap { advisory in
            advisory.due(at: now).map { (advisory.id, $0) }
        }
        for (id, kind) in due where !skip(id) {
            do {
                try beforeFire(id, kind)
                if let one = try fire(kind, advisory: id, now: now, actor: actor, publishing: publishing) {
                    fired.append(one)
                }
            } catch {
                failed(Failure(advisoryID: id, kind: kind, error: error))
            }
        }
        return fired
    }

    /// The next instant at which `fireDue` will have something to do, or nil.
    public func nextDue() throws -> Date? {
        try repository.scheduled().compactMap(\.nextInstant).min()
    }

    private func fire(
        _ kind: NoticeKind, advisory id: Int64, now: Date, actor: String, publishing: (Int64) -> Void
    ) throws -> Fired? {
        try work.write {
            let current = try repository.get(id)
            // Decided again inside the transaction, by the same rule: a reschedule, revision or
            // cancellation may have committed since the notice was chosen, and then it is not due
            // (or not this one).
            let project = try projects.require(current.projectSlug, field: "project")
            guard current.state == .scheduled, let embargo = current.schedule.embargo,
                try current.schedule.due(
                    at: now, sent: repository.sentClockNotices(of: id), chasing: project.chasing,
                    finalNoticeSentFor: repository.finalNoticeSentFor(id)) == kind
            else { return nil }
            let instant: Date
            switch kind {
            case .publication:
                publishing(id)
                let published = try current.publishedOnSchedule(now)
                try repository.update(
                    published, previous: current, notes: .none, actor: actor, action: "advisory.publish")
                try outbox.fanOut(
                    .publication, advisory: published, project: project, notes: .none, dueAt: embargo, previous: nil)
                instant = embargo
            case .earlyNotice:
                instant = current.schedule.earlyNotice ?? now
                try outbox.fanOut(
                    .earlyNotice, advisory: current, project: project, notes: .none, dueAt: instant, previous: nil)
                try audit.advisoryAction(
                    "advisory.early-notice", advisory: id, at: now, actor: actor,
                    details: ["revision": String(current.revision)])
            case .reminder, .finalNotice:
                instant =
                    (kind == .reminder
                        ? project.chasing.reminder(for: current.schedule)
                        : project.chasing.finalNotice(for: current.schedule)) ?? now
                // A final notice is recorded with the release it came before: it goes again only
                // when the release moves.
                try outbox.fanOut(
                    kind, advisory: current, project: project, notes: .none,
                    dueAt: kind == .finalNotice ? embargo : instant, previous: nil)
                try audit.advisoryAction(
                    "advisory.\(kind.rawValue)", advisory: id, at: now, actor: actor,
                    details: ["revision": String(current.revision)])
            default:
                instant = current.schedule.preAnnounce ?? now
                try outbox.fanOut(
                    .preAnnouncement, advisory: current, project: project, notes: .none, dueAt: instant,
                    previous: nil)
                try audit.advisoryAction(
                    "advisory.pre-announce", advisory: id, at: now, actor: actor,
                    details: ["revision": String(current.revision)])
            }
            return Fired(advisoryID: id, kind: kind, lag: now.timeIntervalSince(instant))
        }
    }
}
