import Foundation
import HeraldCore

/// A delivery as `advisory show` and `deliveries list` show it.
public struct DeliveryRecord: Sendable, Equatable, Codable {
    /// Database id.
    public var id: Int64
    /// Database id of the notice it carries.
    public var noticeID: Int64
    /// The notice's kind, such as `early-notice` or `publication`.
    public var notice: String
    /// Database id of the advisory; nil for a message about none (a confirmation, a channel test).
    public var advisoryID: Int64?
    /// The advisory's revision the notice told of; 0 for a message about no advisory.
    public var revision: Int
    /// The provider it goes to; nil for a public channel or the release managers' address.
    public var organization: String?
    /// E-mail or webhook.
    public var transport: TransportKind
    /// An e-mail address, or a webhook's URL by fingerprint (the URL may be the credential).
    public var recipient: String
    /// Pending, retrying, delivered or dead.
    public var state: DeliveryState
    /// Attempts made so far.
    public var attempts: Int
    /// Why the last attempt failed; nil once delivered.
    public var lastError: String?
    /// When it is tried next; nil unless pending or retrying.
    public var nextAttemptAt: Date?
    /// When it was delivered.
    public var deliveredAt: Date?
    /// Where it went, as the transport names it: `smtp://relay:587`, `maildir:./var/mail`, `webhook`.
    public var deliveredVia: String?
    /// When the fan-out wrote it.
    public var createdAt: Date
}
