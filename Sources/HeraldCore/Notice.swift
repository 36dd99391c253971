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

    /// Whether this notice, sent to providers, carries embargoed details.
    public var isEmbargoed: Bool { self == .earlyNotice || self == .revision }
}

/// Who a notice is for; decides how much of an embargoed advisory it may say.
public enum Audience: Sendable, Equatable {
    /// An approved provider: may read embargoed details.
    case provider(organization: String)
    /// A public channel: only what is public at the time of sending.
    case publicChannel
}

/// What a notice says, before any format: the renderers for e-mail and each chat turn the
/// same content into their own shape, so every channel says the same thing.
public struct NoticeContent: Equatable, Sendable {
    /// The subject line, or a chat message's title.
    public var headline: String
    /// A short paragraph before the facts.
    public var intro: String
    /// Label and value pairs: CVE, severity, dates.
    public var facts: [(label: String, value: String)]
    /// The long text, if the audience may read it.
    public var body: String
    /// The main link, with its label.
    public var link: (label: String, url: String)?
    /// A line at the end (the embargo warning, how to leave the list).
    public var footer: String
    /// Marks embargoed content, so chat formats can flag it too.
    public var embargoed: Bool
    /// `body` rendered from Markdown to HTML by the caller (Matrix's formatted body); empty: none.
    public var bodyHTML: String = ""

    public static func == (lhs: NoticeContent, rhs: NoticeContent) -> Bool {
        lhs.headline == rhs.headline && lhs.intro == rhs.intro && lhs.body == rhs.body && lhs.footer == rhs.footer
            && lhs.facts.map(\.label) == rhs.facts.map(\.label) && lhs.facts.map(\.value) == rhs.facts.map(\.value)
            && lhs.link?.url == rhs.link?.url && lhs.link?.label == rhs.link?.label && lhs.embargoed == rhs.embargoed
    }

    /// Plain text: intro, facts, body, link, footer.
    public var plainText: String {
        var parts: [String] = []
        if !intro.isEmpty { parts.append(intro) }
        if !facts.isEmpty {
            let width = facts.map(\.label.count).max() ?? 0
            parts.append(facts.map { ($0.label + ":").padding(toLength: width + 1, withPad: " ", startingAt: 0) + " " + $0.value }.joined(separator: "\n"))
        }
        if !body.isEmpty { parts.append(body) }
        if let link { parts.append("\(link.label): \(link.url)") }
        if !footer.isEmpty { parts.append("-- \n" + footer) }
        return parts.joined(separator: "\n\n") + "\n"
    }
}

/// Decides what each notice says to each audience. Pure: the same advisory, kind and audience
/// always give the same content, and a public audience never gets embargoed text.
public struct NoticeWriter: Sendable {
    /// The project the advisory belongs to.
    public var project: Project
    /// Base for links (`https://herald.example.org`), without a trailing slash.
    public var publicURL: String

    public init(project: Project, publicURL: String) {
        self.project = project
        self.publicURL = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
    }

