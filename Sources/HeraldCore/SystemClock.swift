import Foundation

/// The wall clock of the machine.
public struct SystemClock: Clock {
    /// Creates the system clock.
    public init() {}
    /// The current instant, as the operating system reports it.
    public var now: Date { Date() }
}
