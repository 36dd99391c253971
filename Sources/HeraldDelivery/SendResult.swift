import Crypto
import Foundation
import HeraldCore
import HeraldStore

/// How one attempt went, as a transport sees it; the worker turns it into an outcome.
public enum SendResult: Sendable, Equatable {
    case delivered
    /// Worth another try, after at least `retryAfter` seconds if the receiver said so.
    case failed(String, retryAfter: TimeInterval?)
    /// Will fail however often it is tried.
    case permanent(String)
    /// Never attempted (the service is stopping): the delivery goes back as it was.
    case notAttempted
    /// The endpoint is gone (HTTP 410): stop sending to it.
    case gone(String)
}
