import Foundation
import HeraldCore

/// What happened to one attempt.
public enum DeliveryOutcome: Sendable, Equatable {
    /// Sent; `via` says where to (`smtp://relay:587`, `maildir:./var/mail`).
    case delivered(id: Int64, at: Date, via: String)
    /// Failed; try again at `at`.
    case retry(id: Int64, at: Date, error: String)
    /// Failed for good (last attempt, or a permanent refusal).
    case dead(id: Int64, error: String)
    /// The endpoint answered 410 Gone: the delivery is dead and the endpoint disabled.
    case gone(id: Int64, url: String, error: String)
    /// Not attempted (shutting down): give the lease back.
    case released(id: Int64)
}
