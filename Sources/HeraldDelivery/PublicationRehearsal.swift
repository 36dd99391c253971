import Foundation
import HeraldCore
import HeraldStore
import Logging

/// A publication rehearsed once when the scheduler and the delivery worker start, on their own
/// connections: a made-up project with a webhook and a mailing list, an advisory fired at its
/// instant and (for the worker) its webhook's row claimed and recorded, all in one transaction that is
/// rolled back. The first real publication after a start then finds its statements prepared
/// and its code paged in, as every later one does. In `scripts/bench` (1,000 endpoints, a fresh
/// `serve`) the first send began a median 9.2 ms after the instant with it (8 rounds), 11.8 ms
/// without (4 rounds); a second publication in the same `serve`, 5–7 ms.
///
/// Once after start, after the first look for what is due (a restart across an instant
/// publishes first), and only while no notice is due within a second: it holds the write lock
/// a few milliseconds, which must neither delay an instant nor, run ahead of one, hint that
/// it is near. It waits for another writer a quarter of a second at most (the scheduler's and
/// the worker's start together): on a database busy for longer the warm-up is skipped, and
/// nothing depends on it.
enum PublicationRehearsal {
    /// What the rehearsal did, for tests: notices fired and deliveries claimed.
    struct Report: Equatable {
        var fired: Int
        var claimed: Int
    }

    /// Runs it when no notice is due within a second; returns whether that was so (the caller
    /// asks again later if not). A failure (a busy database, say) is logged and changes nothing.
    static func warmUpIfQuiet(
        on database: Database, clock: any Clock, settings: OutboxSettings, claiming: Bool, logger: Logger
    ) -> Bool {
        do {
            let stores = Stores(database: database, clock: clock, settings: settings)
            if let next = try stores.advisories.nextDue(), next.timeIntervalSince(clock.now) < 1 { return false }
            _ = try run(on: database, clock: clock, settings: settings, claiming: claiming)
        } catch {
            logger.notice(
                "publication not rehearsed at start; the first one may take a few ms longer",
                metadata: ["error": "\(error)"])
        }
        return true
    }

    static func run(on database: Database, clock: any Clock, settings: OutboxSettings, claiming: Bool) throws -> Report
    {
        try database.rehearse(waitingAtMost: .milliseconds(250)) {
            let actor = "rehearsal"
            let start = clock.now
            let stores = Stores(database: database, clock: FixedClock(start), settings: settings)
            let slug = "herald-rehearsal-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
            _ = try stores.projects.add(NewProject(slug: slug, name: "Rehearsal"), actor: actor)
            for (kind, target) in [
                (ChannelKind.webhook, "https://rehearsal.invalid/hook"), (.email, "list@rehearsal.invalid"),
            ] {
                _ = try stores.channels.add(
                    NewChannel(projectSlug: slug, kind: kind, target: target, secret: nil), actor: actor)
            }
            let advisory = try stores.advisories.create(
                project: slug,
                content: AdvisoryContent(
                    title: "Rehearsal", summary: "A *rehearsed* publication.", body: "Rolled back:\n\n- never sent",
                    severity: .low),
                schedule: Schedule(embargo: start + 3600), actor: actor)
            // At its instant: the scheduler's own path, the due check included.
            let atInstant = Stores(database: database, clock: FixedClock(start + 3600), settings: settings)
            var failure: (any Error)?
            let fired = try atInstant.advisories.fireDue(
                actor: actor, skip: { $0 != advisory.id }, failed: { failure = $0.error })
            if let failure { throw failure }
            guard claiming else { return Report(fired: fired.count, claimed: 0) }
            // Its own webhook's host only (`.invalid` is never a real one): no real row is touched.
            let claimed = try atInstant.outbox.recordAndClaim(
                [], limit: 8, lease: 60, freeSlots: ["rehearsal.invalid": 8], perHost: 0)
            try atInstant.outbox.record(
                claimed.map { .delivered(id: $0.id, at: start + 3600, via: "webhook:rehearsal.invalid") })
            return Report(fired: fired.count, claimed: claimed.count)
        }
    }
}
