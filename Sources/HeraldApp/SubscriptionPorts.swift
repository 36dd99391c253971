import Foundation
import HeraldCore

/// What a link in a message does.
public enum LinkPurpose: String, Sendable {
    case ack, unsubscribe, confirm
}

/// A link token as stored: whose it is, and what it is about.
public struct LinkUse: Sendable, Equatable {
    /// The provider it belongs to.
    public var provider: Int64
    /// The notice it came with, if any (acknowledgements).
    public var notice: Int64?
    /// The address it speaks for, if any (unsubscribe and acknowledgement links are per address).
    public var email: String?

    /// Creates the value.
    public init(provider: Int64, notice: Int64?, email: String?) {
        self.provider = provider
        self.notice = notice
        self.email = email
    }
}

/// Single-purpose link tokens, stored only as their hash.
public protocol LinkTokens {
    /// A new token of `purpose` for `provider`, valid until `expires` (nil: no expiry).
    func issueLink(_ purpose: LinkPurpose, provider: Int64, notice: Int64?, expires: Date?, email: String?) throws
        -> String
    /// The link behind `token` when it is of `purpose`, unused and unexpired at `now`, else nil;
    /// `consume` marks it used.
    func useLink(_ token: String, purpose: LinkPurpose, at now: Date, consume: Bool) throws -> LinkUse?
}

/// The providers on the list: the rows. Which change is allowed is the use cases' to decide.
public protocol ProviderRoster {
    /// The provider with database id `id`.
    func get(_ id: Int64) throws -> Provider
    /// Writes a provider with `status`, its addresses, webhooks (each with a new signing
    /// secret) and follows of `projectIDs`; returns its database id. No audit row.
    func insert(_ provider: NewProvider, status: ProviderStatus, projectIDs: [Int64], at: Date) throws -> Int64
    /// Sets a provider's status; no audit row.
    func setStatus(_ id: Int64, to status: ProviderStatus, at: Date) throws
    /// Takes one address off a provider, with its audit row.
    func removeContact(_ id: Int64, address: String, at: Date, actor: String, reason: String) throws
    /// Marks requests made before `cutoff` and never confirmed as removed; returns how many.
    func expireUnconfirmed(before cutoff: Date, at now: Date) throws -> Int
    /// Ends the portal sessions of `provider`, or of its address `address` only.
    func endPortalSessions(ofProvider provider: Int64, address: String?, at: Date) throws
}

/// The messages self-service sends to a provider's own addresses.
public protocol ProviderMail {
    /// The double opt-in message with its confirmation link.
    func sendConfirmation(to provider: Provider, address: String, link: String) throws
    /// Tells the provider's other addresses that `address` left.
    func sendContactLeft(_ provider: Provider, address: String, remaining: [String]) throws
    /// Welcomes a provider a release manager approved, at every address.
    func sendWelcome(to provider: Provider) throws
    /// The portal's single-use sign-in link, to the address that asked.
    func sendSignInLink(to provider: Provider, address: String, link: String) throws
    /// The link that confirms `address` as a new contact of `provider`, to that address only.
    func sendContactConfirmation(to provider: Provider, address: String, link: String) throws
}

/// What providers did with the notices they received.
public protocol NoticeRecords {
    /// Records the first acknowledgement of `notice` by `provider`; false when it was acknowledged before.
    func acknowledge(notice: Int64, provider: Int64, at: Date) throws -> Bool
    /// The notice's kind, the revision it told of, and its advisory's title at that revision and id.
    func summary(of notice: Int64) throws -> NoticeSummary?
    /// Whether `provider` takes part in the advisory `notice` is about: it follows the project
    /// or was invited, and was not excluded (its status is the caller's to check).
    func takesPart(provider: Int64, inAdvisoryOf notice: Int64) throws -> Bool
}

/// A notice as a link page names it.
public struct NoticeSummary: Sendable, Equatable {
    /// `early-notice`, `revision` …
    public var kind: String
    /// The advisory's revision it told of.
    public var revision: Int
    /// The advisory's title; nil for a notice about no advisory.
    public var title: String?
    /// The advisory's database id.
    public var advisoryID: Int64?
    /// The advisory's project's time zone (IANA).
    public var timezone: String?
    /// The advisory's release instant now.
    public var release: Date?

    /// Creates the value.
    public init(
        kind: String, revision: Int, title: String?, advisoryID: Int64?, timezone: String? = nil, release: Date? = nil
    ) {
        self.kind = kind
        self.revision = revision
        self.title = title
        self.advisoryID = advisoryID
        self.timezone = timezone
        self.release = release
    }
}

/// Participants' answers and sightings of an advisory.
public protocol AnswerRecords {
    /// The advisory's state and release instant, or nil when there is no such advisory.
    func standing(ofAdvisory id: Int64) throws -> (state: AdvisoryState, release: Date?)?
    /// Records an answer as a new row (answers are history, not overwrites).
    func record(_ answer: ProviderAnswer, advisory: Int64, provider: Int64, at: Date, by: String) throws
    /// The instant `provider` proposed in its latest answer, when that answer was "needs more time".
    func latestProposal(advisory: Int64, provider: Int64) throws -> Date?
    /// How many "needs more time" answers `provider` gave to `advisory` since `since`.
    func proposals(advisory: Int64, provider: Int64, since: Date) throws -> Int
    /// Records that `provider` first saw `advisory` at `at`; later sightings change nothing.
    func markSeen(advisory: Int64, provider: Int64, at: Date) throws
}

/// Messages to a project's release managers (its contact address).
public protocol ReleaseManagerMail {
    /// A participant of advisory `advisory` needs more time and proposes `proposed`.
    func sendMoreTimeRequested(advisory: Int64, organization: String, proposed: Date, statement: String) throws
}
