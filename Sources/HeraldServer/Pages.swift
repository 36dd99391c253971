import Foundation
import HeraldCore
import HeraldStore
import HeraldTemplates

/// The public HTML pages in one language: the templates (`pages/LANG/*.mustache`) filled with
/// what the page shows. Rendered on the server, no JavaScript; every field is escaped by the
/// template, and only HTML Herald made itself (a sanitised Markdown body) is written as is.
struct Pages {
    let templates: Templates
    let language: Language
    /// Whether the reader chose the language (`?lang=`): the links then keep it.
    let chosen: Bool
    /// The page's address up to `lang=`, for the language switch: `/providers?`, `/ack?token=…&`.
    let path: String

    /// `?lang=nl` when the reader chose the language, else empty.
    var query: String { chosen ? "?lang=\(language.rawValue)" : "" }

    /// A sentence or label of the pages' `words`, filled from `values`.
    func word(_ key: String, _ values: [String: Any] = [:]) -> String {
        templates.page("words", key, in: language, values)
    }

    /// A whole page: `body` (HTML from a page template) in the layout.
    func layout(title: String, body: String) -> String {
        let languages: [[String: Any]] = Language.allCases.map {
            ["code": $0.rawValue, "name": $0.ownName, "href": "\(path)lang=\($0.rawValue)", "current": $0 == language]
        }
        return templates.page(
            "layout", "html", in: language,
            [
                "lang": language.rawValue, "title": title, "body": body,
                "languages": languages, "q": query,
            ]) + "\n"
    }

    /// A page from template `name`, its `title` part naming it.
    func page(_ name: String, _ values: [String: Any]) -> String {
        var values = values
        values["q"] = query
        return layout(
            title: templates.page(name, "title", in: language, values),
            body: templates.page(name, "html", in: language, values))
    }

    /// An instant in the project's zone, written the language's way, with the zone's name.
    func when(_ date: Date, zone: String) -> [String: Any] {
        let tz = TimeZone(identifier: zone) ?? .gmt
        return ["when": language.dateTime(date, in: tz) + " (\(zone))", "datetime": Instant.rfc3339(date)]
    }

    func severity(_ severity: Severity?) -> [String: Any] {
        guard let severity else { return [:] }
        return ["severity": severity.rawValue, "severity-name": word(severity.rawValue)]
    }

    func index(published: [PublishedAdvisory], upcoming: [UpcomingRelease]) -> String {
        let upcomingItems: [[String: Any]] = upcoming.map { release in
            ["project": release.projectName].merging(when(release.instant, zone: release.projectTimezone)) { $1 }
                .merging(severity(release.severity)) { $1 }
        }
        let publishedItems: [[String: Any]] = published.map { item in
            let a = item.advisory.content
            return [
                "href": "/advisories/\(item.advisory.publicID)", "project": item.projectName, "title": a.title,
                "cves": a.cves.joined(separator: ", "),
            ]
            .merging(when(item.published, zone: item.projectTimezone)) { $1 }.merging(severity(a.severity)) { $1 }
        }
        return page(
            "index",
            [
                "upcoming": upcomingItems, "any-upcoming": !upcoming.isEmpty, "published": publishedItems,
                "any-published": !published.isEmpty,
            ])
    }

    func advisory(_ item: PublishedAdvisory, revisions: [PublicRevision]) -> String {
        let a = item.advisory.content
        let cves: [[String: Any]] = a.cves.enumerated().map {
            ["id": $0.element, "last": $0.offset == a.cves.count - 1]
        }
        let history: [[String: Any]] = revisions.map { revision in
            ["revision": String(revision.revision), "note": revision.publicNote].merging(
                when(revision.createdAt, zone: item.projectTimezone)
            ) { $1 }
        }
        let values: [String: Any] = [
            "project": item.projectName, "title": a.title, "summary": a.summary, "cves": cves,
            "any-cves": !a.cves.isEmpty,
            "cvss": a.cvss ?? "", "affected": a.affected, "fixed": a.fixed, "revision": String(item.advisory.revision),
            "body": a.body, "body-html": item.bodyHTML, "any-body": !a.body.isEmpty, "revisions": history,
            "history": revisions.count > 1, "osv-href": "/advisories/\(item.advisory.publicID).osv.json",
        ]
        return page(
            "advisory",
            values.merging(when(item.published, zone: item.projectTimezone)) { $1 }.merging(severity(a.severity)) { $1 }
        )
    }

