import Foundation
import HeraldCore
import Testing

@testable import HeraldApp

/// The advisory use cases over ports held in memory: the rules of a change and its notices,
/// tested without SQLite.
final class Memory: UnitOfWork, AdvisoryRepository, ProjectDirectory, NoticeOutbox, AuditTrail, RandomIDs {
    var project = Project(
        id: 1, slug: "demo", name: "Demo", timezone: "Europe/Amsterdam", maxEmbargoDays: 14,
        createdAt: Date(timeIntervalSince1970: 0))
    var advisories: [Int64: Advisory] = [:]
    var notices: [(kind: NoticeKind, advisory: Int64, revision: Int, previous: Int?)] = []
    var audit: [String] = []
    var failFanOut = false

    func write<T>(_ body: () throws -> T) throws -> T {
        let saved = (advisories, notices, audit)
        do { return try body() } catch {
            (advisories, notices, audit) = saved
            throw error
        }
    }

    func get(_ id: Int64) throws -> Advisory {
        guard let advisory = advisories[id] else { throw Refusal.notFound(subject: "advisory", id: String(id)) }
        return advisory
    }

    func insert(_ advisory: Advisory, projectID: Int64, actor: String, action: String) throws -> Int64 {
        let id = Int64(advisories.count + 1)
        var stored = advisory
        stored.id = id
        advisories[id] = stored
        audit.append(action)
        return id
    }

    func update(_ advisory: Advisory, previous: Advisory, notes: ChangeNotes, actor: String, action: String) throws {
        advisories[advisory.id] = advisory
        audit.append(action)
    }

    func scheduled() throws -> [ScheduledAdvisory] {
        advisories.values.filter { $0.state == .scheduled }.sorted { $0.id < $1.id }.map {
            ScheduledAdvisory(id: $0.id, schedule: $0.schedule, sent: try! sentClockNotices(of: $0.id))
        }
    }

    func sentClockNotices(of id: Int64) throws -> Set<NoticeKind> {
        Set(
            notices.filter { $0.advisory == id && ($0.kind == .earlyNotice || $0.kind == .preAnnouncement) }.map(\.kind)
        )
    }

    func finalNoticeSentFor(_ id: Int64) throws -> Date? { nil }

    func require(_ slug: String, field: String) throws -> Project {
        guard slug == project.slug else { throw Refusal.invalid(field: field, rule: "no project '\(slug)'") }
        return project
    }

    func list() throws -> [Project] { [project] }

    func fanOut(
        _ kind: NoticeKind, advisory: Advisory, project: Project, notes: ChangeNotes, dueAt: Date?,
        previous: Advisory?
    ) throws -> Int64? {
        if failFanOut { throw Refusal.invalid(field: "outbox", rule: "disk full, say") }
        notices.append((kind, advisory.id, advisory.revision, previous?.revision))
        return Int64(notices.count)
    }

    func advisoryAction(_ action: String, advisory: Int64, at: Date, actor: String, details: [String: String]) throws {
        audit.append(action)
    }

    func entry(
        _ action: String, subjectType: String, subjectID: Int64?, at: Date, actor: String, reason: String,
        details: [String: String]
    ) throws {
        audit.append(action)
    }

    func readableID(length: Int) -> String { String(repeating: "k", count: length) }
}

@Suite struct AdvisoriesTests {
    let memory = Memory()
    let clock = ManualClock(Date(timeIntervalSince1970: 1_800_000_000))
    var advisories: Advisories {
        Advisories(
            work: memory, repository: memory, projects: memory, outbox: memory, audit: memory, ids: memory, clock: clock
        )
    }

    func scheduled(earlyNotice: TimeInterval? = nil, preAnnounce: TimeInterval? = nil) throws -> Advisory {
        try advisories.create(
            project: "demo", content: AdvisoryContent(title: "Overflow"),
            schedule: Schedule(
                embargo: clock.now + 3 * 3600, earlyNotice: earlyNotice.map { clock.now + $0 },
                preAnnounce: preAnnounce.map { clock.now + $0 }), actor: "test")
    }

    @Test func aChangeAndTheNoticesItCausesAreOneTransaction() throws {
        let advisory = try scheduled()
        #expect(advisory.publicID == "demo-2027-kkkkkk")
        memory.failFanOut = true
        #expect(throws: Refusal.self) {
            try advisories.reschedule(
                advisory.id,
                to: {
                    var s = $0
                    s.embargo! += 3600
                    return s
                }, notes: .none, actor: "test")
        }
        #expect(try memory.get(advisory.id) == advisory, "the change rolled back with its notice")
        #expect(memory.audit == ["advisory.create"])

