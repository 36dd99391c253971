import Foundation

/// JSON bodies for chat webhooks and the generic signed webhook, each in the shape its
/// receiver documents. All are built from the same `NoticeContent`.
public enum ChatPayload {
    /// The JSON body for `format` (any `WebhookKind`).
    /// `event` names the notice for the generic webhook (`herald.publication`), `project` its slug,
    /// and `advisoryID` the public id where the audience may know it.
    public static func render(
        _ content: NoticeContent, as format: WebhookKind, event: String, project: String,
        advisoryID: String?, revision: Int, at date: Date
    ) -> [UInt8] {
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
                "facts": .object(
                    Dictionary(
                        content.facts.map { ($0.label, JSON.string($0.value)) }, uniquingKeysWith: { first, _ in first }
                    )),
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

    /// A title cut to `limit` in `unit`, with an ellipsis when cut.
    static func title(_ text: String, _ limit: Int, _ unit: ChatLimits.Unit, escape: (String) -> String = { $0 })
        -> String
    {
        if ChatLimits.size(escape(text), unit) <= limit { return escape(text) }
        var cut = ChatLimits.cutAtBoundary(text, keeping: limit - 1, unit: unit)
        while ChatLimits.size(escape(cut) + "…", unit) > limit, !cut.isEmpty { cut.removeLast() }
        return escape(cut) + "…"
    }

    // Slack: header block, a section per part, the text fallback for notifications. Limits from
    // Slack's block reference, counted after escaping: header 150, section text 3,000, a field
    // 2,000, at most 10 fields.
    static func slack(_ c: NoticeContent) -> JSON {
        let url = c.link?.url
        var blocks: [JSON] = [
            ["type": "header", "text": ["type": "plain_text", "text": .string(title(c.headline, 150, .utf16))]]
        ]
        if !c.intro.isEmpty {
            blocks.append(section(ChatLimits.fit(c.intro, limit: 3000, unit: .utf16, url: url, escape: slackEscape)))
        }
        if !c.facts.isEmpty {
            blocks.append([
                "type": "section",
                "fields": .array(
                    c.facts.prefix(10).map {
                        [
                            "type": "mrkdwn",
                            "text": .string(
                                "*\(title($0.label, 100, .utf16, escape: slackEscape))*\n"
                                    + ChatLimits.fit($0.value, limit: 1800, unit: .utf16, url: nil, escape: slackEscape)
                            ),
                        ]
                    }),
            ])
        }
        if !c.body.isEmpty {
            blocks.append(
                section(ChatLimits.fit(c.body, limit: 3000, unit: .utf16, url: url, escape: ChatMarkup.slack)))
        }
        if let link = c.link { blocks.append(section("<\(link.url)|\(slackEscape(link.label))>")) }
        if !c.footer.isEmpty {
            blocks.append([
                "type": "context",
                "elements": [
                    [
                        "type": "mrkdwn",
                        "text": .string(
                            ChatLimits.fit(c.footer, limit: 2000, unit: .utf16, url: nil, escape: slackEscape)),
                    ]
                ],
            ])
        }
        // The fallback text is mrkdwn too (it becomes the notification): escaped like the rest.
        return ["text": .string(title(c.headline, 3000, .utf16, escape: slackEscape)), "blocks": .array(blocks)]
    }

    static func section(_ text: String) -> JSON {
        ["type": "section", "text": ["type": "mrkdwn", "text": .string(text)]]
    }

    /// Slack's three control characters in mrkdwn.
    static func slackEscape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }

    // Discord: an embed with fields; limits from Discord's documentation, in UTF-16 units: title
    // 256, description 4,096, 25 fields of 256 and 1,024, footer 2,048, all of it 6,000.
    static func discord(_ c: NoticeContent) -> JSON {
        let url = c.link?.url
        let heading = title(c.headline, 256, .utf16)
        // Facts share 2,400 units (30 CVEs and a long "affected" must not crowd out the text).
        var budget = 2400
        let facts = Array(c.facts.prefix(25))
        var fields: [JSON] = []
        for (index, fact) in facts.enumerated() {
            let name = title(fact.label, 100, .utf16)
            let share = min(1024, max(40, (budget - ChatLimits.size(name, .utf16)) / (facts.count - index)))
            let value = ChatLimits.fit(fact.value, limit: share, unit: .utf16, url: nil)
            budget -= ChatLimits.size(name, .utf16) + ChatLimits.size(value, .utf16)
            fields.append(["name": .string(name), "value": .string(value), "inline": true])
        }
        let footer = ChatLimits.fit(c.footer, limit: 1024, unit: .utf16, url: nil)
        let used = ChatLimits.size(heading, .utf16) + (2400 - budget) + ChatLimits.size(footer, .utf16)
        let text = [c.intro, c.body].filter { !$0.isEmpty }.joined(separator: "\n\n")
        var embed: [String: JSON] = [
            "title": .string(heading),
            "description": .string(ChatLimits.fit(text, limit: min(4096, 6000 - used - 16), unit: .utf16, url: url)),
            "fields": .array(fields),
            "color": .int(c.embargoed ? 0xC0392B : 0x2E86C1),
        ]
        if let link = c.link { embed["url"] = .string(link.url) }
        if !footer.isEmpty { embed["footer"] = ["text": .string(footer)] }
        return [
            "content": .string(title(c.headline, 2000, .utf16)), "embeds": [.object(embed)],
            "allowed_mentions": ["parse": []],
        ]
    }

