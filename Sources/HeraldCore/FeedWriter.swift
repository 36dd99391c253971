import Foundation

/// Atom (RFC 4287), RSS 2.0, JSON Feed 1.1 and OSV documents of published advisories.
public struct FeedWriter: Sendable {
    /// The feeds' title, also named as their author.
    public var title: String
    /// Base URL without a trailing slash.
    public var publicURL: String

    /// Creates a writer; a trailing slash on `publicURL` is dropped.
    public init(title: String = "Security advisories", publicURL: String) {
        self.title = title
        self.publicURL = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
    }

    /// The advisory's page, its stable public address and feed id.
    public func pageURL(_ item: PublishedAdvisory) -> String { "\(publicURL)/advisories/\(item.advisory.publicID)" }

    // Items are expected newest first.

    /// An Atom feed: stable entry ids (the page URL), `updated` per revision, a self link.
    public func atom(_ items: [PublishedAdvisory]) -> String {
        let updated = items.map(\.updated).max() ?? Date(timeIntervalSince1970: 0)
        var xml = """
            <?xml version="1.0" encoding="utf-8"?>
            <feed xmlns="http://www.w3.org/2005/Atom">
            <title>\(XML.escape(title))</title>
            <id>\(XML.escape(publicURL))/feed.atom</id>
            <link rel="self" type="application/atom+xml" href="\(XML.escape(publicURL))/feed.atom"/>
            <link rel="alternate" type="text/html" href="\(XML.escape(publicURL))/"/>
            <updated>\(Instant.rfc3339(updated))</updated>
            <author><name>\(XML.escape(title))</name></author>
            <generator>Herald</generator>

            """
        for item in items {
            let a = item.advisory.content
            let summary = a.summary.isEmpty ? a.title : a.summary
            xml += """
                <entry>
                <title>\(XML.escape("\(item.projectName): \(a.title)"))</title>
                <id>\(XML.escape(pageURL(item)))</id>
                <link rel="alternate" type="text/html" href="\(XML.escape(pageURL(item)))"/>
                <published>\(Instant.rfc3339(item.published))</published>
                <updated>\(Instant.rfc3339(item.updated))</updated>
                <summary>\(XML.escape(summary))</summary>
                <content type="html">\(XML.escape(html(item)))</content>
                \(a.cves.map { "<category term=\"\(XML.escape($0))\"/>" }.joined())\(a.severity.map { "<category term=\"severity:\($0.rawValue)\"/>" } ?? "")
                </entry>

                """
        }
        return xml + "</feed>\n"
    }

    /// An RSS 2.0 feed with an Atom self link.
    public func rss(_ items: [PublishedAdvisory]) -> String {
        let updated = items.map(\.updated).max() ?? Date(timeIntervalSince1970: 0)
        var xml = """
            <?xml version="1.0" encoding="utf-8"?>
            <rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">
            <channel>
            <title>\(XML.escape(title))</title>
            <link>\(XML.escape(publicURL))/</link>
            <description>\(XML.escape(title))</description>
            <atom:link href="\(XML.escape(publicURL))/feed.rss" rel="self" type="application/rss+xml"/>
            <lastBuildDate>\(Self.rfc822(updated))</lastBuildDate>
            <generator>Herald</generator>

            """
        for item in items {
            let a = item.advisory.content
            xml += """
                <item>
                <title>\(XML.escape("\(item.projectName): \(a.title)"))</title>
                <link>\(XML.escape(pageURL(item)))</link>
                <guid isPermaLink="true">\(XML.escape(pageURL(item)))</guid>
                <pubDate>\(Self.rfc822(item.published))</pubDate>
                <description>\(XML.escape(html(item)))</description>
                \(a.cves.map { "<category>\(XML.escape($0))</category>" }.joined())
                </item>

                """
        }
        return xml + "</channel>\n</rss>\n"
    }

    /// A JSON Feed 1.1.
    public func jsonFeed(_ items: [PublishedAdvisory]) -> [UInt8] {
        let entries: [JSON] = items.map { item in
            let a = item.advisory.content
            var entry: [String: JSON] = [
                "id": .string(pageURL(item)), "url": .string(pageURL(item)), "title": "\(item.projectName): \(a.title)",
                "content_text": .string(text(item)), "content_html": .string(html(item)),
                "date_published": .string(Instant.rfc3339(item.published)),
                "date_modified": .string(Instant.rfc3339(item.updated)),
                "tags": .array((a.cves + (a.severity.map { ["severity:\($0.rawValue)"] } ?? [])).map(JSON.string)),
            ]
            if !a.summary.isEmpty { entry["summary"] = .string(a.summary) }
            return .object(entry)
        }
        let feed: JSON = [
            "version": "https://jsonfeed.org/version/1.1", "title": .string(title),
            "home_page_url": .string(publicURL + "/"),
            "feed_url": .string(publicURL + "/feed.json"), "items": .array(entries),
        ]
        return feed.bytes
    }

