import Foundation

/// Markdown bodies in the markup each chat service shows: Slack's mrkdwn and the subset Teams'
/// TextBlock renders. Mattermost, Discord and Matrix (as HTML) take Markdown themselves. Line by
/// line and pattern by pattern: what is not understood stays as the text it is.
public enum ChatMarkup {
    /// Slack mrkdwn, escaped (`&`, `<`, `>`): headings and `**bold**` as `*bold*`, `_italic_`,
    /// `~strike~`, lists with bullets, links as `<url|text>`, code kept, a table's rows as text.
    public static func slack(_ markdown: String) -> String {
        convert(
            markdown, escape: ChatPayload.slackEscape, heading: { "*\($0)*" }, bold: { "*\($0)*" },
            strike: { "~\($0)~" },
            link: { text, url in "<\(url)|\(text)>" }, bullet: "•", fences: true)
    }

    /// What a Teams TextBlock renders: `**bold**`, `_italic_`, lists and `[text](url)` links; no
    /// headings, tables or code blocks, which become bold lines and plain text.
    public static func teams(_ markdown: String) -> String {
        convert(
            markdown, escape: { $0 }, heading: { "**\($0)**" }, bold: { "**\($0)**" }, strike: { $0 },
            link: { text, url in "[\(text)](\(url))" }, bullet: "-", fences: false)
    }

    private static func convert(
        _ markdown: String, escape: (String) -> String, heading: (String) -> String, bold: (String) -> String,
        strike: (String) -> String, link: (String, String) -> String, bullet: String, fences: Bool
    ) -> String {
        var out: [String] = []
        var inFence = false
        for line in markdown.components(separatedBy: "\n") {
            if line.trimmingCharacters(in: .whitespaces).hasPrefix("```") {
                inFence.toggle()
                if fences { out.append("```") }
                continue
            }
            if inFence {
                out.append(escape(line))
                continue
            }
            func inline(_ text: String) -> String {
                self.inline(text, escape: escape, bold: bold, strike: strike, link: link)
            }
            if let match = line.wholeMatch(of: /\s{0,3}#{1,6}\s+(.*?)\s*#*\s*/) {
                out.append(heading(inline(String(match.1))))
            } else if let match = line.wholeMatch(of: /(\s*)[-*+]\s+(.*)/) {
                out.append(String(match.1) + bullet + " " + inline(String(match.2)))
            } else if line.wholeMatch(of: /\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*/) != nil {
                continue  // a table's separator row
            } else if line.trimmingCharacters(in: .whitespaces).hasPrefix("|") {
                let cells = line.trimmingCharacters(in: .whitespaces).trimmingCharacters(
                    in: CharacterSet(charactersIn: "|")
                )
                .components(separatedBy: "|").map { $0.trimmingCharacters(in: .whitespaces) }
                out.append(inline(cells.joined(separator: " · ")))
            } else {
                out.append(inline(line))
            }
        }
        return out.joined(separator: "\n")
    }

    /// Links and code spans are kept apart while the rest is escaped and its emphasis converted.
    private static func inline(
        _ text: String, escape: (String) -> String, bold: (String) -> String, strike: (String) -> String,
        link: (String, String) -> String
    ) -> String {
        var out = ""
        var rest = Substring(text)
        while !rest.isEmpty {
            if let match = rest.prefixMatch(of: /`([^`]+)`/) {
                out += "`" + escape(String(match.1)) + "`"
                rest = rest[match.range.upperBound...]
            } else if let match = rest.prefixMatch(of: /\[([^\]]+)\]\(([^)\s]+)\)/) {
                let url = String(match.2)
                // A URL that could close Slack's <url|text> or open another (<, >, |) is no link.
                let safe =
                    (url.lowercased().hasPrefix("https://") || url.lowercased().hasPrefix("http://")
                        || url.lowercased().hasPrefix("mailto:"))
                    && !url.contains(where: { "<>|\"".contains($0) })
                out +=
                    safe
                    ? link(emphasis(escape(String(match.1)), bold: bold, strike: strike), url) : escape(String(match.1))
                rest = rest[match.range.upperBound...]
            } else {
                // Up to the next code span or link, escaped and with emphasis converted.
                let next = rest.dropFirst().firstIndex { $0 == "`" || $0 == "[" } ?? rest.endIndex
                out += emphasis(escape(String(rest[..<next])), bold: bold, strike: strike)
                rest = rest[next...]
            }
        }
        return out
    }

    private static func emphasis(_ text: String, bold: (String) -> String, strike: (String) -> String) -> String {
        var text = text
        text = text.replacing(/\*\*(.+?)\*\*|__(.+?)__/) { bold(String($0.1 ?? $0.2 ?? "")) }
        text = text.replacing(/~~(.+?)~~/) { strike(String($0.1)) }
        return text
    }
}
