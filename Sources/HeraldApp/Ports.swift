import Foundation
import HeraldCore

/// One transaction: what `body` writes commits together, or nothing of it does.
public protocol UnitOfWork {
    /// Runs `body` in a transaction; an error rolls everything back.
    func write<T>(_ body: () throws -> T) throws -> T
}

/// Advisories as stored: the SQLite adapter implements it.
public protocol AdvisoryRepository {
    /// The advisory with database id `id`, or a not-found refusal.
    func get(_ id: Int64) throws -> Advisory
    /// Writes a new advisory of `projectID` with its audit row; returns its database id.
    func insert(_ advisory: Advisory, projectID: Int64, actor: String, action: String) throws -> Int64
    /// Writes a change: the advisory, a revision row when the revision grew, and the audit row
    /// with the reason (`notes.reason`).
    func update(_ advisory: Advisory, previous: Advisory, notes: ChangeNotes, actor: String, action: String) throws
    /// Every scheduled advisory with a release instant, with the clock's notices it has sent.
    func scheduled() throws -> [ScheduledAdvisory]
    /// The clock's notices (early notice, pre-announcement, reminder) advisory `id` has sent.
    func sentClockNotices(of id: Int64) throws -> Set<NoticeKind>
    /// The release instant the newest final notice of advisory `id` came before, if any.
    func finalNoticeSentFor(_ id: Int64) throws -> Date?
}

/// A scheduled advisory as the scheduler sees it.
public struct ScheduledAdvisory: Equatable, Sendable {
    /// Database id.
    public var id: Int64
    /// Its instants.
    public var schedule: Schedule
    /// The clock's notices it has sent.
    public var sent: Set<NoticeKind>
    /// How its project chases participants.
    public var chasing: Chasing
    /// The release instant its newest final notice came before.
    public var finalNoticeSentFor: Date?

    /// Creates the value.
    public init(
        id: Int64, schedule: Schedule, sent: Set<NoticeKind>, chasing: Chasing = .none, finalNoticeSentFor: Date? = nil
    ) {
        self.id = id
        self.schedule = schedule
        self.sent = sent
        self.chasing = chasing
        self.finalNoticeSentFor = finalNoticeSentFor
    }

    /// The notice due at `now`, by Schedule's one rule.
    public func due(at now: Date) -> NoticeKind? {
        schedule.due(at: now, sent: sent, chasing: chasing, finalNoticeSentFor: finalNoticeSentFor)
    }

    /// When a notice is next due.
    public var nextInstant: Date? {
        schedule.nextInstant(sent: sent, chasing: chasing, finalNoticeSentFor: finalNoticeSentFor)
    }
}

/// Projects, looked up by slug.
public protocol ProjectDirectory {
    /// The project with `slug`, or a refusal naming `field`.
    func require(_ slug: String, field: String) throws -> Project
    /// Every project.
    func list() throws -> [Project]
}

/// Where notices go out: the fan-out writer, inside the current transaction.
public protocol NoticeOutbox {
    /// Writes `kind` about `advisory` and one delivery per recipient (the fan-out plan's);
    /// returns the notice's id, or nil when it was sent already for this revision.
    @discardableResult
    func fanOut(
        _ kind: NoticeKind, advisory: Advisory, project: Project, notes: ChangeNotes, dueAt: Date?,
        previous: Advisory?
    ) throws -> Int64?
}

/// The audit log.
public protocol AuditTrail {
    /// Records one action on an advisory.
    func advisoryAction(_ action: String, advisory: Int64, at: Date, actor: String, details: [String: String]) throws
    /// Records one action on any subject, with the reason.
    func entry(
        _ action: String, subjectType: String, subjectID: Int64?, at: Date, actor: String, reason: String,
        details: [String: String]) throws
}

/// Randomness: the ids no one may guess.
public protocol RandomIDs {
    /// `length` characters a person can read out without confusion (`k3v9qa`).
    func readableID(length: Int) -> String
}
