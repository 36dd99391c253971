import Foundation

/// Who a notice is for; decides how much of an embargoed advisory it may say.
public enum Audience: Sendable, Equatable {
    /// An approved provider: may read embargoed details.
    case provider(organization: String)
    /// A public channel: only what is public at the time of sending.
    case publicChannel
}
