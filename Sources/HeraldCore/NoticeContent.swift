import Foundation

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
    /// Links that answer the notice at once (ready, not affected, need more time), after the main link.
    public var answers: [(label: String, url: String)] = []

    /// Points the acknowledgement link and its answer links at `token`, a recipient's own:
    /// they are made per recipient, the rest of the content once.
    public mutating func linkToken(_ token: String, publicURL: String) {
        guard let label = link?.label else { return }
        let url = "\(publicURL)/ack?token=\(token)"
        link = (label, url)
        answers = zip(answers, ResponseStatus.linked).map {
            ($0.0.label, NoticeWriter.answerURL(ackURL: url, status: $0.1))
        }
    }
    /// `body` rendered from Markdown to HTML by the caller (Matrix's formatted body); empty: none.
    public var bodyHTML: String = ""

    /// Equal when every field is, except `bodyHTML` (rendered from `body`).
    public static func == (lhs: NoticeContent, rhs: NoticeContent) -> Bool {
        lhs.headline == rhs.headline && lhs.intro == rhs.intro && lhs.body == rhs.body && lhs.footer == rhs.footer
            && lhs.facts.map(\.label) == rhs.facts.map(\.label) && lhs.facts.map(\.value) == rhs.facts.map(\.value)
            && lhs.link?.url == rhs.link?.url && lhs.link?.label == rhs.link?.label && lhs.embargoed == rhs.embargoed
            && lhs.answers.map(\.label) == rhs.answers.map(\.label) && lhs.answers.map(\.url) == rhs.answers.map(\.url)
    }

    /// Plain text: intro, facts, body, link, footer.
    public var plainText: String {
        var parts: [String] = []
        if !intro.isEmpty { parts.append(intro) }
        if !facts.isEmpty {
            let width = facts.map(\.label.count).max() ?? 0
            parts.append(
                facts.map {
                    ($0.label + ":").padding(toLength: width + 1, withPad: " ", startingAt: 0) + " " + $0.value
                }.joined(separator: "\n"))
        }
        if !body.isEmpty { parts.append(body) }
        if let link { parts.append("\(link.label): \(link.url)") }
        if !answers.isEmpty { parts.append(answers.map { "\($0.label): \($0.url)" }.joined(separator: "\n")) }
        if !footer.isEmpty { parts.append("-- \n" + footer) }
        return parts.joined(separator: "\n\n") + "\n"
    }
}