    // Teams workflow webhook: a message with one Adaptive Card attachment.
    // Teams accepts a payload of about 28 KB: the text shrinks until the card fits in 25,000 bytes.
    static func teams(_ c: NoticeContent) -> JSON {
        var limit = 20_000
        var fitted = c
        while true {
            fitted.intro = ChatLimits.fit(c.intro, limit: min(limit, 4000), unit: .utf8, url: c.link?.url)
            fitted.body = ChatLimits.fit(c.body, limit: limit, unit: .utf8, url: c.link?.url, escape: ChatMarkup.teams)
            fitted.facts = c.facts.prefix(30).map {
                ($0.label, ChatLimits.fit($0.value, limit: 600, unit: .utf8, url: nil))
            }
            let card = teamsCard(fitted)
            if card.bytes.count <= 25_000 || limit < 500 { return card }
            limit = limit * 2 / 3
        }
    }

    static func teamsCard(_ c: NoticeContent) -> JSON {
        var body: [JSON] = [
            ["type": "TextBlock", "text": .string(c.headline), "weight": "Bolder", "size": "Medium", "wrap": true]
        ]
        if !c.intro.isEmpty { body.append(["type": "TextBlock", "text": .string(c.intro), "wrap": true]) }
        if !c.facts.isEmpty {
            body.append([
                "type": "FactSet",
                "facts": .array(c.facts.map { ["title": .string($0.label), "value": .string($0.value)] }),
            ])
        }
        if !c.body.isEmpty { body.append(["type": "TextBlock", "text": .string(c.body), "wrap": true]) }
        if !c.footer.isEmpty {
            body.append(["type": "TextBlock", "text": .string(c.footer), "wrap": true, "isSubtle": true])
        }
        var card: [String: JSON] = [
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard", "version": "1.4",
            "body": .array(body),
        ]
        if let link = c.link {
            card["actions"] = [["type": "Action.OpenUrl", "title": .string(link.label), "url": .string(link.url)]]
        }
        return [
            "type": "message",
            "attachments": [
                [
                    "contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": .null,
                    "content": .object(card),
                ]
            ],
        ]
    }

    // Matrix: m.room.message with a plain body and HTML for clients that render it. An event
    // may be 65,536 bytes, measured as sent (JSON escaping too): the text shrinks until the
    // whole event is under 60,000.
    static func matrix(_ c: NoticeContent) -> JSON {
        var limit = 24_000
        while true {
            var fitted = c
            fitted.body = ChatLimits.cut(c.body, limit: limit, unit: .utf8, url: c.link?.url, measuredAs: HTML.escape)
            if fitted.body != c.body { fitted.bodyHTML = "" }  // a cut body is shown as the text it is
            let event = matrixEvent(fitted)
            if event.bytes.count <= 60_000 || limit < 500 { return event }
            limit = limit * 2 / 3
        }
    }

    static func matrixEvent(_ c: NoticeContent) -> JSON {
        var html = "<h4>\(HTML.escape(c.headline))</h4>"
        if !c.intro.isEmpty { html += "<p>\(HTML.escape(c.intro))</p>" }
        if !c.facts.isEmpty {
            html +=
                "<ul>"
                + c.facts.map { "<li><strong>\(HTML.escape($0.label))</strong>: \(HTML.escape($0.value))</li>" }
                .joined() + "</ul>"
        }
        if !c.bodyHTML.isEmpty, c.bodyHTML.utf8.count <= 24_000 {
            html += c.bodyHTML
        } else if !c.body.isEmpty {
            html += "<p>\(HTML.escape(c.body).replacingOccurrences(of: "\n", with: "<br>"))</p>"
        }
        if let link = c.link { html += "<p><a href=\"\(HTML.escape(link.url))\">\(HTML.escape(link.label))</a></p>" }
        if !c.footer.isEmpty { html += "<p><em>\(HTML.escape(c.footer))</em></p>" }
        return [
            "msgtype": "m.text", "body": .string(c.headline + "\n\n" + c.plainText), "format": "org.matrix.custom.html",
            "formatted_body": .string(html),
        ]
    }

    // Mattermost: Markdown text; a post holds 16,383 characters.
    static func markdown(_ c: NoticeContent) -> String {
        var c = c
        c.intro = ChatLimits.fit(c.intro, limit: 2000, unit: .utf16, url: nil)
        c.body = ChatLimits.fit(c.body, limit: 12_000, unit: .utf16, url: c.link?.url)
        c.facts = c.facts.prefix(30).map { ($0.label, ChatLimits.fit($0.value, limit: 500, unit: .utf16, url: nil)) }
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
