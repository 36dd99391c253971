import Foundation

/// The messages Herald sends. Each carries the advisory's revision number.
public enum NoticeKind: String, Codable, Sendable, CaseIterable {
    /// Private: full details to approved providers before the release.
    case earlyNotice = "early-notice"
    /// Private: the date or content changed; to everyone who had an earlier revision.
    case revision
    /// Public: date, time and severity only.
    case preAnnouncement = "pre-announcement"
    /// Public channels get the advisory; providers get "now public".
    case publication
    /// The advisory was withdrawn.
    case cancellation
    /// Double opt-in: confirm the subscription.
    case confirmation
    /// The provider was approved.
    case welcome
    /// `herald channel test`.
    case channelTest = "channel-test"
    /// One address of an organisation left the list; its other addresses are told.
    case contactLeft = "contact-left"
    /// To the release managers: a private notice is failing, or undelivered near the release.
    case alert
    /// The provider portal's single-use sign-in link, to the address that asked.
    case signIn = "sign-in"
    /// Private: to participants who have neither acknowledged nor answered, some time after the early notice.
    case reminder
    /// Private: to every participant, some time before the release (the project's --final-notice).
    case finalNotice = "final-notice"
    /// Private: to one participant, its proposal of another instant declined, with the release managers' note.
    case proposalDeclined = "proposal-declined"

    /// Whether this notice, sent to providers, carries embargoed details.
    public var isEmbargoed: Bool {
        self == .earlyNotice || self == .revision || self == .reminder || self == .finalNotice
    }
}
