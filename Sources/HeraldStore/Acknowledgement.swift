import Foundation
import HeraldCore

/// A provider's acknowledgement of a notice.
public struct Acknowledgement: Codable, Sendable, Equatable {
    /// The provider's organisation.
    public var organization: String
    /// The kind of notice, such as `early-notice`.
    public var notice: String
    /// The advisory's revision the notice told of.
    public var revision: Int
    /// When the provider first acknowledged it.
    public var acknowledgedAt: Date
}