    /// The OSV record (ossf.github.io/osv-schema) of one advisory.
    public func osv(_ item: PublishedAdvisory) -> [UInt8] {
        let a = item.advisory.content
        var record: [String: JSON] = [
            "schema_version": "1.7.0", "id": .string(OSV.id(item.advisory.publicID)),
            "modified": .string(Instant.rfc3339(item.updated)),
            "published": .string(Instant.rfc3339(item.published)), "summary": .string(a.title),
            "details": .string(text(item)),
            "references": .array(
                [["type": "ADVISORY", "url": .string(pageURL(item))]]
                    + a.references.map { ["type": .string($0.type), "url": .string($0.url)] }),
            "database_specific": [
                "project": .string(item.projectName), "revision": .int(item.advisory.revision),
                "affected": .string(a.affected),
                "fixed": .string(a.fixed), "severity": .optional(a.severity?.rawValue),
                "herald_id": .string(item.advisory.publicID),
            ],
        ]
        // Per package, the range scanners match; the words as typed stay beside it for people.
        if !item.packages.isEmpty {
            let range = AffectedRange.read(affected: a.affected, fixed: a.fixed)
            record["affected"] = .array(
                item.packages.map { package in
                    var entry: [String: JSON] = [
                        "package": ["ecosystem": .string(package.ecosystem), "name": .string(package.name)],
                        "database_specific": ["affected": .string(a.affected), "fixed": .string(a.fixed)],
                    ]
                    if let range {
                        entry["ranges"] = [
                            [
                                "type": .string(range.type),
                                "events": .array(range.events.map { [$0.kind: .string($0.version)] }),
                            ]
                        ]
                    }
                    return .object(entry)
                })
        }
        if !a.cves.isEmpty { record["aliases"] = .array(a.cves.map(JSON.string)) }
        if let cvss = a.cvss {
            record["severity"] = [
                ["type": cvss.hasPrefix("CVSS:4.0/") ? "CVSS_V4" : "CVSS_V3", "score": .string(cvss)]
            ]
        }
        return JSON.object(record).bytes
    }

    /// The advisory as HTML for feed content: the summary, the facts, and the rendered body.
    func html(_ item: PublishedAdvisory) -> String {
        let a = item.advisory.content
        var parts: [String] = []
        if !a.summary.isEmpty { parts.append("<p>\(HTML.escape(a.summary))</p>") }
        var facts: [String] = []
        if !a.cves.isEmpty { facts.append("<li>CVE: \(HTML.escape(a.cves.joined(separator: ", ")))</li>") }
        if let severity = a.severity { facts.append("<li>Severity: \(severity.rawValue)</li>") }
        if let cvss = a.cvss { facts.append("<li>CVSS: <code>\(HTML.escape(cvss))</code></li>") }
        if !a.affected.isEmpty { facts.append("<li>Affected: \(HTML.escape(a.affected))</li>") }
        if !a.fixed.isEmpty { facts.append("<li>Fixed: \(HTML.escape(a.fixed))</li>") }
        if !facts.isEmpty { parts.append("<ul>\(facts.joined())</ul>") }
        if !item.bodyHTML.isEmpty {
            parts.append(item.bodyHTML)
        } else if !a.body.isEmpty {
            parts.append("<pre>\(HTML.escape(a.body))</pre>")
        }
        return parts.joined(separator: "\n")
    }

    /// The advisory as plain text for feed content.
    func text(_ item: PublishedAdvisory) -> String {
        let a = item.advisory.content
        var parts: [String] = []
        if !a.summary.isEmpty { parts.append(a.summary) }
        var facts: [String] = []
        if !a.cves.isEmpty { facts.append("CVE: " + a.cves.joined(separator: ", ")) }
        if let severity = a.severity { facts.append("Severity: \(severity.rawValue)") }
        if let cvss = a.cvss { facts.append("CVSS: \(cvss)") }
        if !a.affected.isEmpty { facts.append("Affected: \(a.affected)") }
        if !a.fixed.isEmpty { facts.append("Fixed: \(a.fixed)") }
        if !facts.isEmpty { parts.append(facts.joined(separator: "\n")) }
        if !a.body.isEmpty { parts.append(a.body) }
        return parts.joined(separator: "\n\n")
    }

    /// `Tue, 01 Dec 2026 16:00:00 +0000` (RFC 822 with a four-digit year, as RSS readers expect).
    public static func rfc822(_ date: Date) -> String { EmailMessage.rfc5322Date(date) }
}
