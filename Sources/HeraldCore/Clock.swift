import Foundation

/// The source of "now". Injected everywhere so tests control time instead of sleeping.
public protocol Clock: Sendable {
    /// The current instant.
    var now: Date { get }
}

/// The wall clock of the machine.
public struct SystemClock: Clock {
    /// Creates the system clock.
    public init() {}
    /// The current instant, as the operating system reports it.
    public var now: Date { Date() }
}

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

/// A clock that stands still: one request's "now", so that every rule checked while serving
/// it (an early notice "now", the embargo "in the future") agrees on the same instant.
public struct FixedClock: Clock {
    /// The instant it always reads.
    public let now: Date
    /// Creates a clock that always reads `now`.
    public init(_ now: Date) { self.now = now }
}
