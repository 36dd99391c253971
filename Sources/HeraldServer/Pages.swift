import Foundation
import HeraldCore

/// The public HTML pages: rendered on the server, no JavaScript, every value escaped.
enum Pages {
    static let stylesheet = """
        :root { color-scheme: light dark; --accent: #1f5fa8; --muted: #666; }
        * { box-sizing: border-box; }
        body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 46rem; padding: 1rem; }
        header, footer { border-bottom: 1px solid #8884; padding-bottom: .5rem; margin-bottom: 1rem; }
        footer { border-top: 1px solid #8884; border-bottom: 0; margin-top: 2rem; padding-top: .5rem; color: var(--muted); font-size: .9rem; }
        a { color: var(--accent); }
        h1 { font-size: 1.6rem; line-height: 1.25; }
        ul.advisories { list-style: none; padding: 0; }
        ul.advisories li { padding: .6rem 0; border-bottom: 1px solid #8883; }
        .meta { color: var(--muted); font-size: .9rem; }
        .severity { font-weight: 600; text-transform: uppercase; font-size: .8rem; padding: .05rem .4rem; border-radius: .3rem; border: 1px solid; }
        .severity-critical { color: #a40000; } .severity-high { color: #b34700; } .severity-moderate { color: #7a6000; } .severity-low { color: #2d6a2d; }
        dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
        dt { font-weight: 600; } dd { margin: 0; overflow-wrap: anywhere; }
        pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #8881; padding: .8rem; border-radius: .3rem; }
        label { display: block; margin-top: .8rem; font-weight: 600; }
        input[type=text], input[type=email], input[type=url] { width: 100%; padding: .5rem; font: inherit; }
        button { margin-top: 1rem; padding: .5rem 1.2rem; font: inherit; }
        .notice { padding: .8rem; border-left: 4px solid var(--accent); background: #8881; }
        .body table { border-collapse: collapse; display: block; overflow-x: auto; }
        .body th, .body td { border: 1px solid #8886; padding: .2rem .5rem; }
        .body code { background: #8881; padding: 0 .2rem; border-radius: .2rem; }
        .body pre code { background: none; padding: 0; }
        """

