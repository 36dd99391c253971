import Foundation

/// Rows a fan-out leased as it wrote them, handed in memory to the delivery worker of the same
/// process once their transaction commits: a publication's endpoints are then sent to without
/// the worker claiming them, so its claims never wait behind the shares the scheduler writes
/// (each held the write lock 1-3 ms while the engine ran dry), and its first sends start at
/// the commit, not at the worker's next look. A handed row is leased and counted as an attempt
/// in the database like a claimed one: a crash loses nothing, the next start releases it.
///
/// The worker says how many more rows it would hold, in all and of each host, by the rule its
/// claims keep (`WorkerSettings`): a share is cut to the rows that fit both, when enough do,
/// else it is written whole and unleased for the worker to claim as ever. So a slow host fills
/// its own backlog, never the others' room, and nothing waits here longer than a claimed row would.
public final class DeliveryHandoff: @unchecked Sendable {
    // All guarded by `lock`.
    private let lock = NSLock()
    private var handed: [ClaimedDelivery] = []
    private var room = 0
    private var roomOfHost: [String: Int] = [:]
    private var roomOfOtherHosts = 0
    private var lease: TimeInterval = 0
    private var isOpen = false
    private var isSending = false
    private var wake: @Sendable () -> Void = {}
    private let ring: @Sendable () -> Void

    /// A closed handoff; `ring` wakes an idle worker when rows are handed (its doorbell).
    public init(ring: @escaping @Sendable () -> Void = {}) {
        self.ring = ring
    }

    /// The worker takes rows from now on, each leased for `lease` seconds; `wake` wakes it
    /// while it is sending. Not its doorbell then: a ring says rows may be due to be claimed,
    /// and each share handed made the worker look for some in a claim that found none
    /// (0.1-1.4 ms each, on the thread that starts the sends, several per 1,000-endpoint fan-out).
    public func open(lease: TimeInterval, wake: @escaping @Sendable () -> Void) {
        lock.withLock {
            isOpen = true
            self.lease = lease
            self.wake = wake
        }
    }

    /// The worker stops: no row is leased for it any more; returns those handed and not taken,
    /// whose leases it gives back.
    public func close() -> [ClaimedDelivery] {
        lock.withLock {
            isOpen = false
            isSending = false
            wake = {}
            room = 0
            roomOfHost = [:]
            roomOfOtherHosts = 0
            defer { handed = [] }
            return handed
        }
    }

    /// The worker would hold `free` more rows now, `perHost` more of the hosts named and
    /// `otherHosts` of any other; the rows handed and not yet taken are counted here. `sending`:
    /// it has sends in flight (it is woken by `wake`), else it waits for its doorbell. Returns
    /// whether rows are waiting to be taken: handed after the worker last took them and before
    /// this offer, they woke it by `wake` while it meant to sleep on its doorbell.
    @discardableResult
    public func offer(room free: Int, perHost: [String: Int], otherHosts: Int, sending: Bool) -> Bool {
        lock.withLock {
            guard isOpen else { return false }
            isSending = sending
            room = free - handed.count
            roomOfHost = perHost
            roomOfOtherHosts = otherHosts
            for delivery in handed { roomOfHost[delivery.host, default: otherHosts] -= 1 }
            return !handed.isEmpty
        }
    }

    /// For a writer about to write rows to `hosts`, in this order: how many of the first it
    /// leases, taken from the room the worker offered in all and of each host, and the lease to
    /// write them with. Nil when fewer than `minimum` fit (and not all do): they are written
    /// unleased, for the worker to claim.
    func reserve(prefixOf hosts: [String], atLeast minimum: Int) -> (count: Int, lease: TimeInterval)? {
        lock.withLock {
            guard isOpen else { return nil }
            var taken: [String: Int] = [:]
            var count = 0
            for host in hosts.prefix(max(0, room)) {
                guard taken[host, default: 0] < roomOfHost[host, default: roomOfOtherHosts] else { break }
                taken[host, default: 0] += 1
                count += 1
            }
            guard count > 0, count >= min(minimum, hosts.count) else { return nil }
            room -= count
            for (host, rows) in taken { roomOfHost[host, default: roomOfOtherHosts] -= rows }
            return (count, lease)
        }
    }

    /// Hands over rows leased by a committed transaction. A worker stopped meanwhile leaves
    /// them leased in the database, for the next start to release and send.
    func hand(_ rows: [ClaimedDelivery]) {
        guard !rows.isEmpty else { return }
        let waking = lock.withLock { () -> (@Sendable () -> Void)? in
            guard isOpen else { return nil }
            handed += rows
            return isSending ? wake : ring
        }
        waking?()
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
