import Foundation

/// JSON bodies for chat webhooks and the generic signed webhook, each in the shape its
/// receiver documents. All are built from the same `NoticeContent`.
public enum ChatPayload {
    /// The JSON body for `format` (any `WebhookKind`).
    /// `event` names the notice for the generic webhook (`herald.publication`), `project` its slug,
    /// and `advisoryID` the public id where the audience may know it.
    public static func render(_ content: NoticeContent, as format: WebhookKind, event: String, project: String,
                              advisoryID: String?, revision: Int, at date: Date) -> [UInt8] {
        let object: JSON
        // Chat services turn @channel, @here, @everyone, @all and @room into a ping of every
        // member; an advisory's words must not be able to do that.
        let content = format == .webhook || format == .teams ? content : neutralizingMentions(content)
        switch format {
        case .slack: object = slack(content)
        case .mattermost: object = ["text": .string(markdown(content)), "username": "Herald"]
        case .discord: object = discord(content)
        case .teams: object = teams(content)
        case .matrix: object = matrix(content)
        case .webhook:
            var data: [String: JSON] = [
                "project": .string(project), "headline": .string(content.headline), "text": .string(content.plainText),
                "facts": .object(Dictionary(content.facts.map { ($0.label, JSON.string($0.value)) }, uniquingKeysWith: { first, _ in first })),
                "embargoed": .bool(content.embargoed), "revision": .int(revision),
            ]
            if let advisoryID { data["advisory"] = .string(advisoryID) }
            if let link = content.link { data["url"] = .string(link.url) }
            object = ["type": .string(event), "timestamp": .string(Instant.rfc3339(date)), "data": .object(data)]
        }
        // Sorted keys: the same notice gives the same bytes, so signatures and tests are stable.
        return object.bytes
    }

    /// Words that notify a whole channel or room, after `@` (Slack's `<!here>` is escaped as markup).
    static let broadcastMentions = ["channel", "here", "everyone", "all", "room"]

    /// `text` with a word joiner (U+2060) after the `@` of every broadcast mention, and inside
    /// Slack's `<!here>`-style commands: it reads the same and notifies no one.
    public static func neutralizeMentions(_ text: String) -> String {
        let text = text.contains("<!") ? text.replacingOccurrences(of: "<!", with: "<\u{2060}!") : text
        guard text.contains("@") else { return text }
        var out = ""
        var rest = Substring(text)
        while let at = rest.firstIndex(of: "@") {
            out += rest[...at]
            rest = rest[rest.index(after: at)...]
            let word = rest.prefix { $0.isLetter }.lowercased()
            if broadcastMentions.contains(word) { out += "\u{2060}" }
        }
        return out + rest
    }

    static func neutralizingMentions(_ c: NoticeContent) -> NoticeContent {
        var c = c
        c.headline = neutralizeMentions(c.headline)
        c.intro = neutralizeMentions(c.intro)
        c.facts = c.facts.map { (neutralizeMentions($0.label), neutralizeMentions($0.value)) }
        c.body = neutralizeMentions(c.body)
        c.footer = neutralizeMentions(c.footer)
        if let link = c.link { c.link = (neutralizeMentions(link.label), link.url) }
        return c
    }

    // Slack: header block, a section per part, the text fallback for notifications.
    static func slack(_ c: NoticeContent) -> JSON {
        var blocks: [JSON] = [["type": "header", "text": ["type": "plain_text", "text": .string(String(c.headline.prefix(150)))]]]
        if !c.intro.isEmpty { blocks.append(section(slackEscape(c.intro))) }
        if !c.facts.isEmpty {
            blocks.append(["type": "section", "fields": .array(c.facts.prefix(10).map { ["type": "mrkdwn", "text": "*\(slackEscape($0.label))*\n\(slackEscape($0.value))"] })])
        }
        if !c.body.isEmpty { blocks.append(section(slackEscape(String(c.body.prefix(2900))))) }
        if let link = c.link { blocks.append(section("<\(link.url)|\(slackEscape(link.label))>")) }
        if !c.footer.isEmpty { blocks.append(["type": "context", "elements": [["type": "mrkdwn", "text": .string(slackEscape(c.footer))]]]) }
        // The fallback text is mrkdwn too (it becomes the notification): escaped like the rest.
        return ["text": .string(slackEscape(c.headline)), "blocks": .array(blocks)]
    }

