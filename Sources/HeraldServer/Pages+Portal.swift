import Foundation
import HeraldApp
import HeraldCore
import HeraldMarkdown

/// The provider portal's pages.
extension Pages {
    func portalSignIn(csrf: String, error: String = "") -> String {
        page("portal-sign-in", ["csrf": csrf, "error": error])
    }

    func portalHome(
        provider: Provider, session: PortalSession, items: [Portal.PortalItem], projects: [String: Project]
    ) -> String {
        let rows: [[String: Any]] = items.map { item in
            let project = projects[item.projectSlug]
            return [
                "href": "/portal/advisories/\(item.advisory.id)",
                "title": item.revision?.content.title ?? "—", "project": project?.name ?? item.projectSlug,
                "state": word("state-\(item.advisory.state.rawValue)"),
                "release": release(item.revision?.schedule.embargo, zone: project?.timezone),
                "status": word("status-\(item.advisory.status.rawValue)"),
                "embargoed": item.advisory.reading != .published && item.advisory.reading != .withdrawn,
            ]
        }
        return page(
            "portal",
            [
                "organization": provider.organization, "email": session.email, "csrf": session.csrf,
                "advisories": rows, "any-advisories": !rows.isEmpty,
            ])
    }

    func portalAdvisory(
        _ item: Portal.PortalItem, shared: [SharedStatement], project: Project?, session: PortalSession, terms: String,
        answered: Bool = false, error: String = "", chosen: ResponseStatus? = nil,
        typed: (proposed: String, statement: String) = ("", "")
    ) -> String {
        let content = item.revision?.content
        let zone = project?.timezone ?? "UTC"
        let reading = item.advisory.reading
        let canAnswer = item.advisory.takesPart && (item.advisory.state == .scheduled || item.advisory.state == .draft)
        return page(
            "portal-advisory",
            [
                "project": project?.name ?? item.projectSlug, "title": content?.title ?? "—",
                "summary": content?.summary ?? "", "body": content?.body ?? "",
                "body-html": (content?.body).map { $0.isEmpty ? "" : Markdown.html($0) } ?? "",
                "any-body": !(content?.body.isEmpty ?? true), "note": item.revision?.noteToProviders ?? "",
                "embargoed": { if case .embargoed = reading { return true } else { return false } }(),
                "withdrawn": reading == .withdrawn, "published": reading == .published,
                "terms": { if case .embargoed = reading { return terms } else { return "" } }(),
                "public-href": "/advisories/\(item.publicID)", "state": word("state-\(item.advisory.state.rawValue)"),
                "release": release(item.revision?.schedule.embargo, zone: zone),
                "revision": String(item.revision?.revision ?? 0),
                "status": word("status-\(item.advisory.status.rawValue)"), "can-answer": canAnswer,
                "action": "/portal/advisories/\(item.advisory.id)/answer", "csrf": session.csrf, "zone": zone,
                "max": String(ProviderAnswer.maxStatement), "error": error, "answered": answered,
                "typed-proposed": String(typed.proposed.prefix(64)),
                "typed-statement": String(typed.statement.prefix(ProviderAnswer.maxStatement)),
                "cves": content?.cves.joined(separator: ", ") ?? "",
                "severity-name": content?.severity.map { word($0.rawValue) } ?? "",
                "cvss": content?.cvss ?? "", "affected": content?.affected ?? "", "fixed": content?.fixed ?? "",
                "statuses": ResponseStatus.answers.map {
                    ["value": $0.rawValue, "label": word("status-\($0.rawValue)"), "checked": $0 == chosen]
                        as [String: Any]
                },
                "shared": shared.map {
                    [
                        "organization": $0.organization, "status": word("status-\($0.status.rawValue)"),
                        "statement": $0.statement,
                    ]
                },
                "any-shared": !shared.isEmpty,
            ])
    }

    func portalOrganisation(
        _ provider: Provider, session: PortalSession, key: ProviderKey?, notice: String = "", error: String = "",
        secrets: [String: String] = [:]
    ) -> String {
        page(
            "portal-organisation",
            [
                "organization": provider.organization, "csrf": session.csrf, "notice": notice, "error": error,
                "contacts": provider.emails.map {
                    ["email": $0, "me": $0.lowercased() == session.email.lowercased()] as [String: Any]
                },
                "webhooks": provider.webhooks.enumerated().map {
                    [
                        "url": $0.element.url, "kind": $0.element.kind.rawValue,
                        "disabled": $0.element.disabledAt != nil,
                        "position": String($0.offset),
                    ] as [String: Any]
                },
                "languages": Language.allCases.map {
                    ["code": $0.rawValue, "name": $0.ownName, "selected": $0 == provider.language] as [String: Any]
                },
                "secrets": secrets.sorted { $0.key < $1.key }.map { ["url": $0.key, "secret": $0.value] },
                "any-secrets": !secrets.isEmpty,
                "my-email": session.email,
                "has-key": key != nil,
                "key-fingerprint": key.map { Self.grouped($0.key.fingerprint) } ?? "",
                "key-expires": key?.key.expires.map { language.dateTime($0, in: .gmt) + " (UTC)" } ?? "",
            ])
    }

    /// A fingerprint in groups of four, as OpenPGP programs show it.
    static func grouped(_ fingerprint: String) -> String {
        stride(from: 0, to: fingerprint.count, by: 4).map {
            let start = fingerprint.index(fingerprint.startIndex, offsetBy: $0)
            return String(
                fingerprint[
                    start..<(fingerprint.index(start, offsetBy: 4, limitedBy: fingerprint.endIndex)
                        ?? fingerprint.endIndex)])
        }.joined(separator: " ")
    }

    /// An instant in the project's zone, the page's language's way, with the zone's name.
    func release(_ date: Date?, zone: String?) -> String {
        guard let date else { return word("state-draft") }
        let zone = zone ?? "UTC"
        return language.dateTime(date, in: TimeZone(identifier: zone) ?? .gmt) + " (\(zone))"
    }
}