        memory.failFanOut = false
        let moved = try advisories.reschedule(
            advisory.id,
            to: {
                var s = $0
                s.embargo! += 3600
                return s
            }, notes: .none, actor: "test")
        #expect(moved.revision == 2)
        #expect(
            memory.notices.map(\.kind) == [.revision] && memory.notices.first?.previous == 1,
            "a revision says what it revises")
    }

    @Test func breakingTheEmbargoOrCancellingNeedsAReasonAndWritesNothingWithout() throws {
        let advisory = try scheduled()
        #expect(throws: Refusal.self) { try advisories.publishNow(advisory.id, notes: .none, actor: "test") }
        #expect(throws: Refusal.self) { try advisories.cancel(advisory.id, notes: .none, actor: "test") }
        #expect(memory.notices.isEmpty && memory.audit == ["advisory.create"])
        let published = try advisories.publishNow(
            advisory.id, notes: try ChangeNotes(reason: "it leaked"), actor: "test")
        #expect(published.state == .published && memory.notices.map(\.kind) == [.publication])
    }

    @Test func theClockFiresEachNoticeOnceInOrderAndNeverLate() throws {
        let advisory = try scheduled(earlyNotice: 3600, preAnnounce: 2 * 3600)
        #expect(try advisories.fireDue().isEmpty)
        #expect(try advisories.nextDue() == clock.now + 3600)
        clock.advance(by: 3600)
        #expect(try advisories.fireDue().map(\.kind) == [.earlyNotice])
        #expect(try advisories.fireDue().isEmpty, "once")
        clock.advance(by: 3600)
        #expect(try advisories.fireDue().map(\.kind) == [.preAnnouncement])
        clock.advance(by: 3600 + 5)
        let fired = try advisories.fireDue()
        #expect(fired.map(\.kind) == [.publication] && fired.first?.lag == 5)
        #expect(try advisories.get(advisory.id).state == .published)
        #expect(try advisories.nextDue() == nil)
        #expect(
            memory.audit == ["advisory.create", "advisory.early-notice", "advisory.pre-announce", "advisory.publish"])
    }

    @Test func aChangeBetweenChoosingAndFiringIsSeenInsideTheTransaction() throws {
        let advisory = try scheduled(earlyNotice: 3600)
        clock.advance(by: 3600)
        var failures: [Advisories.Failure] = []
        // Cancelled in the gap: the early notice is no longer due and nothing fires, without error.
        let fired = try advisories.fireDue(
            failed: { failures.append($0) },
            beforeFire: { id, _ in
                _ = try advisories.cancel(id, notes: try ChangeNotes(reason: "withdrawn"), actor: "test")
            })
        #expect(fired.isEmpty && failures.isEmpty)
        #expect(try advisories.get(advisory.id).state == .cancelled)
        #expect(!memory.notices.contains { $0.kind == .earlyNotice })
    }

    /// `publishing` (where the scheduler connects to a publication's endpoints) runs only once
    /// the publication is decided inside its transaction, before its notices are written: not
    /// for one rescheduled between choosing and firing, whose endpoints must learn nothing early.
    @Test func aPublicationIsAnnouncedToItsSendersOnlyOnceDecided() throws {
        let advisory = try scheduled()
        clock.advance(by: 3 * 3600)
        var publishing: [(id: Int64, noticesThen: Int)] = []
        let fired = try advisories.fireDue(
            beforeFire: { id, _ in
                _ = try advisories.reschedule(
                    id,
                    to: {
                        var s = $0
                        s.embargo! += 3600
                        return s
                    }, notes: .none, actor: "test")
            },
            publishing: { publishing.append(($0, memory.notices.count)) })
        #expect(fired.isEmpty && publishing.isEmpty)
        clock.advance(by: 3600)
        let noticesBefore = memory.notices.count
        let published = try advisories.fireDue(publishing: { publishing.append(($0, memory.notices.count)) })
        #expect(published.map(\.kind) == [.publication])
        #expect(publishing.map(\.id) == [advisory.id])
        #expect(publishing.first?.noticesThen == noticesBefore, "called after the publication's notices were written")
        #expect(memory.notices.count > noticesBefore)
    }

    @Test func anInstantOutsideTheReleaseWindowNeedsAReasonWhichIsAudited() throws {
        memory.project.releaseWindow = try ReleaseWindow("Tue-Thu 14:00-17:00")
        // 1_800_000_000 is Friday 15 January 2027, 08:00 UTC; a release that afternoon is outside.
        let friday = Schedule(embargo: clock.now + 7 * 3600)
        #expect(throws: Refusal.self) {
            try advisories.create(project: "demo", content: AdvisoryContent(title: "X"), schedule: friday, actor: "rm")
        }
        #expect(throws: Refusal.self, "a reason is words") {
            try advisories.create(
                project: "demo", content: AdvisoryContent(title: "X"), schedule: friday, actor: "rm", outsideWindow: " "
            )
        }
        #expect(memory.advisories.isEmpty && memory.audit.isEmpty)
        let advisory = try advisories.create(
            project: "demo", content: AdvisoryContent(title: "X"), schedule: friday, actor: "rm",
            outsideWindow: "the distributions asked for Friday")
        #expect(memory.audit.contains("advisory.outside-window"))
        // Moved into the window (Tuesday 19 January, 15:00 Amsterdam): no reason needed, none recorded.
        let before = memory.audit.filter { $0 == "advisory.outside-window" }.count
        _ = try advisories.reschedule(
            advisory.id,
            to: {
                var s = $0
                s.embargo = Date(timeIntervalSince1970: 1_800_000_000 + 4 * 86_400 + 6 * 3600)
                return s
            },
            notes: .none, actor: "rm")
        #expect(memory.audit.filter { $0 == "advisory.outside-window" }.count == before)
    }
}
