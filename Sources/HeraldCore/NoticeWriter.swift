import Foundation

/// Decides what each notice says to each audience, in one language. Pure: the same advisory,
/// kind, audience and wording always give the same content, and a public audience never gets
/// embargoed text. The words come from `wording` (the templates); what is said to whom is here.
public struct NoticeWriter: Sendable {
    /// The project the advisory belongs to.
    public var project: Project
    /// Base for links (`https://herald.example.org`), without a trailing slash.
    public var publicURL: String
    /// The templates.
    public var wording: any Wording
    /// The language of the reader.
    public var language: Language

    /// Creates a writer; a trailing slash on `publicURL` is dropped.
    public init(project: Project, publicURL: String, wording: any Wording, language: Language = .english) {
        self.project = project
        self.publicURL = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
        self.wording = wording
        self.language = language
    }

    /// The same writer for a reader of `language`.
    public func speaking(_ language: Language) -> NoticeWriter {
        var writer = self
        writer.language = language
        return writer
    }

    /// One part of one message, filled from `values` (the project's name always among them).
    func say(_ message: String, _ part: String, _ values: [String: String] = [:]) -> String {
        wording.text(message, part, in: language, values.merging(["project": project.name]) { own, _ in own })
    }

    /// A word or label (`release`, `acknowledge`) from the language's `words` template.
    func word(_ key: String) -> String { say("words", key) }

    /// An instant in the project's zone, written the language's way.
    func instant(_ date: Date) -> String { language.dateTime(date, in: project.zone) }

    /// A message of three parts (subject, intro, footer) as content.
    func message(
        _ name: String, _ values: [String: String], facts: [(label: String, value: String)] = [], body: String = "",
        link: (label: String, url: String)? = nil, embargoed: Bool = false
    ) -> NoticeContent {
        NoticeContent(
            headline: say(name, "subject", values), intro: say(name, "intro", values), facts: facts, body: body,
            link: link,
            footer: say(name, "footer", values), embargoed: embargoed)
    }

    /// The content of `kind` about `advisory` for `audience`. `notes` are the words the release
    /// manager gave with the change, each said only to its own audience (the reason to none of
    /// them); `ackURL` the provider's acknowledgement link.
    /// `previous` is the advisory before the change, so a revision can say what changed.
    public func content(
        _ kind: NoticeKind, advisory: Advisory, audience: Audience, notes: ChangeNotes = .none, ackURL: String? = nil,
        previous: Advisory? = nil
    ) -> NoticeContent {
        let a = advisory.content
        let release = advisory.schedule.embargo.map { instant($0) + " (\(project.zone.identifier))" } ?? word("not-set")
        let page = "\(publicURL)/advisories/\(advisory.publicID)"
        var details: [(label: String, value: String)] = []
        if !a.cves.isEmpty { details.append((word("cve"), a.cves.joined(separator: ", "))) }
        if let severity = a.severity { details.append((word("severity"), word(severity.rawValue))) }
        if let cvss = a.cvss { details.append((word("cvss"), cvss)) }
        if !a.affected.isEmpty { details.append((word("affected"), a.affected)) }
        if !a.fixed.isEmpty { details.append((word("fixed"), a.fixed)) }
        let values = [
            "title": a.title, "summary": a.summary, "release": release, "revision": String(advisory.revision),
            "note": notes.toProviders,
        ]
        let revisionFact = (label: word("revision"), value: String(advisory.revision))

        switch (kind, audience) {
        case (.earlyNotice, .provider), (.revision, .provider), (.reminder, .provider), (.finalNotice, .provider):
            // A reminder and the final notice carry the advisory as it stands, as the early notice did.
            let name = kind == .earlyNotice ? "early-notice" : kind.rawValue
            var content = message(
                name, values.merging(changes(from: previous, to: advisory)) { $1 },
                facts: [(word("release"), release), revisionFact, (word("terms"), terms(a.terms ?? project.terms))]
                    + details,
                body: [a.summary, a.body].filter { !$0.isEmpty }.joined(separator: "\n\n"),
                link: ackURL.map { (word("acknowledge"), $0) }, embargoed: true)
            // Straight to an answer: each link opens a page with one button (a GET never acts).
            if let ackURL {
                content.answers = ResponseStatus.linked.map {
                    (word("answer-\($0.rawValue)"), Self.answerURL(ackURL: ackURL, status: $0))
                }
            }
            return content
        case (.publication, .provider):
            return message(
                "publication-to-providers", values.merging(["published-early": publishedEarly(advisory) ?? ""]) { $1 },
                facts: [revisionFact, (word("tlp"), EmbargoTerms.TLP.clear.rawValue)] + details,
                link: (word("advisory"), page))
        case (.publication, .publicChannel):
            // A sentence first, so a reader of a chat preview or a list digest knows what this is.
            // Public words only: the note to providers is not among them, whatever a template asks for.
            let publicValues = [
                "title": a.title, "summary": a.summary, "release": release, "revision": String(advisory.revision),
            ]
            return message("publication", publicValues, facts: details, body: a.body, link: (word("advisory"), page))
        case (.preAnnouncement, _):
            // Date, time and severity: nothing that names or describes the issue.
            var facts = [(label: word("release"), value: release)]
            if let severity = a.severity { facts.append((word("highest-severity"), word(severity.rawValue))) }
            return message("pre-announcement", ["release": release], facts: facts)
        case (.cancellation, .provider):
            return message("cancellation-to-providers", values, facts: [revisionFact], embargoed: true)
        case (.cancellation, .publicChannel):
            return message("cancellation", ["release": release])
        case (.earlyNotice, .publicChannel), (.revision, .publicChannel), (.reminder, .publicChannel),
            (.finalNotice, .publicChannel):
            // Never sent; if it were, it would say nothing.
            return NoticeContent(
                headline: project.name, intro: "", facts: [], body: "", link: nil, footer: "", embargoed: false)
        case (.channelTest, _), (.confirmation, _), (.welcome, _), (.contactLeft, _), (.alert, _), (.signIn, _),
            (.proposalDeclined, _):
            return test()
        }
    }

