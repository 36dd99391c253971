import Foundation

/// A clock that only moves when told to; for tests.
public final class ManualClock: Clock, @unchecked Sendable {
    // Guarded by `lock`; a class so that every holder sees the same time.
    private let lock = NSLock()
    private var current: Date

    /// Creates a clock standing at `start`.
    public init(_ start: Date) { current = start }

    /// The instant the clock stands at.
    public var now: Date { lock.withLock { current } }

    /// Moves the clock forward (or backward) by `seconds`.
    public func advance(by seconds: TimeInterval) { lock.withLock { current += seconds } }

    /// Sets the clock to `instant`.
    public func set(_ instant: Date) { lock.withLock { current = instant } }
}
