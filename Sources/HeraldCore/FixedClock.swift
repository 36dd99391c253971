import Foundation

/// A clock that stands still: one request's "now", so that every rule checked while serving
/// it (an early notice "now", the embargo "in the future") agrees on the same instant.
public struct FixedClock: Clock {
    /// The instant it always reads.
    public let now: Date
    /// Creates a clock that always reads `now`.
    public init(_ now: Date) { self.now = now }
}