    func providers(_ organizations: [String]) -> String {
        page(
            "providers",
            ["organizations": organizations.map { ["name": $0] }, "any-organizations": !organizations.isEmpty])
    }

    /// A page that says one thing; with `action`, a button that posts there; with `back`, a link back to the form.
    func message(title: String, text: String, action: String = "", button: String = "", back: String = "") -> String {
        layout(
            title: title,
            body: templates.page(
                "message", "html", in: language,
                [
                    "title": title, "text": text, "action": action,
                    "button": button, "back": back, "q": query,
                ]))
    }

    /// The same pages with the language switch leading to `path` (up to `lang=`).
    func at(_ path: String) -> Pages { Pages(templates: templates, language: language, chosen: chosen, path: path) }

    /// The same page whatever was asked for: its language switch leads to the front page, so
    /// nothing of the address asked for (an id under embargo, say) is said back.
    func notFound() -> String { at("/?").message(title: word("not-found-title"), text: word("not-found-text")) }

    /// The answer form of a private notice, `status` chosen, `error` above it when a try was refused.
    func answer(
        who: String, notice: String, release: String, zone: String, action: String, status: ResponseStatus?,
        error: String = "", typed: (proposed: String, statement: String) = ("", "")
    ) -> String {
        page(
            "answer",
            [
                "action": action, "who": who, "notice": notice, "release": release, "zone": zone,
                "max": String(ProviderAnswer.maxStatement), "error": error,
                "typed-proposed": String(typed.proposed.prefix(64)),
                "typed-statement": String(typed.statement.prefix(ProviderAnswer.maxStatement)),
                "statuses": ResponseStatus.answers.map {
                    ["value": $0.rawValue, "label": word("status-\($0.rawValue)"), "checked": $0 == status]
                        as [String: Any]
                },
            ])
    }

    func subscribe(projects: [Project], csrf: String) -> String {
        page(
            "subscribe",
            [
                "csrf": csrf,
                "projects": projects.map {
                    ["slug": $0.slug, "name": $0.name, "checked": projects.count == 1] as [String: Any]
                },
                "languages": Language.allCases.map {
                    ["code": $0.rawValue, "name": $0.ownName, "selected": $0 == language] as [String: Any]
                },
            ])
    }

    static let stylesheet = """
        :root { color-scheme: light dark; --accent: #1f5fa8; --muted: #666; }
        * { box-sizing: border-box; }
        body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 46rem; padding: 1rem; }
        header, footer { border-bottom: 1px solid #8884; padding-bottom: .5rem; margin-bottom: 1rem; }
        footer { border-top: 1px solid #8884; border-bottom: 0; margin-top: 2rem; padding-top: .5rem; color: var(--muted); font-size: .9rem; }
        a { color: var(--accent); }
        h1 { font-size: 1.6rem; line-height: 1.25; }
        nav.languages { float: right; font-size: .9rem; }
        nav.languages a[aria-current] { font-weight: 600; text-decoration: none; color: inherit; }
        ul.advisories { list-style: none; padding: 0; }
        ul.advisories li { padding: .6rem 0; border-bottom: 1px solid #8883; }
        .meta { color: var(--muted); font-size: .9rem; }
        .severity { font-weight: 600; text-transform: uppercase; font-size: .8rem; padding: .05rem .4rem; border-radius: .3rem; border: 1px solid; }
        .severity-critical { color: #a40000; } .severity-high { color: #b34700; } .severity-moderate { color: #7a6000; } .severity-low { color: #2d6a2d; }
        dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
        dt { font-weight: 600; } dd { margin: 0; overflow-wrap: anywhere; }
        pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #8881; padding: .8rem; border-radius: .3rem; }
        label { display: block; margin-top: .8rem; font-weight: 600; }
        input[type=text], input[type=email], input[type=url], select { width: 100%; padding: .5rem; font: inherit; }
        button { margin-top: 1rem; padding: .5rem 1.2rem; font: inherit; }
        .notice { padding: .8rem; border-left: 4px solid var(--accent); background: #8881; }
        .body table { border-collapse: collapse; display: block; overflow-x: auto; }
        .body th, .body td { border: 1px solid #8886; padding: .2rem .5rem; }
        .body code { background: #8881; padding: 0 .2rem; border-radius: .2rem; }
        .body pre code { background: none; padding: 0; }
        """
}