    static func layout(title: String, publicURL: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(HTML.escape(title))</title>
        <link rel="stylesheet" href="/style.css">
        <link rel="alternate" type="application/atom+xml" title="Security advisories (Atom)" href="/feed.atom">
        <link rel="alternate" type="application/rss+xml" title="Security advisories (RSS)" href="/feed.rss">
        <link rel="alternate" type="application/feed+json" title="Security advisories (JSON Feed)" href="/feed.json">
        </head>
        <body>
        <header><nav aria-label="Site"><a href="/">Security advisories</a> · <a href="/providers">Members</a> · <a href="/subscribe">Early notice</a> · <a href="/feed.atom">Feed</a></nav></header>
        <main>
        \(body)
        </main>
        <footer>Announced by Herald. Feeds: <a href="/feed.atom">Atom</a>, <a href="/feed.rss">RSS</a>, <a href="/feed.json">JSON Feed</a>.</footer>
        </body>
        </html>

        """
    }

    static func severity(_ severity: Severity?) -> String {
        severity.map { "<span class=\"severity severity-\($0.rawValue)\">\($0.rawValue)</span>" } ?? ""
    }

    static func when(_ date: Date, zone: String) -> String {
        let tz = TimeZone(identifier: zone) ?? .gmt
        return "<time datetime=\"\(Instant.rfc3339(date))\">\(HTML.escape(Instant.local(date, in: tz))) (\(HTML.escape(zone)))</time>"
    }

    static func index(published: [PublishedAdvisory], upcoming: [UpcomingRelease], publicURL: String) -> String {
        var body = "<h1>Security advisories</h1>\n"
        if !upcoming.isEmpty {
            body += "<section aria-labelledby=\"upcoming\"><h2 id=\"upcoming\">Scheduled releases</h2><ul class=\"advisories\">\n"
            for release in upcoming {
                body += "<li>\(HTML.escape(release.projectName)): security release at \(when(release.instant, zone: release.projectTimezone)) \(severity(release.severity))</li>\n"
            }
            body += "</ul></section>\n"
        }
        body += "<section aria-labelledby=\"published\"><h2 id=\"published\">Published</h2>\n"
        if published.isEmpty {
            body += "<p>No advisories have been published yet.</p>\n"
        } else {
            body += "<ul class=\"advisories\">\n"
            for item in published {
                let a = item.advisory.content
                body += """
                    <li><a href="/advisories/\(HTML.escape(item.advisory.publicID))">\(HTML.escape(item.projectName)): \(HTML.escape(a.title))</a> \(severity(a.severity))
                    <div class="meta">\(when(item.published, zone: item.projectTimezone))\(a.cves.isEmpty ? "" : " · " + HTML.escape(a.cves.joined(separator: ", ")))</div></li>

                    """
            }
            body += "</ul>\n"
        }
        body += "</section>\n"
        return layout(title: "Security advisories", publicURL: publicURL, body: body)
    }

    static func advisory(_ item: PublishedAdvisory, revisions: [PublicRevision], publicURL: String) -> String {
        let a = item.advisory.content
        var facts = ""
        if !a.cves.isEmpty {
            facts += "<dt>CVE</dt><dd>" + a.cves.map {
                "<a href=\"https://www.cve.org/CVERecord?id=\(HTML.escape($0))\">\(HTML.escape($0))</a>"
            }.joined(separator: ", ") + "</dd>"
        }
        if a.severity != nil { facts += "<dt>Severity</dt><dd>\(severity(a.severity))</dd>" }
        if let cvss = a.cvss { facts += "<dt>CVSS</dt><dd><code>\(HTML.escape(cvss))</code></dd>" }
        if !a.affected.isEmpty { facts += "<dt>Affected</dt><dd>\(HTML.escape(a.affected))</dd>" }
        if !a.fixed.isEmpty { facts += "<dt>Fixed</dt><dd>\(HTML.escape(a.fixed))</dd>" }
        facts += "<dt>Published</dt><dd>\(when(item.published, zone: item.projectTimezone))</dd>"
        facts += "<dt>Revision</dt><dd>\(item.advisory.revision)</dd>"
        var body = """
            <article>
            <h1>\(HTML.escape(item.projectName)): \(HTML.escape(a.title))</h1>
            \(a.summary.isEmpty ? "" : "<p>\(HTML.escape(a.summary))</p>")
            <dl>\(facts)</dl>
            \(a.body.isEmpty ? "" : "<h2>Details</h2>\n<div class=\"body\">\(item.bodyHTML.isEmpty ? "<pre>\(HTML.escape(a.body))</pre>" : item.bodyHTML)</div>")

            """
        if revisions.count > 1 {
            body += "<h2>Revision history</h2><ol>\n"
            for revision in revisions {
                body += "<li>Revision \(revision.revision), \(when(revision.createdAt, zone: item.projectTimezone))\(revision.publicNote.isEmpty ? "" : ": " + HTML.escape(revision.publicNote))</li>\n"
            }
            body += "</ol>\n"
        }
        body += "<p class=\"meta\">Machine-readable: <a href=\"/advisories/\(HTML.escape(item.advisory.publicID)).osv.json\">OSV</a></p>\n</article>\n"
        return layout(title: "\(item.projectName): \(a.title)", publicURL: publicURL, body: body)
    }

    static func providers(_ organizations: [String], publicURL: String) -> String {
        var body = "<h1>Member organisations</h1>\n<p>These organisations receive early notice of security releases and agreed to be listed.</p>\n"
        body += organizations.isEmpty ? "<p>No organisation is listed yet.</p>\n" : "<ul>\n" + organizations.map { "<li>\(HTML.escape($0))</li>\n" }.joined() + "</ul>\n"
        return layout(title: "Member organisations", publicURL: publicURL, body: body)
    }

    static func message(title: String, text: String, publicURL: String, form: String = "") -> String {
        layout(title: title, publicURL: publicURL, body: "<h1>\(HTML.escape(title))</h1>\n<p class=\"notice\">\(HTML.escape(text))</p>\n\(form)")
    }

    static func notFound(publicURL: String) -> String {
        message(title: "Not found", text: "There is no published page at this address.", publicURL: publicURL)
    }
}