    static func section(_ text: String) -> JSON { ["type": "section", "text": ["type": "mrkdwn", "text": .string(text)]] }

    /// Slack's three control characters in mrkdwn.
    static func slackEscape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    // Discord: an embed with fields; limits from Discord's documentation.
    static func discord(_ c: NoticeContent) -> JSON {
        var embed: [String: JSON] = [
            "title": .string(String(c.headline.prefix(256))),
            "description": .string(String(([c.intro, c.body].filter { !$0.isEmpty }.joined(separator: "\n\n")).prefix(4000))),
            "fields": .array(c.facts.prefix(25).map { ["name": .string(String($0.label.prefix(256))), "value": .string(String($0.value.prefix(1024))), "inline": true] }),
            "color": .int(c.embargoed ? 0xC0392B : 0x2E86C1),
        ]
        if let link = c.link { embed["url"] = .string(link.url) }
        if !c.footer.isEmpty { embed["footer"] = ["text": .string(String(c.footer.prefix(2048)))] }
        return ["content": .string(String(c.headline.prefix(2000))), "embeds": [.object(embed)], "allowed_mentions": ["parse": []]]
    }

    // Teams workflow webhook: a message with one Adaptive Card attachment.
    static func teams(_ c: NoticeContent) -> JSON {
        var body: [JSON] = [["type": "TextBlock", "text": .string(c.headline), "weight": "Bolder", "size": "Medium", "wrap": true]]
        if !c.intro.isEmpty { body.append(["type": "TextBlock", "text": .string(c.intro), "wrap": true]) }
        if !c.facts.isEmpty { body.append(["type": "FactSet", "facts": .array(c.facts.map { ["title": .string($0.label), "value": .string($0.value)] })]) }
        if !c.body.isEmpty { body.append(["type": "TextBlock", "text": .string(c.body), "wrap": true]) }
        if !c.footer.isEmpty { body.append(["type": "TextBlock", "text": .string(c.footer), "wrap": true, "isSubtle": true]) }
        var card: [String: JSON] = ["$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard", "version": "1.4", "body": .array(body)]
        if let link = c.link { card["actions"] = [["type": "Action.OpenUrl", "title": .string(link.label), "url": .string(link.url)]] }
        return ["type": "message", "attachments": [["contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": .null, "content": .object(card)]]]
    }

    // Matrix: m.room.message with a plain body and HTML for clients that render it.
    static func matrix(_ c: NoticeContent) -> JSON {
        var html = "<h4>\(HTML.escape(c.headline))</h4>"
        if !c.intro.isEmpty { html += "<p>\(HTML.escape(c.intro))</p>" }
        if !c.facts.isEmpty { html += "<ul>" + c.facts.map { "<li><strong>\(HTML.escape($0.label))</strong>: \(HTML.escape($0.value))</li>" }.joined() + "</ul>" }
        if !c.body.isEmpty { html += "<p>\(HTML.escape(c.body).replacingOccurrences(of: "\n", with: "<br>"))</p>" }
        if let link = c.link { html += "<p><a href=\"\(HTML.escape(link.url))\">\(HTML.escape(link.label))</a></p>" }
        if !c.footer.isEmpty { html += "<p><em>\(HTML.escape(c.footer))</em></p>" }
        return ["msgtype": "m.text", "body": .string(c.headline + "\n\n" + c.plainText), "format": "org.matrix.custom.html", "formatted_body": .string(html)]
    }

    // Mattermost: Markdown text.
    static func markdown(_ c: NoticeContent) -> String {
        var parts = ["#### " + c.headline]
        if !c.intro.isEmpty { parts.append(c.intro) }
        if !c.facts.isEmpty { parts.append(c.facts.map { "- **\($0.label)**: \($0.value)" }.joined(separator: "\n")) }
        if !c.body.isEmpty { parts.append(c.body) }
        if let link = c.link { parts.append("[\(c.link!.label)](\(link.url))") }
        if !c.footer.isEmpty { parts.append("_\(c.footer)_") }
        return parts.joined(separator: "\n\n")
    }
}

/// HTML escaping for text placed in elements and quoted attributes.
public enum HTML {
    /// Escapes `&`, `<`, `>`, `"` and `'`.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}
