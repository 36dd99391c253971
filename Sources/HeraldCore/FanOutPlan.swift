import Foundation

/// Who one notice reaches and in which language and format it is written for them: decided
/// here, without a database. The store reads the candidates the plan asks for and writes one
/// delivery per recipient as the plan says.
public struct FanOutPlan: Equatable, Sendable {
    /// Which providers a notice goes to.
    public enum Providers: String, Equatable, Sendable {
        /// Every active provider that follows the project: the early notice.
        case activeFollowers = "active-followers"
        /// Those told of the advisory before (an early notice or a revision) and still active:
        /// a revision, the "now public" notice, a cancellation. A provider suspended or removed
        /// meanwhile gets nothing more.
        case toldBefore = "told-before"
        /// Those told before who have neither acknowledged nor answered: the reminder.
        case silentParticipants = "silent-participants"
        case none
    }

    /// A provider as a notice goes to it.
    public struct Provider: Equatable, Sendable {
        /// The provider's database id.
        public var id: Int64
        /// The language its notice is written in.
        public var language: Language

        /// Creates a provider as the plan sees it.
        public init(id: Int64, language: Language) {
            self.id = id
            self.language = language
        }
    }

    /// Public channels of one kind and one language: written set-wise, one body for all.
    public struct ChannelGroup: Hashable, Sendable {
        /// The service the channels post to.
        public var kind: ChannelKind
        /// The channel's own language; nil: its project's.
        public var language: Language?

        /// Creates a channel group value.
        public init(kind: ChannelKind, language: Language?) {
            self.kind = kind
            self.language = language
        }
    }

    /// The providers it reaches, each in its language.
    public var providers: [Provider]
    /// The public channels it reaches, by kind and the language they are written in: one body
    /// for each (a channel without a language of its own counts in its project's).
    public var channels: [Audience]

    /// Channels of one kind that read one language.
    public struct Audience: Hashable, Sendable {
        /// The service the channels post to.
        public var kind: ChannelKind
        /// The language they read: their own, or their project's.
        public var language: Language
    }
    /// Whether the notice is recorded though it reaches no one.
    public var recordedWhenEmpty: Bool

    /// Which providers `kind` goes to.
    public static func providers(for kind: NoticeKind) -> Providers {
        switch kind {
        case .earlyNotice: .activeFollowers
        case .revision, .publication, .cancellation, .finalNotice: .toldBefore
        case .reminder: .silentParticipants
        default: .none
        }
    }

    /// Whether the project's public channels get `kind`: the pre-announcement and the
    /// publication; a cancellation only where the release had been pre-announced. Never an
    /// early notice or a revision: they are embargoed.
    public static func reachesChannels(_ kind: NoticeKind, preAnnounced: Bool) -> Bool {
        switch kind {
        case .preAnnouncement, .publication: true
        case .cancellation: preAnnounced
        default: false
        }
    }

    /// The plan of `kind` to the `providers` its audience rule selected and the project's
    /// channel groups, in `projectLanguage` where a channel has none of its own. Notices the
    /// clock sends are recorded even with no recipients, so they fire once; a revision or a
    /// cancellation before anyone was told is nobody's business.
    public init(
        _ kind: NoticeKind, providers: [Provider], channels: [ChannelGroup], preAnnounced: Bool,
        projectLanguage: Language
    ) {
        self.providers = Self.providers(for: kind) == .none ? [] : providers
        self.channels =
            Self.reachesChannels(kind, preAnnounced: preAnnounced)
            ? Set(channels.map { Audience(kind: $0.kind, language: $0.language ?? projectLanguage) })
                .sorted { ($0.kind.rawValue, $0.language.rawValue) < ($1.kind.rawValue, $1.language.rawValue) }
            : []
        // A clock notice is recorded even when it reaches no one: the record is what says it went.
        recordedWhenEmpty = [.earlyNotice, .preAnnouncement, .publication, .reminder, .finalNotice].contains(kind)
    }

    /// Whether it reaches no one.
    public var isEmpty: Bool { providers.isEmpty && channels.isEmpty }

    /// The languages the provider notice is written in: once each, whatever the number of providers.
    public var providerLanguages: [Language] {
        Language.allCases.filter { language in providers.contains { $0.language == language } }
    }

    /// The languages the public notice is written in.
    public var channelLanguages: [Language] {
        Language.allCases.filter { language in channels.contains { $0.language == language } }
    }
}