    /// The content of `kind` about `advisory` for `audience`. `notes` are the words the release
    /// manager gave with the change, each said only to its own audience (the reason to none of
    /// them); `ackURL` the provider's acknowledgement link.
    /// `previous` is the advisory before the change, so a revision can say what changed.
    public func content(_ kind: NoticeKind, advisory: Advisory, audience: Audience, notes: ChangeNotes = .none, ackURL: String? = nil,
                        previous: Advisory? = nil) -> NoticeContent {
        let note = notes.toProviders
        let a = advisory.content
        let zone = project.zone
        let release = advisory.schedule.embargo.map { Instant.local($0, in: zone) + " (\(zone.identifier))" } ?? "not set"
        let page = "\(publicURL)/advisories/\(advisory.publicID)"
        var details: [(label: String, value: String)] = []
        if !a.cves.isEmpty { details.append(("CVE", a.cves.joined(separator: ", "))) }
        if let severity = a.severity { details.append(("Severity", severity.rawValue)) }
        if let cvss = a.cvss { details.append(("CVSS", cvss)) }
        if !a.affected.isEmpty { details.append(("Affected", a.affected)) }
        if !a.fixed.isEmpty { details.append(("Fixed", a.fixed)) }
        let embargoWarning = "This notice is under embargo until \(release). Do not share it outside your security team or act on it in public before then."

        switch (kind, audience) {
        case (.earlyNotice, .provider), (.revision, .provider):
            let revised = kind == .revision
            let intro = revised
                ? "The \(project.name) security advisory below has changed (revision \(advisory.revision))." + changes(from: previous, to: advisory)
                    + (note.isEmpty ? "" : " Note from the release managers: \(note)")
                : "\(project.name) will publish the security advisory below at \(release). You receive it early as a member of the early-notice list."
            return NoticeContent(
                headline: "[EMBARGOED] \(revised ? "Revised: " : "")\(project.name): \(a.title)",
                intro: intro,
                facts: [("Release", release), ("Revision", String(advisory.revision))] + details,
                body: [a.summary, a.body].filter { !$0.isEmpty }.joined(separator: "\n\n"),
                link: ackURL.map { ("Acknowledge receipt", $0) },
                footer: embargoWarning, embargoed: true)
        case (.publication, .provider):
            return NoticeContent(
                headline: "Now public: \(project.name): \(a.title)",
                intro: (publishedEarly(advisory)
                    .map { "The embargo was lifted early: \(project.name) published the security advisory you were told about in advance at \($0), before the planned release at \(release)." }
                    ?? "The \(project.name) security advisory you were told about in advance is now public; the embargo has ended.")
                    + (note.isEmpty ? "" : " Note from the release managers: \(note)"),
                facts: [("Revision", String(advisory.revision))] + details,
                body: "", link: ("Advisory", page), footer: "", embargoed: false)
        case (.publication, .publicChannel):
            // A sentence first, so a reader of a chat preview or a list digest knows what this is.
            return NoticeContent(
                headline: "\(project.name) security advisory: \(a.title)",
                intro: "\(project.name) has published a security advisory: \(a.title)." + (a.summary.isEmpty ? "" : "\n\n" + a.summary),
                facts: details, body: a.body, link: ("Advisory", page), footer: "", embargoed: false)
        case (.preAnnouncement, _):
            // Date, time and severity: nothing that names or describes the issue.
            var facts = [(label: "Release", value: release)]
            if let severity = a.severity { facts.append(("Highest severity", severity.rawValue)) }
            return NoticeContent(
                headline: "\(project.name): security release planned for \(release)",
                intro: "\(project.name) will publish a security release at \(release). Details follow at that time.",
                facts: facts, body: "", link: nil, footer: "", embargoed: false)
        case (.cancellation, .provider):
            return NoticeContent(
                headline: "[EMBARGOED] Cancelled: \(project.name): \(a.title)",
                intro: "The \(project.name) security advisory you were told about in advance has been cancelled." + (note.isEmpty ? "" : " Note from the release managers: \(note)"),
                facts: [("Revision", String(advisory.revision))], body: "", link: nil,
                footer: "The details you received stay confidential.", embargoed: true)
        case (.cancellation, .publicChannel):
            return NoticeContent(
                headline: "\(project.name): the security release planned for \(release) is cancelled",
                intro: "The security release \(project.name) announced for \(release) will not take place as planned.",
                facts: [], body: "", link: nil, footer: "", embargoed: false)
        case (.earlyNotice, .publicChannel), (.revision, .publicChannel):
            // Never sent; if it were, it would say nothing.
            return NoticeContent(headline: "\(project.name)", intro: "", facts: [], body: "", link: nil, footer: "", embargoed: false)
        case (.channelTest, _), (.confirmation, _), (.welcome, _), (.contactLeft, _), (.alert, _):
            return test()
        }
    }