    /// The answer link that goes with an acknowledgement link: the same token, on the answer page.
    public static func answerURL(ackURL: String, status: ResponseStatus) -> String {
        ackURL.replacingOccurrences(of: "/ack?", with: "/answer?") + "&status=\(status.rawValue)"
    }

    /// To the project's release managers: a participant needs more time.
    public func moreTimeRequested(
        advisory: Advisory, organization: String, proposed: Date, statement: String, command: String
    ) -> NoticeContent {
        let release = advisory.schedule.embargo.map { instant($0) + " (\(project.zone.identifier))" } ?? word("not-set")
        let proposal = instant(proposed) + " (\(project.zone.identifier))"
        var content = message(
            "more-time",
            [
                "advisory": String(advisory.id), "organization": organization, "proposed": proposal,
                "release": release, "command": command,
            ],
            facts: [
                (word("advisory"), "\(advisory.id) (\(advisory.publicID))"), (word("release"), release),
                (word("proposed"), proposal),
            ])
        content.body = [statement, say("more-time", "body", ["command": command])].filter { !$0.isEmpty }
            .joined(separator: "\n\n")
        return content
    }

    /// `TLP:AMBER+STRICT · no deployment before the release · the patch is under embargo`, in the language.
    public func terms(_ terms: EmbargoTerms) -> String {
        [
            terms.tlp.rawValue, word(terms.deploymentAllowed ? "deployment-allowed" : "deployment-not-allowed"),
            word(terms.patchEmbargoed ? "patch-embargoed" : "patch-public"),
        ].joined(separator: " · ")
    }

    /// What a revision changed, as template fields: `moved-from`/`moved-to` when the release
    /// moved, `changed` naming the fields; none when there is nothing to compare with.
    func changes(from previous: Advisory?, to advisory: Advisory) -> [String: String] {
        guard let previous else { return [:] }
        var values: [String: String] = ["zone": project.zone.identifier]
        if let old = previous.schedule.embargo, let new = advisory.schedule.embargo, old != new {
            values["moved-from"] = instant(old)
            values["moved-to"] = instant(new)
        }
        let (a, b) = (previous.content, advisory.content)
        let fields: [(String, Bool)] = [
            ("changed-title", a.title != b.title), ("changed-summary", a.summary != b.summary),
            ("changed-details", a.body != b.body),
            ("changed-cve", a.cves != b.cves), ("changed-severity", a.severity != b.severity),
            ("changed-cvss", a.cvss != b.cvss),
            ("changed-affected", a.affected != b.affected), ("changed-fixed", a.fixed != b.fixed),
        ]
        values["changed"] = fields.filter(\.1).map { word($0.0) }.joined(separator: ", ")
        return values
    }

