import Foundation
import HeraldCore
import Mustache

/// One template file, `messages/LANG/NAME.mustache` or `pages/LANG/NAME.mustache`: the parts
/// it must have and the fields its parts may use. The file is parts headed by `== part ==`
/// lines; lines before the first heading are notes for whoever edits it.
struct TemplateFile {
    let name: String
    /// `messages` or `pages`.
    let folder: String
    let language: Language
    let message: String
    let schema: Schema

    /// What a template file holds.
    struct Schema {
        var parts: [String]
        var fields: Set<String>
        /// HTML: every field is escaped, and only the fields in `raw` (HTML Herald made itself,
        /// such as a sanitised Markdown body) may be written unescaped with `{{{…}}}`.
        var html = false
        var raw: Set<String> = []
        /// The fields that are lists (a section repeats for each element).
        var lists: Set<String> = []
    }

    /// Facts of an advisory that a notice may name.
    static let advisoryFields: Set<String> = [
        "project", "title", "summary", "release", "revision", "note", "zone", "moved-from",
        "moved-to", "changed", "published-early",
    ]
    static let notice = Schema(parts: ["subject", "intro", "footer"], fields: advisoryFields)
    /// Public messages know only public facts: the publication its advisory, the others before it
    /// only the project and the instant (no title, no note meant for providers).
    static let publication = Schema(
        parts: ["subject", "intro", "footer"], fields: ["project", "title", "summary", "release", "revision"])
    static let beforeRelease = Schema(parts: ["subject", "intro", "footer"], fields: ["project", "release"])

    /// Every message file, by name.
    static let schemas: [String: Schema] = [
        "early-notice": notice, "revision": notice, "reminder": notice, "final-notice": notice,
        "publication-to-providers": notice, "publication": publication,
        "pre-announcement": beforeRelease, "cancellation-to-providers": notice, "cancellation": beforeRelease,
        "confirmation": Schema(parts: ["subject", "intro", "footer"], fields: ["project", "organization"]),
        "welcome": Schema(parts: ["subject", "intro", "footer"], fields: ["project", "organization"]),
        "contact-left": Schema(
            parts: ["subject", "intro", "footer"], fields: ["project", "organization", "address", "remaining"]),
        "alert": Schema(
            parts: ["subject", "intro", "body", "footer"], fields: ["project", "advisory", "problem", "command"]),
        "more-time": Schema(
            parts: ["subject", "intro", "body", "footer"],
            fields: ["project", "advisory", "organization", "proposed", "release", "command"]),
        "channel-test": Schema(parts: ["subject", "intro", "footer"], fields: ["project"]),
        "confirm-contact": Schema(
            parts: ["subject", "intro", "footer"], fields: ["project", "organization", "address"]),
        "proposal-declined": Schema(
            parts: ["subject", "intro", "footer"], fields: ["project", "title", "release", "proposed"]),
        "sign-in": Schema(parts: ["subject", "intro", "footer"], fields: ["project", "organization", "minutes"]),
        "console-sign-in": Schema(parts: ["subject", "intro", "footer"], fields: ["project", "minutes"]),
        "private-notice": Schema(parts: ["subject", "intro", "footer"], fields: ["project"]),
        "key-expiring": Schema(
            parts: ["subject", "intro", "footer"],
            fields: ["project", "organization", "address", "fingerprint", "expires"]),
        "words": Schema(
            parts: [
                "release", "revision", "cve", "severity", "highest-severity", "cvss", "affected", "fixed", "advisory",
                "not-set", "acknowledge", "confirm", "published-advisories", "low", "moderate", "high", "critical",
                "changed-title", "changed-summary", "changed-details", "changed-cve", "changed-severity",
                "changed-cvss", "changed-affected", "changed-fixed", "answer-ready", "answer-not-affected",
                "answer-needs-more-time", "proposed", "sign-in", "terms", "deployment-allowed",
                "deployment-not-allowed", "patch-embargoed", "patch-public", "tlp",
            ],
            fields: ["project"]),
    ]