    /// " The release moves from A to B; changed: title, CVE." — what a revision changed, in
    /// words, or "" when there is nothing to compare with.
    func changes(from previous: Advisory?, to advisory: Advisory) -> String {
        guard let previous else { return "" }
        var sentence = ""
        let zone = project.zone
        if let old = previous.schedule.embargo, let new = advisory.schedule.embargo, old != new {
            sentence += " The release moves from \(Instant.local(old, in: zone)) to \(Instant.local(new, in: zone)) (\(zone.identifier))."
        }
        let (a, b) = (previous.content, advisory.content)
        let fields: [(String, Bool)] = [
            ("title", a.title != b.title), ("summary", a.summary != b.summary), ("details", a.body != b.body), ("CVE", a.cves != b.cves),
            ("severity", a.severity != b.severity), ("CVSS", a.cvss != b.cvss), ("affected versions", a.affected != b.affected),
            ("fixed versions", a.fixed != b.fixed),
        ]
        let changed = fields.filter(\.1).map(\.0)
        if !changed.isEmpty { sentence += " Changed: \(changed.joined(separator: ", "))." }
        return sentence
    }

    /// When the advisory was published, if that was before its planned instant (the embargo was broken).
    func publishedEarly(_ advisory: Advisory) -> String? {
        guard let published = advisory.publishedAt, let planned = advisory.schedule.embargo, published < planned else { return nil }
        return Instant.local(published, in: project.zone)
    }

    /// Double opt-in: the link that confirms a subscription.
    public func confirmation(organization: String, link: String) -> NoticeContent {
        NoticeContent(headline: "Confirm early notice for \(organization)",
                      intro: "Someone asked for \(organization) to receive early notice of \(project.name)'s security releases at this address. If that was you, confirm with the link below within 48 hours; a release manager then reviews the request. If it was not you, ignore this message.",
                      facts: [], body: "", link: ("Confirm", link), footer: "", embargoed: false)
    }

    /// To the project's release managers: private notices of an advisory are not getting through.
    public func alert(advisory: Advisory, problem: String, command: String) -> NoticeContent {
        NoticeContent(headline: "[Herald alert] \(project.name): private notices failing for advisory \(advisory.id)",
                      intro: problem, facts: [("Advisory", "\(advisory.id) (\(advisory.publicID))"),
                                              ("Release", advisory.schedule.embargo.map { Instant.local($0, in: project.zone) + " (\(project.zone.identifier))" } ?? "not set")],
                      body: "See who has not received it, and why, with:\n\n    \(command)\n\nA broken webhook can be replaced with herald provider edit ID --replace-webhook OLD=NEW; a failed delivery re-driven with herald deliveries retry ID.",
                      link: nil, footer: "", embargoed: false)
    }

    /// One address left the list; the organisation's other addresses hear of it.
    public func contactLeft(organization: String, address: String, remaining: [String]) -> NoticeContent {
        NoticeContent(headline: "\(address) no longer receives early notice for \(organization)",
                      intro: "\(address) used the unsubscribe link in an early notice from \(project.name) and was taken off the list. \(organization) still receives notices at: \(remaining.joined(separator: ", ")). If that was a mistake, ask a release manager to add the address again.",
                      facts: [], body: "", link: nil, footer: "", embargoed: false)
    }

    /// The provider was approved.
    public func welcome(organization: String) -> NoticeContent {
        NoticeContent(headline: "\(organization) now receives early notice",
                      intro: "A release manager approved \(organization) for early notice of security releases. Notices come to this address; each has a link to acknowledge it and a link to leave the list.",
                      facts: [], body: "", link: ("Published advisories", publicURL + "/"), footer: "", embargoed: false)
    }

    /// The message of `herald channel test`.
    public func test() -> NoticeContent {
        NoticeContent(headline: "Herald test message for \(project.name)",
                      intro: "This channel will receive \(project.name)'s pre-announcements and security advisories when they are published.",
                      facts: [], body: "", link: ("Published advisories", publicURL + "/"), footer: "", embargoed: false)
    }
}
