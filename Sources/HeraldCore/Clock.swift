import Foundation

/// The source of "now". Injected everywhere so tests control time instead of sleeping.
public protocol Clock: Sendable {
    /// The current instant.
    var now: Date { get }
}