    /// Every page, by name. A page's text parts (`title`) are plain text; its `html` part is HTML.
    static let pageSchemas: [String: Schema] = {
        let layout: Set<String> = ["lang", "title", "body", "languages", "code", "name", "href", "current", "q"]
        let severity: Set<String> = ["severity", "severity-name"]
        return [
            "layout": Schema(parts: ["html"], fields: layout, html: true, raw: ["body"], lists: ["languages"]),
            "index": Schema(
                parts: ["title", "html"],
                fields: severity.union([
                    "upcoming", "published", "project", "title", "when", "datetime",
                    "href", "cves", "q", "any-upcoming", "any-published",
                ]), html: true, lists: ["upcoming", "published"]),
            "advisory": Schema(
                parts: ["title", "html"],
                fields: severity.union([
                    "project", "title", "summary", "cves", "id", "cvss", "affected",
                    "fixed", "when", "datetime", "revision", "body", "body-html",
                    "revisions", "note", "osv-href", "any-cves", "last", "any-body",
                    "history",
                ]), html: true, raw: ["body-html"], lists: ["cves", "revisions"]),
            "providers": Schema(
                parts: ["title", "html"], fields: ["organizations", "name", "any-organizations"], html: true,
                lists: ["organizations"]),
            "message": Schema(parts: ["html"], fields: ["title", "text", "action", "button", "back", "q"], html: true),
            "subscribe": Schema(
                parts: ["title", "html"],
                fields: [
                    "csrf", "projects", "slug", "name", "checked", "languages", "code",
                    "selected", "q",
                ], html: true, lists: ["projects", "languages"]),
            "words": Schema(
                parts: [
                    "not-found-title", "not-found-text", "form-expired-title", "form-expired-text",
                    "correct-form-title",
                    "back-to-form", "check-mail-title", "check-mail-text", "confirm-title", "confirm-button",
                    "confirm-ask",
                    "confirm-done", "unsubscribe-title", "unsubscribe-button", "unsubscribe-ask-organization",
                    "unsubscribe-ask-address", "unsubscribe-done-left", "unsubscribe-done-address", "ack-title",
                    "ack-button",
                    "ack-notice", "ack-ask", "ack-done", "low", "moderate", "high", "critical", "answer-title",
                    "answer-done", "status-ready", "status-not-affected", "status-needs-more-time", "status-affected",
                    "state-draft", "state-scheduled", "state-published", "state-cancelled", "status-unknown",
                    "portal-check-mail-title", "portal-check-mail-text", "portal-sign-in-title", "portal-sign-in-ask",
                    "portal-sign-in-button", "portal-signed-out", "portal-left", "portal-saved", "portal-expired",
                    "portal-address-pending", "portal-confirm-address-title", "portal-confirm-address-ask",
                    "portal-confirm-address-button", "portal-confirm-address-done", "console-title",
                    "console-check-mail-text", "console-sign-in-ask", "console-sign-in-button", "console-signed-out",
                    "console-signed-out-everywhere", "timeline-title", "timeline-sent", "timeline-delivered",
                    "timeline-failing", "timeline-seen", "timeline-acknowledged", "timeline-answered",
                    "timeline-instant",
                    "timeline-now", "console-read-only", "totals-participants-one", "totals-participants-other",
                    "totals-notified", "totals-seen", "totals-acknowledged", "totals-ready", "totals-not-affected",
                    "totals-affected", "totals-more-time-one", "totals-more-time-other", "totals-silent",
                    "totals-not-reached", "totals-excluded",
                ],
                fields: [
                    "organization", "address", "who", "notice", "title", "revision", "revised", "status", "count",
                    "latest",
                ]),
            "portal-sign-in": Schema(parts: ["title", "html"], fields: ["csrf", "error", "q"], html: true),
            "portal": Schema(
                parts: ["title", "html"],
                fields: [
                    "organization", "email", "csrf", "any-advisories", "q", "advisories", "href", "title", "project",
                    "state", "release", "status", "embargoed",
                ], html: true, lists: ["advisories"]),
            "portal-advisory": Schema(
                parts: ["title", "html"],
                fields: [
                    "project", "title", "summary", "body", "body-html", "any-body", "note", "embargoed", "withdrawn",
                    "published", "public-href", "state", "release", "revision", "status", "can-answer", "action",
                    "csrf", "zone", "max", "error", "answered", "typed-proposed", "typed-statement", "any-shared", "q",
                    "cves", "severity-name", "cvss", "affected", "fixed", "label", "value", "statuses", "checked",
                    "terms",
                    "shared", "organization", "statement",
                ], html: true, raw: ["body-html"], lists: ["statuses", "shared"]),
            "portal-organisation": Schema(
                parts: ["title", "html"],
                fields: [
                    "organization", "csrf", "notice", "error", "any-secrets", "q", "contacts", "email", "me",
                    "webhooks", "url", "kind", "disabled", "languages", "code", "name", "selected", "secrets",
                    "secret", "position", "my-email", "has-key", "key-fingerprint", "key-expires",
                ], html: true, lists: ["contacts", "webhooks", "languages", "secrets"]),
            "console-advisory": Schema(
                parts: ["title", "html"],
                fields: [
                    "project", "title", "state", "release", "utc", "countdown", "totals", "timeline", "q",
                    "participants", "organization", "notified", "delivered", "seen", "acknowledged", "answer",
                    "statement", "failing", "channels", "channel", "notice", "any-participants", "any-channels",
                    "can-act", "read-only", "csrf", "id", "typed-instant", "can-send-early", "can-decide",
                    "provider-id",
                    "proposal", "typed-proposal", "failures", "delivery-id", "recipient", "attempts", "error",
                    "any-failures", "window", "cvss-score",
                ], html: true, raw: ["timeline"], lists: ["participants", "channels", "failures"]),
            "console-preview": Schema(
                parts: ["title", "html"],
                fields: [
                    "project", "title", "back", "q", "any-public", "private", "public", "heading", "subject", "text",
                ],
                html: true, lists: ["private", "public"]),
            "console-providers": Schema(
                parts: ["title", "html"],
                fields: [
                    "csrf", "q", "is-admin", "any-pending", "any-members", "pending", "members", "id", "organization",
                    "contacts", "projects", "status", "requested", "looks-like", "active",
                ], html: true, lists: ["pending", "members"]),
            "console-provider": Schema(
                parts: ["title", "html"],
                fields: [
                    "csrf", "q", "is-admin", "id", "organization", "status", "emails-text", "projects-text", "listed",
                    "reads-keys", "any-webhooks", "any-keys", "contacts", "email", "languages", "code", "name",
                    "selected", "webhooks", "url", "kind", "position", "keys", "fingerprint", "algorithm", "expires",
                    "can-edit", "updated", "disabled",
                ], html: true, lists: ["contacts", "languages", "webhooks", "keys"]),
            "console-import": Schema(
                parts: ["title", "html"],
                fields: [
                    "q", "csrf", "is-admin", "csv", "sync", "error", "reported", "applied", "previewed", "added",
                    "changed",
                    "removed", "line", "any-added", "any-changed", "any-removed", "unchanged", "secrets", "provider",
                    "url", "secret",
                    "any-secrets",
                ], html: true, lists: ["added", "changed", "removed", "secrets"]),
            "console-templates": Schema(
                parts: ["title", "html"],
                fields: [
                    "q", "templates", "name", "about", "overridden", "href", "selected", "text", "selected-overridden",
                ], html: true, lists: ["templates"]),
            "console-settings": Schema(
                parts: ["title", "html"], fields: ["q", "templates", "settings", "key", "value"], html: true,
                lists: ["settings"]),
            "console-audit": Schema(
                parts: ["title", "html"],
                fields: ["q", "actor", "advisory", "any-entries", "entries", "when", "who", "what", "subject", "why"],
                html: true, lists: ["entries"]),
            "console-editor": Schema(
                parts: ["title", "html"],
                fields: [
                    "creating", "action", "back", "csrf", "q", "error", "projects", "slug", "name", "selected", "title",
                    "summary", "body", "cves", "severities", "value", "label", "cvss", "affected", "fixed", "embargo",
                    "early", "reason", "note", "preview-html", "has-preview", "cvss-score",
                ], html: true, raw: ["preview-html"], lists: ["projects", "severities"]),
            "console-confirm": Schema(
                parts: [
                    "title", "html", "question-publish", "question-cancel", "question-reschedule", "button-publish",
                    "button-cancel", "button-reschedule", "question-early-notice", "button-early-notice",
                ],
                fields: [
                    "question", "action", "button", "back", "csrf", "q", "fields", "name", "value", "title",
                    "participants", "channels", "instant",
                ], html: true, lists: ["fields"]),
            "console-sign-in": Schema(parts: ["title", "html"], fields: ["csrf", "error", "q"], html: true),
            "console-code": Schema(
                parts: ["title", "html"], fields: ["email", "csrf", "error", "enrol", "secret", "qr", "uri", "q"],
                html: true, raw: ["qr"]),
            "console-recovery": Schema(
                parts: ["title", "html"], fields: ["codes", "code", "q"], html: true, lists: ["codes"]),
            "console": Schema(
                parts: ["title", "html"],
                fields: [
                    "email", "role", "csrf", "read-only", "any-advisories", "q", "advisories", "href", "project",
                    "title",
                    "state", "release", "utc", "datetime", "countdown", "totals", "failing",
                ], html: true, lists: ["advisories"]),
            "answer": Schema(
                parts: ["title", "html"],
                fields: [
                    "action", "who", "notice", "release", "zone", "max", "error", "q", "statuses", "value", "label",
                    "checked", "typed-proposed", "typed-statement",
                ], html: true, lists: ["statuses"]),
        ]
    }()

