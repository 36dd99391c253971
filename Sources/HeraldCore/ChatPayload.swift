import Foundation

/// JSON bodies for chat webhooks and the generic signed webhook, each in the shape its
/// receiver documents. All are built from the same `NoticeContent`.
public enum ChatPayload {
    /// The JSON body for `format` (any `WebhookKind`).
    /// `event` names the notice for the generic webhook (`herald.publication`), `project` its slug,
    /// and `advisoryID` the public id where the audience may know it.
    public static func render(_ content: NoticeContent, as format: WebhookKind, event: String, project: String,
                              advisoryID: String?, revision: Int, at date: Date) -> [UInt8] {
        let object: [String: Any]
        switch format {
        case .slack: object = slack(content)
        case .mattermost: object = ["text": markdown(content), "username": "Herald"]
        case .discord: object = discord(content)
        case .teams: object = teams(content)
        case .matrix: object = matrix(content)
        case .webhook:
            var data: [String: Any] = [
                "project": project, "headline": content.headline, "text": content.plainText,
                "facts": Dictionary(content.facts.map { ($0.label, $0.value) }, uniquingKeysWith: { first, _ in first }),
                "embargoed": content.embargoed, "revision": revision,
            ]
            if let advisoryID { data["advisory"] = advisoryID }
            if let link = content.link { data["url"] = link.url }
            object = ["type": event, "timestamp": Instant.rfc3339(date), "data": data]
        }
        // Sorted keys: the same notice gives the same bytes, so signatures and tests are stable.
        let json = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return Array(json)
    }

    // Slack: header block, a section per part, the text fallback for notifications.
    static func slack(_ c: NoticeContent) -> [String: Any] {
        var blocks: [[String: Any]] = [["type": "header", "text": ["type": "plain_text", "text": String(c.headline.prefix(150))]]]
        if !c.intro.isEmpty { blocks.append(section(slackEscape(c.intro))) }
        if !c.facts.isEmpty {
            blocks.append(["type": "section", "fields": c.facts.prefix(10).map { ["type": "mrkdwn", "text": "*\(slackEscape($0.label))*\n\(slackEscape($0.value))"] }])
        }
        if !c.body.isEmpty { blocks.append(section(slackEscape(String(c.body.prefix(2900))))) }
        if let link = c.link { blocks.append(section("<\(link.url)|\(slackEscape(link.label))>")) }
        if !c.footer.isEmpty { blocks.append(["type": "context", "elements": [["type": "mrkdwn", "text": slackEscape(c.footer)]]]) }
        return ["text": c.headline, "blocks": blocks]
    }

    static func section(_ text: String) -> [String: Any] { ["type": "section", "text": ["type": "mrkdwn", "text": text]] }

    /// Slack's three control characters in mrkdwn.
    static func slackEscape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    // Discord: an embed with fields; limits from Discord's documentation.
    static func discord(_ c: NoticeContent) -> [String: Any] {
        var embed: [String: Any] = [
            "title": String(c.headline.prefix(256)),
            "description": String(([c.intro, c.body].filter { !$0.isEmpty }.joined(separator: "\n\n")).prefix(4000)),
            "fields": c.facts.prefix(25).map { ["name": String($0.label.prefix(256)), "value": String($0.value.prefix(1024)), "inline": true] },
            "color": c.embargoed ? 0xC0392B : 0x2E86C1,
        ]
        if let link = c.link { embed["url"] = link.url }
        if !c.footer.isEmpty { embed["footer"] = ["text": String(c.footer.prefix(2048))] }
        return ["content": String(c.headline.prefix(2000)), "embeds": [embed], "allowed_mentions": ["parse": [String]()]]
    }

    // Teams workflow webhook: a message with one Adaptive Card attachment.
    static func teams(_ c: NoticeContent) -> [String: Any] {
        var body: [[String: Any]] = [["type": "TextBlock", "text": c.headline, "weight": "Bolder", "size": "Medium", "wrap": true]]
        if !c.intro.isEmpty { body.append(["type": "TextBlock", "text": c.intro, "wrap": true]) }
        if !c.facts.isEmpty { body.append(["type": "FactSet", "facts": c.facts.map { ["title": $0.label, "value": $0.value] }]) }
        if !c.body.isEmpty { body.append(["type": "TextBlock", "text": c.body, "wrap": true]) }
        if !c.footer.isEmpty { body.append(["type": "TextBlock", "text": c.footer, "wrap": true, "isSubtle": true]) }
        var card: [String: Any] = ["$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard", "version": "1.4", "body": body]
        if let link = c.link { card["actions"] = [["type": "Action.OpenUrl", "title": link.label, "url": link.url]] }
        return ["type": "message", "attachments": [["contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": NSNull(), "content": card]]]
    }

    // Matrix: m.room.message with a plain body and HTML for clients that render it.
    static func matrix(_ c: NoticeContent) -> [String: Any] {
        var html = "<h4>\(HTML.escape(c.headline))</h4>"
        if !c.intro.isEmpty { html += "<p>\(HTML.escape(c.intro))</p>" }
        if !c.facts.isEmpty { html += "<ul>" + c.facts.map { "<li><strong>\(HTML.escape($0.label))</strong>: \(HTML.escape($0.value))</li>" }.joined() + "</ul>" }
        if !c.body.isEmpty { html += "<p>\(HTML.escape(c.body).replacingOccurrences(of: "\n", with: "<br>"))</p>" }
        if let link = c.link { html += "<p><a href=\"\(HTML.escape(link.url))\">\(HTML.escape(link.label))</a></p>" }
        if !c.footer.isEmpty { html += "<p><em>\(HTML.escape(c.footer))</em></p>" }
        return ["msgtype": "m.text", "body": c.headline + "\n\n" + c.plainText, "format": "org.matrix.custom.html", "formatted_body": html]
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
