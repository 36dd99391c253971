import Foundation
import HeraldCore
import HeraldTemplates

/// What the outbox needs to render messages: where links point and who mail is from.
public struct OutboxSettings: Sendable, Equatable {
    /// Base of every link (`HERALD_PUBLIC_URL`).
    public var publicURL: String
    /// Sender address (`HERALD_MAIL_FROM`).
    public var mailFrom: String
    /// Sender display name.
    public var mailFromName: String
    /// The words of every message (the templates, with any overrides).
    public var wording: any Wording
    /// The language of a project without one of its own (`default-language`).
    public var defaultLanguage: Language
    /// Providers written per transaction in a provider notice. A 100,000-provider early notice
    /// is then two hundred short transactions, and a publication due meanwhile waits for one of
    /// them, not for all (issue 18).
    public var providersPerTransaction = 500
    /// Chat and webhook channels written with a publication, in its transaction: the worker's
    /// first cuts, whose sends start (on connections made as the publication fired) while the
    /// rest are written. All 1,000 of a 1,000-endpoint fan-out at once put its first send
    /// 6-10 ms after the instant, 64 put it 2-4 ms after; but 64 sends last about 2 ms, and
    /// writing the other 936 in one go took 3-4 ms of a busy machine, so the engine ran dry
    /// before they were there (timed inside `serve`). 192 cover the next share.
    public var channelsFirstShare = 192
    /// The rest of a publication's channels, written this many per transaction right after it
    /// (with the scheduler's pause between shares): a share of 256 is there about a
    /// millisecond after it is begun. 1,000 endpoints, three alternations of nine pairs: with
    /// 64 and 1,000 here, medians of 0.319/0.285/0.286 of wrk's rate; with 192 and 256,
    /// 0.344/0.339/0.334.
    public var channelsPerTransaction = 256
    /// The fewest rows of such a share leased for the worker of this process when it has room
    /// for only some (`DeliveryHandoff`): at 30,000 sends a second, about a millisecond of sends.
    public var channelsLeasedAtLeast = 32

    /// What `HERALD_PUBLIC_URL` and `HERALD_MAIL_FROM` default to, here and in the CLI.
    public static let defaultPublicURL = "http://127.0.0.1:8080"
    /// The sender when `HERALD_MAIL_FROM` is not set.
    public static let defaultMailFrom = "herald@localhost.localdomain"

    /// Drops a trailing slash from `publicURL`; the defaults suit a trial on one machine.
    public init(
        publicURL: String = defaultPublicURL, mailFrom: String = defaultMailFrom, mailFromName: String = "Herald",
        wording: any Wording = Templates.standard, defaultLanguage: Language = .english
    ) {
        self.publicURL = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
        self.mailFrom = mailFrom
        self.mailFromName = mailFromName
        self.wording = wording
        self.defaultLanguage = defaultLanguage
    }

    /// Equal when they render links and senders alike; the wording is compared by its overrides.
    public static func == (lhs: OutboxSettings, rhs: OutboxSettings) -> Bool {
        lhs.publicURL == rhs.publicURL && lhs.mailFrom == rhs.mailFrom && lhs.mailFromName == rhs.mailFromName
            && lhs.defaultLanguage == rhs.defaultLanguage && lhs.providersPerTransaction == rhs.providersPerTransaction
            && lhs.channelsFirstShare == rhs.channelsFirstShare
            && lhs.channelsPerTransaction == rhs.channelsPerTransaction
            && lhs.channelsLeasedAtLeast == rhs.channelsLeasedAtLeast
            && (lhs.wording as? Templates)?.overridden == (rhs.wording as? Templates)?.overridden
    }

    /// A writer of `project`'s messages in its own language.
    public func writer(for project: Project) -> NoticeWriter {
        NoticeWriter(
            project: project, publicURL: publicURL, wording: wording, language: project.language ?? defaultLanguage)
    }

    /// The domain of the sender, for Message-ID and List-Id.
    var domain: String { mailFrom.split(separator: "@").last.map(String.init) ?? "localhost" }
}