    /// When the advisory was published, if that was before its planned instant (the embargo was broken).
    func publishedEarly(_ advisory: Advisory) -> String? {
        guard let published = advisory.publishedAt, let planned = advisory.schedule.embargo, published < planned else {
            return nil
        }
        return instant(published)
    }

    /// Double opt-in: the link that confirms a subscription.
    public func confirmation(organization: String, link: String) -> NoticeContent {
        message("confirmation", ["organization": organization], link: (word("confirm"), link))
    }

    /// To the project's release managers: private notices of an advisory are not getting through.
    /// `problem` is the alert's own sentence (from the store, in the deployment's records).
    public func alert(advisory: Advisory, problem: String, command: String) -> NoticeContent {
        let release = advisory.schedule.embargo.map { instant($0) + " (\(project.zone.identifier))" } ?? word("not-set")
        var content = message(
            "alert", ["advisory": String(advisory.id), "problem": problem, "command": command],
            facts: [(word("advisory"), "\(advisory.id) (\(advisory.publicID))"), (word("release"), release)])
        content.body = say("alert", "body", ["command": command])
        return content
    }

    /// One address left the list; the organisation's other addresses hear of it.
    public func contactLeft(organization: String, address: String, remaining: [String]) -> NoticeContent {
        message(
            "contact-left",
            ["organization": organization, "address": address, "remaining": remaining.joined(separator: ", ")])
    }

    /// To one participant: its proposal of `proposed` is declined; the release stays, and `note` says why.
    public func proposalDeclined(advisory: Advisory, proposed: Date, note: String) -> NoticeContent {
        let release = advisory.schedule.embargo.map { instant($0) + " (\(project.zone.identifier))" } ?? word("not-set")
        var content = message(
            "proposal-declined",
            [
                "title": advisory.content.title, "release": release,
                "proposed": instant(proposed) + " (\(project.zone.identifier))",
            ], facts: [(word("release"), release)], embargoed: true)
        content.body = note
        return content
    }

    /// To an address a provider's contact added in the portal: the link that confirms it.
    public func contactConfirmation(organization: String, address: String, link: String) -> NoticeContent {
        message(
            "confirm-contact", ["organization": organization, "address": address], link: (word("confirm"), link))
    }

    /// The portal's sign-in link, valid for `minutes`.
    public func signIn(organization: String, link: String, minutes: Int) -> NoticeContent {
        message(
            "sign-in", ["organization": organization, "minutes": String(minutes)], link: (word("sign-in"), link))
    }

    /// The console's sign-in link, to an account's address; `project` is the service here.
    public func consoleSignIn(link: String, minutes: Int) -> NoticeContent {
        message("console-sign-in", ["minutes": String(minutes)], link: (word("sign-in"), link))
    }

    /// The provider was approved.
    public func welcome(organization: String) -> NoticeContent {
        message("welcome", ["organization": organization], link: (word("published-advisories"), publicURL + "/"))
    }

    /// The subject an encrypted private notice shows outside: the project, no advisory.
    public func privateNoticeSubject() -> String { say("private-notice", "subject") }

    /// To an address without a key, where the project sends private notices only encrypted:
    /// the notice waits in the portal.
    public func privateNoticeWaiting() -> NoticeContent {
        message("private-notice", [:], link: (word("sign-in"), publicURL + "/portal"))
    }

    /// An address's OpenPGP key expires soon: to that address and to the release managers.
    public func keyExpiring(organization: String, address: String, fingerprint: String, expires: Date)
        -> NoticeContent
    {
        message(
            "key-expiring",
            [
                "organization": organization, "address": address, "fingerprint": fingerprint,
                "expires": language.dateTime(expires, in: project.zone),
            ], link: (word("sign-in"), publicURL + "/portal"))
    }

    /// The message of `herald channel test`.
    public func test() -> NoticeContent {
        message("channel-test", [:], link: (word("published-advisories"), publicURL + "/"))
    }
}
