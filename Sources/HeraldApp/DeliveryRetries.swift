import Foundation
import HeraldCore

/// The outbox's queue as a release manager re-drives it.
public protocol DeliveryQueue {
    /// The state of delivery `id`, or nil when there is none.
    func state(ofDelivery id: Int64) throws -> DeliveryState?
    /// Makes delivery `id` pending at `at`, with a fresh set of attempts.
    func requeue(_ id: Int64, at: Date) throws
    /// Makes every dead delivery pending at `at`, with fresh attempts; returns how many.
    func requeueDead(at: Date) throws -> Int
}

/// Sending again what failed: one delivery (dead, or waiting to retry) or every dead one, now.
public struct DeliveryRetries {
    let work: any UnitOfWork
    let queue: any DeliveryQueue
    let audit: any AuditTrail
    let clock: any Clock

    /// Creates the use cases over their ports.
    public init(work: any UnitOfWork, queue: any DeliveryQueue, audit: any AuditTrail, clock: any Clock) {
        self.work = work
        self.queue = queue
        self.audit = audit
        self.clock = clock
    }

    /// Re-drives one delivery (dead or waiting to retry) now, with a fresh set of attempts; a
    /// delivered, pending or stopped one is refused.
    public func retry(_ id: Int64, actor: String) throws {
        let now = clock.now
        try work.write {
            guard let state = try queue.state(ofDelivery: id) else {
                throw Refusal.notFound(subject: "delivery", id: String(id))
            }
            let retriable: [DeliveryState] = [.dead, .retrying]
            guard retriable.contains(state) else {
                throw Refusal.illegalTransition(
                    subject: "delivery \(id)", state: state.rawValue, action: "retry",
                    allowedFrom: retriable.map(\.rawValue))
            }
            try queue.requeue(id, at: now)
            try audit.entry(
                "delivery.retry", subjectType: "delivery", subjectID: id, at: now, actor: actor, reason: "",
                details: ["from": state.rawValue])
        }
    }

    /// Re-drives every dead delivery now; returns how many.
    public func retryDead(actor: String) throws -> Int {
        let now = clock.now
        return try work.write {
            let count = try queue.requeueDead(at: now)
            try audit.entry(
                "delivery.retry-dead", subjectType: "delivery", subjectID: nil, at: now, actor: actor, reason: "",
                details: ["count": String(count)])
            return count
        }
    }
}
