import Foundation

/// Wakes a sleeping loop early: the scheduler rings it after a fan-out so the workers start at
/// once instead of at their next poll. A ring is also kept (as one) for the next wait: the
/// worker's ticker may be the only one waiting when the worker itself is about to sleep, and a
/// ring that woke only the ticker would leave the worker asleep until its poll.
public final class Doorbell: @unchecked Sendable {
    // All guarded by `lock`.
    private let lock = NSLock()
    private var pending = false
    private var waiters: [UUID: CheckedContinuation<Void, Never>] = [:]
    private var cancelledEarly: Set<UUID> = []

    /// A doorbell not yet rung.
    public init() {}

    /// How many wait now (for tests).
    var waiting: Int { lock.withLock { waiters.count } }

    /// Wakes every waiter, and the next one to wait.
    public func ring() {
        let woken = lock.withLock { () -> [CheckedContinuation<Void, Never>] in
            pending = true
            defer { waiters.removeAll() }
            return Array(waiters.values)
        }
        for waiter in woken { waiter.resume() }
    }

    /// Returns when rung, after `timeout`, or on cancellation, whichever is first.
    public func wait(timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: timeout) }
            group.addTask { await self.waitForRing() }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForRing() async {
        let id = UUID()
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let now = lock.withLock { () -> Bool in
                    if pending {
                        pending = false
                        return true
                    }
                    if cancelledEarly.remove(id) != nil { return true }
                    waiters[id] = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let waiting = lock.withLock { () -> CheckedContinuation<Void, Never>? in
                if let continuation = waiters.removeValue(forKey: id) { return continuation }
                cancelledEarly.insert(id)  // cancelled before it registered: don't let it wait
                return nil
            }
            waiting?.resume()
        }
        lock.withLock { _ = cancelledEarly.remove(id) }
    }
}
