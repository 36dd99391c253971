import Foundation

/// Rows a fan-out leased as it wrote them, handed in memory to the delivery worker of the same
/// process once their transaction commits: a publication's endpoints are then sent to without
/// the worker claiming them, so its claims never wait behind the shares the scheduler writes
/// (each held the write lock 1-3 ms while the engine ran dry), and its first sends start at
/// the commit, not at the worker's next look. A handed row is leased and counted as an attempt
/// in the database like a claimed one: a crash loses nothing, the next start releases it.
///
/// The worker says how many more rows it would hold, in all and of each host, by the rule its
/// claims keep (`WorkerSettings`): a share is leased only when it fits both, else it is written
/// unleased for the worker to claim as ever. So a slow host fills its own backlog, never the
/// others' room, and nothing waits here longer than a claimed row would.
public final class DeliveryHandoff: @unchecked Sendable {
    // All guarded by `lock`.
    private let lock = NSLock()
    private var handed: [ClaimedDelivery] = []
    private var room = 0
    private var roomOfHost: [String: Int] = [:]
    private var roomOfOtherHosts = 0
    private var lease: TimeInterval = 0
    private var isOpen = false
    private let ring: @Sendable () -> Void

    /// A closed handoff; `ring` wakes the worker when rows are handed.
    public init(ring: @escaping @Sendable () -> Void = {}) {
        self.ring = ring
    }

    /// The worker takes rows from now on, each leased for `lease` seconds.
    public func open(lease: TimeInterval) {
        lock.withLock {
            isOpen = true
            self.lease = lease
        }
    }

    /// The worker stops: no row is leased for it any more; returns those handed and not taken,
    /// whose leases it gives back.
    public func close() -> [ClaimedDelivery] {
        lock.withLock {
            isOpen = false
            room = 0
            roomOfHost = [:]
            roomOfOtherHosts = 0
            defer { handed = [] }
            return handed
        }
    }

    /// The worker would hold `free` more rows now, `perHost` more of the hosts named and
    /// `otherHosts` of any other; the rows handed and not yet taken are counted here.
    public func offer(room free: Int, perHost: [String: Int], otherHosts: Int) {
        lock.withLock {
            guard isOpen else { return }
            room = free - handed.count
            roomOfHost = perHost
            roomOfOtherHosts = otherHosts
            for delivery in handed { roomOfHost[delivery.host, default: otherHosts] -= 1 }
        }
    }

    /// For a writer about to write at most `rows[host]` rows of each host: the lease to write
    /// them with, taken from the room the worker offered; nil when they do not fit (they are
    /// written unleased).
    func reserve(_ rows: [String: Int]) -> TimeInterval? {
        lock.withLock {
            let count = rows.values.reduce(0, +)
            guard isOpen, count > 0, room >= count,
                rows.allSatisfy({ host, count in roomOfHost[host, default: roomOfOtherHosts] >= count })
            else { return nil }
            room -= count
            for (host, count) in rows { roomOfHost[host, default: roomOfOtherHosts] -= count }
            return lease
        }
    }

    /// Hands over rows leased by a committed transaction. A worker stopped meanwhile leaves
    /// them leased in the database, for the next start to release and send.
    func hand(_ rows: [ClaimedDelivery]) {
        guard !rows.isEmpty else { return }
        let taken = lock.withLock {
            guard isOpen else { return false }
            handed += rows
            return true
        }
        if taken { ring() }
    }

    /// The rows handed since the last call, for the worker to send.
    public func take() -> [ClaimedDelivery] {
        lock.withLock {
            guard !handed.isEmpty else { return [] }
            defer { handed = [] }
            return handed
        }
    }
}