    /// `messages/nl/welcome.mustache`, `pages/da/index.mustache`, or nil for a name that is no template.
    init?(name: String) {
        let pieces = name.split(separator: "/").map(String.init)
        guard pieces.count == 3, let language = Language(rawValue: pieces[1]), pieces[2].hasSuffix(".mustache") else {
            return nil
        }
        let base = String(pieces[2].dropLast(".mustache".count))
        guard
            let schema = pieces[0] == "messages"
                ? Self.schemas[base] : pieces[0] == "pages" ? Self.pageSchemas[base] : nil
        else { return nil }
        self.name = name
        self.folder = pieces[0]
        self.language = language
        self.message = base
        self.schema = schema
    }

    /// Every file there must be: each message and page in each language.
    static var allNames: [String] {
        Language.allCases.flatMap { language in
            schemas.keys.sorted().map { "messages/\(language.rawValue)/\($0).mustache" }
                + pageSchemas.keys.sorted().map { "pages/\(language.rawValue)/\($0).mustache" }
        }
    }

    /// The key of one part in the parsed set: `messages/nl/welcome#subject`.
    func key(_ part: String) -> String { "\(folder)/\(language.rawValue)/\(message)#\(part)" }

    /// Each part of `text`, parsed and checked: message parts and a page's text parts as plain
    /// text (no escaping: e-mail, chat and the page escape them where they place the words), a
    /// page's `html` part as HTML (every field escaped).
    func parse(_ text: String) throws(TemplateProblems) -> [String: MustacheTemplate] {
        var problems: [TemplateProblem] = []
        func problem(_ line: Int, _ column: Int, _ message: String) {
            problems.append(TemplateProblem(file: name, line: line, column: column, message: message))
        }
        // Split into parts, remembering the line each starts on.
        var sections: [(part: String, firstLine: Int, lines: [String])] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = line.hasSuffix("\r") ? String(line.dropLast()) : String(line)
            if line.hasPrefix("=="), line.hasSuffix("=="), line.count > 4 {
                let part = line.dropFirst(2).dropLast(2).trimmingCharacters(in: .whitespaces)
                if !schema.parts.contains(part) {
                    problem(
                        index + 1, 1, "unknown part '\(part)'; \(message) has \(schema.parts.joined(separator: ", "))")
                } else if sections.contains(where: { $0.part == part }) {
                    problem(index + 1, 1, "part '\(part)' twice")
                }
                sections.append((part, index + 2, []))
            } else if !sections.isEmpty {
                sections[sections.count - 1].lines.append(line)
            }
        }
        for part in schema.parts where !sections.contains(where: { $0.part == part }) {
            problem(1, 1, "lacks the part '== \(part) =='")
        }
        var parsed: [String: MustacheTemplate] = [:]
        for section in sections where schema.parts.contains(section.part) {
            var lines = section.lines
            while lines.last?.trimmingCharacters(in: .whitespaces).isEmpty == true { lines.removeLast() }
            var first = section.firstLine
            while lines.first?.trimmingCharacters(in: .whitespaces).isEmpty == true {
                lines.removeFirst()
                first += 1
            }
            let body = lines.joined(separator: "\n")
            let html = schema.html && section.part == "html"
            // Sections nest at most `maxDepth` deep and a list never repeats inside a list: a deeper
            // one would exhaust the parser's stack, and lists in lists multiply a page's work.
            var open: [String] = []
            var nestingRefused = false
            for tag in Self.tags(in: body) {
                if let complaint = check(tag.text, html: html) {
                    problem(first + tag.line - 1, tag.column, complaint)
                    continue
                }
                let (sigil, name) = Self.sectionTag(tag.text)
                if sigil == "#" || sigil == "^" {
                    if open.count >= Self.maxDepth
                        || (schema.lists.contains(name) && open.contains(where: schema.lists.contains))
                    {
                        problem(
                            first + tag.line - 1, tag.column,
                            "\(tag.text) nests too deep: sections at most \(Self.maxDepth) deep, and no list inside a list"
                        )
                        nestingRefused = true
                        break
                    }
                    open.append(name)
                } else if sigil == "/", !open.isEmpty {
                    open.removeLast()
                }
            }
            if nestingRefused { continue }
            let prefix = html ? "" : Self.plainText
            do {
                let template = try MustacheTemplate(string: prefix + body)
                parsed[section.part] = template
                // A sample of every field: a part that says nothing then is refused now, not at the instant.
                if section.part == "subject"
                    && template.render(Dictionary(uniqueKeysWithValues: schema.fields.map { ($0, "x") }))
                        .trimmingCharacters(in: .whitespaces).isEmpty
                {
                    problem(first, 1, "the subject is empty")
                }
            } catch let error as MustacheTemplate.ParserError {
                let line = error.context.lineNumber
                let column = line == 1 ? max(1, error.context.columnNumber - prefix.count) : error.context.columnNumber
                problem(first + line - 1, column, "\(error.error)")
            } catch {
                problem(first, 1, "\(error)")
            }
        }
        guard problems.isEmpty else { throw TemplateProblems(problems: problems) }
        return parsed
    }

    static let plainText = "{{% CONTENT_TYPE: TEXT}}"

    /// How deep sections may nest; the built-in templates need 3.
    static let maxDepth = 4

    /// A section tag's sigil (`#`, `^`, `/`) and field name; an empty sigil for any other tag.
    static func sectionTag(_ tag: String) -> (sigil: String, name: String) {
        let inner = tag.dropFirst(2).dropLast(2).trimmingCharacters(in: .whitespaces)
        guard let first = inner.first, "#^/".contains(first) else { return ("", "") }
        return (String(first), inner.dropFirst().trimmingCharacters(in: .whitespaces))
    }

    /// What is wrong with one `{{…}}` tag, or nil. Templates use fields and sections of fields
    /// only: no partials, no changed delimiters or content type, nothing unknown; in HTML, no
    /// field un-escaped but those Herald made HTML itself.
    func check(_ tag: String, html: Bool) -> String? {
        var inner = Substring(tag.dropFirst(2).dropLast(2))
        var unescaped = false
        if inner.hasPrefix("{") && inner.hasSuffix("}") {
            inner = inner.dropFirst().dropLast()
            unescaped = true
        }
        inner = Substring(inner.trimmingCharacters(in: .whitespaces))
        guard let sigil = inner.first else { return "an empty tag" }
        switch sigil {
        case "!": return nil
        case ">", "<", "$", "=", "%": return "\(tag): a template uses fields and sections only"
        case "&":
            unescaped = true
            inner = Substring(inner.dropFirst().trimmingCharacters(in: .whitespaces))
        case "#", "^", "/": inner = Substring(inner.dropFirst().trimmingCharacters(in: .whitespaces))
        default: break
        }
        let field = String(inner)
        guard field == "." || schema.fields.contains(field) else {
            return "unknown field \(tag); \(message) knows \(schema.fields.sorted().joined(separator: ", "))"
        }
        if html && unescaped && !schema.raw.contains(field) {
            return "\(tag) would write \(field) into the page unescaped; write {{\(field)}}"
        }
        return nil
    }

    /// Every `{{…}}` in `text` with its line and column (1-based).
    static func tags(in text: String) -> [(text: String, line: Int, column: Int)] {
        var found: [(String, Int, Int)] = []
        var line = 1
        var column = 1
        var index = text.startIndex
        while index < text.endIndex {
            if text[index...].hasPrefix("{{") {
                let rest = text[index...]
                let close = rest.hasPrefix("{{{") ? rest.range(of: "}}}") : rest.range(of: "}}")
                let end = close?.upperBound ?? text.endIndex
                found.append((String(text[index..<end]), line, column))
                for character in text[index..<end] {
                    if character == "\n" {
                        line += 1
                        column = 1
                    } else {
                        column += 1
                    }
                }
                index = end
                continue
            }
            if text[index] == "\n" {
                line += 1
                column = 1
            } else {
                column += 1
            }
            index = text.index(after: index)
        }
        return found
    }
}
